"""`choreo prepare-data INPUTS... [--labels CSV] --out DATASET`: build a training set from motion files."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from choreo.errors import ChoreoError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prepare-data", help="import motion files into a training set (features, labels, splits)")
    p.add_argument("inputs", nargs="+", help="files or folders (BVH, ASF/AMC, JSON, NPZ, AIST++ .pkl, HumanML3D)")
    p.add_argument("--out", required=True, help="output folder for the training set")
    p.add_argument("--labels", help="CSV with columns file,text[,style] overriding the clips' texts/styles")
    p.add_argument("--val-fraction", type=float, default=0.1, help="share of whole performances held out")
    p.add_argument("--val-performances", help="comma-separated performance ids to hold out (overrides fraction)")
    p.add_argument("--no-mirror", action="store_true", help="skip left/right mirror augmentation")
    p.add_argument("--allow-pickle", action="store_true",
                   help="allow pickled inputs (AIST++ .pkl, the guide's dict NPZ): unpickling runs code from the file")
    p.add_argument("--joint-map", help="JSON {our_joint: rig_joint} for BVH rigs without a built-in map")
    p.add_argument("--smpl-offsets", help="SMPL rest offsets JSON for AIST++ pickles")
    p.add_argument("--fps", type=float, help="override the input frame rate")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def read_labels(path: str) -> dict[str, dict[str, str]]:
    """CSV rows keyed by file name (or stem): {"text": ..., "style": ...}."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise ChoreoError(f"cannot read labels {path}: {exc}") from exc
    if not rows or "file" not in rows[0] or "text" not in rows[0]:
        raise ChoreoError(f"{path}: labels CSV needs a header with at least the columns file,text")
    return {Path(r["file"]).name: r for r in rows} | {Path(r["file"]).stem: r for r in rows}


def collect(args: argparse.Namespace) -> list:
    from choreo.importers import load_motions

    motions = []
    for item in args.inputs:
        motions += load_motions(item, allow_pickle=args.allow_pickle, joint_map=args.joint_map,
                                smpl_offsets=args.smpl_offsets, fps=args.fps)
    if args.labels:
        labels = read_labels(args.labels)
        for m in motions:
            row = labels.get(Path(m.source).name) or labels.get(Path(m.source).stem)
            if row:
                m.text = row["text"] or m.text
                m.style = row.get("style") or m.style
    return motions


def run(args: argparse.Namespace) -> int:
    from choreo.dataset import TrainingSet
    from choreo.motion import Motion

    motions = collect(args)
    val = set(args.val_performances.split(",")) if args.val_performances else None
    ts = TrainingSet.build(motions, val_fraction=args.val_fraction, mirror=not args.no_mirror, seed=args.seed,
                           val_performances=val)
    out = ts.save(args.out)
    s = ts.summary()
    print(f"training set: {out}")
    print(f"  {s['clips']} clips, {s['minutes']:.1f} minutes" + (" (+ mirrored copies)" if s["mirrored"] else ""))
    for style, v in sorted(s["styles"].items()):
        print(f"  style {style:<12} {v['clips']:>4} clips {v['minutes']:>7.1f} min")
    for split, v in sorted(s["splits"].items()):
        print(f"  {split:<5} {v['clips']:>4} clips {v['minutes']:>7.1f} min  performances: "
              f"{', '.join(v['performances'][:8])}{' ...' if len(v['performances']) > 8 else ''}")
    try:
        from choreo.formats.contact_sheet import write_contact_sheet
    except ImportError:
        return 0
    originals = [Motion(c, text=i.text, source=Path(i.source).name) for c, i in zip(ts.clips, ts.info, strict=True)
                 if not i.mirrored]
    sheet = write_contact_sheet(originals, out / "contact_sheet.png")
    print(f"  contact sheet: {sheet}")
    return 0
