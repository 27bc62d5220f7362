"""`choreo` command line: one module per sub-command in this package, each with `register(subparsers)`.

A `ChoreoError` (bad input, missing file, wrong setup) is printed as one line and exits with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from choreo.errors import ChoreoError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="choreo", description="K-pop choreography generator (MDM-based).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ChoreoError as exc:
        print(f"choreo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
