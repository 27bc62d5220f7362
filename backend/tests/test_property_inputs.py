"""Property-based: random bytes and random array shapes into every importer, random argv into the CLI
parser. Whatever comes in, the result is motions or a `ChoreoError` (one line for the user), never another
exception; the parser either parses or exits with one line. Bounded example counts keep this to seconds."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from choreo.cli import build_parser
from choreo.errors import ChoreoError
from choreo.importers import load_motions

QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                 database=None)
SUFFIXES = (".json", ".npz", ".npy", ".bvh", ".amc", ".pkl")


def loads_or_refuses(path: Path, **kwargs) -> None:
    """The property: motions with finite joints, or a one-line ChoreoError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy overflow warnings on absurd values are not the point here
        try:
            motions = load_motions(path, **kwargs)
        except ChoreoError as exc:
            assert str(exc).strip() and "\n" not in str(exc).strip(), str(exc)
            return
    for m in motions:
        assert m.joints.ndim == 3 and m.joints.shape[1:] == (22, 3) and np.isfinite(m.joints).all()


@QUICK
@given(data=st.binary(max_size=600), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_into_every_importer(data, suffix):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clip{suffix}"
        path.write_bytes(data)
        if suffix == ".amc":  # an AMC is read with its skeleton: give it a random one too
            (Path(tmp) / "clip.asf").write_bytes(data[::-1])
        loads_or_refuses(path, allow_pickle=suffix != ".pkl")  # random pickles are never unpickled


BVH_HEAD = "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition Zrotation " \
           "Xrotation Yrotation\n"


@QUICK
@given(body=st.text(alphabet=st.sampled_from(list("{}\n 0123456789.-eJOINTEndSitOFFSETCHANNELSMotionFrames:")),
                    max_size=400))
def test_bvh_like_text(body):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rig.bvh"
        path.write_text(BVH_HEAD + body)
        loads_or_refuses(path)


values = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                   st.sampled_from([0.0, 1.0, -1.0, 1e30]))
shapes = st.lists(st.integers(0, 24), min_size=0, max_size=5).map(tuple)


@QUICK
@given(shape=shapes, fill=values, noise=st.booleans(), fmt=st.sampled_from(("npy", "npz", "json", "npz_ragged")))
def test_random_shapes_into_array_importers(shape, fill, noise, fmt):
    if int(np.prod(shape)) > 20_000:
        shape = shape[:2]
    arr = np.full(shape, fill, dtype=np.float32)
    if noise and arr.size:
        arr = arr + np.random.default_rng(0).normal(size=shape).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clips.{fmt.split('_')[0]}"
        if fmt == "npy":
            np.save(path, arr)
        elif fmt == "npz":
            np.savez(path, motions=arr, texts=np.array(["t"] * (shape[0] if shape else 1)))
        elif fmt == "npz_ragged":
            np.savez(path, motions=arr, lengths=np.array(shape[:1] or [0]))
        else:
            path.write_text(json.dumps([{"motion": arr.tolist(), "text": "t"}]).replace("NaN", "0"))
        loads_or_refuses(path, allow_pickle=True)


FLAGS = ["--text", "--seconds", "--samples", "--steps", "--guidance", "--seed", "--out", "--model", "--data",
         "--output", "--lr", "--batch_size", "--window", "--heads", "--layers", "--epochs", "--resume", "--force",
         "--allow-pickle", "--generated", "--reference", "--json", "--no-video", "--device", "--bf16", "--fps",
         "--val-fraction", "--max-seconds", "--window-seconds", "--clip-path", "-x", "--"]
WORDS = ["0", "-1", "1e-4", "nan", "inf", "-inf", "3", "abc", "", "cpu", "cuda", "on", "x/y", "1e400", "\u00e9",
         "\ud55c\uad6d\uc5b4", "9" * 30]
COMMANDS = ["generate", "train", "prepare-data", "eval", "eval-model", "model-info", "publish-model", "nope", ""]


@settings(max_examples=150, deadline=None, database=None)
@given(command=st.sampled_from(COMMANDS), rest=st.lists(st.one_of(st.sampled_from(FLAGS), st.sampled_from(WORDS),
                                                                   st.text(max_size=8)), max_size=8))
def test_random_argv_into_the_parser(command, rest):
    parser = build_parser()
    err_stream = io.StringIO()
    try:
        with contextlib.redirect_stderr(err_stream), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args([command, *rest] if command else rest)
    except SystemExit as exc:
        err = err_stream.getvalue().strip()
        assert exc.code in (0, 2)
        if exc.code == 2:
            assert len(err.splitlines()) == 1 and "error:" in err, err


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_empty_file_of_every_type(tmp_path, suffix):
    (tmp_path / f"empty{suffix}").write_bytes(b"")
    with pytest.raises(ChoreoError):
        load_motions(tmp_path / f"empty{suffix}")
