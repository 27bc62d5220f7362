"""FID and Div on feature sets with known answers."""

import numpy as np
import pytest

from choreo.metrics import fid


def features(n: int = 400, dims: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dims)) * rng.uniform(0.5, 3.0, dims) + rng.uniform(-5, 5, dims)


def test_fid_of_a_set_with_itself_is_zero():
    x = features()
    assert fid.fid(x, x) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("d", [0.5, 1.0, 2.0])
def test_mean_shift_of_d_reference_stds_gives_d_squared_times_dims(d):
    x = features()
    shifted = x + d * x.std(axis=0)  # d standard deviations in every dimension
    assert fid.fid(shifted, x) == pytest.approx(d**2 * x.shape[1], rel=1e-6)


def test_fid_grows_with_the_shift():
    x = features()
    values = [fid.fid(x + s * x.std(axis=0), x) for s in (0.0, 0.5, 1.0, 2.0)]
    assert values == sorted(values) and values[0] < 1e-6


def test_fid_needs_two_clips_per_set():
    with pytest.raises(ValueError):
        fid.fid(features(1), features())


def test_div_of_identical_clips_is_zero_and_known_distances_average():
    same = np.repeat(features(1), 5, axis=0)
    assert fid.diversity(same, features()) == 0.0
    # Distances 5 (0,0)-(3,4), 3 (0,4)-(3,4) and 4 (0,0)-(0,4): mean 4.
    assert fid.average_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])) == pytest.approx(4.0)


def test_div_uses_reference_scale():
    ref = np.array([[0.0, 0.0], [2.0, 20.0]])  # std 1 and 10
    pts = np.array([[0.0, 0.0], [1.0, 10.0]])
    assert fid.diversity(pts, ref) == pytest.approx(np.sqrt(2.0))


def test_std_floor_bounds_a_dimension_constant_in_the_reference():
    ref = features()
    ref[:, 0] = 0.0  # e.g. a pose predicate that never holds in the reference
    gen = ref.copy()
    gen[:, 0] = 0.5
    assert fid.fid(gen, ref) > 1e18  # Bailando's std + 1e-10
    assert fid.fid(gen, ref, std_floor=0.01) == pytest.approx(50.0**2, rel=1e-6)
