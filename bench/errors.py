"""The failure a benchmark reports as one line and a non-zero exit, never a traceback."""


class BenchError(Exception):
    """A benchmark cannot run or its run is invalid; the message says why, in one line."""
