"""Argument types and the parser class shared by the sub-commands.

Flags are checked by argparse, before any model or data is loaded, so a typo costs no time; the error is
one line (`choreo CMD: error: argument --lr: ...`) and exit code 2, like every other user error.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block) pointing at --help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(kind: type, text: str) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def bounded(kind: type, low: float | None = None, high: float | None = None, *,
            low_open: bool = False) -> Callable[[str], float | int]:
    """An argparse type: `kind` (int or float), finite, within [low, high] (low excluded when low_open)."""

    def parse(text: str) -> float | int:
        value = _number(kind, text)
        if low is not None and (value <= low if low_open else value < low):
            raise argparse.ArgumentTypeError(f"must be {'>' if low_open else '>='} {low:g}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high:g}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


positive_int = bounded(int, 1)
non_negative_int = bounded(int, 0)
positive_float = bounded(float, 0, low_open=True)
non_negative_float = bounded(float, 0)
SEED = bounded(int, 0, 2**32 - 1)
