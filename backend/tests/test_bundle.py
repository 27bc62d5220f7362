"""Model bundles: save/load round trip, broken files as one clear ChoreoError, `choreo model-info`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from choreo.bundle import load_bundle, save_bundle
from choreo.cli import main
from choreo.errors import ChoreoError
from choreo.model import MDM, MDMConfig
from choreo.representation import FEATURE_DIM, Normalizer

TINY = MDMConfig(latent_dim=32, ff_size=64, num_layers=2, num_heads=4, text_dim=384, max_len=1000)
BACKEND = Path(__file__).resolve().parents[1]



def _normalizer(seed: int = 0) -> Normalizer:
    rng = np.random.default_rng(seed)
    return Normalizer(rng.normal(size=FEATURE_DIM).astype(np.float32),
                      rng.uniform(0.1, 1.0, FEATURE_DIM).astype(np.float32))


@pytest.fixture
def bundle_file(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = MDM(TINY).eval()
    return save_bundle(tmp_path / "kpop", model, _normalizer(), diffusion_steps=50,
                       card={"name": "tiny test model", "epochs": 3})


def _one_line_error(path: Path, **kwargs: object) -> str:
    with pytest.raises(ChoreoError) as info:
        load_bundle(path, **kwargs)
    msg = str(info.value)
    assert msg and "\n" not in msg and "Traceback" not in msg
    return msg


def test_save_load_round_trip_gives_identical_outputs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = MDM(TINY).eval()
    norm = _normalizer()
    path = save_bundle(tmp_path / "out", model, norm, diffusion_steps=50, card={"name": "t"})
    assert path.name == "final_model.pt"
    for side in ("args.json", "mean.npy", "std.npy"):
        assert (path.parent / side).is_file()
    assert not list(path.parent.glob("*.tmp"))
    b = load_bundle(path)
    assert (b.kind, b.diffusion_steps, b.text_encoder, b.card["name"]) == ("choreo", 50, "minilm", "t")
    assert b.model.config == TINY and not b.model.training
    assert np.array_equal(b.normalizer.mean, norm.mean) and np.array_equal(b.normalizer.std, norm.std)
    x = torch.randn(2, 263, 1, 9)
    t = torch.tensor([3, 40])
    text = torch.randn(2, TINY.text_dim)
    with torch.no_grad():
        assert torch.equal(b.model(x, t, text), model(x, t, text))
    assert load_bundle(path.parent).path == path  # folder resolves to final_model.pt
    assert json.loads((path.parent / "args.json").read_text())["model"]["latent_dim"] == 32


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in _one_line_error(tmp_path / "nope.pt")
    (tmp_path / "empty").mkdir()
    assert "no model file" in _one_line_error(tmp_path / "empty")


def test_truncated_checkpoint(bundle_file: Path) -> None:
    data = bundle_file.read_bytes()
    bundle_file.write_bytes(data[: len(data) // 2])
    msg = _one_line_error(bundle_file)
    assert "not a readable PyTorch checkpoint" in msg and str(bundle_file) in msg


def test_garbage_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"this is not a checkpoint at all\n" * 10)
    assert "not a readable PyTorch checkpoint" in _one_line_error(bad)


class _Payload:
    """Unpickling this would create a file: the loader must refuse before running it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def test_non_tensor_pickle_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    bomb = tmp_path / "bomb.pt"
    torch.save({"model": _Payload(marker)}, bomb)
    assert not marker.exists()
    msg = _one_line_error(bomb)
    assert "holds Python objects besides tensors" in msg
    assert not marker.exists()


def test_not_a_state_dict(tmp_path: Path) -> None:
    p = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), p)
    assert "does not hold a state dict" in _one_line_error(p)


def test_official_layout_without_args_json(tmp_path: Path) -> None:
    p = tmp_path / "model000475000.pt"
    torch.save(MDM(TINY).state_dict(), p)
    msg = _one_line_error(p)
    assert "args.json" in msg


def test_official_layout_without_stats(tmp_path: Path) -> None:
    p = tmp_path / "model000475000.pt"
    cfg = MDMConfig(latent_dim=32, ff_size=1024, num_layers=1, num_heads=4, text_dim=512)
    torch.save(MDM(cfg).state_dict(), p)
    (tmp_path / "args.json").write_text(json.dumps({"arch": "trans_enc", "layers": 1, "latent_dim": 32}))
    assert "Mean.npy" in _one_line_error(p)
    (tmp_path / "args.json").write_text("{not json")
    assert "not valid JSON" in _one_line_error(p)
    (tmp_path / "args.json").write_text(json.dumps({"arch": "gru"}))
    assert "not supported" in _one_line_error(p)


def _official_checkpoint(folder: Path) -> Path:
    """A small official-layout checkpoint (flat state dict + args.json) with no statistics anywhere yet."""
    folder.mkdir(parents=True, exist_ok=True)
    cfg = MDMConfig(latent_dim=32, ff_size=1024, num_layers=1, num_heads=4, text_dim=512)
    torch.save(MDM(cfg).state_dict(), folder / "model000475000.pt")
    (folder / "args.json").write_text(json.dumps({"arch": "trans_enc", "layers": 1, "latent_dim": 32}))
    return folder / "model000475000.pt"


def _put_stats(folder: Path, seed: int) -> Normalizer:
    folder.mkdir(parents=True, exist_ok=True)
    norm = _normalizer(seed)
    np.save(folder / "Mean.npy", norm.mean)
    np.save(folder / "Std.npy", norm.std)
    return norm


@pytest.mark.parametrize("layout", ["beside", "above", "data_path", "data_path/HumanML3D",
                                    "data_path/dataset/HumanML3D"])
def test_official_stats_found_where_mdm_users_keep_them(tmp_path: Path, layout: str) -> None:
    # MDM's own tree: save/humanml_trans_enc_512/model000475000.pt, dataset/HumanML3D/Mean.npy.
    ckpt = _official_checkpoint(tmp_path / "mdm" / "save" / "humanml_trans_enc_512")
    data = tmp_path / "data"
    data.mkdir()
    folder = {"beside": ckpt.parent, "above": ckpt.parent.parent, "data_path": data,
              "data_path/HumanML3D": data / "HumanML3D", "data_path/dataset/HumanML3D": data / "dataset" / "HumanML3D"}
    norm = _put_stats(folder[layout], seed=3)
    _put_stats(tmp_path / "elsewhere", seed=4)  # never searched
    b = load_bundle(ckpt, data_path=data)
    assert b.kind == "official"
    assert np.array_equal(b.normalizer.mean, norm.mean) and np.array_equal(b.normalizer.std, norm.std)
    if layout == "beside" or layout == "above":  # no data_path needed for these
        assert np.array_equal(load_bundle(ckpt).normalizer.mean, norm.mean)


def test_official_stats_beside_the_checkpoint_win(tmp_path: Path) -> None:
    ckpt = _official_checkpoint(tmp_path / "save" / "run")
    beside = _put_stats(ckpt.parent, seed=1)
    _put_stats(ckpt.parent.parent, seed=2)
    _put_stats(tmp_path / "data" / "HumanML3D", seed=5)
    assert np.array_equal(load_bundle(ckpt, data_path=tmp_path / "data").normalizer.mean, beside.mean)


def test_official_stats_missing_lists_every_place_looked(tmp_path: Path) -> None:
    ckpt = _official_checkpoint(tmp_path / "save" / "run")
    data = tmp_path / "data"
    (data / "HumanML3D").mkdir(parents=True)
    np.save(data / "HumanML3D" / "Mean.npy", _normalizer().mean)  # half a pair does not count
    msg = _one_line_error(ckpt, data_path=data)
    for place in (ckpt.parent, ckpt.parent.parent, data, data / "HumanML3D", data / "dataset" / "HumanML3D"):
        assert f"{place}," in msg or f"{place};" in msg or f"{place})" in msg
    assert f"only Mean.npy in {data / 'HumanML3D'}" in msg
    assert "Mean.npy/Std.npy not found" in msg and "data_path" not in msg.split(")")[-1]
    # Without a data path the error says where one would be searched, and lists the two folders it did search.
    msg = _one_line_error(ckpt)
    assert str(ckpt.parent.parent) in msg and str(data) not in msg and "data_path in mdm_config.json" in msg
    # A data path that is a folder already searched is listed once.
    assert _one_line_error(ckpt, data_path=ckpt.parent).count(f"{ckpt.parent},") == 1


def test_official_stats_of_the_wrong_size_are_named(tmp_path: Path) -> None:
    ckpt = _official_checkpoint(tmp_path / "save" / "run")
    np.save(ckpt.parent.parent / "Mean.npy", np.zeros(10, dtype=np.float32))
    np.save(ckpt.parent.parent / "Std.npy", np.ones(10, dtype=np.float32))
    msg = _one_line_error(ckpt)
    assert str(ckpt.parent.parent / "Mean.npy") in msg and "263" in msg


def test_wrong_shape_weights(bundle_file: Path) -> None:
    ckpt = torch.load(bundle_file, weights_only=True)
    ckpt["model"]["embed_text.weight"] = torch.zeros(32, 100)
    torch.save(ckpt, bundle_file)
    msg = _one_line_error(bundle_file)
    assert "do not fit" in msg and "embed_text.weight" in msg


def test_missing_weights(bundle_file: Path) -> None:
    ckpt = torch.load(bundle_file, weights_only=True)
    del ckpt["model"]["output_process.poseFinal.bias"]
    torch.save(ckpt, bundle_file)
    assert "missing 1" in _one_line_error(bundle_file)


def test_incomplete_bundle(bundle_file: Path) -> None:
    ckpt = torch.load(bundle_file, weights_only=True)
    del ckpt["args"]
    torch.save(ckpt, bundle_file)
    assert "incomplete bundle" in _one_line_error(bundle_file)
    ckpt["choreo_bundle"] = 99
    torch.save(ckpt, bundle_file)
    assert "version 99" in _one_line_error(bundle_file)


def test_model_info_text_and_json(bundle_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["model-info", str(bundle_file)]) == 0
    out = capsys.readouterr().out
    assert "trans_enc" in out and "minilm" in out and "tiny test model" in out
    assert main(["model-info", str(bundle_file.parent), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    expected = {"path", "kind", "architecture", "latent_dim", "layers", "heads", "ff_size", "parameters",
                "text_encoder", "text_dim", "diffusion_steps", "noise_schedule", "sampling", "card"}
    assert expected <= set(info)
    assert info["parameters"] == MDM(TINY).num_parameters()
    assert (info["kind"], info["layers"], info["text_dim"], info["diffusion_steps"]) == ("choreo", 2, 384, 50)
    assert info["sampling"] == {"steps": 50, "guidance": 2.5}


def test_set_sampling_defaults_rewrites_bundle_and_args(bundle_file: Path, tmp_path: Path) -> None:
    from choreo.bundle import SamplingDefaults, set_sampling_defaults

    copy = tmp_path / "final_model.pt"
    copy.write_bytes(bundle_file.read_bytes())
    before = load_bundle(copy)
    set_sampling_defaults(copy, SamplingDefaults(steps=20, guidance=1.0))
    after = load_bundle(copy)
    assert after.sampling == SamplingDefaults(steps=20, guidance=1.0)
    assert json.loads((tmp_path / "args.json").read_text())["sampling"] == {"steps": 20, "guidance": 1.0}
    for k, v in before.model.state_dict().items():  # weights untouched
        assert torch.equal(v, after.model.state_dict()[k])


def test_model_info_bad_file_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x02garbage")
    assert main(["model-info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("choreo model-info: error:") and err.count("\n") == 1
    assert "Traceback" not in err
    assert main(["model-info", str(tmp_path / "missing.pt")]) == 2
    assert "not found" in capsys.readouterr().err


def test_model_info_bad_file_subprocess(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"truncated")
    proc = subprocess.run(
        [sys.executable, "-m", "choreo", "model-info", str(bad)],
        capture_output=True, text=True, cwd=BACKEND, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "bad.pt" in proc.stderr


def test_onnx_export_loads_without_torch_and_equals_the_torch_bundle(bundle_file: Path) -> None:
    """`write_onnx` puts the network and the bundle's args, mean/std and card into final_model.onnx; the onnx
    backend reads only that (no torch import, checked in a fresh process) and predicts what torch predicts."""
    pytest.importorskip("onnxscript")
    from choreo.bundle import onnx_status, write_onnx

    assert "no final_model.onnx" in onnx_status(bundle_file)
    auto = load_bundle(bundle_file, backend="auto")
    assert auto.backend == "torch" and "choreo export-onnx" in auto.backend_note
    assert "no final_model.onnx" in _one_line_error(bundle_file, backend="onnx")
    out = write_onnx(bundle_file)
    assert out == bundle_file.with_suffix(".onnx") and onnx_status(bundle_file) is None
    torch_b, onnx_b = load_bundle(bundle_file), load_bundle(bundle_file.parent, backend="auto")
    assert onnx_b.backend == "onnx" and onnx_b.model is None and not onnx_b.backend_note
    assert onnx_b.summary() == {**torch_b.summary(), "backend": "onnx"}
    assert np.array_equal(onnx_b.normalizer.mean, torch_b.normalizer.mean)
    assert np.array_equal(onnx_b.normalizer.std, torch_b.normalizer.std)
    rng = np.random.default_rng(0)
    x, text = rng.standard_normal((3, 263, 1, 30), dtype=np.float32), rng.standard_normal((3, 384), dtype=np.float32)
    t, unc = np.array([0, 20, 49]), np.array([False, True, False])
    assert np.abs(onnx_b.denoiser(x, t, text, unc) - torch_b.denoiser(x, t, text, unc)).max() < 1e-5
    code = (f"import sys; from choreo.bundle import load_bundle; b = load_bundle({str(bundle_file)!r}, "
            "backend='onnx'); print(b.backend, b.card['name'], 'torch' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=BACKEND)
    assert run.stdout.split() == ["onnx", "tiny", "test", "model", "False"], run.stderr


def test_stale_or_foreign_onnx_export_is_not_used(bundle_file: Path, tmp_path: Path) -> None:
    """A re-written bundle (here: new sampling defaults) no longer matches its export: auto falls back to torch
    and says why; an ONNX file that is not our export is refused; a bundle copied with its export still fits."""
    pytest.importorskip("onnxscript")
    import shutil

    from choreo.bundle import SamplingDefaults, fingerprint, onnx_status, set_sampling_defaults, write_onnx

    write_onnx(bundle_file)
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("final_model.pt", "final_model.onnx"):
        shutil.copy2(bundle_file.parent / name, copy / name)
    assert onnx_status(copy / "final_model.pt") is None  # the fingerprint is of the contents, not the path
    before = fingerprint(bundle_file)
    set_sampling_defaults(bundle_file, SamplingDefaults(7, 1.5))
    assert fingerprint(bundle_file) != before
    assert "another version" in onnx_status(bundle_file)
    auto = load_bundle(bundle_file, backend="auto")
    assert auto.backend == "torch" and auto.sampling.steps == 7 and "another version" in auto.backend_note
    write_onnx(bundle_file)
    assert load_bundle(bundle_file, backend="auto").sampling == SamplingDefaults(7, 1.5)
    from choreo.onnx_denoiser import export_onnx

    export_onnx(MDM(TINY).eval(), bundle_file.with_suffix(".onnx"), frames=20)  # no bundle metadata
    assert "not an export of a choreo bundle" in _one_line_error(bundle_file, backend="onnx")


def test_shipped_default_model_has_an_up_to_date_onnx_export() -> None:
    """`choreo generate` with the default model runs without torch only if final_model.onnx matches
    final_model.pt: re-publishing the model must export it again (`choreo publish-model` does)."""
    pytest.importorskip("onnxruntime")
    from choreo.bundle import onnx_status
    from choreo.config import DEFAULT_MODEL

    assert onnx_status(DEFAULT_MODEL) is None
