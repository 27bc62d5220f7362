"""`Motion`: the plain data every piece passes around — 22 joint positions plus what they are."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from choreo.skeleton import FPS, NUM_JOINTS


@dataclass
class Motion:
    """One clip: joints [T,22,3] in metres, Y up, at `fps` (20 for everything the model sees)."""

    joints: np.ndarray
    fps: float = FPS
    text: str = ""
    style: str = ""
    source: str = ""  # where it came from (file path, or "generated")
    performance: str = ""  # clips of one performance stay on one side of a train/validation split
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        j = np.asarray(self.joints)
        if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3):
            raise ValueError(f"{self.source or 'motion'}: joints must be [frames, 22, 3], got {list(j.shape)}")
        if not np.all(np.isfinite(j)):
            raise ValueError(f"{self.source or 'motion'}: joints contain NaN or infinite values")
        self.joints = j.astype(np.float32)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def seconds(self) -> float:
        return self.num_frames / self.fps
