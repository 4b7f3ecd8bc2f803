"""Checks of a release before it ships, against the release it replaces.

- `gate`: the previous release's code and API tests on the schema the new release's entrypoint
  migrates to, then the new release's tests on that database (`python -m tests.release.gate`).
- `rehearsal`: a rolling deploy replayed on this machine, replicas of the previous release
  replaced one at a time by the new one behind HAProxy, under load
  (`python -m tests.release.rehearsal`).
- `releases`: a release as a source tree of its own, with its own locked environment.
- `traffic`: the requests the rehearsal sends: the one module to change with the API.
"""
