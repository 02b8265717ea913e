"""Networks of the DP-CTGAN engine (imports torch: load only from ``dpctgan``).

- :class:`Generator`: residual fully connected blocks (CTGAN's design). It never
  sees private data, only the discriminator's output, so it is free to use
  BatchNorm; its weights are what a model file stores.
- :class:`Discriminator`: a plain MLP with LeakyReLU and no normalization
  layer (BatchNorm mixes records within a batch, which breaks per-sample
  gradients and therefore DP-SGD); ``pac = 1``.
- :func:`activate`: the output activations per span (tanh for bin offsets,
  Gumbel-softmax for one-hots) drawing from an explicit torch generator.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from privsynth.engines._gan_transform import Span


class _Residual(nn.Module):
    def __init__(self, i: int, o: int) -> None:
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.bn = nn.BatchNorm1d(o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    """z (and the conditional vector) to raw, pre-activation row vectors."""

    def __init__(self, in_dim: int, hidden: Sequence[int], data_dim: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        d = in_dim
        for h in hidden:
            blocks.append(_Residual(d, h))
            d += h
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(d, data_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


class Discriminator(nn.Module):
    """Row vector plus conditional vector to one logit (real vs synthetic)."""

    def __init__(self, in_dim: int, hidden: Sequence[int]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        d = in_dim
        for h in hidden:
            layers += [nn.Linear(d, h), nn.LeakyReLU(0.2)]
            d = h
        layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def gumbel(shape: torch.Size, generator: torch.Generator) -> torch.Tensor:
    """Standard Gumbel noise from ``generator`` (F.gumbel_softmax uses the global RNG)."""
    u = torch.rand(shape, generator=generator)
    return -torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))


def activate(raw: torch.Tensor, spans: Sequence[Span], tau: float,
             generator: torch.Generator) -> torch.Tensor:
    """Row vectors from raw outputs: tanh offsets, Gumbel-softmax one-hots."""
    parts = []
    for sp in spans:
        r = raw[:, sp.start:sp.stop]
        if sp.kind == "offset":
            parts.append(torch.tanh(r))
        else:
            parts.append(F.softmax((r + gumbel(r.shape, generator)) / tau, dim=1))
    return torch.cat(parts, dim=1)
