"""`choreo import-video VIDEO [--out FILE] [--person auto|N] [--start S --end S] [--mirror]`: a dance video
→ 3-D motion on our skeleton (training JSON, loadable by `prepare-data`, with the quality report inside), an
overlay of the detected skeleton on the video's frames and a contact sheet of the result."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from choreo.errors import ChoreoError

OVERLAY_FRAMES = 8


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import-video", help="dance video -> 3-D motion (needs the extra choreo[video])")
    p.add_argument("video", help="MP4, MOV, WEBM or MKV file")
    p.add_argument("--out", help="motion file to write (training JSON; default: ./<video name>_motion.json)")
    p.add_argument("--person", default="auto", help="auto (the most prominent dancer) or N: the N-th from the left")
    p.add_argument("--start", type=float, help="seconds into the video to start at")
    p.add_argument("--end", type=float, help="seconds into the video to stop at")
    p.add_argument("--mirror", action="store_true", help="the video is mirrored (filmed in a mirror): flip it back")
    p.add_argument("--fov", type=float, default=60.0, help="the camera's horizontal field of view in degrees")
    p.add_argument("--text", default="", help="description stored with the clips")
    p.add_argument("--style", default="", help="style label stored with the clips")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from choreo.video.pipeline import import_video
    from choreo.video.report import summary_lines, write_overlay

    if not 10.0 <= args.fov <= 150.0:
        raise ChoreoError(f"--fov must be between 10 and 150 degrees, got {args.fov:g}")
    video = Path(args.video)
    out = Path(args.out) if args.out else Path.cwd() / f"{video.stem}_motion.json"
    if out.suffix.lower() != ".json":
        raise ChoreoError(f"--out must be a .json file (training JSON), got {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    result = import_video(video, start=args.start, end=args.end, mirror=args.mirror, person=args.person,
                          fov_deg=args.fov, overlay_frames=OVERLAY_FRAMES)
    # The report travels inside the motion file (readers ignore extra keys): a separate .json beside it
    # would be taken for motion by `prepare-data FOLDER`.
    shared = {k: v for k, v in result.report.items() if k != "clips"}
    clips = []
    for m, quality in zip(result.motions, result.report["clips"], strict=True):
        m.text, m.style = args.text or m.text, args.style or m.style
        clips.append({"motion": m.joints.round(5).tolist(), "text": m.text, "style": m.style,
                      "source": str(video), "quality": {**shared, "clip": quality}})
    out.write_text(json.dumps(clips, separators=(",", ":")))
    stem = out.with_suffix("")
    overlay = write_overlay(result.track, result.frames, f"{stem}_overlay.png", args.start or 0.0)
    from choreo.formats.contact_sheet import write_contact_sheet

    sheet = write_contact_sheet(result.motions, f"{stem}_sheet.png")
    timing = result.report["timing"]
    print(f"{video}: {len(result.motions)} clip(s), {result.report['seconds_kept']:.1f} s of motion "
          f"({timing['frames_per_s']:.1f} video frames/s)")
    for line in summary_lines(result.report):
        print(line)
    print(f"  motion (with the report as \"quality\"): {out}\n  overlay: {overlay}\n  contact sheet: {sheet}")
    return 0
