"""Training sets: clips in our 22-joint form, a split by whole performance, mirror augmentation,
fixed-length feature windows and the mean/std the model normalises with.

On disk a training set is a folder:
  clips.npz     joints of every clip concatenated [frames, 22, 3] + `offsets` (no pickled objects)
  clips.json    per clip: text, style, performance, source, frames, split, mirrored
  mean.npy, std.npy   feature statistics of the training windows
  summary.json  counts and minutes per style and split
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.motion import Motion
from choreo.representation import Normalizer, joints_to_features
from choreo.skeleton import mirror_joints

MAX_WINDOW_FRAMES = 196  # MDM's window: 9.8 s at 20 fps (feature rows)
WINDOW_STRIDE = 20  # frames between window starts when cutting long clips


@dataclass
class ClipInfo:
    text: str
    style: str
    performance: str
    source: str
    frames: int
    split: str  # "train" or "val"
    mirrored: bool = False


def mirror_text(text: str) -> str:
    """Swap left and right in a description (for mirrored clips)."""
    swap = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT"}
    return re.sub(r"\b(left|right|Left|Right|LEFT|RIGHT)\b", lambda m: swap[m.group(1)], text)


def choose_validation(performances: list[str], styles: list[str], fraction: float, seed: int) -> set[str]:
    """Whole performances for validation: about `fraction` of each style's performances, at least one per
    style that has two or more (so every style is measured)."""
    unique = sorted(set(performances))
    if len(unique) < 2 or fraction <= 0:
        return set()
    rng = np.random.default_rng(seed)
    groups: dict[str, list[str]] = {}
    for p, style in sorted(set(zip(performances, styles, strict=True))):
        if p not in groups.get(style, []):
            groups.setdefault(style, []).append(p)
    chosen: set[str] = set()
    for members in groups.values():
        if len(members) >= 2:
            k = max(1, int(round(fraction * len(members))))
            chosen.update(rng.choice(members, size=k, replace=False).tolist())
    if not chosen:
        chosen.add(str(rng.choice(unique)))
    return chosen


@dataclass
class TrainingSet:
    clips: list[np.ndarray]  # joints [T,22,3] at 20 fps
    info: list[ClipInfo]
    normalizer: Normalizer

    @classmethod
    def build(cls, motions: list[Motion], *, val_fraction: float = 0.1, mirror: bool = True, seed: int = 0,
              val_performances: set[str] | None = None) -> TrainingSet:
        if not motions:
            raise ChoreoError("no clips to build a training set from")
        perfs = [m.performance or m.source for m in motions]
        val = val_performances if val_performances is not None else choose_validation(
            perfs, [m.style for m in motions], val_fraction, seed)
        clips, info = [], []
        for m, perf in zip(motions, perfs, strict=True):
            if m.num_frames < 40:  # HumanML3D's minimum clip length
                continue  # too short to teach anything at this window size
            split = "val" if perf in val else "train"
            clips.append(m.joints)
            info.append(ClipInfo(m.text, m.style, perf, m.source, m.num_frames, split))
            if mirror:
                clips.append(mirror_joints(m.joints))
                info.append(ClipInfo(mirror_text(m.text), m.style, perf, m.source, m.num_frames, split, True))
        if not any(i.split == "train" for i in info):
            raise ChoreoError("every clip is too short or in the validation split; nothing left to train on")
        train_feats = [w for w, _ in iter_windows(clips, info, "train", MAX_WINDOW_FRAMES)]
        return cls(clips, info, Normalizer.fit(train_feats))

    def windows(self, split: str, window: int = MAX_WINDOW_FRAMES) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Normalised windows [W, window, 263], their valid-row counts [W] and clip indices."""
        feats, lengths, owners = [], [], []
        for (w, idx) in iter_windows(self.clips, self.info, split, window):
            n = len(w)
            padded = np.zeros((window, w.shape[1]), dtype=np.float32)
            padded[:n] = self.normalizer.normalize(w)  # padding stays 0 in normalised space, as in MDM
            feats.append(padded)
            lengths.append(n)
            owners.append(idx)
        if not feats:
            return np.zeros((0, window, 263), np.float32), np.zeros(0, np.int64), []
        return np.stack(feats), np.array(lengths), owners

    def summary(self) -> dict:
        out: dict = {"clips": 0, "minutes": 0.0, "styles": {}, "splits": {}}
        for i in self.info:
            if i.mirrored:
                continue
            minutes = i.frames / 20.0 / 60.0
            out["clips"] += 1
            out["minutes"] += minutes
            s = out["styles"].setdefault(i.style or "(none)", {"clips": 0, "minutes": 0.0})
            s["clips"] += 1
            s["minutes"] += minutes
            sp = out["splits"].setdefault(i.split, {"clips": 0, "minutes": 0.0, "performances": set()})
            sp["clips"] += 1
            sp["minutes"] += minutes
            sp["performances"].add(i.performance)
        for sp in out["splits"].values():
            sp["performances"] = sorted(sp["performances"])
        # Sums of float minutes print as 0.30000000000000004: keep 4 decimals (6 ms).
        out["minutes"] = round(out["minutes"], 4)
        for group in (*out["styles"].values(), *out["splits"].values()):
            group["minutes"] = round(group["minutes"], 4)
        out["mirrored"] = any(i.mirrored for i in self.info)
        return out

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        offsets = np.cumsum([0] + [len(c) for c in self.clips])
        np.savez(folder / "clips.npz", joints=np.concatenate(self.clips).astype(np.float32), offsets=offsets)
        (folder / "clips.json").write_text(json.dumps([asdict(i) for i in self.info], indent=1) + "\n")
        np.save(folder / "mean.npy", self.normalizer.mean)
        np.save(folder / "std.npy", self.normalizer.std)
        (folder / "summary.json").write_text(json.dumps(self.summary(), indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> TrainingSet:
        folder = Path(folder)
        if not (folder / "clips.npz").is_file() or not (folder / "clips.json").is_file():
            raise ChoreoError(f"{folder} is not a training set (run `choreo prepare-data ... --out {folder}`)")
        try:
            with np.load(folder / "clips.npz", allow_pickle=False) as data:
                joints, offsets = data["joints"], data["offsets"]
            info = [ClipInfo(**d) for d in json.loads((folder / "clips.json").read_text())]
            normalizer = Normalizer(np.load(folder / "mean.npy"), np.load(folder / "std.npy"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ChoreoError(f"{folder}: damaged training set ({exc})") from exc
        if len(offsets) != len(info) + 1:
            raise ChoreoError(f"{folder}: clips.npz and clips.json disagree on the number of clips")
        clips = [joints[offsets[i] : offsets[i + 1]] for i in range(len(info))]
        return cls(clips, info, normalizer)


def iter_windows(clips: list[np.ndarray], info: list[ClipInfo], split: str, window: int):
    """Yield (features [<=window, 263], clip index): each window is processed like a HumanML3D clip
    of its own (retargeted, on the floor, facing +Z at its first frame)."""
    for idx, (joints, meta) in enumerate(zip(clips, info, strict=True)):
        if meta.split != split:
            continue
        n = len(joints)
        if n <= window + 1:
            yield joints_to_features(joints), idx
            continue
        starts = list(range(0, n - window - 1, WINDOW_STRIDE)) + [n - window - 1]
        for s in starts:
            yield joints_to_features(joints[s : s + window + 1]), idx


def style_weights(info: list[ClipInfo], owners: list[int]) -> np.ndarray:
    """Sampling weight per window ∝ 1/sqrt(windows of its style): rare styles are seen more often
    without drowning the common ones."""
    styles = [info[i].style for i in owners]
    counts = Counter(styles)
    w = np.array([1.0 / np.sqrt(counts[s]) for s in styles])
    return w / w.sum()
