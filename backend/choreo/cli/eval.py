"""`choreo eval`: score generated clips against reference clips (and a song's beats) with every metric.

Prints a table (metric | generated | reference | protocol) or, with --json, the JSON; always writes
OUT/metrics.json and OUT/report.html with its PNG plots.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

from choreo.errors import ChoreoError

if TYPE_CHECKING:  # imported lazily at run time: `choreo --help` stays instant
    import numpy as np

    from choreo.motion import Motion

GENERATE_JSON_GLOBS = ("motion.json", "motion_[0-9]*.json")
PROTOCOL_WIDTH = 70


def _generate_dir_files(folder: Path) -> list[Path]:
    """The motion JSON files a `choreo generate` output folder holds (motion.json, motion_01.json, ...)."""
    return sorted({p for pattern in GENERATE_JSON_GLOBS for p in folder.glob(pattern) if p.is_file()})


def _load_general(path: Path, allow_pickle: bool) -> list[Motion]:
    try:
        from choreo.importers import load_motions
    except ImportError as exc:
        raise ChoreoError(f"{path}: this installation cannot import motion files ({exc})") from None
    try:
        return load_motions(path, allow_pickle=allow_pickle)
    except ImportError as exc:  # a per-format reader not installed yet
        raise ChoreoError(f"{path}: no reader for this file type in this installation ({exc})") from None
    except (ValueError, OSError) as exc:  # a reader that let a low-level error through
        reason = str(exc).splitlines()[0] if str(exc) else repr(exc)
        raise ChoreoError(f"{path}: cannot read motion ({reason})") from None


def read_clips(path_text: str, allow_pickle: bool = False) -> list[Motion]:
    """Clips from one path: a generate output folder (motion*.json, or results.npy with allow_pickle),
    a motion JSON file (kept exactly as written: no floor or rate changes), results.npy, or any file or
    folder `load_motions` reads."""
    from choreo.formats.motion_json import read_motion_json
    from choreo.formats.results_npy import read_results_npy

    path = Path(path_text)
    if not path.exists():
        raise ChoreoError(f"{path}: no such file or folder")
    if path.is_dir():
        files = _generate_dir_files(path)
        if files:
            return [m for f in files for m in read_motion_json(f)]
        if (path / "results.npy").is_file():
            return read_results_npy(path / "results.npy", allow_pickle=allow_pickle)
        return _load_general(path, allow_pickle)
    if path.name == "results.npy":
        return read_results_npy(path, allow_pickle=allow_pickle)
    if path.suffix.lower() == ".json":
        try:
            return read_motion_json(path)
        except ChoreoError as first:
            try:  # other JSON layouts the importers know
                return _load_general(path, allow_pickle)
            except ChoreoError:
                raise first from None
    return _load_general(path, allow_pickle)


def read_all(paths: list[str], allow_pickle: bool, role: str) -> list[Motion]:
    clips = [m for p in paths for m in read_clips(p, allow_pickle)]
    if not clips:
        raise ChoreoError(f"--{role}: no clips found in {', '.join(paths)}")
    return clips


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.4g}"


def format_table(result: dict) -> str:
    """The metrics as a fixed-width text table; protocols cut to one line (full text in metrics.json)."""
    rows = [("metric", "generated", "reference", "protocol")]
    for name, v in result["metrics"].items():
        label = f"{name} ({v['unit']})" if v["unit"] and v["unit"] not in ("ratio", "score") else name
        proto = v["protocol"]
        proto = proto if len(proto) <= PROTOCOL_WIDTH else proto[: PROTOCOL_WIDTH - 1] + "…"
        rows.append((label, _fmt(v["generated"]), _fmt(v["reference"]), proto))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}" for r in rows]
    lines.insert(1, "-" * (sum(widths) + 6 + PROTOCOL_WIDTH))
    c = result["counts"]
    lines.append("")
    lines.append(f"generated: {c['generated']['clips']} clips, {c['generated']['windows']} windows; "
                 f"reference: {c['reference']['clips']} clips, {c['reference']['windows']} windows "
                 f"({result['protocol']['window_seconds']:g}-s windows)")
    lines.append("FID/Div: " + result["protocol"]["comparability"])
    for name, b in result.get("baselines", {}).items():
        if b.get("available"):
            vals = ", ".join(f"{k} {_fmt(b['values'].get(k))}" for k in ("fid_k", "fid_g", "div_k", "div_g"))
            lines.append(f"baseline {name}: {vals}" + (f" ({b['note']})" if b.get("note") else ""))
            lines += [f"baseline {name} leaves out {style}: {why}" for style, why in b.get("omitted", {}).items()]
        else:
            lines.append(f"baseline {name}: not available ({b['reason']})")
    if "music" in result:
        m = result["music"]
        lines.append(f"music: {m['source']}: {m['beats']} beats, tempo {_fmt(m['tempo_bpm'])} BPM")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from choreo.metrics.baselines import baselines
    from choreo.metrics.suite import evaluate

    generated = read_all(args.generated, args.allow_pickle, "generated")
    reference = read_all(args.reference, args.allow_pickle, "reference")
    beats = None
    music_info = None
    if args.music:
        from choreo.music import beat_times

        song = beat_times(args.music)
        beats = song.times
        music_info = {"source": str(args.music), "beats": int(len(song.times)),
                      "tempo_bpm": song.tempo_bpm if math.isfinite(song.tempo_bpm) else None,
                      "duration_s": round(song.duration, 3),
                      "beat_times_s": [round(float(t), 4) for t in song.times]}
    result = evaluate(generated, reference, music_beats=beats, window_seconds=args.window_seconds,
                      seed=args.seed)
    if music_info is not None:
        result["music"] = music_info
    if not args.no_baselines:
        result["baselines"] = baselines(reference, result["counts"]["generated"]["windows"], seed=args.seed)
    write_outputs(Path(args.out), result, generated, reference, beats, as_json=args.json)
    return 0


def write_outputs(out: Path, result: dict, generated: list[Motion], reference: list[Motion],
                  beats: np.ndarray | None, as_json: bool) -> None:
    """metrics.json and report.html into `out`; the JSON or the table to stdout."""
    from choreo.metrics.report import write_report

    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
        write_report(out, result, generated, reference, beats)
    except OSError as exc:
        raise ChoreoError(f"{out}: cannot write the evaluation output ({exc.strerror or exc})") from None
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(format_table(result))
        print(f"wrote {out / 'metrics.json'} and {out / 'report.html'}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", description=__doc__,
                       help="score generated motion against reference motion (FID, Div, BAS, feet, ...)")
    p.add_argument("--generated", nargs="+", required=True, metavar="PATH",
                   help="generated clips: files or folders (a `choreo generate` output folder, .json, .bvh, "
                        ".npy [F,22,3], .npz; results.npy only with --allow-pickle)")
    p.add_argument("--reference", nargs="+", required=True, metavar="PATH", help="real clips, same formats")
    p.add_argument("--music", metavar="SONG",
                   help="song the generated clips dance to (WAV/FLAC/OGG/MP3): adds BAS")
    p.add_argument("--json", action="store_true", help="print the JSON result instead of the table")
    p.add_argument("--out", default="eval_out", metavar="DIR", help="where metrics.json and report.html go")
    p.add_argument("--allow-pickle", action="store_true",
                   help="allow pickled inputs (results.npy, AIST++ .pkl): unpickling can run code, "
                        "trusted files only")
    p.add_argument("--window-seconds", type=float, default=5.0,
                   help="window length for all metrics (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed of chance levels and baselines (default 0)")
    p.add_argument("--no-baselines", action="store_true",
                   help="skip the real-vs-real and retrieval baselines")
    p.set_defaults(func=run)
