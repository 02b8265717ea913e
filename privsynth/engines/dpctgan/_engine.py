"""DP-CTGAN: a conditional tabular GAN (Xu et al., NeurIPS 2019) made private end to end.

Needs the ``gan`` extra (torch, opacus): ``pip install "privsynth[gan]"``.
``import privsynth`` never imports torch; this module imports it only when a
model is fitted, sampled or loaded.

What is private, and what it costs (each item is a ledger entry of the release;
together they compose to at most the fit's own (epsilon, delta)):

1. ``count_share`` of epsilon: noisy category counts (discrete Laplace) of
   every categorical / boolean column. They give the frequencies from which
   the conditional vectors of synthetic rows are drawn, and their sums give a
   noisy row count ``n_hat``. No exact count is used anywhere.
2. ``marginal_share`` of epsilon: noisy 2-way tables of every column pair
   (discrete Gaussian, one event per pair; numeric columns in
   ``marginal_bins`` public groups). The generator is trained to match them
   (post-processing); this is what makes the relations between columns survive
   epsilon = 1, where the noisy discriminator alone only teaches marginals.
3. The rest: the discriminator, trained with DP-SGD (:mod:`._train`): Poisson
   sampling at rate ``q = batch_size / n_hat``, per-sample clipping,
   Gaussian noise whose multiplier is calibrated (:mod:`._plan`) so that the
   *release's own* events (1, 2 and these steps) compose to at most
   (epsilon, delta) by PLD: never borrowing from earlier releases in the
   ledger. Charged as one ``SubsampledGaussianEvent`` before training; exactly
   that many steps run.

Everything else is free: the numeric representation uses public bins from the
schema (:mod:`._layout`, not CTGAN's data-fitted Gaussian mixtures), and the
generator only ever sees the discriminator's output (post-processing).

Training-by-sampling and DP. CTGAN draws the real batch to match a chosen
condition, which is not Poisson sampling of records and would void the DP-SGD
analysis. Here each record enters a step by Poisson sampling alone; its
conditional vector names one discrete column chosen at random and the
record's own category in it; synthetic rows get conditions drawn from the
*noisy* frequencies, and their number per step is fixed (public), so adding
or removing a record changes the clipped gradient sum by at most one clipped
per-sample gradient. See ``docs/dpctgan.md``.

>>> import pandas as pd
>>> from privsynth.schema import Schema
>>> schema = Schema.from_dict({"columns": [
...     {"name": "a", "kind": "categorical", "categories": ["x", "y"]},
...     {"name": "b", "kind": "integer", "lower": 0, "upper": 9}]})
>>> df = pd.DataFrame({"a": ["x", "y"] * 100, "b": list(range(10)) * 20})
>>> gan = DPCTGAN(epochs=1, batch_size=50)  # doctest: +SKIP
>>> gan.fit(df, schema=schema, epsilon=1.0, delta=1e-5).sample(3).shape  # doctest: +SKIP
(3, 2)
"""

from __future__ import annotations

import importlib.util
import logging
import math
import secrets
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth import mechanisms
from privsynth._checks import check_delta, check_int, check_number
from privsynth._types import FloatArray
from privsynth.accounting import Accountant, Release, SubsampledGaussianEvent
from privsynth.accounting.events import MAX_DPSGD_STEPS
from privsynth.engines.base import FitDetails, Synthesizer
from privsynth.engines.dpctgan import _plan
from privsynth.engines.dpctgan._conditions import CondSampler, MarginalTargets, frequencies
from privsynth.engines.dpctgan._layout import GanLayout
from privsynth.errors import (
    DataValidationError,
    MissingExtraError,
    ModelFileError,
    ParameterError,
    PrivacyWarning,
)
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

log = logging.getLogger("privsynth.engines.dpctgan")

INSTALL_HINT = 'pip install "privsynth[gan]"'

#: Always true of a DP-CTGAN fit; listed in the record's hazards for the audit report.
NOISE_HAZARD = (
    "DP-SGD noise and Poisson sampling are drawn by torch's pseudo-random generator "
    "(seeded with 63 bits from the OS CSPRNG), not by privsynth's exact samplers: Opacus' "
    "secure mode needs torchcsprng, which is not available. The Gaussian noise is "
    "floating-point and not hardened against floating-point attacks (Mironov 2012)."
)
INSECURE_HAZARD = (
    "insecure test mode: all noise was seeded (Noise.insecure_for_tests); this model is NOT "
    "differentially private and must not be published"
)
CONTENTS = ("the public schema, the engine's parameters, generator weights trained with "
            "DP-SGD and noisy category frequencies (all DP outputs)")
NOISE = ("exact discrete Laplace noise on the category counts",
         "exact discrete Gaussian noise on the pair tables",
         "DP-SGD: floating-point Gaussian noise and Poisson sampling from torch's ordinary "
         "generator (seeded from the OS CSPRNG)")

# Opacus / torch warnings that are expected with this setup and say nothing to the user.
_QUIET = (
    "Secure RNG turned off",
    "Optimal order is the largest alpha",
    "Using a non-full backward hook",
    "Full backward hook is firing when gradients are computed",
)


class CannotLearnWarning(PrivacyWarning):
    """DP-SGD is not expected to learn at this size and budget (PrivBayes is the alternative)."""


def gan_available() -> bool:
    """True when torch and opacus can be imported (the ``gan`` extra is installed)."""
    try:
        return all(importlib.util.find_spec(m) is not None for m in ("torch", "opacus"))
    except (ImportError, ValueError):
        return False


def _require_gan() -> None:
    if not gan_available():
        raise MissingExtraError(
            f"DPCTGAN needs torch and opacus, which are not installed; run: {INSTALL_HINT}")


def _import_torch() -> Any:
    _require_gan()
    try:
        import opacus  # noqa: F401
        import torch
    except ImportError as exc:
        raise MissingExtraError(
            f"DPCTGAN could not import torch/opacus ({exc}); run: {INSTALL_HINT}") from exc
    return torch


class _Quiet(warnings.catch_warnings):
    def __enter__(self) -> None:
        super().__enter__()
        for msg in _QUIET:
            warnings.filterwarnings("ignore", message=msg)


def _check_dims(name: str, value: object) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Sequence) or isinstance(value, str) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in value):
        raise ParameterError(f"DPCTGAN: {name}={value!r}; allowed: a non-empty sequence of "
                             "layer widths, integers in [1, 4096]")
    return tuple(int(v) for v in value)


class DPCTGAN(Synthesizer):
    """Differentially private conditional tabular GAN (DP-SGD discriminator).

    Parameters
    ----------
    epochs : int or None, default None
        Expected passes over the data; with ``batch_size`` it fixes the number
        of DP-SGD steps, ``round(epochs * n_hat / batch_size)``. None: 10
        passes but at least 300 steps (measured: with fewer than about 250
        steps the GAN has not trained, whatever the budget; see
        docs/dpctgan.md), so a small table takes more passes.
    batch_size : int, default 1000
        Expected number of real records per discriminator step (Poisson
        sampling); the same number of synthetic rows joins each step.
    generator_dim : tuple of int, default (128, 128)
        Widths of the generator's residual layers.
    discriminator_dim : tuple of int, default (128, 128)
        Widths of the discriminator's hidden layers (fewer parameters means
        less DP noise in total).
    embedding_dim : int, default 64
        Size of the generator's random input.
    generator_lr, discriminator_lr : float, default 2e-4, 1e-3
        Adam learning rates.
    max_grad_norm : float, default 1.0
        Per-sample gradient clipping norm of DP-SGD.
    count_share : float, default 0.05
        Share of epsilon spent on noisy category counts.
    marginal_share : float, default 0.3
        Share of epsilon spent on noisy 2-way marginals of every column pair
        (numeric columns coarsened to ``marginal_bins`` groups), which the
        generator is trained to match (post-processing). 0 turns this off.
    marginal_bins : int, default 8
        Groups per numeric column in those marginals.
    marginal_weight : float, default 10.0
        Weight of the marginal-matching term in the generator's loss.
    max_bins : int, default 32
        Public bins per numeric column (see :class:`~privsynth.binning.Discretizer`).
    generator_steps : int, default 1
        Generator updates per discriminator step (free: post-processing).
    verbose : bool, default False
        Log epoch, the generator's loss and the DP-SGD epsilon so far (logger
        ``privsynth.engines.dpctgan``).
    """

    name = "dpctgan"
    contents = CONTENTS

    def __init__(
        self,
        epochs: int | None = None,
        batch_size: int = 1000,
        generator_dim: Sequence[int] = (128, 128),
        discriminator_dim: Sequence[int] = (128, 128),
        embedding_dim: int = 64,
        generator_lr: float = 2e-4,
        discriminator_lr: float = 1e-3,
        max_grad_norm: float = 1.0,
        count_share: float = 0.05,
        marginal_share: float = 0.3,
        marginal_bins: int = 8,
        marginal_weight: float = 10.0,
        max_bins: int = 32,
        generator_steps: int = 1,
        verbose: bool = False,
    ) -> None:
        _require_gan()
        self.epochs = epochs
        self.batch_size = batch_size
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.embedding_dim = embedding_dim
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.max_grad_norm = max_grad_norm
        self.count_share = count_share
        self.marginal_share = marginal_share
        self.marginal_bins = marginal_bins
        self.marginal_weight = marginal_weight
        self.max_bins = max_bins
        self.generator_steps = generator_steps
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        where = "DPCTGAN"
        if self.epochs is not None:
            check_int("epochs", self.epochs, lo=1, hi=100_000, where=where)
        for name, lo, hi in (("batch_size", 2, 10_000_000),
                             ("embedding_dim", 1, 4096), ("max_bins", 2, 1024),
                             ("generator_steps", 1, 100), ("marginal_bins", 2, 64)):
            check_int(name, getattr(self, name), lo=lo, hi=hi, where=where)
        for name in ("generator_lr", "discriminator_lr", "max_grad_norm", "marginal_weight"):
            check_number(name, getattr(self, name), lo=0, lo_open=True, where=where)
        check_number("count_share", self.count_share, lo=0, hi=0.5, lo_open=True, hi_open=True,
                     where=where)
        check_number("marginal_share", self.marginal_share, lo=0, hi=0.6, where=where)
        if self.count_share + self.marginal_share > 0.8:
            raise ParameterError("DPCTGAN: count_share + marginal_share must be at most 0.8 "
                                 "(the rest trains the discriminator)")
        _check_dims("generator_dim", self.generator_dim)
        _check_dims("discriminator_dim", self.discriminator_dim)

    def _fit_delta(self, delta: float | None, accountant: Accountant | None) -> float:
        if delta is None and accountant is not None:
            delta = accountant.unused_delta() or None
        if delta is None or isinstance(delta, bool) or not isinstance(delta, int | float) \
                or not 0 < delta < 1:
            raise ParameterError(
                f"DPCTGAN needs delta in (0, 1), got {delta!r}: DP-SGD is (epsilon, delta)-DP. "
                "Choose delta much smaller than 1/n, e.g. delta=1e-6 for 30,000 rows "
                "(about 1/n^2 to 1/n^1.5)"
                + ("; the accountant's budget has no delta left for it (a budget's delta is "
                   "fixed when it is created)" if accountant is not None else ""))
        return check_delta(delta, positive=True, where="DPCTGAN")

    def _check_public(self, schema: Schema, epsilon: float, delta: float,
                      options: Mapping[str, Any]) -> None:
        if options:
            raise ParameterError(f"DPCTGAN.fit got unknown option(s) {sorted(options)}")
        _import_torch()  # a missing extra is reported before anything is read

    # --------------------------------------------------------------------- fit
    def _fit(self, data: Any, *, schema: Schema, release: Release, noise: Noise,
             **options: Any) -> FitDetails:
        if not isinstance(data, pd.DataFrame):
            raise DataValidationError("DPCTGAN.fit needs a pandas DataFrame; read files with "
                                      "privsynth.read_table")
        torch = _import_torch()
        eps, delta = release.epsilon, release.delta
        layout = GanLayout(schema, self.max_bins)
        x_np, cond_codes = layout.encode(data)
        data_codes = layout.discretizer.encode(data)
        n = len(x_np)

        # ---- 1. noisy category counts -> condition frequencies and n_hat
        eps_counts = eps * self.count_share
        probs: list[FloatArray] = []
        sums: list[float] = []
        k = len(layout.discrete)
        for i, j in enumerate(layout.discrete):
            counts = np.bincount(cond_codes[:, i], minlength=layout.cond_sizes[i])
            noisy = mechanisms.discrete_laplace(
                counts, epsilon=eps_counts / k, accountant=release, noise=noise,
                label=f"dpctgan/counts/{schema.columns[j].name}")
            sums.append(float(noisy.sum()))
            probs.append(frequencies(noisy))
        if k == 0:
            sums.append(float(mechanisms.noisy_count(n, epsilon=eps_counts, accountant=release,
                                                     noise=noise, label="dpctgan/row_count")))
        n_hat = max(float(np.mean(sums)), 2.0)
        if delta >= 1.0 / n_hat:
            raise ParameterError(
                f"DPCTGAN: delta={delta:g} is not below 1/n (the noisy row count is about "
                f"{round(n_hat):,}): a mechanism may then publish whole records with "
                f"probability delta each. Use delta <= {1.0 / n_hat ** 1.5:.1g}. Only the "
                f"category counts were charged (epsilon {eps_counts:.3g}).")
        q = _plan.round_rate(self.batch_size / n_hat)
        steps = _plan.dpsgd_steps(self.epochs, q)
        if steps > MAX_DPSGD_STEPS:  # the noisy row count decides: checked before the tables
            raise ParameterError(
                f"DPCTGAN: {steps:,} DP-SGD steps ({self.epochs or _plan.DEFAULT_EPOCHS} "
                f"passes of batches of {self.batch_size} over about {round(n_hat):,} rows) is "
                f"above {MAX_DPSGD_STEPS:,}, the most privsynth accounts for; use fewer epochs "
                f"or a larger batch_size. Only the category counts were charged (epsilon "
                f"{eps_counts:.3g}).")

        # ---- 2. noisy 2-way marginals of every column pair (guide the generator)
        targets = self._noisy_marginals(layout, data_codes, release=release, noise=noise,
                                        epsilon=eps * self.marginal_share, delta=delta,
                                        n_hat=n_hat)

        # ---- 3. the DP-SGD plan, charged before any training: calibrated so that this
        # release's own events (counts, marginals, DP-SGD) compose to (eps, delta).
        sigma = _plan.dpsgd_sigma(eps, delta, q, steps, tuple(release.events))
        n_params = _discriminator_params(layout, _check_dims("discriminator_dim",
                                                             self.discriminator_dim))
        learn = _plan.learnability(noise_multiplier=sigma, batch=q * n_hat, steps=steps,
                                   n_params=n_params)
        hazards = [NOISE_HAZARD] + ([INSECURE_HAZARD] if noise.reproducible else [])
        problem = _plan.DpsgdOutlook(q, steps, sigma, learn).problem()
        if problem:
            msg = (f"DP-CTGAN is not expected to learn at this size and budget: {problem}. "
                   "PrivBayes gives better data here.")
            warnings.warn(msg, CannotLearnWarning, stacklevel=4)
            hazards.append(msg)
        release.spend(SubsampledGaussianEvent(q, sigma, steps), label="dpctgan/dpsgd",
                      reproducible_noise=noise.reproducible)
        log.info("noisy n %.0f; DP-SGD: q=%.4g, sigma=%.4g, steps=%d", n_hat, q, sigma, steps)

        # ---- 4. training
        from privsynth.engines.dpctgan._train import TrainPlan, train

        seeds = _seeds(noise, 3)
        with _Quiet(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seeds[0])
            gen, opacus_acct, stats = train(
                self, torch, layout, x_np, cond_codes, probs,
                TrainPlan(n_hat=n_hat, q=q, noise_multiplier=sigma, steps=steps, delta=delta,
                          max_grad_norm=float(self.max_grad_norm), sample_seed=seeds[1],
                          noise_seed=seeds[2]),
                targets=targets)

        self.noise_multiplier_ = sigma
        self.sampling_rate_ = q
        self.steps_ = steps
        self.cond_probs_ = probs
        self.opacus_accountant_ = opacus_acct
        self.training_log_ = stats
        self._layout = layout
        self._generator = gen
        description = {"noise_multiplier": sigma, "sampling_rate": q, "steps": steps,
                       "dpsgd_signal_to_noise": learn, "noisy_row_count": n_hat,
                       "marginal_tables": 0 if targets is None else len(targets.pairs)}
        return FitDetails(noisy_rows=n_hat, description=description, hazards=tuple(hazards),
                          noise=NOISE, contents=CONTENTS)

    def _noisy_marginals(self, layout: GanLayout, codes: npt.NDArray[np.int64], *,
                         release: Release, noise: Noise, epsilon: float, delta: float,
                         n_hat: float) -> MarginalTargets | None:
        """Noisy 2-way tables of every column pair (discrete Gaussian, one per pair).

        A record adds 1 to one cell of each table, so each table has L2 (and L1)
        sensitivity 1 and the ``P`` tables are ``P`` discrete Gaussian events.
        Clipped at 0 and normalized (post-processing).
        """
        d = len(layout.schema.columns)
        if self.marginal_share <= 0 or d < 2:
            return None
        pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
        sigma = _plan.marginal_sigma(epsilon, delta, len(pairs))
        if sigma is None:  # too little budget for useful tables: leave it to DP-SGD
            return None
        groups = layout.groups(self.marginal_bins)
        sizes = [int(g.max()) + 1 for g in groups]
        gc = np.stack([groups[j][codes[:, j]] for j in range(d)], axis=1)
        tables: list[FloatArray] = []
        weights: list[float] = []
        names = layout.schema.names
        for i, j in pairs:
            flat = np.bincount(gc[:, i] * sizes[j] + gc[:, j], minlength=sizes[i] * sizes[j])
            noisy = mechanisms.discrete_gaussian(
                flat, sigma=sigma, accountant=release, noise=noise,
                label=f"dpctgan/marginal/{names[i]}|{names[j]}")
            tables.append(frequencies(noisy).reshape(sizes[i], sizes[j]))
            # trust a table by its expected signal-to-noise mass (public quantities)
            weights.append(n_hat / (n_hat + 0.8 * sigma * sizes[i] * sizes[j]))
        return MarginalTargets(groups, sizes, pairs, tables, weights)

    # ------------------------------------------------------------------ sample
    def sample(self, n: int | None = None, *, random_state: int | None = None,
               conditions: Mapping[str, Any] | None = None,
               constraints: Sequence[Any] = (), max_tries: int | None = None) -> pd.DataFrame:
        """Draw synthetic rows (post-processing; costs no privacy budget); see the base class."""
        if random_state is None:  # the generator's draws are seeded per call either way
            random_state = secrets.randbits(63)
        return super().sample(n, random_state=random_state, conditions=conditions,
                              constraints=constraints, max_tries=max_tries)

    def _draw_raw(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        return self._draw(_import_torch(), n, int(rng.integers(0, 2**63 - 1)))

    def _draw(self, torch: Any, n: int, seed: int) -> pd.DataFrame:
        """``n`` raw rows of the generator, drawn with a torch generator seeded by ``seed``."""
        from privsynth.engines.dpctgan import _nets as nets

        layout = self._layout
        g = torch.Generator().manual_seed(seed)
        cond = CondSampler(torch, layout, self.cond_probs_)
        d = len(layout.schema.columns)
        codes = np.zeros((n, d), dtype=np.int64)
        offsets = np.zeros((n, d), dtype=np.float64)
        chunk = 8192
        with _Quiet(), torch.no_grad():
            for s in range(0, n, chunk):
                m = min(chunk, n - s)
                fc, col, cat = cond.sample(m, g)
                z = torch.randn(m, self.embedding_dim, generator=g)
                raw = self._generator(torch.cat([z, fc], 1))
                for sp in layout.spans:
                    r = raw[:, sp.start:sp.stop]
                    if sp.kind == "offset":
                        offsets[s:s + m, sp.column] = torch.tanh(r[:, 0]).double().numpy()
                    else:
                        pick = torch.argmax(r + nets.gumbel(r.shape, g), dim=1)
                        codes[s:s + m, sp.column] = pick.numpy()
                # the conditioned column takes its condition (drawn from the noisy counts)
                if layout.discrete:
                    cols = np.asarray(layout.discrete, dtype=np.int64)[col.numpy()]
                    codes[s + np.arange(m), cols] = cat.numpy()
        return layout.decode(codes, offsets)

    # ------------------------------------------------------------------ files
    @classmethod
    def _params_from_file(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(params)
        for key in ("generator_dim", "discriminator_dim"):
            if isinstance(out.get(key), list):
                out[key] = tuple(out[key])
        return out

    def _to_payload(self) -> dict[str, Any]:
        weights = {k: v.detach().cpu().numpy().copy()
                   for k, v in self._generator.state_dict().items()}
        return {"noise_multiplier": self.noise_multiplier_, "sampling_rate": self.sampling_rate_,
                "steps": self.steps_, "cond_probs": list(self.cond_probs_),
                "generator": weights}

    def _from_payload(self, payload: Mapping[str, Any], schema: Schema) -> None:
        torch = _import_torch()
        from privsynth.engines.dpctgan import _nets as nets

        layout = GanLayout(schema, self.max_bins)
        probs = [np.asarray(a, dtype=np.float64) for a in payload["cond_probs"]]
        if len(probs) != len(layout.discrete) or any(
                a.shape != (sz,) or not np.all(np.isfinite(a)) or a.min() < 0
                or not math.isclose(float(a.sum()), 1.0, abs_tol=1e-6)
                for a, sz in zip(probs, layout.cond_sizes, strict=True)):
            raise ModelFileError("the condition frequencies do not match the schema")
        gen = nets.Generator(self.embedding_dim + layout.cond_dim,
                             _check_dims("generator_dim", self.generator_dim), layout.dim)
        weights = payload["generator"]
        expected = gen.state_dict()
        if not isinstance(weights, dict) or set(weights) != set(expected):
            raise ModelFileError("the generator weights do not match its architecture")
        state = {}
        for key, ref in expected.items():
            arr = np.asarray(weights[key])
            if tuple(arr.shape) != tuple(ref.shape) or (
                    arr.dtype.kind == "f" and not np.all(np.isfinite(arr))):
                raise ModelFileError(f"generator weight {key!r} is malformed")
            state[key] = torch.from_numpy(arr.astype(ref.numpy().dtype, copy=True))
        gen.load_state_dict(state, strict=True)
        gen.eval()
        self.noise_multiplier_ = float(payload["noise_multiplier"])
        self.sampling_rate_ = float(payload["sampling_rate"])
        self.steps_ = int(payload["steps"])
        self.cond_probs_ = probs
        self._layout = layout
        self._generator = gen


def _discriminator_params(layout: GanLayout, hidden: tuple[int, ...]) -> int:
    """Parameters of the discriminator (a public function of the schema and architecture)."""
    return _plan.discriminator_params(layout.dim + layout.cond_dim, hidden)


def _seeds(noise: Noise, k: int) -> list[int]:
    """Seeds for torch: from the test seed in the insecure mode, else from the OS CSPRNG."""
    if noise.reproducible:
        rng = noise.generator()
        return [int(v) for v in rng.integers(0, 2**63 - 1, size=k)]
    return [secrets.randbits(63) for _ in range(k)]


__all__ = ["DPCTGAN", "INSTALL_HINT", "CannotLearnWarning", "gan_available"]
