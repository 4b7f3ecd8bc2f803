"""Benchmarks of the service: throughput against the bare-asyncpg limit, and start to ready.

Each is one command, `python -m bench.<name>`; none is part of the test suite, which only
smoke-runs them at a tiny size.
"""
