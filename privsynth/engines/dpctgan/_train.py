"""DP-CTGAN training: the discriminator by DP-SGD (Opacus), the generator as post-processing.

Each step: Poisson-sample real records at rate ``q`` (each record enters
independently), add a fixed, public number of synthetic rows, clip every
per-sample gradient to ``max_grad_norm`` (ghost clipping: Li et al. 2022) and
add Gaussian noise of ``noise_multiplier * max_grad_norm`` (Opacus, from an
explicit torch generator). The generator then learns from the released
discriminator only. Exactly ``steps`` steps run: the number charged.

Where ordinary generators remain: Poisson sampling and the Gaussian noise are
drawn by torch's pseudo-random generator seeded with 63 bits from the OS
CSPRNG (not privsynth's exact samplers), in floating point.

The training log holds only public or DP-derived numbers (step, epoch, the
generator's loss, which reads the released discriminator and synthetic rows
only, and the DP-SGD epsilon so far). The discriminator's loss on real rows is
not DP and is never kept.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from privsynth._types import FloatArray
from privsynth.accounting.compose import RDP_ORDERS
from privsynth.engines.dpctgan._conditions import CondSampler, MarginalTargets
from privsynth.engines.dpctgan._layout import GanLayout
from privsynth.errors import PrivsynthError

log = logging.getLogger("privsynth.engines.dpctgan")


@dataclass(frozen=True)
class TrainPlan:
    """What one training run does (all public or DP outputs)."""

    n_hat: float
    q: float
    noise_multiplier: float
    steps: int
    delta: float
    max_grad_norm: float
    sample_seed: int
    noise_seed: int


def train(engine: Any, torch: Any, layout: GanLayout, x_np: npt.NDArray[np.float32],
          cond_codes: npt.NDArray[np.int64], probs: list[FloatArray], plan: TrainPlan,
          targets: MarginalTargets | None = None) -> tuple[Any, Any, list[dict[str, float]]]:
    """Train; returns (generator, Opacus' PRV accountant of the run, the training log)."""
    from opacus.accountants import PRVAccountant
    from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent
    from opacus.grad_sample import GradSampleModuleFastGradientClipping
    from opacus.optimizers import DPOptimizerFastGradientClipping
    from opacus.utils.fast_gradient_clipping_utils import DPLossFastGradientClipping
    from opacus.validators import ModuleValidator

    from privsynth.engines.dpctgan import _nets as nets

    q, sigma, steps = plan.q, plan.noise_multiplier, plan.steps
    g = torch.Generator().manual_seed(plan.sample_seed)
    dp_gen = torch.Generator().manual_seed(plan.noise_seed)
    x_all = torch.from_numpy(x_np)
    codes_all = torch.from_numpy(cond_codes)
    n = x_all.shape[0]
    cond = CondSampler(torch, layout, probs)
    marg = nets.MarginalLoss(layout, targets) if targets is not None else None
    # fixed (public) number of synthetic rows per step: the expected real batch
    m_fake = max(1, round(q * plan.n_hat))

    gen = nets.Generator(engine.embedding_dim + layout.cond_dim, tuple(engine.generator_dim),
                         layout.dim)
    disc = nets.Discriminator(layout.dim + layout.cond_dim, tuple(engine.discriminator_dim))
    errors = ModuleValidator.validate(disc, strict=False)
    if errors:
        raise PrivsynthError(f"internal error: the discriminator is not DP-SGD compatible: "
                             f"{errors}")
    clip = float(plan.max_grad_norm)
    # Ghost clipping: per-sample gradient norms without materializing per-sample
    # gradients (Li et al. 2022), then one backward pass of the clipped sum;
    # Opacus adds the noise.
    gsm = GradSampleModuleFastGradientClipping(disc, loss_reduction="mean",
                                               max_grad_norm=clip, use_ghost_clipping=True)
    opt_d = DPOptimizerFastGradientClipping(
        torch.optim.Adam(gsm.parameters(), lr=engine.discriminator_lr, betas=(0.5, 0.9)),
        noise_multiplier=sigma, max_grad_norm=clip,
        # mean over the expected real batch plus the fixed synthetic rows: a
        # public constant (the exact batch size is data-dependent)
        expected_batch_size=m_fake + m_fake, loss_reduction="mean", generator=dp_gen)
    criterion = DPLossFastGradientClipping(
        gsm, opt_d, torch.nn.BCEWithLogitsLoss(reduction="mean"), loss_reduction="mean")
    opacus_acct = PRVAccountant()
    opt_d.attach_step_hook(opacus_acct.get_optimizer_hook_fn(sample_rate=q))
    opt_g = torch.optim.Adam(gen.parameters(), lr=engine.generator_lr, betas=(0.5, 0.9),
                             weight_decay=1e-6)
    tau = 0.2
    per_epoch = max(1, round(1 / q))
    stats: list[dict[str, float]] = []
    d_params = list(disc.parameters())
    loss_g_sum = 0.0
    t0 = time.perf_counter()
    for step in range(steps):
        # -- discriminator: one DP-SGD step on Poisson-sampled real rows + fixed fakes
        idx = torch.nonzero(torch.rand(n, generator=g) < q).squeeze(1)
        real = x_all[idx]
        real_cond = cond.for_records(codes_all[idx], g)
        with torch.no_grad():
            fc, _, _ = cond.sample(m_fake, g)
            z = torch.randn(m_fake, engine.embedding_dim, generator=g)
            fake = nets.activate(gen(torch.cat([z, fc], 1)), layout.spans, tau, g)
        inp = torch.cat([torch.cat([real, real_cond], 1), torch.cat([fake, fc], 1)], 0)
        target = torch.cat([torch.ones(len(idx)), torch.zeros(m_fake)])
        opt_d.zero_grad(set_to_none=True)
        loss_d = criterion(gsm(inp), target)
        loss_d.backward()
        opt_d.step()
        del loss_d  # computed on real rows without DP: never logged nor kept

        # -- generator: post-processing of the (released) discriminator
        gsm.disable_hooks()
        for p in d_params:
            p.requires_grad_(False)
        for _ in range(engine.generator_steps):
            fc, col, cat = cond.sample(m_fake, g)
            z = torch.randn(m_fake, engine.embedding_dim, generator=g)
            raw = gen(torch.cat([z, fc], 1))
            fake = nets.activate(raw, layout.spans, tau, g)
            loss_g = nets.generator_loss(gsm(torch.cat([fake, fc], 1)))
            loss_g = loss_g + cond.loss(raw, col, cat)
            if marg is not None:
                loss_g = loss_g + engine.marginal_weight * marg.loss(raw, col, cat)
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
                   "loss_g": loss_g_sum / done, "seconds": time.perf_counter() - t0}
            loss_g_sum = 0.0
            if engine.verbose:
                # a quick RDP upper bound for the progress line; the ledger holds the
                # tight (PLD) figure of the whole run, charged before training
                rdp = compute_rdp(q=q, noise_multiplier=sigma, steps=step + 1,
                                  orders=list(RDP_ORDERS))
                row["epsilon"] = float(get_privacy_spent(orders=list(RDP_ORDERS), rdp=rdp,
                                                         delta=plan.delta)[0])
                log.info("epoch %.1f step %d/%d: loss G %.3f, DP-SGD epsilon so far <= %.3f "
                         "(%.0f s)", row["epoch"], step + 1, steps, row["loss_g"],
                         row["epsilon"], row["seconds"])
            stats.append(row)
    gen.eval()
    return gen, opacus_acct, stats


__all__ = ["TrainPlan", "train"]
