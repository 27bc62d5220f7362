"""Draw the docs' formation picture: a sequence of formations with the members' transition paths.

Usage: python backend/scripts/formation_figure.py [OUT.png] [--members N] [--formations a,b,c]
"""

from __future__ import annotations

import argparse

from choreo.choreography.formations import assign_members, draw_formations, formation_spots, transition_paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/images/formations.png")
    parser.add_argument("--members", type=int, default=7)
    parser.add_argument("--formations", default="line,two_rows,v,diamond,centre_wings,arc")
    parser.add_argument("--frames", type=int, default=40, help="frames per transition (20 fps)")
    args = parser.parse_args()
    steps, transitions, prev = [], [None], None
    for name in args.formations.split(","):
        spots = formation_spots(name, args.members)
        if prev is not None:
            spots = spots[assign_members(prev, spots)]
            transitions.append(transition_paths(prev, spots, args.frames))
        steps.append((name, spots))
        prev = spots
    print(draw_formations(steps, args.out, transitions))


if __name__ == "__main__":
    main()
