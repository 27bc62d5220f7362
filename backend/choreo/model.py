"""The MDM network (`trans_enc`): a transformer encoder that predicts the clean motion x0.

Parameter names match the official checkpoints exactly (mdm-spec §1), so their state dicts load with
strict=True once `clip_model.*` and the fixed `*.pe` tables are dropped (see `choreo.bundle`).
The text encoder lives outside this module: the network takes a text embedding, not a string.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from choreo.model_config import MDMConfig

__all__ = ["MDM", "MDMConfig", "TorchDenoiser", "sinusoid_table"]


def sinusoid_table(max_len: int, dim: int) -> torch.Tensor:
    """pe[p, 2i] = sin(p / 10000^(2i/dim)), pe[p, 2i+1] = cos(...); shape [max_len, 1, dim]."""
    position = torch.arange(max_len, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(max_len, dim)
    pe[:, 0::2] = torch.sin(position * div)
    pe[:, 1::2] = torch.cos(position * div)
    return pe[:, None, :]


class PositionalEncoding(nn.Module):
    def __init__(self, dim: int, dropout: float, max_len: int) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        # Not persistent: it is a closed-form table, and official files store it with varying lengths.
        self.register_buffer("pe", sinusoid_table(max_len, dim), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [S, B, D]
        return self.dropout(x + self.pe[: x.shape[0]])


class TimestepEmbedder(nn.Module):
    def __init__(self, dim: int, pos_encoder: PositionalEncoding) -> None:
        super().__init__()
        self.sequence_pos_encoder = pos_encoder  # shared with the frame positions, as in MDM
        self.time_embed = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:  # -> [1, B, D]
        return self.time_embed(self.sequence_pos_encoder.pe[timesteps]).permute(1, 0, 2)


class InputProcess(nn.Module):
    def __init__(self, input_feats: int, dim: int) -> None:
        super().__init__()
        self.poseEmbedding = nn.Linear(input_feats, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, F, 1, T] -> [T, B, D]
        b, f, _, t = x.shape
        return self.poseEmbedding(x.permute(3, 0, 1, 2).reshape(t, b, f))


class OutputProcess(nn.Module):
    def __init__(self, input_feats: int, dim: int) -> None:
        super().__init__()
        self.poseFinal = nn.Linear(dim, input_feats)

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # [T, B, D] -> [B, F, 1, T]
        return self.poseFinal(h).permute(1, 2, 0)[:, :, None, :]


class MDM(nn.Module):
    """forward(x_t [B,263,1,T], t [B], text_emb [B,text_dim], uncond [B] bool) -> x0 prediction."""

    def __init__(self, config: MDMConfig = MDMConfig()) -> None:  # noqa: B008 - a frozen dataclass
        super().__init__()
        self.config = config
        c = config
        self.input_process = InputProcess(c.input_feats, c.latent_dim)
        self.sequence_pos_encoder = PositionalEncoding(c.latent_dim, c.dropout, c.max_len)
        layer = nn.TransformerEncoderLayer(
            d_model=c.latent_dim, nhead=c.num_heads, dim_feedforward=c.ff_size, dropout=c.dropout,
            activation="gelu",
        )
        self.seqTransEncoder = nn.TransformerEncoder(layer, num_layers=c.num_layers, enable_nested_tensor=False)
        self.embed_timestep = TimestepEmbedder(c.latent_dim, self.sequence_pos_encoder)
        self.embed_text = nn.Linear(c.text_dim, c.latent_dim)
        self.output_process = OutputProcess(c.input_feats, c.latent_dim)

    def mask_text(self, text_emb: torch.Tensor, uncond: torch.Tensor | None) -> torch.Tensor:
        """Zero the text embedding where unconditional; in training also at random (cond_mask_prob)."""
        keep = torch.ones(text_emb.shape[0], device=text_emb.device, dtype=text_emb.dtype)
        if uncond is not None:
            keep = keep * (~uncond.to(torch.bool)).to(text_emb.dtype)
        if self.training and self.config.cond_mask_prob > 0:
            drop = torch.rand(text_emb.shape[0], device=text_emb.device) < self.config.cond_mask_prob
            keep = keep * (~drop).to(text_emb.dtype)
        return text_emb * keep[:, None]

    def forward(
        self,
        x: torch.Tensor,
        timesteps: torch.Tensor,
        text_emb: torch.Tensor,
        uncond: torch.Tensor | None = None,
    ) -> torch.Tensor:
        emb = self.embed_timestep(timesteps) + self.embed_text(self.mask_text(text_emb, uncond))[None]
        h = torch.cat([emb, self.input_process(x)], dim=0)  # condition token first: [T+1, B, D]
        h = self.seqTransEncoder(self.sequence_pos_encoder(h))[1:]
        return self.output_process(h)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class TorchDenoiser:
    """The torch network as the sampler's denoiser (`choreo.sampler.Denoiser`): numpy arrays in and out,
    the forward on the network's device under inference mode (call `model.eval()` first)."""

    def __init__(self, model: MDM) -> None:
        self.model = model

    def __call__(self, x: np.ndarray, timesteps: np.ndarray, text_emb: np.ndarray, uncond: np.ndarray
                 ) -> np.ndarray:
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            out = self.model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device),
                             torch.from_numpy(np.asarray(timesteps, dtype=np.int64)).to(device),
                             torch.from_numpy(np.ascontiguousarray(text_emb, dtype=np.float32)).to(device),
                             torch.from_numpy(np.asarray(uncond, dtype=bool)).to(device))
        return out.float().cpu().numpy()
