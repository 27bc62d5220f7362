"""Fréchet distance and diversity on z-scored clip features (FID_k/FID_g, Div_k/Div_g).

Both sets are z-scored with the REFERENCE set's mean and std (Bailando `normalize(gt, pred)`), so a
shift of d reference standard deviations in every one of D dimensions adds d²·D to the FID.

Bailando divides by std + 1e-10. A dimension that is constant in the reference (a pose predicate that
never holds there) then blows any difference up by 10¹⁰ (we measured FID_g ≈ 5·10¹⁶ for modern dance
against salsa). `std_floor` bounds that: the suite floors geometric stds at 0.01 (1 % of frames).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from scipy.spatial.distance import pdist

STD_EPS = 1e-10


def reference_stats(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std [D] of reference features [N,D]."""
    reference = np.asarray(reference, dtype=np.float64)
    return reference.mean(axis=0), reference.std(axis=0)


def zscore(features: np.ndarray, mean: np.ndarray, std: np.ndarray, std_floor: float = 0.0) -> np.ndarray:
    """(x − mean) / (max(std, std_floor) + 1e-10)."""
    return (np.asarray(features, dtype=np.float64) - mean) / (np.maximum(std, std_floor) + STD_EPS)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """‖μa−μb‖² + Tr(Σa + Σb − 2(ΣaΣb)^½) between feature sets [Na,D] and [Nb,D] (needs N ≥ 2 each)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("FID needs at least 2 clips in each set")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():
        # Fewer clips than dimensions makes the product singular; sqrtm warns but stays accurate enough.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov_a @ cov_b)
        if not np.all(np.isfinite(covmean)):
            # No usable root: nudge both covariances, as pytorch-fid does.
            offset = np.eye(len(cov_a)) * 1e-6
            covmean = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    covmean = np.real(covmean)
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(covmean))
    return max(value, 0.0)  # tiny negative values are round-off


def fid(generated: np.ndarray, reference: np.ndarray, std_floor: float = 0.0) -> float:
    """FID of generated features against reference features, both z-scored with the reference stats."""
    mean, std = reference_stats(reference)
    return frechet_distance(zscore(generated, mean, std, std_floor), zscore(reference, mean, std, std_floor))


def average_pairwise_distance(features: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs i<j of rows of [N,D] (0 for N < 2)."""
    features = np.asarray(features, dtype=np.float64)
    n = len(features)
    if n < 2:
        return 0.0
    return float(pdist(features).mean())  # condensed i<j distances: no N×N×D array


def diversity(features: np.ndarray, reference: np.ndarray, std_floor: float = 0.0) -> float:
    """Div: mean pairwise distance of `features` after z-scoring with the reference stats."""
    mean, std = reference_stats(reference)
    return average_pairwise_distance(zscore(features, mean, std, std_floor))
