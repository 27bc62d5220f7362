"""`MDMConfig`, the MDM network's sizes, apart from `choreo.model` so a model's description is read without
importing torch (the ONNX sampling path of `choreo generate` never imports it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from choreo.representation import FEATURE_DIM


@dataclass(frozen=True)
class MDMConfig:
    """Network sizes. The official HumanML3D model is the default."""

    input_feats: int = FEATURE_DIM
    latent_dim: int = 512
    ff_size: int = 1024
    num_layers: int = 8
    num_heads: int = 4
    dropout: float = 0.1
    text_dim: int = 512  # CLIP ViT-B/32 gives 512; MiniLM gives 384
    cond_mask_prob: float = 0.1
    max_len: int = 5000

    def to_dict(self) -> dict:
        return asdict(self)
