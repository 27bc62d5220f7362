"""Every file `choreo dance` leaves in its output folder.

- `plan.json`: the plan (edit it and dance it again with `--plan`); `analysis.json` / `analysis.png`: the song;
- `choreography.json`: song timing, sections, plan, formations and every member's joints (docs/CHOREOGRAPHY.md);
- `member_01.bvh` ...: one BVH per member in stage coordinates (centimetres, ZXY Euler), so they line up when
  imported together;
- `choreography.glb`: all members in one scene with one animation, a body per member and a stage floor;
- `preview.mp4`: the audience's view with section names, a beat dot and the song; `stage.png`: one frame of it;
- `formations.png`: the formations from above, section by section.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from choreo.choreography.choreography import Choreography
from choreo.choreography.formations import draw_formations
from choreo.formats.bvh_writer import write_bvh
from choreo.formats.gltf_writer import write_group_glb
from choreo.formats.group_preview import StageMarks, group_frame_png, write_group_preview
from choreo.motion import Motion

OUTPUT_NAMES = re.compile(r"^(plan\.json|analysis\.(json|png)|choreography\.(json|glb)|member_\d{2}\.bvh|"
                          r"preview\.mp4|stage\.png|formations\.png)$")


def stage_marks(ch: Choreography) -> StageMarks:
    return StageMarks(sections=[(s.start, s.end, f"{s.kind} ({s.label})") for s in ch.plan.sections],
                      beats=ch.song.beats, downbeats=ch.song.downbeats)


def still_frame(ch: Choreography) -> int:
    """A frame worth a picture: the middle of the first chorus (else of the most energetic section)."""
    secs = ch.plan.sections
    pick = next((i for i, s in enumerate(secs) if s.kind == "chorus"), max(range(len(secs)),
                                                                          key=lambda i: secs[i].energy))
    a, b = ch.sections[pick]
    return (a + b) // 2


def write_dance_outputs(out: Path, ch: Choreography, audio: str | Path | None, *, video: bool = True,
                        analysis_png: Callable[[Path], Path] | None = None,
                        progress: Callable[[int, int], None] | None = None) -> dict[str, Path]:
    """Write every output into `out` (a prepared folder); returns name -> path."""
    paths: dict[str, Path] = {}
    paths["plan"] = ch.plan.save(out / "plan.json")
    paths["analysis"] = ch.song.save(out / "analysis.json")
    if analysis_png is not None:
        paths["analysis plot"] = analysis_png(out / "analysis.png")
    paths["choreography"] = ch.save(out / "choreography.json")
    for k, (name, joints) in enumerate(zip(ch.plan.names, ch.members, strict=True), start=1):
        paths[f"bvh {k}"] = write_bvh(Motion(joints, text=name, source="choreo dance", fps=ch.fps),
                                      out / f"member_{k:02d}.bvh")
    paths["glTF"] = write_group_glb(out / "choreography.glb", ch.members, ch.fps, ch.plan.names)
    steps = [(f"{s.index}: {s.kind} ({s.label}) - {s.formation}", spots)
             for s, spots in zip(ch.plan.sections, ch.spots, strict=True)]
    paths["formations"] = draw_formations(steps, out / "formations.png")
    title = Path(ch.song.source).name if ch.song.source else ""
    paths["still"] = group_frame_png(out / "stage.png", ch.members, still_frame(ch), fps=ch.fps,
                                     marks=stage_marks(ch), names=ch.plan.names, title=title)
    if video:
        paths["preview"] = write_group_preview(out / "preview.mp4", ch.members, ch.fps, audio=audio,
                                               marks=stage_marks(ch), names=ch.plan.names, title=title,
                                               progress=progress)
    return paths
