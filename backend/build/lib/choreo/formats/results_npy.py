"""`results.npy` in the exact layout of MDM's sampler (mdm-spec §5.4), plus `results.txt` and
`results_len.txt`.

`results.npy` is `np.save` of a dict: 'motion' float32 [N,22,3,F] (metres, Y up), 'text' list[str],
'lengths' int array [N], 'num_samples', 'num_repetitions'; row index = rep * num_samples + sample.
Clips shorter than F are padded by repeating their last frame. Loading it needs pickle, which can run
code from the file, so the reader refuses unless the caller opts in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.motion import Motion
from choreo.skeleton import FPS, NUM_JOINTS

RESULTS_KEYS = ("motion", "text", "lengths", "num_samples", "num_repetitions")


def results_dict(motions: Sequence[Motion], texts: Sequence[str], num_repetitions: int = 1) -> dict:
    """The MDM results dict of `motions` (ordered rep-major: row = rep * num_samples + sample)."""
    if not motions:
        raise ChoreoError("results.npy: no motions to write")
    if len(texts) != len(motions):
        raise ChoreoError(f"results.npy: {len(texts)} captions for {len(motions)} motions")
    if num_repetitions < 1 or len(motions) % num_repetitions:
        raise ChoreoError(
            f"results.npy: {len(motions)} motions do not split into {num_repetitions} repetitions"
        )
    frames = max(m.num_frames for m in motions)
    stacked = np.empty((len(motions), frames, NUM_JOINTS, 3), dtype=np.float32)
    for i, m in enumerate(motions):
        stacked[i, : m.num_frames] = m.joints
        stacked[i, m.num_frames:] = m.joints[-1]  # hold the last pose, as MDM's grids freeze short clips
    return {
        "motion": np.ascontiguousarray(stacked.transpose(0, 2, 3, 1)),  # [N,22,3,F]
        "text": [str(t) for t in texts],
        "lengths": np.array([m.num_frames for m in motions], dtype=np.int64),
        "num_samples": len(motions) // num_repetitions,
        "num_repetitions": int(num_repetitions),
    }


def write_results_npy(
    motions: Sequence[Motion], texts: Sequence[str], path: str | Path, num_repetitions: int = 1
) -> list[Path]:
    """Write results.npy and, beside it, results.txt (one caption a line) and results_len.txt."""
    path = Path(path)
    results = results_dict(motions, texts, num_repetitions)
    np.save(path, results, allow_pickle=True)
    captions = path.with_suffix(".txt")
    lengths = path.with_name(path.stem + "_len.txt")
    # Captions are one a line: a newline inside a prompt would shift every later line.
    captions.write_text("\n".join(" ".join(t.split()) for t in results["text"]))
    lengths.write_text("\n".join(str(int(n)) for n in results["lengths"]))
    return [path, captions, lengths]


def read_results_npy(path: str | Path, allow_pickle: bool = False, fps: float = FPS) -> list[Motion]:
    """The motions of an MDM results.npy, each cut to its length. Needs allow_pickle=True (module doc)."""
    path = Path(path)
    if not allow_pickle:
        raise ChoreoError(
            f"{path}: results.npy is a pickled Python dict and unpickling can run code hidden in the file; "
            "load it only if you trust its source, with allow_pickle=True (CLI: --allow-pickle)"
        )
    try:
        data = np.load(path, allow_pickle=True)
        results = data.item() if isinstance(data, np.ndarray) and data.dtype == object else data
    except FileNotFoundError as exc:
        raise ChoreoError(f"{path}: file not found") from exc
    except (ValueError, OSError, EOFError) as exc:
        raise ChoreoError(f"{path}: not a readable .npy file ({exc})") from exc
    if not isinstance(results, dict) or not all(k in results for k in ("motion", "text", "lengths")):
        raise ChoreoError(f"{path}: not an MDM results file (needs a dict with 'motion', 'text', 'lengths')")
    motion = np.asarray(results["motion"])
    if motion.ndim != 4 or motion.shape[1:3] != (NUM_JOINTS, 3):
        raise ChoreoError(f"{path}: 'motion' must be [N, 22, 3, frames], got {list(motion.shape)}")
    texts, lengths = list(results["text"]), np.asarray(results["lengths"]).reshape(-1)
    if len(texts) != motion.shape[0] or len(lengths) != motion.shape[0]:
        raise ChoreoError(f"{path}: 'text' and 'lengths' must have one entry per motion ({motion.shape[0]})")
    out = []
    for i in range(motion.shape[0]):
        n = int(lengths[i])
        if not 1 <= n <= motion.shape[3]:
            raise ChoreoError(f"{path}: length {n} of motion {i} is outside 1..{motion.shape[3]}")
        joints = motion[i, :, :, :n].transpose(2, 0, 1)
        if not np.all(np.isfinite(joints)):
            raise ChoreoError(f"{path}: motion {i} contains NaN or infinite values")
        out.append(Motion(joints=joints, fps=fps, text=str(texts[i]), source=f"{path}#{i}"))
    return out
