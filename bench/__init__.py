"""Benchmarks of the service: throughput against the bare-asyncpg limit, and start to ready.

Each is one command (see docs/performance.md); none is part of the test suite, which only
smoke-runs them at a tiny size.
"""
