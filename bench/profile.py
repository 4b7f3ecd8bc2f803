"""Read py-spy's raw (collapsed-stack) output: where the server's CPU time went."""

import re
import sys
from collections import Counter
from pathlib import Path

# py-spy writes each frame as "function (package/module.py:line)", paths relative to sys.path.
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def package_of(file: str) -> str:
    top = file.split("/", 1)[0].removesuffix(".py")
    return "stdlib" if top in sys.stdlib_module_names else top


def summarise_profile(raw: Path, top: int = 12) -> list[str]:
    """Self time by package, then the functions with the most self time (leaf frames)."""
    by_package: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_FRAME.match(frame) for frame in stack.split(";")]
        parsed = [(m["function"], m["file"]) for m in frames if m is not None]
        if not parsed:
            continue
        total += count
        function, file = parsed[-1]
        by_package[package_of(file)] += count
        by_function[f"{function} ({file})"] += count
        for package in {package_of(f) for _, f in parsed}:
            inclusive[package] += count
    if total == 0:
        return ["  no samples (was the server idle?)"]
    lines = [f"  {total} samples; self time by package (inclusive in brackets):"]
    lines += [
        f"    {share * 100 / total:5.1f}%  ({inclusive[package] * 100 / total:5.1f}%)  {package}"
        for package, share in by_package.most_common()
    ]
    lines.append("  functions with the most self time:")
    lines += [
        f"    {count * 100 / total:5.1f}%  {name}" for name, count in by_function.most_common(top)
    ]
    return lines
