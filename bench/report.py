"""What every benchmark shares: its command line, the machine it ran on, and its result file."""

import argparse
import json
import math
import os
import platform
import re
import statistics
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from bench import database
from bench.errors import BenchError
from bench.paths import RESULTS


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line, not the usage block (`--help` still has it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _non_negative(text: str, convert: Callable[[str], float], kind: str) -> float:
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a {kind}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def natural_int(text: str) -> int:
    return int(_non_negative(text, int, "whole number"))


def positive_int(text: str) -> int:
    value = natural_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not positive")
    return value


def non_negative_number(text: str) -> float:
    """A finite number, 0 or more: seconds, say."""
    return _non_negative(text, float, "number")


def positive_number(text: str) -> float:
    value = non_negative_number(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not positive")
    return value


def output_argument(parser: argparse.ArgumentParser, default_name: str) -> None:
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS / default_name,
        help="where to write the JSON result (default: %(default)s)",
    )


_RESERVED_NAMES = ("limit", "app")


def _valid_name(name: str) -> bool:
    return bool(re.fullmatch(r"[\w-]+", name)) and name not in _RESERVED_NAMES


def variant(text: str) -> tuple[str, dict[str, str]]:
    name, _, settings = text.partition(":")
    pairs = [pair.partition("=") for pair in settings.split(",") if pair]
    if not _valid_name(name) or not pairs or not all(key and sep for key, sep, _ in pairs):
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME:KEY=VALUE[,KEY=VALUE...]")
    return name, {key: value for key, _, value in pairs}


def variant_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--variant",
        type=variant,
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE[,KEY=VALUE...]",
        help="also measure the app with these environment settings (repeatable)",
    )


def source_tree(text: str) -> tuple[str, Path]:
    name, _, directory = text.partition(":")
    if not _valid_name(name) or not directory:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME:DIR")
    if not (Path(directory) / "app" / "main.py").is_file():
        raise argparse.ArgumentTypeError(f"{directory} has no app/main.py")
    return name, Path(directory)


def compare_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compare",
        type=source_tree,
        action="append",
        default=[],
        metavar="NAME:DIR",
        help="also measure the service as it is in another source tree, e.g. "
        "`git archive main | tar -x -C /tmp/main` then main:/tmp/main (repeatable)",
    )


def check_names(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    names = [name for name, _ in [*getattr(args, "variant", []), *args.compare]]
    if len(set(names)) < len(names):
        parser.error("each --variant and --compare needs a name of its own")
    return args


def machine() -> dict[str, Any]:
    """The facts a reader needs to compare figures from two runs."""
    cpu_model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "postgresql": database.server_version(),
    }


def describe_machine(facts: dict[str, Any]) -> str:
    return (
        f"{facts['cores']} cores ({facts['cpu']}), load {facts['load_average_1m_at_start']} "
        f"at start, PostgreSQL {facts['postgresql']}, Python {facts['python']}"
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def publish(path: Path, result: dict[str, Any], summary: list[str]) -> None:
    """Print the human summary; write it beside the result as JSON (`path`) and text (.txt)."""
    print("\n".join(summary))
    path.parent.mkdir(parents=True, exist_ok=True)
    stamped = {"finished_at": datetime.now(UTC).isoformat(timespec="seconds"), **result}
    path.write_text(json.dumps(stamped, indent=2) + "\n")
    path.with_suffix(".txt").write_text("\n".join(summary) + "\n")
    print(f"\nresult written to {path} and {path.with_suffix('.txt').name}")


def main(run: Callable[[list[str]], int]) -> NoReturn:
    """Run a benchmark's `run(argv)`: a BenchError or Ctrl-C ends with one line, not a trace."""
    try:
        code = run(sys.argv[1:])
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("interrupted; temporary databases dropped", file=sys.stderr)
        code = 130
    sys.exit(code)
