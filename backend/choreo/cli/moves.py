"""`choreo moves add|list|remove`: the library of point moves that `choreo dance` places on a song's beats.

    choreo moves add NAME FILE [--start S --end S] [--bpm B]     # a snippet of any motion file
    choreo moves add NAME choreography.json --member 2 --section 3 [--start S --end S]
    choreo moves add NAME poses.json                             # key poses at beats (choreo-key-poses/1)
    choreo moves list
    choreo moves remove NAME

Moves live in $CHOREO_DATA_DIR/moves (else ~/.local/share/choreo/moves), one JSON file each
(choreo.choreography.moves).
"""

from __future__ import annotations

import argparse

from choreo.cli._args import bounded, non_negative_float, non_negative_int

BPM = bounded(float, 40, 240)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("moves", help="the point-move library: add a signature move from a file, list, remove")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="add|list|remove", parser_class=type(p))
    add = verbs.add_parser("add", help="store a move from a motion file, a choreography.json span or key poses")
    add.add_argument("name", help="the move's name: letters, digits, '-' and '_', e.g. heart-wave")
    add.add_argument("file", help="BVH, motion JSON/NPZ, a choreo generate output, a choreography.json, or a key-pose "
                                  "JSON (choreo-key-poses/1)")
    add.add_argument("--start", type=non_negative_float, help="start of the move in the clip (seconds; default 0); "
                                                                "crop it on a beat")
    add.add_argument("--end", type=non_negative_float, help="end of the move in the clip (seconds; default its end)")
    add.add_argument("--bpm", type=BPM, help="the move's own tempo (default: detected from its rhythm; for a "
                                             "choreography.json the song's)")
    add.add_argument("--member", help="choreography.json: the member (number from 1 or name; default 1)")
    add.add_argument("--section", type=non_negative_int, help="choreography.json: the section index; --start/--end "
                                                              "then count from its start")
    add.add_argument("--clip", type=non_negative_int, default=0, help="a file of several clips: which (default 0)")
    add.add_argument("--allow-pickle", action="store_true", help="read a choreo generate results.npy (a pickle: "
                                                                  "unpickling runs code from the file; trusted files "
                                                                  "only)")
    add.add_argument("--force", action="store_true", help="replace a move of the same name")
    add.set_defaults(func=run_add)
    ls = verbs.add_parser("list", help="the stored moves: name, kind, length in beats, tempo, source")
    ls.set_defaults(func=run_list)
    rm = verbs.add_parser("remove", help="delete a stored move")
    rm.add_argument("name")
    rm.set_defaults(func=run_remove)


def run_add(args: argparse.Namespace) -> int:
    from choreo.choreography.moves import MoveLibrary, move_from_file

    library = MoveLibrary()
    library.check_new(args.name, args.force)  # a duplicate fails before the file is read
    move = move_from_file(args.name, args.file, start=args.start, end=args.end, bpm=args.bpm, member=args.member,
                          section=args.section, clip=args.clip, allow_pickle=args.allow_pickle)
    path = library.add(move, force=args.force)
    print(f"added {move.describe()}")
    print(f"      to {path}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from choreo.choreography.moves import MoveLibrary

    library = MoveLibrary()
    moves = library.moves()
    if not moves:
        print(f"no moves in {library.root} yet; add one with `choreo moves add NAME FILE`")
        return 0
    print(f"{len(moves)} moves in {library.root}:")
    for move in moves:
        print("  " + move.describe())
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from choreo.choreography.moves import MoveLibrary

    path = MoveLibrary().remove(args.name)
    print(f"removed {args.name} ({path})")
    return 0
