"""Section "Utility": how well the synthetic data reproduce the real data's statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from privsynth.errors import DataValidationError
from privsynth.report._values import rounded
from privsynth.report.evaluation import DEFAULT_MAX_RECORDS, EVALUATION_NOTE, safe_text
from privsynth.report.evaluation.marginals import marginal
from privsynth.schema import Schema

#: Columns with the largest TVD drawn as marginal comparisons.
N_WORST_COLUMNS = 4


def utility_section(real: pd.DataFrame, holdout: pd.DataFrame | None, synthetic: pd.DataFrame,
             schema: Schema, target: str | None, random_state: int,
             skipped_reason: str | None, n_jobs: int | None = 1,
             max_records: int | None = DEFAULT_MAX_RECORDS) -> dict[str, Any]:
    """Section "Utility": fidelity, per-column TVD, marginal figures, ML efficacy."""
    if skipped_reason is not None:
        return {"included": False, "reason": skipped_reason}
    from privsynth import metrics

    # large tables: every utility number is computed on one random subsample per table
    rng = np.random.default_rng(np.random.SeedSequence([random_state, 8]))
    real, cut_real = metrics.subsample_rows(real, max_records, rng)
    synthetic, cut_syn = metrics.subsample_rows(synthetic, max_records, rng)
    cut_holdout = False
    if holdout is not None:
        holdout, cut_holdout = metrics.subsample_rows(holdout, max_records, rng)
    subsampled = cut_real or cut_syn or cut_holdout
    subsample = {
        "max_records": max_records,
        "subsampled": subsampled,
        "statement": (f"The real data, the holdout and the synthetic data were each cut to a "
                      f"random subsample of at most {max_records:,} rows (max_records) before "
                      "computing the utility numbers." if subsampled and max_records else
                      "Every row of each table was used."),
    }
    fid = metrics.fidelity_summary(real, synthetic, schema=schema, max_records=None)
    tvd = metrics.tvd_table(real, synthetic, schema=schema)
    cov = metrics.coverage(real, synthetic, schema).set_index("column")["coverage"]
    columns = [{"column": str(row.column), "tvd": rounded(row.tvd, 4),
                "coverage": rounded(cov.get(row.column), 4)} for row in tvd.itertuples()]
    worst = [str(c) for c in tvd["column"].head(N_WORST_COLUMNS)]
    marginals = [marginal(schema[c], real[c], synthetic[c]) for c in worst]
    assoc = metrics.association_difference(real, synthetic, schema=schema)
    ml: dict[str, Any] | None = None
    ml_reason: str | None = None
    if target is None:
        ml_reason = "No target column was given (target=): train-on-synthetic was not run."
    elif holdout is None:
        ml_reason = ("Train-on-synthetic, test-on-real needs real test records: pass holdout= "
                     "to run it.")
    else:
        try:
            res = metrics.ml_efficacy(real, synthetic, holdout, target=target, schema=schema,
                                      random_state=random_state, n_threads=n_jobs,
                                      max_records=None)
        except DataValidationError as exc:
            # a message with numbers might quote counts of the real data
            ml_reason = "Train-on-synthetic could not run: " + (
                str(exc) if safe_text([str(exc)]) else "the real data do not support it "
                "(for example a single class of the target).")
        else:
            ml = {"target": res["target"], "positive": res["positive"],
                  "tstr_auc": rounded(res["tstr_auc"], 4), "trtr_auc": rounded(res["trtr_auc"], 4),
                  "note": res.get("note")}
    return {
        "included": True,
        "reason": None,
        "note": EVALUATION_NOTE,
        "fidelity": {k: rounded(v, 4) for k, v in fid.items()},
        "columns": columns,
        "marginals": marginals,
        "association_difference": {
            "columns": [str(c) for c in assoc.columns],
            "matrix": [[rounded(v, 3) for v in row] for row in assoc.to_numpy()]},
        "ml_efficacy": ml,
        "ml_efficacy_reason": ml_reason,
        "subsample": subsample,
    }
