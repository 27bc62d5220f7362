"""Text -> dance: the generation pipeline over a model bundle, a text encoder and the sampler.

Motions up to one window (the model's training length; 196 frames = 9.8 s for MDM) come from one
sampling pass, sampled at the full window length and cropped, as the model was trained. Longer motions
are chained: each next window in-paints its first `overlap` frames with the end of the motion so far
(re-expressed in that window's own origin-and-facing frame), then continues it. All samples of a request are one batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from choreo.bundle import ModelBundle
from choreo.diffusion import GaussianDiffusion
from choreo.errors import ChoreoError
from choreo.foot_contact import ground, lock_feet
from choreo.infill import REPAIR_PASSES, REPAIR_STEPS, ROOT_CHANNELS, FillJob, repair
from choreo.metrics.plausibility import JUMP_METRES, instant_turns, pops
from choreo.motion import Motion
from choreo.representation import (
    FEATURE_DIM,
    FOOT_CONTACT,
    apply_transform,
    facing_transform,
    features_to_skeleton_joints,
    joints_to_features,
    undo_transform,
)
from choreo.sampler import Inpainting, Sampler, frame_mask
from choreo.skeleton import FPS, enforce_bone_lengths
from choreo.smoothing import gaussian_smooth
from choreo.text import load_text_encoder

MAX_SECONDS = 600.0
SEAM_RAMP = 10  # frames over which a continuation window blends from the given motion into its own
SEAM_NOISE_KNOWN = True  # noise the given frames into x_t at each step (RePaint-style)
ROOT_CONTINUITY = True  # the root path held over the overlap and eased out after it (_continue)


@dataclass
class GenerationRequest:
    text: str
    seconds: float = 6.0
    samples: int = 1
    steps: int | None = None  # None: the model's recommended settings (ModelBundle.sampling)
    guidance: float | None = None
    seed: int | None = None
    method: str = "ddim"
    clean_feet: bool = True  # pin feet the model marks as planted (choreo.foot_contact)
    smooth_sigma: float = 0.0  # Gaussian smoothing over time, in frames (0 = off)
    overlap_frames: int | None = None  # context carried into each next window; default min(40, window / 4)
    repairs: int = REPAIR_PASSES  # passes that generate pops and instant turns again (choreo.infill.repair)

    def validate(self, diffusion_steps: int, window: int) -> None:
        if self.steps is None or self.guidance is None:
            raise ValueError("steps and guidance must be set (Generator.generate fills in the model's defaults)")
        if not self.text.strip():
            raise ChoreoError("the prompt is empty: pass --text 'a person dances salsa' or similar")
        if not 0.5 <= self.seconds <= MAX_SECONDS:
            raise ChoreoError(f"--seconds must be between 0.5 and {MAX_SECONDS:g}, got {self.seconds:g}")
        if not 1 <= self.samples <= 64:
            raise ChoreoError(f"--samples must be between 1 and 64, got {self.samples}")
        if not 1 <= self.steps <= diffusion_steps:
            raise ChoreoError(f"--steps must be between 1 and the model's {diffusion_steps} diffusion steps")
        if not 0.0 <= self.smooth_sigma <= 5.0:
            raise ChoreoError(f"--smooth must be between 0 and 5 frames, got {self.smooth_sigma:g}")
        if self.seed is not None and not 0 <= self.seed < 2**32:
            raise ChoreoError(f"--seed must be between 0 and 2^32-1, got {self.seed}")
        if not 0.0 <= self.guidance <= 20.0:
            raise ChoreoError(f"--guidance must be between 0 and 20, got {self.guidance:g}")
        if not 0 <= self.repairs <= 10:
            raise ChoreoError(f"--repairs must be between 0 and 10, got {self.repairs}")
        if self.overlap_frames is None:
            self.overlap_frames = min(40, window // 4)
        if not 0 < self.overlap_frames < window // 2:
            raise ChoreoError(f"overlap must be between 1 and {window // 2 - 1} frames")


class Generator:
    """Holds a loaded model, its sampler and text encoder; call `generate` as often as needed."""

    def __init__(self, bundle: ModelBundle, clip_path: str | None = None) -> None:
        self.bundle = bundle
        self.encoder = load_text_encoder(bundle.text_encoder, clip_path)
        self.sampler = Sampler(bundle.denoiser, GaussianDiffusion.cosine(bundle.diffusion_steps))
        self.window = bundle.window_frames
        self.timings = {"sampling": 0.0, "repair": 0.0}  # seconds of the last `generate` (repair: inside sampling)

    def _sample_window(self, text_emb: np.ndarray, req: GenerationRequest, seed: int | None,
                       inpaint: Inpainting | None, progress: Callable[[int, int], None] | None,
                       frames: int | None = None) -> np.ndarray:
        shape = (text_emb.shape[0], FEATURE_DIM, 1, frames or self.window)
        x = self.sampler.sample(shape, text_emb, guidance=req.guidance, steps=req.steps, method=req.method,
                                inpaint=inpaint, seed=seed, progress=progress)
        feats = x[:, :, 0, :].transpose(0, 2, 1).astype(np.float32)  # [B, T, 263]
        return self.bundle.normalizer.denormalize(feats)

    def sample_rows(self, texts: list[str], values: np.ndarray, weight: np.ndarray, *, steps: int | None = None,
                    guidance: float | None = None, seed: int | None = None,
                    progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """One batch of windows, each with its own prompt and in-painting: `values` [B,W,263] normalised rows,
        `weight` [B,W,263] in [0,1] (1 = keep exactly, 0 = free). W may be shorter than the model's window (the
        network takes any length; infill's repairs size their windows to their stretch). Returns
        denormalised features [B,W,263]."""
        steps, guidance = self.bundle.sampling.fill(steps, guidance)
        values = np.ascontiguousarray(values.transpose(0, 2, 1)[:, :, None, :], dtype=np.float32)
        w = np.ascontiguousarray(weight.transpose(0, 2, 1)[:, :, None, :], dtype=np.float32)
        inpaint = Inpainting(values, w >= 1.0, w, noise_known=SEAM_NOISE_KNOWN)
        emb = self.encoder.encode(list(texts))
        req = GenerationRequest(text=texts[0], steps=steps, guidance=guidance)
        return self._sample_window(emb, req, seed, inpaint, progress, frames=values.shape[-1])

    def generate(self, req: GenerationRequest, progress: Callable[[int, int], None] | None = None) -> list[Motion]:
        started = time.perf_counter()
        req.steps, req.guidance = self.bundle.sampling.fill(req.steps, req.guidance)
        req.validate(self.bundle.diffusion_steps, self.window)
        frames = max(2, int(round(req.seconds * FPS)))
        emb = self.encoder.encode([req.text] * req.samples)
        overlap = req.overlap_frames
        new_per_window = self.window - overlap - 1  # see _continue: frames each extra window adds
        windows = 1 + max(0, int(np.ceil((frames - self.window) / new_per_window)))
        steps_done = [0]

        def tick(_: int, __: int) -> None:
            steps_done[0] += 1
            if progress:
                progress(steps_done[0], windows * req.steps)

        rng = np.random.default_rng(req.seed)
        seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=windows)] if req.seed is not None else [None] * windows
        feats = self._sample_window(emb, req, seeds[0], None, tick)
        motions = list(features_to_skeleton_joints(feats))
        contacts = [f[:, FOOT_CONTACT] for f in feats]
        for w in range(1, windows):
            motions, contacts = self._continue(motions, contacts, emb, req, seeds[w], tick)
        motions, contacts = [m[:frames] for m in motions], [c[:frames] for c in contacts]
        repair_started = time.perf_counter()
        if req.repairs:
            motions, contacts = self._repair(motions, contacts, req)
        self.timings["repair"] = time.perf_counter() - repair_started
        finished = [self._feet(self._smooth(joints, req), contact, req)
                    for joints, contact in zip(motions, contacts, strict=True)]
        if req.repairs and req.clean_feet:
            # Pinning the feet can turn a borderline jump into a pop (a 10-cm shift at a seam, measured): what the
            # clean-up leaves is generated again from the cleaned motion, then its feet are cleaned once more.
            flagged = [i for i, j in enumerate(finished) if pops(j, FPS) or instant_turns(j)]
            if flagged:
                started_again = time.perf_counter()
                before = [finished[i] for i in flagged]
                again, again_contacts = self._repair(before, [contacts[i] for i in flagged], req)
                for i, old, joints, contact in zip(flagged, before, again, again_contacts, strict=True):
                    changed = np.abs(joints - old).max(axis=(1, 2)) > 1e-9  # only the new frames are smoothed
                    joints = np.where(changed[:, None, None], self._smooth(joints, req), joints)
                    finished[i], contacts[i] = self._feet(joints, contact, req), contact
                self.timings["repair"] += time.perf_counter() - started_again
        out = [Motion(joints, text=req.text, source="generated",
                      meta={"steps": req.steps, "guidance": req.guidance, "seed": req.seed}) for joints in finished]
        self.timings["sampling"] = time.perf_counter() - started
        return out

    @staticmethod
    def _smooth(joints: np.ndarray, req: GenerationRequest) -> np.ndarray:
        """With `smooth_sigma`, frame-to-frame sampling noise taken out (bones kept exact)."""
        if req.smooth_sigma > 0:
            return enforce_bone_lengths(gaussian_smooth(joints, req.smooth_sigma, axis=0))
        return joints

    @staticmethod
    def _feet(joints: np.ndarray, contact: np.ndarray, req: GenerationRequest) -> np.ndarray:
        """On the floor, and with `clean_feet` planted feet pinned (choreo.foot_contact)."""
        joints = ground(joints, contact)
        return lock_feet(joints, contact) if req.clean_feet else joints

    def _repair(self, motions: list[np.ndarray], contacts: list[np.ndarray], req: GenerationRequest
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pops and instant turns generated again, in-painted from both sides (choreo.infill.repair)."""
        jobs = [FillJob(j, np.ones(len(j), bool), req.text, contacts=c.copy()) for j, c in zip(motions, contacts,
                                                                                                 strict=True)]
        for job in jobs:
            job.written[:] = True  # every frame is the model's: any of them may be generated again

        def rows(texts, values, weight, seed=None, progress=None):  # noqa: ANN001, ANN202
            return self.sample_rows(texts, values, weight, steps=min(req.steps, REPAIR_STEPS), guidance=req.guidance,
                                    seed=seed)

        repair(rows, self.bundle.normalizer.normalize, jobs, self.window, facing=self.bundle.root_facing,
               seed=req.seed, passes=req.repairs, flick_metres=JUMP_METRES)
        return [j.joints for j in jobs], [j.contacts for j in jobs]

    def _continue(self, motions: list[np.ndarray], contacts: list[np.ndarray], emb: np.ndarray,
                  req: GenerationRequest, seed: int | None, tick: Callable[[int, int], None]
                  ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Extend every motion by one window whose first frames in-paint the motion's last frames.

        The given frames are in-painted softly: exact at first, then with weights ramping down over the
        last SEAM_RAMP frames, and noised into x_t at every step. A hard edge between given and generated
        rows decoded as a one-frame jump (the network's rows did not join the replaced ones); with the
        ramp the window's own motion takes over gradually and the window replaces the tail it was given.
        """
        overlap = req.overlap_frames
        ramp = min(SEAM_RAMP, overlap - 1)
        known = np.zeros((len(motions), FEATURE_DIM, 1, self.window), dtype=np.float32)
        transforms = []
        for i, joints in enumerate(motions):
            tail = joints[-(overlap + 1) :]
            q, origin = facing_transform(tail)
            placed = apply_transform(tail, q, origin)
            rows = self.bundle.normalizer.normalize(
                joints_to_features(placed, canonical=False, facing=self.bundle.root_facing))
            known[i, :, 0, :overlap] = rows.T
            transforms.append((q, origin))
        hard = overlap - ramp
        mask = np.broadcast_to(frame_mask(self.window, [(0, hard)]), (len(motions), FEATURE_DIM, 1, self.window))
        weight = np.zeros((len(motions), FEATURE_DIM, 1, self.window), dtype=np.float32)
        weight[..., :hard] = 1.0
        weight[..., hard:overlap] = np.linspace(1.0, 0.0, ramp + 2)[1:-1]
        if ROOT_CONTINUITY:
            # The root path is kept exactly over the whole overlap, then eased from the last given root velocity
            # into the window's own over `ramp` rows: left free at once, the first free row's root velocity could
            # jump (a 10-cm, one-frame shift of the whole body measured at a seam).
            known[:, ROOT_CHANNELS, 0, overlap : overlap + ramp] = known[:, ROOT_CHANNELS, 0, overlap - 1 : overlap]
            weight[:, ROOT_CHANNELS, 0, hard:overlap] = 1.0
            weight[:, ROOT_CHANNELS, 0, overlap : overlap + ramp] = np.linspace(1.0, 0.0, ramp + 2)[1:-1]
        inpaint = Inpainting(known, mask, weight, noise_known=SEAM_NOISE_KNOWN)
        feats = self._sample_window(emb, req, seed, inpaint, tick)
        extended, extended_contacts = [], []
        decoded = features_to_skeleton_joints(feats)
        for joints, contact, f, window, (q, origin) in zip(motions, contacts, feats, decoded, transforms, strict=True):
            new = undo_transform(window, q, origin)
            # Row k of the window is frame k of the placed tail, whose frame 0 is joints[-(overlap+1)]:
            # the window's rows replace the tail from there (equal to it where the weight is 1).
            keep = len(joints) - (overlap + 1)
            extended.append(np.concatenate([joints[:keep], new], axis=0))
            extended_contacts.append(np.concatenate([contact[:keep], f[:, FOOT_CONTACT]], axis=0))
        return extended, extended_contacts
