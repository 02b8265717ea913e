"""Networks of the DP-CTGAN engine (imports torch: load only from ``dpctgan``).

- :class:`Generator`: residual fully connected blocks (CTGAN's design). It never
  sees private data, only the discriminator's output, so it is free to use
  BatchNorm; its weights are what a model file stores.
- :class:`Discriminator`: a plain MLP with LeakyReLU and no normalization
  layer (BatchNorm mixes records within a batch, which breaks per-sample
  gradients and therefore DP-SGD); ``pac = 1``.
- :func:`activate`: the output activations per span (tanh for bin offsets,
  Gumbel-softmax for one-hots) drawing from an explicit torch generator.
- the generator's losses: :func:`generator_loss` and :class:`MarginalLoss`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from privsynth.engines.dpctgan._conditions import MarginalTargets
from privsynth.engines.dpctgan._layout import GanLayout, Span


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


class MarginalLoss:
    """Weighted mean total-variation distance between the generator's expected pair
    tables and the noisy ones (a generator loss: post-processing of DP outputs).

    A generated row draws each column from the softmax of its logits (exactly as
    sampling does), so the expected pair table of a batch is the mean of outer
    products of per-column group probabilities: one matrix product for all pairs
    at once. The conditioned column takes its condition, as in sampling.
    """

    def __init__(self, layout: GanLayout, t: MarginalTargets) -> None:
        d = len(layout.schema.columns)
        self.spans = [layout.onehot_span(j) for j in range(d)]
        self.disc_index = {j: i for i, j in enumerate(layout.discrete)}
        width = sum(sp.size for sp in self.spans)
        starts = np.cumsum([0, *t.sizes])
        m = np.zeros((width, int(starts[-1])), dtype=np.float32)
        pos = 0
        for j, sp in enumerate(self.spans):
            m[pos + np.arange(sp.size), starts[j] + t.groups[j]] = 1.0
            pos += sp.size
        target = np.zeros((int(starts[-1]),) * 2, dtype=np.float32)
        weight = np.zeros_like(target)
        total = float(sum(t.weights))
        for (i, j), tab, w in zip(t.pairs, t.tables, t.weights, strict=True):
            target[starts[i]:starts[i + 1], starts[j]:starts[j + 1]] = tab
            weight[starts[i]:starts[i + 1], starts[j]:starts[j + 1]] = 0.5 * w / total
        self.group_matrix = torch.from_numpy(m)
        self.target = torch.from_numpy(target)
        self.weight = torch.from_numpy(weight)

    def loss(self, raw: torch.Tensor, col: torch.Tensor, cat: torch.Tensor) -> torch.Tensor:
        parts = []
        for j, sp in enumerate(self.spans):
            p = torch.softmax(raw[:, sp.start:sp.stop], dim=1)
            i = self.disc_index.get(j)
            if i is not None:
                given = F.one_hot(cat.clamp(max=sp.size - 1), sp.size)
                p = torch.where((col == i)[:, None], given.to(p.dtype), p)
            parts.append(p)
        q = torch.cat(parts, dim=1) @ self.group_matrix
        joint = q.T @ q / max(len(q), 1)
        return (self.weight * (joint - self.target).abs()).sum()


def generator_loss(disc_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating GAN loss of the generator: softplus(-D(fake))."""
    return F.softplus(-disc_logits).mean()
