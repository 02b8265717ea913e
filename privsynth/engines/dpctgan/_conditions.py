"""DP-CTGAN's conditional vectors and marginal targets (torch is passed in, never imported).

Conditional vectors: a real record's vector names one discrete column, chosen
uniformly at random, and the record's own category in it; a synthetic row's
vector is drawn from the *noisy* category frequencies (a DP output), so the
two distributions match when the frequencies are right. Marginal targets are
the noisy, normalized 2-way tables the generator is trained to match.

>>> _ = np.seterr(all="ignore")
>>> frequencies(np.array([3, -1, 1])).tolist()
[0.75, 0.0, 0.25]
>>> frequencies(np.array([-2, -1])).tolist()
[0.5, 0.5]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from privsynth._types import FloatArray
from privsynth.engines.dpctgan._layout import GanLayout

if TYPE_CHECKING:
    import torch


def frequencies(noisy: npt.NDArray[np.int64]) -> FloatArray:
    """Category frequencies from noisy counts: clipped at 0, uniform when nothing is left."""
    mass = np.clip(noisy.astype(np.float64), 0.0, None)
    if mass.sum() <= 0:
        return np.full(len(mass), 1.0 / len(mass))
    return mass / mass.sum()


class CondSampler:
    """Conditional vectors for real records (their own category) and fakes (noisy frequencies)."""

    def __init__(self, torch: Any, layout: GanLayout, probs: list[FloatArray]) -> None:
        self.torch = torch
        self.k = len(layout.discrete)
        self.dim = layout.cond_dim
        self.offsets = torch.tensor(layout.cond_offsets, dtype=torch.int64)
        width = max(layout.cond_sizes, default=1)
        table = np.zeros((max(self.k, 1), width), dtype=np.float64)
        for i, p in enumerate(probs):
            table[i, :len(p)] = p
        if self.k == 0:
            table[0, 0] = 1.0
        self.table = torch.from_numpy(table)
        self.spans = [layout.onehot_span(j) for j in layout.discrete]

    def _onehot(self, col: torch.Tensor, cat: torch.Tensor) -> torch.Tensor:
        out = self.torch.zeros(len(col), self.dim)
        if self.k and len(col):
            out[self.torch.arange(len(col)), self.offsets[col] + cat] = 1.0
        return out

    def for_records(self, codes: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        m = codes.shape[0]
        if self.k == 0:
            return self.torch.zeros(m, 0)
        col = self.torch.randint(self.k, (m,), generator=g)
        cat = codes[self.torch.arange(m), col]
        return self._onehot(col, cat)

    def sample(self, m: int, g: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        torch = self.torch
        if self.k == 0:
            empty = torch.zeros(m, dtype=torch.int64)
            return torch.zeros(m, 0), empty, empty
        col = torch.randint(self.k, (m,), generator=g)
        cat = torch.multinomial(self.table[col], 1, generator=g).squeeze(1)
        return self._onehot(col, cat), col, cat

    def loss(self, raw: torch.Tensor, col: torch.Tensor, cat: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the generator's logits of each conditioned column vs. its condition."""
        torch = self.torch
        if self.k == 0:
            return raw.new_zeros(())
        total = raw.new_zeros(())
        for i, sp in enumerate(self.spans):
            rows = torch.nonzero(col == i).squeeze(1)
            if len(rows):
                total = total + torch.nn.functional.cross_entropy(
                    raw[rows, sp.start:sp.stop], cat[rows], reduction="sum")
        return total / len(col)


@dataclass(frozen=True)
class MarginalTargets:
    """The noisy, normalized pair tables (DP outputs) and how to read codes into them."""

    groups: list[npt.NDArray[np.int64]]
    sizes: list[int]
    pairs: list[tuple[int, int]]
    tables: list[FloatArray]
    weights: list[float]


__all__ = ["CondSampler", "MarginalTargets", "frequencies"]
