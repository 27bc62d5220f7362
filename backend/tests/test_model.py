"""The MDM network: official parameter names and shapes, strict loading of official-layout checkpoints,
and the forward pass contract (shapes, unconditional masking, eval determinism)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from choreo.bundle import clean_official_state_dict, load_bundle
from choreo.model import MDM, MDMConfig, sinusoid_table

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "humanml3d_ref"
KEYS_FILE = SHARED / "mdm_humanml_trans_enc_512_keys.json"
OFFICIAL_PARAMS = 17_880_327
TINY = MDMConfig(latent_dim=32, ff_size=64, num_layers=2, num_heads=4, text_dim=24, max_len=1000)

# args.json of the official release (mdm-spec §5.1): the fields that matter for inference.
OFFICIAL_ARGS = {
    "arch": "trans_enc", "dataset": "humanml", "layers": 8, "latent_dim": 512, "cond_mask_prob": 0.1,
    "diffusion_steps": 1000, "noise_schedule": "cosine", "sigma_small": True, "emb_trans_dec": False,
    "unconstrained": False, "batch_size": 64, "lr": 0.0001, "seed": 10,
}



def official_keys() -> dict:
    if not KEYS_FILE.is_file():
        pytest.skip(f"official key list not found at {KEYS_FILE} (reference data, not in the repo)")
    return json.loads(KEYS_FILE.read_text())


def synthetic_official_state_dict(keys: dict, seed: int = 0, clip_shapes: bool = True) -> dict:
    """Random tensors of the listed shapes, including `*.pe` and (fp16) `clip_model.*` entries.

    clip_shapes=False stores each CLIP entry as one value (same names) to keep files small.
    """
    gen = torch.Generator().manual_seed(seed)
    sd = {k: torch.randn(shape, generator=gen) * 0.02 for k, shape in keys["state_dict"].items()}
    for k, shape in keys["clip_model_keys_if_present"].items():
        sd[k] = torch.empty(shape if clip_shapes else [1], dtype=torch.float16)
    return sd


@pytest.fixture(scope="module")
def full_model() -> MDM:
    return MDM(MDMConfig()).eval()


def test_full_size_parameter_count_and_keys(full_model: MDM) -> None:
    assert full_model.num_parameters() == OFFICIAL_PARAMS
    keys = official_keys()
    listed = {k: tuple(v) for k, v in keys["state_dict"].items() if not k.endswith(".pe")}
    ours = {k: tuple(v.shape) for k, v in full_model.state_dict().items()}
    assert ours == listed  # exactly the official names and shapes (the 106 trainable tensors)
    assert len(ours) == 106 and keys["_meta"]["mdm_num_trainable_params"] == OFFICIAL_PARAMS


@pytest.mark.parametrize("layout", ["flat", "ema"])
def test_strict_load_of_official_layout(full_model: MDM, layout: str) -> None:
    keys = official_keys()
    sd = synthetic_official_state_dict(keys)
    assert len(sd) == 108 + 302
    ckpt = sd if layout == "flat" else {"model": synthetic_official_state_dict(keys, seed=1), "model_avg": sd}
    cleaned = clean_official_state_dict(ckpt, prefer_ema=True)
    model = MDM(MDMConfig())
    result = model.load_state_dict(cleaned, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    w = model.seqTransEncoder.layers[3].self_attn.in_proj_weight
    assert torch.equal(w, sd["seqTransEncoder.layers.3.self_attn.in_proj_weight"])
    if layout == "ema":  # without EMA preference the plain 'model' weights are taken
        plain = clean_official_state_dict(ckpt, prefer_ema=False)
        assert torch.equal(plain["embed_text.weight"], ckpt["model"]["embed_text.weight"])


def test_positional_table_is_the_closed_form_not_a_stored_key(full_model: MDM) -> None:
    pe = full_model.sequence_pos_encoder.pe
    assert pe.shape == (5000, 1, 512)
    assert full_model.embed_timestep.sequence_pos_encoder is full_model.sequence_pos_encoder
    p, i = 123, 7
    assert pe[p, 0, 2 * i].item() == pytest.approx(math.sin(p * 10000 ** (-2 * i / 512)), abs=1e-5)
    assert pe[p, 0, 2 * i + 1].item() == pytest.approx(math.cos(p * 10000 ** (-2 * i / 512)), abs=1e-5)
    assert torch.equal(sinusoid_table(10, 8)[:, 0, 0], torch.sin(torch.arange(10.0)))
    assert not any(k.endswith(".pe") for k in full_model.state_dict())


def test_load_bundle_official_layout(tmp_path: Path) -> None:
    keys = official_keys()
    sd = synthetic_official_state_dict(keys, clip_shapes=False)
    folder = tmp_path / "humanml_trans_enc_512"
    folder.mkdir()
    torch.save(sd, folder / "model000475000.pt")
    (folder / "args.json").write_text(json.dumps(OFFICIAL_ARGS))
    rng = np.random.default_rng(0)
    np.save(folder / "Mean.npy", rng.normal(size=263).astype(np.float32))
    np.save(folder / "Std.npy", rng.uniform(0.1, 1, size=263).astype(np.float32))
    bundle = load_bundle(folder / "model000475000.pt")
    assert (bundle.kind, bundle.diffusion_steps, bundle.text_encoder) == ("official", 1000, "clip-vit-b32")
    assert bundle.model.num_parameters() == OFFICIAL_PARAMS and not bundle.model.training
    assert torch.equal(bundle.model.output_process.poseFinal.bias, sd["output_process.poseFinal.bias"])
    assert np.array_equal(bundle.normalizer.mean, np.load(folder / "Mean.npy"))
    # The folder works too (newest model*.pt), and the summary reports the architecture.
    info = load_bundle(folder).summary()
    assert (info["layers"], info["latent_dim"], info["heads"], info["text_dim"]) == (8, 512, 4, 512)


def test_forward_shapes_and_conditioning() -> None:
    torch.manual_seed(0)
    model = MDM(TINY).eval()
    b, t = 3, 17
    x = torch.randn(b, 263, 1, t)
    steps = torch.tensor([0, 500, 999])
    text = torch.randn(b, TINY.text_dim)
    out = model(x, steps, text)
    assert out.shape == (b, 263, 1, t)
    assert torch.equal(out, model(x, steps, text))  # eval mode: no dropout, no condition masking
    # Unconditional rows ignore the text; conditional rows depend on it.
    uncond = torch.tensor([True, False, True])
    a = model(x, steps, text, uncond)
    c = model(x, steps, torch.randn(b, TINY.text_dim), uncond)
    assert torch.allclose(a[uncond], c[uncond], atol=1e-6)
    assert not torch.allclose(a[~uncond], c[~uncond], atol=1e-4)
    # Zero text == unconditional (the null token is embed_text.bias).
    null = model(x, steps, text, torch.ones(b, dtype=torch.bool))
    assert torch.allclose(model(x, steps, torch.zeros_like(text)), null)
    # Each sample is independent of the others in the batch.
    assert torch.allclose(model(x[1:2], steps[1:2], text[1:2]), out[1:2], atol=1e-5)
    # Timestep matters.
    early, late = model(x, torch.tensor([1, 1, 1]), text), model(x, torch.tensor([900] * 3), text)
    assert not torch.allclose(early, late)


def test_training_mode_drops_condition_at_cond_mask_prob() -> None:
    model = MDM(MDMConfig(**{**TINY.to_dict(), "cond_mask_prob": 0.5})).train()
    torch.manual_seed(1)
    text = torch.ones(4000, TINY.text_dim)
    kept = (model.mask_text(text, None).abs().sum(-1) > 0).float().mean().item()
    assert 0.45 < kept < 0.55
    model.eval()
    assert torch.equal(model.mask_text(text, None), text)
