"""`Choreography`: a whole song danced by a group — the song, its plan, every member's joints — and its JSON.

`choreography.json` (format "choreo-choreography/1", documented in docs/CHOREOGRAPHY.md) holds everything a
viewer or a later `--regenerate` needs: the song's analysis, the plan, per section its frame span and the
members' spots, and per member the joints (metres, 0.1 mm) and foot-contact flags of every frame.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from choreo.choreography.plan import Plan
from choreo.errors import ChoreoError
from choreo.music.song import Song

FORMAT = "choreo-choreography/1"
DECIMALS = 4  # 0.1 mm: a file round trip changes nothing a viewer or a re-dance could notice


def _joints_json(joints: np.ndarray) -> str:
    """[T,22,3] joints as a JSON array of frames of [x,y,z], DECIMALS places."""
    flat = np.round(np.asarray(joints, dtype=np.float64), DECIMALS).reshape(len(joints), -1) + 0.0  # no "-0"
    frame = "[" + ",".join([f"[%.{DECIMALS}f,%.{DECIMALS}f,%.{DECIMALS}f]"] * (flat.shape[1] // 3)) + "]"
    return "[" + ",".join(frame % tuple(row) for row in flat.tolist()) + "]"


@dataclass
class Choreography:
    song: Song
    plan: Plan
    fps: float
    members: list[np.ndarray]  # per member [T,22,3], stage coordinates: metres, Y up, audience at +Z
    spots: list[np.ndarray]  # per section [N,2] (x, z) each member's spot
    contacts: list[np.ndarray]  # per member [T,4] foot-contact flags (L ankle, L toe, R ankle, R toe)
    sections: list[tuple[int, int]]  # per section its frames [a, b)
    timings: dict[str, float] = field(default_factory=dict)
    before: dict[int, np.ndarray] = field(default_factory=dict)  # chosen material before the beat warp
    report: dict = field(default_factory=dict)
    seams: list[int] = field(default_factory=list)  # frames where stitched pieces meet (any member)
    edges: list[tuple[int, int]] = field(default_factory=list)  # per section: frames transitions may change
    points: list[dict] = field(default_factory=list)  # point moves as placed (choreography.points.Placement.to_dict)

    @property
    def frames(self) -> int:
        return int(self.members[0].shape[0]) if self.members else 0

    def to_dict(self, joints: bool = True) -> dict:
        """The file's contents as plain data (joints=False: each member's joints left out, for `to_json`)."""
        return {
            "format": FORMAT,
            "fps": self.fps,
            "frames": self.frames,
            "song": self.song.to_dict(),
            "plan": self.plan.to_dict(),
            "sections": [{"index": i, "label": s.label, "kind": s.kind, "start_frame": a, "end_frame": b,
                          "formation": s.formation, "move": s.move,
                          "spots": np.round(self.spots[i], DECIMALS).tolist()}
                         for i, (s, (a, b)) in enumerate(zip(self.plan.sections, self.sections, strict=True))],
            "members": [{"name": name, **({"joints": np.round(j, DECIMALS).tolist()} if joints else {}),
                         "contacts": np.asarray(c > 0.5, dtype=int).tolist()}
                        for name, j, c in zip(self.plan.names, self.members, self.contacts, strict=True)],
            "points": self.points,
            "report": self.report,
        }

    def to_json(self) -> str:
        """`to_dict` as compact JSON text. The joints (most of the file: 1.2 M numbers for 5 members x 3 min)
        are written by one format string per frame, twice as fast as json's number by number."""
        data = self.to_dict(joints=False)
        members = data.pop("members")
        dumps = functools.partial(json.dumps, separators=(",", ":"))
        texts = [dumps({k: v for k, v in m.items() if k != "contacts"})[:-1] + ',"joints":' + _joints_json(j)
                 + ',"contacts":' + dumps(m["contacts"]) + "}" for m, j in zip(members, self.members, strict=True)]
        return dumps(data)[:-1] + ',"members":[' + ",".join(texts) + "]}"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(self.to_json())
        tmp.replace(path)  # never a half-written file where a finished one was
        return path

    @classmethod
    def from_dict(cls, data: dict) -> Choreography:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ChoreoError(f"not a choreography file (expected format {FORMAT!r})")
        try:
            song = Song.from_dict(data["song"])
            plan = Plan.from_dict(data["plan"])
            fps = float(data["fps"])
            members = [np.asarray(m["joints"], dtype=np.float64) for m in data["members"]]
            contacts = [np.asarray(m["contacts"], dtype=np.float64) for m in data["members"]]
            sections = [(int(s["start_frame"]), int(s["end_frame"])) for s in data["sections"]]
            spots = [np.asarray(s["spots"], dtype=np.float64).reshape(-1, 2) for s in data["sections"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ChoreoError(f"choreography file is damaged ({type(exc).__name__}: {exc})") from None
        frames = int(data.get("frames", members[0].shape[0] if members else 0))
        for m, c in zip(members, contacts, strict=True):
            if m.shape != (frames, 22, 3) or c.shape != (frames, 4):
                raise ChoreoError(f"choreography file is damaged: a member has joints {list(m.shape)}, "
                                  f"contacts {list(c.shape)}; expected [{frames},22,3] and [{frames},4]")
        if len(members) != plan.members:
            raise ChoreoError(f"choreography file is damaged: {len(members)} members, its plan says {plan.members}")
        return cls(song=song, plan=plan, fps=fps, members=members, spots=spots, contacts=contacts,
                   sections=sections, report=dict(data.get("report", {})), points=list(data.get("points", [])))

    @classmethod
    def load(cls, path: str | Path) -> Choreography:
        from choreo.json_file import read_json_object

        return cls.from_dict(read_json_object(Path(path)))
