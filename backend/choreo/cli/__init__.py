"""`choreo` command line: one module per sub-command in this package, each with `register(subparsers)`.

A `ChoreoError` (bad input, missing file, wrong setup) is printed as one line and exits with code 2;
so is a bad flag (argparse, before anything heavy is imported). Sub-command modules import torch and
the model only inside their `run`, so `choreo --help` and flag errors are instant.
Anything else is a bug: one line saying so, exit code 1, and the traceback only with CHOREO_DEBUG=1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from choreo.cli._args import OneLineParser, one_line
from choreo.errors import ChoreoError


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("choreo")
    except PackageNotFoundError:  # run from a source tree without installing
        from choreo import __version__

        return __version__


class _VersionAction(argparse.Action):
    """`--version`: the version looked up only when asked for (importlib.metadata costs every command 30 ms)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"choreo {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="choreo", description="K-pop choreography generator (MDM-based).")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ChoreoError as exc:
        print(f"choreo {args.command}: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not the user's fault: say so in one line, keep the details on request
        if os.environ.get("CHOREO_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        print(f"choreo {args.command}: internal error: {type(exc).__name__}: {first} (a bug in choreo; "
              "rerun with CHOREO_DEBUG=1 for the traceback and report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
