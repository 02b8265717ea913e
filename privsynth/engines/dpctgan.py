"""DP-CTGAN: a conditional tabular GAN (Xu et al., NeurIPS 2019) made private end to end.

Needs the ``gan`` extra (torch, opacus): ``pip install "privsynth[gan]"``.
``import privsynth`` never imports torch; this module imports it only when a
model is fitted, sampled or loaded.

What is private, and what it costs (each item is a ledger entry):

1. ``count_share`` of epsilon: noisy category counts (discrete Laplace) of
   every categorical / boolean column. They give the frequencies from which
   the conditional vectors of synthetic rows are drawn, and their sums give a
   noisy row count ``n_hat``. No exact count is used anywhere.
2. ``marginal_share`` of epsilon (at delta / 2): noisy 2-way tables of every
   column pair (discrete Gaussian, one event per pair; numeric columns in
   ``marginal_bins`` public groups). The generator is trained to match them
   (post-processing); this is what makes the relations between columns survive
   epsilon = 1, where the noisy discriminator alone only teaches marginals.
3. The rest: the discriminator, trained with DP-SGD (Opacus): Poisson
   sampling of real records at rate ``q = batch_size / n_hat``, per-sample
   gradient clipping to ``max_grad_norm``, Gaussian noise whose multiplier is
   calibrated by privsynth's accountant for exactly the planned number of
   steps so that the *whole ledger* (earlier releases, 1 and 2, and this
   event) composes to at most the budget (PLD), charged as one
   ``SubsampledGaussianEvent`` *before* training starts. Training runs
   exactly that many steps.

Everything else is free: the numeric representation uses public bins from
the schema (not CTGAN's data-fitted Gaussian mixtures), and the generator
only ever sees the discriminator's output (post-processing).

Training-by-sampling and DP. CTGAN draws the real batch to match a chosen
condition, which is not Poisson sampling of records and would void the
DP-SGD analysis. Here each record enters a step by Poisson sampling alone;
its conditional vector names one discrete column chosen at random and the
record's own category in it; synthetic rows get conditions drawn from the
*noisy* frequencies, and their number per step is fixed (public), so adding
or removing a record changes the clipped gradient sum by at most one
clipped per-sample gradient. See ``docs/dpctgan.md``.

>>> import pandas as pd
>>> from privsynth.schema import Schema
>>> from privsynth.mechanisms import Noise
>>> schema = Schema.from_dict({"columns": [
...     {"name": "a", "kind": "categorical", "categories": ["x", "y"]},
...     {"name": "b", "kind": "integer", "lower": 0, "upper": 9}]})
>>> df = pd.DataFrame({"a": ["x", "y"] * 100, "b": list(range(10)) * 20})
>>> gan = DPCTGAN(epochs=1, batch_size=50)  # doctest: +SKIP
>>> gan.fit(df, schema=schema, epsilon=1.0, delta=1e-5).sample(3).shape  # doctest: +SKIP
(3, 2)
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import math
import secrets
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth import mechanisms
from privsynth._modelfile import read_model, write_model
from privsynth._types import FloatArray
from privsynth.accounting import (
    Accountant,
    DiscreteGaussianEvent,
    Event,
    PureDPEvent,
    SubsampledGaussianEvent,
    compose,
)
from privsynth.engines._gan_transform import GanLayout
from privsynth.engines.base import Synthesizer, check_epsilon, check_n, check_random_state
from privsynth.errors import (
    BudgetExceededError,
    DataValidationError,
    MissingExtraError,
    ModelFileError,
    ParameterError,
    PrivsynthError,
    SchemaError,
)
from privsynth.mechanisms import Noise
from privsynth.schema import Schema

if TYPE_CHECKING:
    import torch


INSTALL_HINT = 'pip install "privsynth[gan]"'

#: Always true of a DP-CTGAN fit; listed in ``hazards_`` for the audit report.
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

# Opacus / torch warnings that are expected with this setup and say nothing to the user.
_QUIET = (
    "Secure RNG turned off",
    "Optimal order is the largest alpha",
    "Using a non-full backward hook",
    "Full backward hook is firing when gradients are computed",
)


_RDP_ORDERS = [1 + x / 10.0 for x in range(1, 100)] + list(range(11, 64)) + [80, 128, 256]


def gan_available() -> bool:
    """True when torch and opacus can be imported (the ``gan`` extra is installed)."""
    try:
        return all(importlib.util.find_spec(m) is not None for m in ("torch", "opacus"))
    except (ImportError, ValueError):
        return False


def _require_gan() -> None:
    if not gan_available():
        raise MissingExtraError(
            f"DPCTGAN needs torch and opacus, which are not installed; run: {INSTALL_HINT}"
        )


def _import_torch() -> Any:
    _require_gan()
    try:
        import opacus  # noqa: F401
        import torch
    except ImportError as exc:
        raise MissingExtraError(
            f"DPCTGAN could not import torch/opacus ({exc}); run: {INSTALL_HINT}"
        ) from exc
    return torch


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        for msg in _QUIET:
            warnings.filterwarnings("ignore", message=msg)
        yield


def _smallest_feasible(eps_of: Callable[[float], float], start: float, epsilon: float,
                       *, max_evals: int = 8) -> float:
    """Smallest noise ``s`` (within ~0.3% of epsilon) with ``eps_of(s) <= epsilon``.

    ``eps_of`` decreases with ``s`` and is our accountant's composition; only a
    value it judged feasible is returned. Starts at ``start`` (a close guess),
    raises it until feasible, then takes secant steps on log-epsilon vs log-s.
    """
    s, e = start, eps_of(start)
    pts = [(s, e)]
    while not e <= epsilon:
        s *= 1.25
        if s > 1e6:
            raise BudgetExceededError(
                "DPCTGAN: no noise level fits what is left of the budget after the earlier "
                "releases; ask for a larger epsilon, or a new budget for a new data set")
        e = eps_of(s)
        pts.append((s, e))
    best, e_best = s, e
    target = epsilon * (1 - 5e-4)
    for _ in range(max_evals):
        if e_best >= epsilon * (1 - 3e-3):
            break
        if len(pts) >= 2 and pts[-1][0] != pts[-2][0] and 0 < pts[-1][1] != pts[-2][1] > 0:
            (s1, e1), (s2, e2) = pts[-2], pts[-1]
            slope = (math.log(e2) - math.log(e1)) / (math.log(s2) - math.log(s1))
            nxt = math.exp(math.log(s2) + (math.log(target) - math.log(e2)) / slope) \
                if slope < 0 else s2 * 0.9
        else:
            nxt = s * 0.9
        nxt = min(max(nxt, best * 0.5), best * (1 - 1e-4))
        s, e = nxt, eps_of(nxt)
        pts.append((s, e))
        if e <= epsilon and s < best:
            best, e_best = s, e
    return best


@functools.lru_cache(maxsize=64)
def _noise_multiplier(epsilon: float, delta: float, q: float, steps: int,
                      prior: tuple[Event, ...] = ()) -> float:
    """Smallest DP-SGD noise multiplier such that the events ``prior`` (the ledger) and
    ``steps`` Poisson-sampled steps at rate ``q`` compose to at most (``epsilon``,
    ``delta``) by OUR accountant (:func:`privsynth.accounting.compose`, PLD).

    Calibrating against the whole ledger matters: the joint PLD composition of the
    noisy tables and DP-SGD is much tighter than adding separately calibrated parts.
    Opacus' RDP calibration (cheap, looser) for the epsilon left after the pure
    events of ``prior`` gives the starting guess; every candidate is judged by
    ``compose`` (the same composition as
    :func:`privsynth.accounting.dpsgd_noise_multiplier`, whose bisection is slower).
    """
    from opacus.accountants.utils import get_noise_multiplier

    def eps_of(s: float) -> float:
        return compose([*prior, SubsampledGaussianEvent(q, s, steps)], delta).epsilon

    pure = math.fsum(e.pure_epsilon or 0.0 for e in prior)
    guess_eps = max(epsilon - pure, 0.05 * epsilon)
    with _quiet():
        try:
            start = float(get_noise_multiplier(target_epsilon=guess_eps, target_delta=delta,
                                               sample_rate=q, steps=steps, accountant="rdp",
                                               epsilon_tolerance=0.01 * guess_eps))
        except ValueError as exc:
            raise ParameterError(f"no DP-SGD noise reaches epsilon={epsilon:g} at "
                                 f"delta={delta:g}: {exc}") from exc
    # PLD is tighter than RDP: start a little lower
    return _smallest_feasible(eps_of, start * 0.95, epsilon)


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
    epochs : int, default 10
        Expected passes over the data; with ``batch_size`` it fixes the number
        of DP-SGD steps, ``round(epochs * n_hat / batch_size)``.
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
        Print epoch, losses and epsilon spent so far to stderr.
    """

    name = "dpctgan"

    def __init__(
        self,
        epochs: int = 10,
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
        def bad(name: str, allowed: str) -> ParameterError:
            return ParameterError(f"DPCTGAN: {name}={getattr(self, name)!r}; allowed: {allowed}")

        for name, lo, hi in (("epochs", 1, 100_000), ("batch_size", 2, 10_000_000),
                             ("embedding_dim", 1, 4096), ("max_bins", 2, 1024),
                             ("generator_steps", 1, 100), ("marginal_bins", 2, 64)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise bad(name, f"an integer in [{lo}, {hi}]")
        for name in ("generator_lr", "discriminator_lr", "max_grad_norm", "marginal_weight"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) \
                    or v <= 0:
                raise bad(name, "a positive number")
        v = self.count_share
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 0.5:
            raise bad("count_share", "a number in (0, 0.5)")
        v = self.marginal_share
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 0.6:
            raise bad("marginal_share", "a number in [0, 0.6]")
        if self.count_share + self.marginal_share > 0.8:
            raise ParameterError("DPCTGAN: count_share + marginal_share must be at most 0.8 "
                                 "(the rest trains the discriminator)")
        _check_dims("generator_dim", self.generator_dim)
        _check_dims("discriminator_dim", self.discriminator_dim)

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(f"[dpctgan] {msg}", file=sys.stderr, flush=True)

    # --------------------------------------------------------------------- fit
    def fit(
        self,
        data: pd.DataFrame,
        *,
        schema: Schema,
        epsilon: float,
        delta: float | None = None,
        accountant: Accountant | None = None,
        noise: Noise | None = None,
    ) -> DPCTGAN:
        """Train the GAN on ``data`` spending at most (``epsilon``, ``delta``).

        Parameters
        ----------
        data : DataFrame
            The private table; columns must match ``schema``.
        schema : Schema
            Public domains of the columns.
        epsilon : float
            Budget of this fit.
        delta : float
            Target delta of DP-SGD, much smaller than 1/n (e.g. 1e-6 for
            30,000 rows). Defaults to the accountant's delta when one is given.
        accountant : Accountant, optional
            The data set's accountant (with a delta > 0); a fresh one of
            exactly (``epsilon``, ``delta``) otherwise.
        noise : Noise, optional
            ``Noise.insecure_for_tests(seed)`` seeds every random draw of the
            fit (counts, sampling, DP-SGD noise, initialization) so two fits
            are identical. Such a model is NOT private.
        """
        self._check_params()
        eps = check_epsilon(epsilon)
        if not isinstance(schema, Schema):
            raise SchemaError("fit needs schema=Schema(...); use privsynth.Schema.from_json")
        if not isinstance(data, pd.DataFrame):
            raise DataValidationError("fit needs a pandas DataFrame; read files with "
                                      "privsynth.read_table")
        if delta is None and accountant is not None and accountant.delta > 0:
            delta = accountant.delta
        if isinstance(delta, bool) or not isinstance(delta, int | float) \
                or not 0 < delta < 1:
            raise ParameterError(
                f"DPCTGAN needs delta in (0, 1), got {delta!r}: DP-SGD is (epsilon, delta)-DP. "
                "Choose delta much smaller than 1/n, e.g. delta=1e-6 for 30,000 rows "
                "(about 1/n^2 to 1/n^1.5)")
        delta = float(delta)
        acct = accountant if accountant is not None else Accountant(eps, delta)
        if acct.delta <= 0:
            raise ParameterError(
                "the accountant has delta = 0 but DP-SGD needs delta > 0; create it as "
                f"Accountant(epsilon, delta) with a delta much smaller than 1/n, e.g. {delta:g}")
        delta_cal = min(delta, acct.delta)
        # Preflight before touching the data: the whole fit is at most epsilon;
        # a pure epsilon event is the conservative stand-in (the exact DP-SGD
        # event needs the noisy row count, and is checked again before training).
        acct.check([PureDPEvent(eps, mechanism="dpctgan")], label="DPCTGAN.fit")
        before = compose(acct.ledger.events, delta_cal).epsilon
        torch = _import_torch()  # after the preflight: a refusal is immediate
        noise = noise if noise is not None else Noise()

        from privsynth.engines.privbayes import _conform

        layout = GanLayout(schema, self.max_bins)
        conformed = _conform(data, schema)
        x_np, cond_codes = layout.encode(conformed)
        data_codes = layout.discretizer.encode(conformed)
        n = len(x_np)

        # ---- 1. noisy category counts -> condition frequencies and n_hat
        eps_counts = eps * self.count_share
        probs: list[FloatArray] = []
        sums: list[float] = []
        k = len(layout.discrete)
        for i, j in enumerate(layout.discrete):
            counts = np.bincount(cond_codes[:, i], minlength=layout.cond_sizes[i])
            noisy = mechanisms.discrete_laplace(
                counts, epsilon=eps_counts / k, accountant=acct, noise=noise,
                label=f"dpctgan/counts/{schema.columns[j].name}")
            sums.append(float(noisy.sum()))
            probs.append(_frequencies(noisy))
        if k == 0:
            sums.append(float(mechanisms.noisy_count(n, epsilon=eps_counts, accountant=acct,
                                                     noise=noise, label="dpctgan/row_count")))
        n_hat = max(float(np.mean(sums)), 2.0)

        # ---- 2. noisy 2-way marginals of every column pair (guide the generator)
        targets = self._noisy_marginals(layout, data_codes, acct=acct, noise=noise,
                                        epsilon=eps * self.marginal_share, delta=delta_cal / 2,
                                        n_hat=n_hat)

        # ---- 3. the DP-SGD plan, charged before any training. Its noise is calibrated
        # against the whole ledger (earlier releases, the counts and marginals above), so
        # that this fit adds at most epsilon and the total stays within the budget.
        q = _round_rate(self.batch_size / n_hat)
        steps = max(1, round(self.epochs / q))
        target = min(acct.epsilon, before + eps)
        sigma = _noise_multiplier(target, delta_cal, q, steps, tuple(acct.ledger.events))
        event = SubsampledGaussianEvent(q, sigma, steps)
        acct.spend(event, label="dpctgan/dpsgd", reproducible_noise=noise.reproducible)
        self._log(f"noisy n {n_hat:.0f}; DP-SGD: q={q:.4g}, sigma={sigma:.4g}, steps={steps}")

        # ---- 4. training
        seeds = _seeds(noise, 3)
        with _quiet(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seeds[0])
            gen, opacus_acct, stats = self._train(
                torch, layout, x_np, cond_codes, probs, n_hat=n_hat, q=q, sigma=sigma,
                steps=steps, delta=delta_cal, sample_seed=seeds[1], noise_seed=seeds[2],
                targets=targets)

        self.schema_ = schema
        self.accountant_ = acct
        # what this fit added to the ledger's composed total (<= eps by calibration);
        # claiming the requested eps instead would exceed a fresh ledger's own total
        # and make the audit report believe the fit was charged elsewhere
        self.epsilon_ = min(eps, max(0.0, compose(acct.ledger.events, delta_cal).epsilon
                                     - before))
        self.delta_ = delta_cal
        self.n_hat_ = n_hat
        self.noise_multiplier_ = sigma
        self.sampling_rate_ = q
        self.steps_ = steps
        self.cond_probs_ = probs
        self.reproducible_noise_ = noise.reproducible
        self.hazards_ = [NOISE_HAZARD] + ([INSECURE_HAZARD] if noise.reproducible else [])
        self.opacus_accountant_ = opacus_acct
        self.training_log_ = stats
        self._layout = layout
        self._generator = gen
        return self

    def _noisy_marginals(self, layout: GanLayout, codes: npt.NDArray[np.int64], *,
                         acct: Accountant, noise: Noise, epsilon: float, delta: float,
                         n_hat: float) -> _MarginalTargets | None:
        """Noisy 2-way tables of every column pair (discrete Gaussian, one per pair).

        A record adds 1 to one cell of each table, so each table has L2 (and L1)
        sensitivity 1 and the ``P`` tables are ``P`` discrete Gaussian events
        the accountant composes. Clipped at 0 and normalized (post-processing).
        """
        d = len(layout.schema.columns)
        if self.marginal_share <= 0 or d < 2:
            return None
        pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
        sigma = _marginal_sigma(epsilon, delta, len(pairs))
        if sigma is None:  # too little budget for useful tables: leave it to DP-SGD
            return None
        groups = layout.groups(self.marginal_bins)
        sizes = [int(g.max()) + 1 for g in groups]
        gc = np.stack([groups[j][codes[:, j]] for j in range(d)], axis=1)
        tables: list[FloatArray] = []
        weights: list[float] = []
        for i, j in pairs:
            flat = np.bincount(gc[:, i] * sizes[j] + gc[:, j], minlength=sizes[i] * sizes[j])
            noisy = mechanisms.discrete_gaussian(
                flat, sigma=sigma, accountant=acct, noise=noise,
                label=f"dpctgan/marginal/{layout.schema.columns[i].name}"
                      f"|{layout.schema.columns[j].name}")
            tables.append(_frequencies(noisy).reshape(sizes[i], sizes[j]))
            # trust a table by its expected signal-to-noise mass (public quantities)
            weights.append(n_hat / (n_hat + 0.8 * sigma * sizes[i] * sizes[j]))
        return _MarginalTargets(groups, sizes, pairs, tables, weights)

    def _train(self, torch: Any, layout: GanLayout, x_np: npt.NDArray[np.float32],
               cond_codes: npt.NDArray[np.int64], probs: list[FloatArray], *, n_hat: float,
               q: float, sigma: float, steps: int, delta: float, sample_seed: int,
               noise_seed: int, targets: _MarginalTargets | None = None
               ) -> tuple[Any, Any, list[dict[str, float]]]:
        from opacus.accountants import PRVAccountant
        from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent
        from opacus.grad_sample import GradSampleModuleFastGradientClipping
        from opacus.optimizers import DPOptimizerFastGradientClipping
        from opacus.utils.fast_gradient_clipping_utils import DPLossFastGradientClipping
        from opacus.validators import ModuleValidator

        from privsynth.engines import _gan_nets as nets

        g = torch.Generator().manual_seed(sample_seed)
        dp_gen = torch.Generator().manual_seed(noise_seed)
        x_all = torch.from_numpy(x_np)
        codes_all = torch.from_numpy(cond_codes)
        n = x_all.shape[0]
        cond = _CondSampler(torch, layout, probs)
        marg = _MarginalLoss(torch, layout, targets) if targets is not None else None
        # fixed (public) number of synthetic rows per step: the expected real batch
        m_fake = max(1, round(q * n_hat))

        gen = nets.Generator(self.embedding_dim + layout.cond_dim,
                             _check_dims("generator_dim", self.generator_dim), layout.dim)
        disc = nets.Discriminator(layout.dim + layout.cond_dim,
                                  _check_dims("discriminator_dim", self.discriminator_dim))
        errors = ModuleValidator.validate(disc, strict=False)
        if errors:
            raise PrivsynthError(f"internal error: the discriminator is not DP-SGD compatible: "
                                 f"{errors}")
        clip = float(self.max_grad_norm)
        # Ghost clipping: per-sample gradient norms without materializing
        # per-sample gradients (Li et al. 2022), then one backward pass of the
        # clipped sum; Opacus adds the noise.
        gsm = GradSampleModuleFastGradientClipping(disc, loss_reduction="mean",
                                                   max_grad_norm=clip, use_ghost_clipping=True)
        opt_d = DPOptimizerFastGradientClipping(
            torch.optim.Adam(gsm.parameters(), lr=self.discriminator_lr, betas=(0.5, 0.9)),
            noise_multiplier=sigma, max_grad_norm=clip,
            # mean over the expected real batch plus the fixed synthetic rows: a
            # public constant (the exact batch size is data-dependent)
            expected_batch_size=m_fake + m_fake, loss_reduction="mean", generator=dp_gen)
        criterion = DPLossFastGradientClipping(
            gsm, opt_d, torch.nn.BCEWithLogitsLoss(reduction="mean"), loss_reduction="mean")
        opacus_acct = PRVAccountant()
        opt_d.attach_step_hook(opacus_acct.get_optimizer_hook_fn(sample_rate=q))
        opt_g = torch.optim.Adam(gen.parameters(), lr=self.generator_lr, betas=(0.5, 0.9),
                                 weight_decay=1e-6)
        tau = 0.2
        per_epoch = max(1, round(1 / q))
        stats: list[dict[str, float]] = []
        d_params = list(disc.parameters())
        loss_d_sum = loss_g_sum = 0.0
        t0 = time.perf_counter()
        for step in range(steps):
            # -- discriminator: one DP-SGD step on Poisson-sampled real rows + fixed fakes
            idx = torch.nonzero(torch.rand(n, generator=g) < q).squeeze(1)
            real = x_all[idx]
            real_cond = cond.for_records(codes_all[idx], g)
            with torch.no_grad():
                fc, _, _ = cond.sample(m_fake, g)
                z = torch.randn(m_fake, self.embedding_dim, generator=g)
                fake = nets.activate(gen(torch.cat([z, fc], 1)), layout.spans, tau, g)
            inp = torch.cat([torch.cat([real, real_cond], 1), torch.cat([fake, fc], 1)], 0)
            target = torch.cat([torch.ones(len(idx)), torch.zeros(m_fake)])
            opt_d.zero_grad(set_to_none=True)
            loss_d = criterion(gsm(inp), target)
            loss_d.backward()
            opt_d.step()
            loss_d_sum += float(loss_d.detach())

            # -- generator: post-processing of the (released) discriminator
            gsm.disable_hooks()
            for p in d_params:
                p.requires_grad_(False)
            for _ in range(self.generator_steps):
                fc, col, cat = cond.sample(m_fake, g)
                z = torch.randn(m_fake, self.embedding_dim, generator=g)
                raw = gen(torch.cat([z, fc], 1))
                fake = nets.activate(raw, layout.spans, tau, g)
                loss_g = torch.nn.functional.softplus(-gsm(torch.cat([fake, fc], 1))).mean()
                loss_g = loss_g + cond.loss(raw, col, cat)
                if marg is not None:
                    loss_g = loss_g + self.marginal_weight * marg.loss(raw, col, cat)
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
            loss_g_sum += float(loss_g.detach())
            for p in d_params:
                p.requires_grad_(True)
            gsm.enable_hooks()

            if (step + 1) % per_epoch == 0 or step + 1 == steps:
                done = (step % per_epoch) + 1
                row = {"epoch": (step + 1) / per_epoch, "step": step + 1,
                       "loss_d": loss_d_sum / done, "loss_g": loss_g_sum / done,
                       "seconds": time.perf_counter() - t0}
                loss_d_sum = loss_g_sum = 0.0
                if self.verbose:
                    # a quick RDP upper bound for the progress line; the ledger holds the
                    # tight (PLD) figure of the whole run, charged before training
                    rdp = compute_rdp(q=q, noise_multiplier=sigma, steps=step + 1,
                                      orders=_RDP_ORDERS)
                    row["epsilon"] = float(get_privacy_spent(orders=_RDP_ORDERS, rdp=rdp,
                                                             delta=delta)[0])
                    self._log(f"epoch {row['epoch']:.1f} step {step + 1}/{steps}: "
                              f"loss D {row['loss_d']:.3f}, loss G {row['loss_g']:.3f}, "
                              f"DP-SGD epsilon so far <= {row['epsilon']:.3f} "
                              f"({row['seconds']:.0f} s)")
                stats.append(row)
        gen.eval()
        return gen, opacus_acct, stats

    # ------------------------------------------------------------------ sample
    def sample(self, n: int, *, random_state: int | None = None,
               conditions: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Draw ``n`` synthetic rows (post-processing; costs no privacy budget).

        ``conditions`` and the schema's constraints go through the generic
        rejection path of :class:`~privsynth.engines.base.Synthesizer`.
        """
        self._check_fitted()
        n = check_n(n)
        seed = check_random_state(random_state)
        torch = _import_torch()
        seed = seed if seed is not None else secrets.randbits(63)

        def draw(m: int, rng: np.random.Generator) -> pd.DataFrame:
            return self._draw(torch, m, int(rng.integers(0, 2**63 - 1)))

        return self._sample_constrained(n, random_state=seed, draw=draw, conditions=conditions)

    def _draw(self, torch: Any, n: int, seed: int) -> pd.DataFrame:
        """``n`` raw rows of the generator, drawn with a torch generator seeded by ``seed``."""
        from privsynth.engines import _gan_nets as nets

        layout = self._layout
        g = torch.Generator().manual_seed(seed)
        cond = _CondSampler(torch, layout, self.cond_probs_)
        d = len(layout.schema.columns)
        codes = np.zeros((n, d), dtype=np.int64)
        offsets = np.zeros((n, d), dtype=np.float64)
        chunk = 8192
        with _quiet(), torch.no_grad():
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
    def save(self, path: str | Path) -> None:
        """Write the generator weights and the DP transform (no training rows, no pickle)."""
        self._check_fitted()
        weights = {k: v.detach().cpu().numpy().copy()
                   for k, v in self._generator.state_dict().items()}
        payload: dict[str, Any] = {
            "params": {k: (list(v) if isinstance(v, tuple | list) else v)
                       for k, v in self.get_params().items()},
            "schema": self.schema_.to_dict(),
            "epsilon": self.epsilon_,
            "delta": self.delta_,
            "n_hat": self.n_hat_,
            "noise_multiplier": self.noise_multiplier_,
            "sampling_rate": self.sampling_rate_,
            "steps": self.steps_,
            "reproducible_noise": self.reproducible_noise_,
            "hazards": list(self.hazards_),
            "cond_probs": list(self.cond_probs_),
            "generator": weights,
        }
        write_model(path, self.name, payload)

    @classmethod
    def load(cls, path: str | Path) -> DPCTGAN:
        """Read a model written by :meth:`save`, validating every part."""
        p = read_model(path, cls.name)
        torch = _import_torch()
        from privsynth.engines import _gan_nets as nets

        try:
            params = dict(p["params"])
            for key in ("generator_dim", "discriminator_dim"):
                params[key] = tuple(params[key])
            model = cls(**params)
            model._check_params()
            schema = Schema.from_dict(p["schema"])
            layout = GanLayout(schema, model.max_bins)
            probs = [np.asarray(a, dtype=np.float64) for a in p["cond_probs"]]
            if len(probs) != len(layout.discrete) or any(
                    a.shape != (sz,) or not np.all(np.isfinite(a)) or a.min() < 0
                    or not math.isclose(float(a.sum()), 1.0, abs_tol=1e-6)
                    for a, sz in zip(probs, layout.cond_sizes, strict=True)):
                raise ModelFileError(f"{path}: the condition frequencies do not match the schema")
            gen = nets.Generator(model.embedding_dim + layout.cond_dim,
                                 _check_dims("generator_dim", model.generator_dim), layout.dim)
            weights = p["generator"]
            expected = gen.state_dict()
            if not isinstance(weights, dict) or set(weights) != set(expected):
                raise ModelFileError(f"{path}: the generator weights do not match its "
                                     "architecture")
            state = {}
            for key, ref in expected.items():
                arr = np.asarray(weights[key])
                if tuple(arr.shape) != tuple(ref.shape) or (
                        arr.dtype.kind == "f" and not np.all(np.isfinite(arr))):
                    raise ModelFileError(f"{path}: generator weight {key!r} is malformed")
                state[key] = torch.from_numpy(arr.astype(ref.numpy().dtype, copy=True))
            gen.load_state_dict(state, strict=True)
            gen.eval()
            model.schema_ = schema
            model.epsilon_ = float(p["epsilon"])
            model.delta_ = float(p["delta"])
            model.n_hat_ = float(p["n_hat"])
            model.noise_multiplier_ = float(p["noise_multiplier"])
            model.sampling_rate_ = float(p["sampling_rate"])
            model.steps_ = int(p["steps"])
            model.reproducible_noise_ = bool(p["reproducible_noise"])
            model.hazards_ = [str(h) for h in p["hazards"]]
        except ModelFileError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError, SchemaError,
                ParameterError) as exc:
            raise ModelFileError(f"{path}: the DPCTGAN model is malformed: {exc}") from exc
        model.accountant_ = Accountant(max(model.epsilon_, 1e-12), max(model.delta_, 1e-300))
        model.cond_probs_ = probs
        model._layout = layout
        model._generator = gen
        return model


class _CondSampler:
    """Conditional vectors: for real records from their own category, for fakes from noisy
    frequencies. A column is chosen uniformly at random in both cases so the two
    distributions match when the frequencies are right."""

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


class _MarginalTargets:
    """The noisy, normalized pair tables (DP outputs) and how to read codes into them."""

    def __init__(self, groups: list[npt.NDArray[np.int64]], sizes: list[int],
                 pairs: list[tuple[int, int]], tables: list[FloatArray],
                 weights: list[float]) -> None:
        self.groups = groups
        self.sizes = sizes
        self.pairs = pairs
        self.tables = tables
        self.weights = weights


class _MarginalLoss:
    """Weighted mean total-variation distance between the generator's expected pair
    tables and the noisy ones.

    A generated row draws each column from the softmax of its logits (exactly as
    :meth:`DPCTGAN.sample` does), so the expected pair table of a batch is the mean
    of outer products of per-column group probabilities: one matrix product for all
    pairs at once. The conditioned column takes its condition, as in ``sample``.
    """

    def __init__(self, torch: Any, layout: GanLayout, t: _MarginalTargets) -> None:
        self.torch = torch
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
        torch = self.torch
        parts = []
        for j, sp in enumerate(self.spans):
            p = torch.softmax(raw[:, sp.start:sp.stop], dim=1)
            i = self.disc_index.get(j)
            if i is not None:
                given = torch.nn.functional.one_hot(cat.clamp(max=sp.size - 1), sp.size)
                p = torch.where((col == i)[:, None], given.to(p.dtype), p)
            parts.append(p)
        q = torch.cat(parts, dim=1) @ self.group_matrix
        joint = q.T @ q / max(len(q), 1)
        return (self.weight * (joint - self.target).abs()).sum()


@functools.lru_cache(maxsize=64)
def _marginal_sigma(epsilon: float, delta: float, pairs: int) -> float | None:
    """Smallest discrete Gaussian sigma (within ~0.3% of epsilon) so that ``pairs`` tables
    compose to (epsilon, delta) by our accountant; None above 1e4 (useless tables).

    The start is the zCDP calibration (a valid but looser bound): rho = pairs /
    (2 sigma^2) and epsilon = rho + 2 sqrt(rho log(1/delta)).
    """
    def eps_of(s: float) -> float:
        return compose([DiscreteGaussianEvent(s, 1)] * pairs, delta).epsilon

    log_d = math.log(1 / delta)
    rho = (math.sqrt(log_d + epsilon) - math.sqrt(log_d)) ** 2
    start = math.sqrt(pairs / (2 * rho))
    if start > 1e4:
        return None
    try:
        sigma = _smallest_feasible(eps_of, start * 0.9, epsilon, max_evals=5)
    except BudgetExceededError:
        return None
    return sigma if sigma <= 1e4 else None


def _round_rate(q: float) -> float:
    """The sampling rate rounded to two significant digits, at most 1.

    Rounding changes the expected batch by under 5% and makes the plan (and so
    the calibration and composition, which are cached) the same for fits whose
    noisy row counts differ slightly.

    >>> _round_rate(0.03071), _round_rate(0.177), _round_rate(3.0)
    (0.031, 0.18, 1.0)
    """
    if q >= 1:
        return 1.0
    digits = 1 - math.floor(math.log10(q))
    return min(1.0, round(q, digits))


def _frequencies(noisy: npt.NDArray[np.int64]) -> FloatArray:
    """Category frequencies from noisy counts: clipped at 0, uniform when nothing is left."""
    mass = np.clip(noisy.astype(np.float64), 0.0, None)
    if mass.sum() <= 0:
        return np.full(len(mass), 1.0 / len(mass))
    return mass / mass.sum()


def _seeds(noise: Noise, k: int) -> list[int]:
    """Seeds for torch: from the test seed in the insecure mode, else from the OS CSPRNG."""
    if noise.reproducible:
        rng = noise.generator()
        return [int(v) for v in rng.integers(0, 2**63 - 1, size=k)]
    return [secrets.randbits(63) for _ in range(k)]
