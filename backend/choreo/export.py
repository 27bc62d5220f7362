"""`write_outputs`: every file `choreo generate` leaves in its output folder.

For N clips (N = num_samples * num_repetitions, ordered rep-major like MDM):
- `motion.bvh`, `motion_01.bvh`, ...: one BVH per clip (centimetres, ZXY Euler; see formats.bvh_writer);
- `motion.json`, `motion_01.json`, ...: one motion JSON per clip (see formats.motion_json);
- `results.npy`, `results.txt`, `results_len.txt`: all clips in MDM's layout (see formats.results_npy);
- `preview.mp4`: all clips side by side in one stick-figure video (see formats.preview_video).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from choreo.errors import ChoreoError
from choreo.formats.bvh_writer import write_bvh
from choreo.formats.motion_json import sample_file_name, write_motion_json
from choreo.formats.results_npy import write_results_npy
from choreo.motion import Motion

# Every file name write_outputs can leave, so a reused folder is recognised and cleared of an earlier run.
_OUTPUT_NAME = re.compile(r"^(motion(_\d{2,})?\.(bvh|json)|results\.npy|results\.txt|results_len\.txt|preview\.mp4)$")


def earlier_outputs(out: Path, names: re.Pattern = _OUTPUT_NAME) -> list[Path]:
    """The files of an earlier run in `out` (empty if there are none); `names` matches a run's file names."""
    if not out.is_dir():
        return []
    return sorted(p for p in out.iterdir() if p.is_file() and names.match(p.name))


def prepare_output_folder(out_dir: str | Path, force: bool = False, names: re.Pattern = _OUTPUT_NAME) -> Path:
    """Check (before any work) that `out_dir` can take a new run; create it; with `force`, delete the files
    of an earlier run there, so runs never mix (a 2-sample run after a 4-sample one would leave
    motion_02/03 of the old prompt beside the new files)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ChoreoError(f"--out {out}: is a file, not a folder; choose a folder name")
    old = earlier_outputs(out, names)
    if old and not force:
        names = ", ".join(p.name for p in old[:4]) + (" ..." if len(old) > 4 else "")
        raise ChoreoError(f"--out {out}: already holds an earlier run ({names}); choose another folder or add "
                          "--force to replace those files")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for p in old:
            p.unlink()
    except OSError as exc:
        raise ChoreoError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    return out


def _captions(motions: Sequence[Motion], text: str | Sequence[str]) -> list[str]:
    if isinstance(text, str):
        return [text] * len(motions)
    texts = [str(t) for t in text]
    if len(texts) != len(motions):
        raise ChoreoError(f"{len(texts)} prompts given for {len(motions)} motions")
    return texts


def write_outputs(
    motions: list[Motion],
    out_dir: str | Path,
    *,
    text: str | Sequence[str],
    num_repetitions: int = 1,
    bvh: bool = True,
    json: bool = True,
    npy: bool = True,
    video: bool = True,
) -> dict[str, Path]:
    """Write the output files of `motions` into `out_dir` (created if missing).

    `text` is the prompt (one for all clips) or one caption per clip. Returns {file name: path} of
    everything written, e.g. paths["preview.mp4"].
    """
    if not motions:
        raise ChoreoError("nothing to export: no motions were generated")
    captions = _captions(motions, text)
    motions = [
        m if m.text else Motion(m.joints, fps=m.fps, text=c, style=m.style, source=m.source,
                                performance=m.performance, meta=m.meta)
        for m, c in zip(motions, captions, strict=True)
    ]
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ChoreoError(f"cannot create output folder {out}: {exc.strerror}") from exc
    written: list[Path] = []
    for i, motion in enumerate(motions):
        if bvh:
            written.append(write_bvh(motion, out / sample_file_name("motion", i, ".bvh")))
        if json:
            written.append(write_motion_json(motion, out / sample_file_name("motion", i, ".json")))
    if npy:
        written += write_results_npy(motions, captions, out / "results.npy", num_repetitions)
    if video:
        from choreo.formats.preview_video import write_preview_video  # matplotlib: imported only when drawn

        one_prompt = len(set(captions)) == 1
        title = captions[0] if one_prompt else ""
        labels = [f"sample {i}" if one_prompt else f"{i}: {c[:30]}" for i, c in enumerate(captions)]
        written.append(write_preview_video(motions, out / "preview.mp4", title=title,
                                           labels=labels if len(motions) > 1 else [""]))
    return {p.name: p for p in written}
