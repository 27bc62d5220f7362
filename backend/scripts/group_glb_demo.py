"""Write a demo group .glb: real mocap clips (CMU, from ../shared/data or any folder load_motions reads)
danced by N members standing in a formation. For looking at the glTF export in a viewer.

Usage: python backend/scripts/group_glb_demo.py MOTION_FOLDER OUT.glb [--members 5] [--formation v] [--seconds 10]
"""

from __future__ import annotations

import argparse

import numpy as np

from choreo.choreography.formations import formation_spots
from choreo.errors import ChoreoError
from choreo.formats.gltf_writer import write_group_glb
from choreo.importers import load_motions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("motions")
    parser.add_argument("out")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--formation", default="v")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    clips = load_motions(args.motions)
    if not clips:
        raise ChoreoError(f"no motions found in {args.motions}")
    spots = formation_spots(args.formation, args.members)
    members = []
    for i, (x, z) in enumerate(spots):
        clip = clips[i % len(clips)]
        joints = clip.joints[: int(args.seconds * clip.fps)].astype(np.float64)
        joints = joints - joints[:1, :1] * np.array([1.0, 0.0, 1.0])  # start on the spot
        members.append(joints + np.array([x, 0.0, z]))
    names = [f"member {i + 1}" for i in range(args.members)]
    print(write_group_glb(args.out, members, clips[0].fps, names))


if __name__ == "__main__":
    main()
