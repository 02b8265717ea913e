# ruff: noqa: E501  (snippets quote source lines exactly; splitting them hurts reading)
"""The privacy mutants: deliberate, realistic bugs in privacy-relevant lines.

Each mutant replaces exact snippets of one file of the package (every snippet
must occur exactly once, so a mutant whose line moved or changed fails loudly
until it is updated) and names the tests of the default suite that must kill
it. ``tests/mutation/run.py`` applies each to a temporary copy of the package
and runs those tests; ``tests/test_mutation_battery.py`` checks, in the default
suite, that every mutant still applies and that ``docs/testing.md`` lists it.

Add a mutant for every privacy-relevant line the package gains: a noise scale,
a sensitivity, a budget split, a place where a noisy quantity must stay noisy,
a check that refuses to spend or to load.

This file imports nothing from privsynth (the battery must not depend on the
code it mutates).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    """One planted bug: ``edits`` are (original, replacement) pairs in ``file``."""

    id: str
    file: str
    edits: tuple[tuple[str, str], ...]
    reason: str
    tests: tuple[str, ...]


MECH = "privsynth/mechanisms.py"
T_MECH = "tests/test_mechanisms.py"
T_ACCT = "tests/test_accounting.py"
T_LEDGER = "tests/test_persistent_ledger.py"
T_PAIRED = "tests/test_paired_runs.py"
T_INV = "tests/test_privacy_invariants.py"
T_UNITS = "tests/test_units.py"
T_TABLES = "tests/test_tables.py"
T_TABLES_CHILD = "tests/test_tables_child.py"
TABLES_FIT = "privsynth/engines/tables/_fit.py"
RECORD = "privsynth/engines/record.py"
T_CLAIMS = "tests/test_model_claims.py"
T_TABLES_REPORT = "tests/test_tables_report.py"
TABLES_RELATION = "privsynth/report/evaluation/relation.py"
TABLES_REPORT = "privsynth/report/tables.py"

MUTANTS: tuple[Mutant, ...] = (
    # ------------------------------------------------------------------ mechanisms
    Mutant(
        "laplace-epsilon-doubled", MECH,
        (("    ratio = eps / sensitivity\n", "    ratio = 2 * eps / sensitivity\n"),),
        "discrete Laplace noise drawn at twice the epsilon charged (half the noise)",
        (f"{T_MECH}::test_discrete_laplace_exact_pmf[fast]",)),
    Mutant(
        "laplace-sensitivity-ignored", MECH,
        (("    ratio = eps / sensitivity\n", "    ratio = eps / 1\n"),),
        "discrete Laplace noise ignores the declared sensitivity (too little noise when > 1)",
        (f"{T_INV}::test_discrete_laplace_noise_scales_with_sensitivity",)),
    Mutant(
        "laplace-records-sensitivity-1", MECH,
        (("accountant.spend(DiscreteLaplaceEvent(float(epsilon), sensitivity)",
          "accountant.spend(DiscreteLaplaceEvent(float(epsilon), 1)"),),
        "the ledger records sensitivity 1 for a multi-coordinate release",
        (f"{T_INV}::test_discrete_laplace_noise_scales_with_sensitivity",)),
    Mutant(
        "laplace-seeded-flag-dropped", MECH,
        (("    accountant.spend(DiscreteLaplaceEvent(float(epsilon), sensitivity), label=label,\n"
          "                     reproducible_noise=src.reproducible)",
          "    accountant.spend(DiscreteLaplaceEvent(float(epsilon), sensitivity), label=label,\n"
          "                     reproducible_noise=False)"),),
        "seeded (insecure) noise is not marked in the ledger",
        (f"{T_MECH}::test_insecure_noise_is_reproducible_and_marked_in_the_ledger",)),
    Mutant(
        "laplace-draws-before-charging", MECH,
        (("    accountant.spend(DiscreteLaplaceEvent(float(epsilon), sensitivity), label=label,\n"
          "                     reproducible_noise=src.reproducible)\n"
          "    # P(z) ~ exp(-|z| eps/sens): s/t = eps/sens with eps rounded down\n"
          "    ratio = eps / sensitivity\n"
          "    z = _sample_discrete_laplace(counts.size, ratio.numerator, ratio.denominator, src.source())\n",
          "    ratio = eps / sensitivity\n"
          "    z = _sample_discrete_laplace(counts.size, ratio.numerator, ratio.denominator, src.source())\n"
          "    accountant.spend(DiscreteLaplaceEvent(float(epsilon), sensitivity), label=label,\n"
          "                     reproducible_noise=src.reproducible)\n"),),
        "noise is drawn before the spend is checked and recorded (a refused release has drawn)",
        (f"{T_ACCT}::test_overspend_raises_before_noise_is_drawn",)),
    Mutant(
        "gaussian-sigma-halved", MECH,
        (("sig2 = Fraction(math.ceil(Fraction(sigma) ** 2 * grid), grid)",
          "sig2 = Fraction(math.ceil(Fraction(sigma / 2) ** 2 * grid), grid)"),),
        "discrete Gaussian drawn with half the sigma charged",
        (f"{T_MECH}::test_discrete_gaussian_exact_pmf[fast]",)),
    Mutant(
        "exponential-factor-2-dropped", MECH,
        (("    factor = 1 if monotonic else 2\n", "    factor = 1\n"),),
        "exponential mechanism without its factor 2 (twice the epsilon charged)",
        (f"{T_MECH}::test_exponential_frequencies[fast]",)),
    Mutant(
        "exponential-charges-half", MECH,
        (("accountant.spend(ExponentialEvent(float(epsilon)), label=label,",
          "accountant.spend(ExponentialEvent(float(epsilon) / 2), label=label,"),),
        "the exponential mechanism charges half the epsilon it uses",
        (f"{T_MECH}::test_exponential_frequencies[fast]",)),
    Mutant(
        "threshold-lowered", MECH,
        (("    return {k: int(v) for k, v in zip(keys, values, strict=True) if v >= threshold}",
          "    return {k: int(v) for k, v in zip(keys, values, strict=True) if v >= threshold - 2}"),),
        "thresholded histogram releases keys below the threshold its delta was computed for",
        (f"{T_MECH}::test_thresholded_histogram_single_record_keys_appear_with_probability_delta",)),
    Mutant(
        "threshold-delta-undercharged", MECH,
        (("    delta = math.exp(-eps * (threshold - 1)) / (1 + math.exp(-eps))\n"
          "    src = _noise(noise)",
          "    delta = math.exp(-eps * threshold) / (1 + math.exp(-eps))\n"
          "    src = _noise(noise)"),),
        "thresholded histogram charges a delta e^eps times too small",
        (f"{T_MECH}::test_thresholded_histogram_single_record_keys_appear_with_probability_delta",)),
    Mutant(
        "quantile-score-doubled", MECH,
        (("    scores = -np.abs(below - q * x.size)", "    scores = -2 * np.abs(below - q * x.size)"),),
        "DP quantile scores of sensitivity 2 declared as 1",
        (f"{T_MECH}::test_quantile_score_sensitivity_is_one",)),
    Mutant(
        "noise-seeded-by-default", MECH,
        (("        return self._rng if self._rng is not None else OSRandom()",
          "        return self._rng if self._rng is not None else np.random.default_rng(0)"),),
        "default privacy noise drawn from a fixed-seed generator, not the OS CSPRNG",
        (f"{T_MECH}::test_default_noise_is_fresh_every_call",)),
    # ------------------------------------------------------------------ accounting
    Mutant(
        "compose-by-max", "privsynth/accounting/compose.py",
        (("    pure_sum = math.fsum(e.pure_epsilon for e in pure)  # type: ignore[misc]",
          "    pure_sum = max((e.pure_epsilon for e in pure), default=0.0)  # type: ignore"),),
        "pure-DP events composed by max instead of sum",
        (f"{T_ACCT}::test_ten_laplace_compose_to_exactly_one",)),
    Mutant(
        "release-sum-drops-earlier", "privsynth/accounting/compose.py",
        (("            split = best.epsilon + compose(g.events, g.delta).epsilon",
          "            split = compose(g.events, g.delta).epsilon"),),
        "basic composition over releases forgets the earlier releases",
        (f"{T_INV}::test_ledger_of_approximate_releases_matches_independent_accounting",)),
    Mutant(
        "release-sum-delta-reused", "privsynth/accounting/compose.py",
        (("else dk - g.delta", "else dk"),),
        "basic composition over releases spends the same delta twice",
        (f"{T_INV}::test_ledger_of_approximate_releases_matches_independent_accounting",)),
    Mutant(
        "fits-tolerance-1pct", "privsynth/accounting/accountant.py",
        (("        return eps <= self.epsilon * (1 + _REL_TOL) + 1e-12",
          "        return eps <= self.epsilon * 1.01"),),
        "the budget check lets 1 % more than the budget through",
        (f"{T_INV}::test_budget_check_refuses_the_smallest_overspend",)),
    Mutant(
        "check-release-ignores-ledger", "privsynth/accounting/accountant.py",
        (("        bound = compose_with_new_release(self.ledger.entries, self.delta, epsilon, "
          "delta)",
          "        bound = epsilon"),),
        "a new release is checked against the budget without the earlier releases",
        (f"{T_ACCT}::test_release_checks_up_front_and_holds_the_fit_to_its_own_guarantee",)),
    Mutant(
        "new-release-delta-not-reserved", "privsynth/accounting/compose.py",
        (("    before = _compose_groups(release_groups(entries), budget_delta - delta)",
          "    before = _compose_groups(release_groups(entries), budget_delta)"),),
        "the up-front check composes earlier releases at the whole delta, "
        "not the delta left after the new release",
        (f"{T_INV}::test_up_front_check_reserves_the_new_releases_delta",)),
    Mutant(
        "release-own-guarantee-unchecked", "privsynth/accounting/release.py",
        (("        if not own.epsilon <= self.epsilon * (1 + _REL_TOL) + 1e-12:",
          "        if False:"),),
        "a release's events may exceed the epsilon the release states",
        (f"{T_ACCT}::test_release_checks_up_front_and_holds_the_fit_to_its_own_guarantee",)),
    Mutant(
        "release-id-reuse-allowed", "privsynth/accounting/release.py",
        (("        if release in accountant.releases():", "        if False:"),),
        "a second fit may reuse a release id, merging two releases into one guarantee",
        (f"{T_ACCT}::test_release_checks_up_front_and_holds_the_fit_to_its_own_guarantee",)),
    Mutant(
        "pld-sampling-rate-squared", "privsynth/accounting/events.py",
        (("            self.noise_multiplier, sampling_prob=self.sampling_rate,",
          "            self.noise_multiplier, sampling_prob=self.sampling_rate ** 2,"),),
        "DP-SGD accounted at sampling rate q^2 instead of q",
        (f"{T_ACCT}::test_subsampled_gaussian_matches_dp_accounting_pld_and_rdp",)),
    Mutant(
        "discrete-laplace-pld-halved", "privsynth/accounting/events.py",
        (("            self.epsilon, sensitivity=1, value_discretization_interval=_PLD_GRID,",
          "            self.epsilon / 2, sensitivity=1, value_discretization_interval=_PLD_GRID,"),),
        "the discrete Laplace PLD (used next to approximate-DP events) claims half the loss",
        (f"{T_INV}::test_mixed_ledger_matches_independent_accounting",)),
    Mutant(
        "discrete-gaussian-zcdp-halved", "privsynth/accounting/events.py",
        (("        return _dpa().ZCDpEvent(rho=self.sensitivity**2 / (2 * self.sigma**2))",
          "        return _dpa().ZCDpEvent(rho=self.sensitivity**2 / (4 * self.sigma**2))"),),
        "discrete Gaussian of sensitivity > 1 accounted with half its zCDP rho",
        (f"{T_INV}::test_mixed_ledger_matches_independent_accounting",)),
    Mutant(
        "calibration-10pct-short", "privsynth/accounting/calibrate.py",
        (("            lo, e_lo = mid, e_mid\n    return hi\n",
          "            lo, e_lo = mid, e_mid\n    return hi * 0.9\n"),),
        "calibrated noise 10 % below what the target needs",
        (f"{T_ACCT}::test_gaussian_sigma_is_the_smallest_that_fits",)),
    Mutant(
        "ledger-entry-hash-unchecked", "privsynth/accounting/ledger.py",
        (("        return _is_hex64(self.id) and sha256_text(_ENTRY_TAG, self.body()) == self.id",
          "        return _is_hex64(self.id)"),),
        "an edited ledger entry (e.g. a smaller epsilon) is accepted (in a ledger and in a model file)",
        (f"{T_ACCT}::test_tampered_ledger_is_refused",)),
    Mutant(
        "ledger-chain-unchecked", "privsynth/accounting/ledger.py",
        (("            if e.prev != prev:\n", "            if False:\n"),),
        "a ledger with an entry removed from the middle is accepted",
        (f"{T_ACCT}::test_tampered_ledger_is_refused",)),
    Mutant(
        "ledger-head-unchecked", "privsynth/accounting/accountant.py",
        (('        if data.get("head") != acct.head:', "        if False:"),),
        "a ledger with its last entries cut off is accepted",
        (f"{T_ACCT}::test_tampered_ledger_is_refused",)),
    Mutant(
        "ledger-not-reread-under-lock", "privsynth/accounting/persistent.py",
        (("        with self._hold():\n            self._sync()\n            self._check_entries(",
          "        with self._hold():\n            self._check_entries("),),
        "a spend checks the budget against a stale in-memory ledger (concurrent overspend)",
        (f"{T_LEDGER}::test_a_stale_instance_cannot_overspend",)),
    Mutant(
        "witness-head-unchecked", "privsynth/accounting/persistent.py",
        (("    if len(entries) < count or entries[count - 1].id != head:",
          "    if len(entries) < count:"),),
        "a ledger replaced by a different one of the same length is not noticed",
        (f"{T_INV}::test_witness_notices_a_replaced_ledger_of_the_same_length",)),
    Mutant(
        "fit-binding-unchecked", "privsynth/engines/base.py",
        (('        check_binding(acct, data, what="the data", missing_values=tokens, **extra)',
          "        pass"),),
        "a fit on a ledger bound to another data set spends (the data set's total is wrong)",
        ("tests/test_dataset_binding.py::test_python_fits_check_frames_and_files",)),
    Mutant(
        "fit-policy-dropped-for-files", "privsynth/engines/base.py",
        (('        options["on_out_of_domain"] = policy\n',
          '        options["on_out_of_domain"] = "error"\n'),),
        "files and dask frames are validated with the default policy, not the fit's: the same "
        "rows fail as files or are treated otherwise than the fit record states",
        ("tests/test_backends.py::test_a_file_and_a_dataframe_get_the_same_out_of_domain_policy[clip-nullable]",)),
    Mutant(
        "chunked-policy-dropped", "privsynth/backends/chunked.py",
        (("            codes = encode_frame(frame, self.discretizer, self._dtype, self.missing_values,\n"
          "                                 self.on_out_of_domain)\n",
          "            codes = encode_frame(frame, self.discretizer, self._dtype, self.missing_values)\n"),),
        "the chunked backend validates every chunk with the default policy, not the fit's",
        ("tests/test_backends.py::test_a_file_and_a_dataframe_get_the_same_out_of_domain_policy[map_to_missing-nullable]",)),
    Mutant(
        "infer-dp-binding-unchecked", "privsynth/inference.py",
        (('    check_binding(accountant, data, what="the data", missing_values=tokens, text_tokens=True)',
          "    pass"),),
        "schema inference on a ledger bound to another data set spends",
        ("tests/test_dataset_binding.py::test_python_infer_dp_checks_the_bound_table",)),
    Mutant(
        "tables-binding-unchecked", "privsynth/engines/tables/_fit.py",
        (("        engine._check_dataset(acct, tables[name], {})", "        pass"),),
        "fit_tables spends from a ledger bound to other tables",
        ("tests/test_tables.py::test_a_ledger_bound_to_other_tables_refuses_before_spending",)),
    Mutant(
        "tables-parent-fresh-prefix-unchecked", "privsynth/engines/tables/_fit.py",
        (("        check_fresh_prefix(parent, parent_schema)\n", ""),),
        "a real parent key could equal a synthetic one (a released key names a real unit)",
        ("tests/test_tables.py::test_a_real_parent_key_with_the_synthetic_prefix_is_refused",)),
    Mutant(
        "tables-part-records-unchecked", "privsynth/engines/tables/_model.py",
        (("    _check_part_records(rel, record, parent.record_, child.record_)\n", ""),),
        "a tables model file whose parts state an epsilon their entries do not prove (or hold "
        "another part's entries) loads, and its report prints the false epsilon",
        ("tests/test_tables.py::test_a_tampered_part_is_refused_on_load_and_by_verify"
         "[part-epsilon-understated]",)),
    Mutant(
        "verify-tables-parts-unchecked", "privsynth/release/verify.py",
        (("        _check_tables_parts(subject, doc[\"payload\"], record, out)\n", "        pass\n"),),
        "privsynth verify confirms a tables release whose parts state false epsilons",
        ("tests/test_tables.py::test_a_tampered_part_is_refused_on_load_and_by_verify"
         "[part-epsilon-understated]",)),
    Mutant(
        "tables-part-entries-compared-by-id-only", "privsynth/engines/tables/_model.py",
        (("            or any(list(r.entries) != by_table[t] for t, r in parts.items()):",
          "            or any([e.id for e in r.entries] != [e.id for e in by_table[t]] for t, r in parts.items()):"),),
        "a tables model whose parts' events were edited down under the whole's entry ids loads "
        "and states the parts' smaller epsilons",
        ("tests/test_tables.py::test_a_tampered_part_is_refused_on_load_and_by_verify"
         "[part-events-edited-ids-kept]",)),
    Mutant(
        "tables-entry-ids-unchecked", "privsynth/engines/tables/_model.py",
        (("        check_entry_ids(record.entries)\n", "        pass\n"),),
        "a tables model whose entries were edited everywhere under their old ids loads with a "
        "smaller epsilon its ledger does not hold",
        ("tests/test_tables.py::test_an_edited_entry_of_the_whole_is_refused_on_load",)),
    Mutant(
        "model-entry-ids-unchecked", "privsynth/engines/base.py",
        (("            check_entry_ids(record.entries)  # the entries link the model: never edited\n", ""),),
        "a single-table model whose ledger entry was edited under its id (checksum redone) "
        "loads, linked to entries the ledger does not hold",
        ("tests/test_release.py::test_a_model_whose_entry_was_edited_under_its_id_is_refused_on_load",)),
    Mutant(
        "verify-pure-tolerance-loose", "privsynth/release/independent.py",
        (("    tol = PURE_RELATIVE_TOLERANCE if pure else RELATIVE_TOLERANCE\n",
          "    tol = RELATIVE_TOLERANCE\n"),),
        "verify confirms a pure release stating 0.04 % less than the exact sum of its events "
        "(the PLD tolerance applied to an exact sum)",
        ("tests/test_tables.py::test_a_tampered_part_is_refused_on_load_and_by_verify"
         "[part-epsilon-understated-0.04pct]",
         "tests/test_release.py::test_a_pure_release_stating_slightly_less_fails")),
    Mutant(
        "stated-epsilon-below-composed", RECORD,
        (("    if composed > requested:\n        return composed\n", ""),),
        "a fit whose events compose one ulp above the request states the request: "
        "below what its entries prove",
        ("tests/test_tables.py::test_a_stated_epsilon_is_never_below_its_composition",
         f"{T_CLAIMS}::test_a_fit_states_its_composition_never_less[composition-above]")),
    Mutant(
        "tables-part-claims-unchecked", "privsynth/engines/tables/_model.py",
        (("        check_claim(r, name, whole=r is record)\n", "        pass\n"),),
        "a tables model file whose parts state less than their entries compose to loads",
        ("tests/test_tables.py::test_a_tampered_part_is_refused_on_load_and_by_verify"
         "[part-epsilon-understated]",)),
    Mutant(
        "model-claim-unchecked", "privsynth/engines/base.py",
        (("            check_claim(record)  # and its epsilon is what they prove\n", ""),),
        "a single-table model file whose stated epsilon was lowered (entries untouched, "
        "checksum redone) loads, and its report prints the false epsilon",
        (f"{T_CLAIMS}::test_a_lowered_claim_is_refused_on_load_and_by_verify[privbayes]",
         "tests/test_release.py::test_a_forged_model_record_is_caught_by_recomputation")),
    Mutant(
        "claim-pure-tolerance-loose", RECORD,
        (("    tol = PURE_RELATIVE_TOLERANCE if pure else RELATIVE_TOLERANCE\n",
          "    tol = RELATIVE_TOLERANCE\n"),),
        "a model file stating 0.04 % less than the exact sum of its pure events loads (the "
        "PLD tolerance applied to an exact sum)",
        (f"{T_CLAIMS}::test_a_pure_claim_below_the_exact_sum_is_refused_but_rounding_is_not",
         "tests/test_tables.py::test_a_tampered_part_is_refused_on_load_and_by_verify"
         "[part-epsilon-understated-0.04pct]")),
    Mutant(
        "claim-pld-tolerance-loose", RECORD,
        (("    if not eps >= own * (1 - tol) - 1e-12:\n",
          "    if not eps >= own * (1 - 10 * tol) - 1e-12:\n"),),
        "a model file stating 0.2 % less than its PLD composition loads",
        (f"{T_CLAIMS}::test_a_composed_claim_has_the_pld_tolerance_and_nothing_more",)),
    Mutant(
        "claim-invalid-delta-accepted", RECORD,
        (("    if math.isnan(eps) or not 0.0 <= delta < 1.0:\n", "    if math.isnan(eps):\n"),),
        "a model file stating delta NaN (or outside [0, 1)) is composed at that delta and may "
        "load with an epsilon its entries do not prove",
        (f"{T_CLAIMS}::test_a_composed_claim_has_the_pld_tolerance_and_nothing_more",)),
    Mutant(
        "privbayes-consistency-from-exact-histograms", "privsynth/engines/privbayes/_engine.py",
        (("                noisy_hists[j] = noisy\n", "                noisy_hists[j] = hists[j]\n"),),
        "the tables are made consistent with the exact one-way histograms (post-processing of private data)",
        ("tests/test_data_blind.py::test_privbayes_sees_data_only_through_its_mechanisms[network]",)),
    Mutant(
        "privbayes-noisy-rows-from-exact-tables", "privsynth/engines/privbayes/_engine.py",
        (("            sum_num += float(noisy.sum()) * 2.0 * k ** 2 / variances[-1] / noisy.size",
          "            sum_num += float(counts.sum()) * 2.0 * k ** 2 / variances[-1] / noisy.size"),),
        "the recorded noisy row count (the default sample size) averages the exact table sums",
        ("tests/test_data_blind.py::test_privbayes_sees_data_only_through_its_mechanisms[network]",)),
    # ------------------------------------------------------------------ engines: template
    Mutant(
        "record-states-half-epsilon", "privsynth/engines/base.py",
        (("        stated = stated_epsilon(own.epsilon, eps)\n",
          "        stated = stated_epsilon(own.epsilon, eps) / 2\n"),),
        "a model states a smaller epsilon than its ledger entries prove",
        (f"{T_PAIRED}::test_stated_epsilon_is_proved_by_the_records_entries[privbayes]",)),
    Mutant(
        "record-states-request-below-composed", "privsynth/engines/base.py",
        (("        stated = stated_epsilon(own.epsilon, eps)\n",
          "        stated = min(own.epsilon, eps)\n"),),
        "a fit whose events compose one ulp above the request (float shares) states the "
        "request: below what its entries prove",
        (f"{T_CLAIMS}::test_a_fit_states_its_composition_never_less[composition-above]",)),
    Mutant(
        "record-drops-an-entry", "privsynth/engines/base.py",
        (("            entries=rel.entries,\n", "            entries=rel.entries[1:],\n"),),
        "a model is linked to only some of the ledger entries of its fit",
        (f"{T_PAIRED}::test_stated_epsilon_is_proved_by_the_records_entries[privbayes]",)),
    # ------------------------------------------------------------------ PrivBayes
    Mutant(
        "privbayes-exact-n", "privsynth/engines/privbayes/_engine.py",
        (("            n_hat = sum_num / sum_den\n", "            n_hat = float(hists[0].sum())\n"),),
        "PrivBayes uses the exact row count where the noisy n belongs",
        (f"{T_PAIRED}::test_privbayes_noisy_row_count_and_theta_cap_stay_noisy",)),
    Mutant(
        "privbayes-record-exact-rows", "privsynth/engines/privbayes/_engine.py",
        (("        return FitDetails(noisy_rows=n_rows, description=self.describe(n_rows)",
          "        return FitDetails(noisy_rows=float(hists[0].sum()), description=self.describe(n_rows)"),),
        "the fit record (report, model file, sample(n=None)) holds the exact row count",
        (f"{T_PAIRED}::test_privbayes_noisy_row_count_and_theta_cap_stay_noisy",)),
    Mutant(
        "privbayes-theta-rule-exact-n", "privsynth/engines/privbayes/_engine.py",
        (("        cap = clique_cap(n_hat, eps_tables, len(modelled_sizes), theta=self.theta,",
          "        cap = clique_cap(float(hists[0].sum()), eps_tables, len(modelled_sizes), theta=self.theta,"),),
        "the theta-usefulness rule sizes tables from the exact row count",
        (f"{T_PAIRED}::test_privbayes_noisy_row_count_and_theta_cap_stay_noisy",)),
    Mutant(
        "privbayes-budget-rule-exact-n", "privsynth/engines/privbayes/_engine.py",
        (("        plan = plan_budget(n_count, eps, modelled_sizes,",
          "        plan = plan_budget(float(hists[0].sum()), eps, modelled_sizes,"),),
        "the budget rule (caps, shares, public bins) reads the exact row count",
        ("tests/test_privbayes_budget.py::test_fine_bins_follow_the_noisy_count_not_the_exact_one",)),
    Mutant(
        "privbayes-score-sensitivity-1", "privsynth/engines/privbayes/_structure.py",
        (("SCORE_SENSITIVITY = 2.0\n", "SCORE_SENSITIVITY = 1.0\n"),),
        "structure scores of sensitivity 2 declared as 1 (twice the charged epsilon)",
        (f"{T_PAIRED}::test_privbayes_structure_scores_move_within_the_declared_sensitivity",)),
    Mutant(
        "privbayes-table-counts-doubled", "privsynth/engines/privbayes/_engine.py",
        (("                counts, epsilon=e_i, accountant=release, noise=noise,",
          "                counts * 2, epsilon=e_i, accountant=release, noise=noise,"),),
        "conditional tables noised from counts that were doubled first",
        (f"{T_PAIRED}::test_privbayes_counts_move_within_the_declared_sensitivity",)),
    Mutant(
        "privbayes-marginal-counts-doubled", "privsynth/engines/privbayes/_engine.py",
        (("                    hists[j], epsilon=within_total(",
          "                    hists[j] * 2, epsilon=within_total("),),
        "one-way histograms noised from doubled counts",
        (f"{T_PAIRED}::test_privbayes_counts_move_within_the_declared_sensitivity",)),
    Mutant(
        "privbayes-tables-from-exact-counts", "privsynth/engines/privbayes/_engine.py",
        (("            noisy_tables.append(noisy)\n",
          "            noisy_tables.append(counts)\n"),),
        "the released conditional tables are built from the exact counts",
        (f"{T_PAIRED}::test_privbayes_tables_and_levels_stay_noisy",)),
    Mutant(
        "privbayes-levels-from-exact-counts", "privsynth/engines/privbayes/_engine.py",
        (("                    noisy.astype(np.float64), missing_code=disc.bins[j].missing_code,",
          "                    hists[j].astype(np.float64), missing_code=disc.bins[j].missing_code,"),),
        "levels (and the within-level distributions saved in the model) from exact counts",
        (f"{T_PAIRED}::test_privbayes_tables_and_levels_stay_noisy",)),
    Mutant(
        "privbayes-structure-step-budget", "privsynth/engines/privbayes/_structure.py",
        (("    eps_step = epsilon / (d - len(chosen))\n", "    eps_step = epsilon / (d - len(chosen) + 1)\n"),),
        "the structure budget split leaves part of the structure share uncharged",
        ("tests/test_privbayes.py::test_ledger_shows_every_draw_and_sums_to_epsilon",)),
    Mutant(
        "privbayes-last-table-share", "privsynth/engines/privbayes/_budget.py",
        (("    eps_each[-1] = eps_tables - math.fsum(eps_each[:-1])",
          "    eps_each[-1] = eps_tables"),),
        "the table budget split gives the last table the whole table share",
        ("tests/test_privbayes.py::test_ledger_shows_every_draw_and_sums_to_epsilon",)),
    Mutant(
        "privbayes-split-ignores-structure", "privsynth/engines/privbayes/_budget.py",
        (("epsilon - eps_marg - eps_n - eps_struct)", "epsilon - eps_marg - eps_n)"),),
        "the budget split gives the tables the structure's share too (spends more than epsilon)",
        ("tests/test_privbayes.py::test_ledger_shows_every_draw_and_sums_to_epsilon",)),
    Mutant(
        "privbayes-gaussian-table-counts-doubled", "privsynth/engines/privbayes/_engine.py",
        (("                    counts, sigma=sigma, accountant=release, noise=noise,",
          "                    counts * 2, sigma=sigma, accountant=release, noise=noise,"),),
        "discrete Gaussian tables (a release with delta > 0) noised from doubled counts",
        (f"{T_PAIRED}::test_privbayes_gaussian_tables_move_within_the_declared_sensitivity",)),
    Mutant(
        "privbayes-gaussian-sensitivity-1", "privsynth/engines/privbayes/_engine.py",
        (("                    counts, sigma=sigma, accountant=release, noise=noise, sensitivity=k,",
          "                    counts, sigma=sigma, accountant=release, noise=noise, sensitivity=1,"),),
        "Gaussian tables of a privacy unit of k rows charged at sensitivity 1",
        ("tests/test_privbayes_tables.py::test_gaussian_tables_of_a_privacy_unit_have_its_sensitivity",)),
    Mutant(
        "privbayes-gaussian-sigma-ignores-earlier-spends", "privsynth/engines/privbayes/_noise.py",
        (("                                        count=len(cells), prior=prior)",
          "                                        count=len(cells), prior=())"),),
        "the tables' sigma calibrated as if the count, histograms and structure cost nothing",
        ("tests/test_privbayes_tables.py::test_release_with_delta_draws_gaussian_tables_within_its_guarantee",)),
    Mutant(
        "privbayes-gaussian-sigma-sensitivity-1", "privsynth/engines/privbayes/_noise.py",
        (("        sigma = discrete_gaussian_sigma(epsilon, delta, sensitivity=max_rows,",
          "        sigma = discrete_gaussian_sigma(epsilon, delta, sensitivity=1,"),),
        "the tables' sigma calibrated for one row when a privacy unit has k rows",
        ("tests/test_privbayes_tables.py::test_gaussian_tables_of_a_privacy_unit_have_its_sensitivity",)),
    Mutant(
        "privbayes-delta-above-1-over-n", "privsynth/engines/privbayes/_engine.py",
        (("        if release.delta * max(n_count, 1.0) >= 1.0:", "        if False:"),),
        "PrivBayes states a delta at or above 1/n (whole records may be published)",
        ("tests/test_privbayes_tables.py::test_a_delta_not_below_one_over_n_is_refused_after_the_count_only",)),
    Mutant(
        "privbayes-independent-measures-given-columns", "privsynth/engines/privbayes/_engine.py",
        (("                             count_share=plan.count_share, independent=independent,\n                             given=given)",
          "                             count_share=plan.count_share, independent=independent)"),),
        "a child model spends on histograms of the parent's columns (unused in independent mode, "
        "taken from the parent model's draws in network mode)",
        (f"{T_TABLES}::test_an_independent_child_model_does_not_measure_its_parent_columns",
         f"{T_TABLES_CHILD}::test_the_child_model_measures_no_histogram_of_its_parent_columns")),
    Mutant(
        "calibrate-dgauss-drops-prior", "privsynth/accounting/calibrate.py",
        (("        lambda s: [*before, *[DiscreteGaussianEvent(s, sensitivity)] * count], epsilon,",
          "        lambda s: [*[DiscreteGaussianEvent(s, sensitivity)] * count], epsilon,"),),
        "discrete Gaussian calibration ignores the release's earlier events",
        ("tests/test_privbayes_tables.py::test_release_with_delta_draws_gaussian_tables_within_its_guarantee",)),
    Mutant(
        "privbayes-model-file-holds-rows", "privsynth/engines/privbayes/_engine.py",
        (("        self._discretizer = disc\n        return FitDetails(",
          "        self._discretizer = disc\n"
          "        self._rows = data.select_dtypes('number').to_numpy(dtype=np.float64)\n"
          "        return FitDetails("),
         ('            "tables": list(self.tables_),\n',
          '            "tables": list(self.tables_), "rows": self._rows,\n')),
        "the model file carries training rows (as a binary array)",
        (f"{T_PAIRED}::test_model_file_holds_no_training_values[privbayes]",)),
    # ------------------------------------------------------------------ DP-CTGAN
    Mutant(
        "dpctgan-poisson-rate-doubled", "privsynth/engines/dpctgan/_train.py",
        (("torch.rand(n, generator=g) < q)", "torch.rand(n, generator=g) < 2 * q)"),),
        "DP-CTGAN samples real rows with probability 2q while q is recorded",
        (f"{T_PAIRED}::test_dpsgd_batches_steps_clipping_and_noise_match_the_record",)),
    Mutant(
        "dpctgan-fixed-batches", "privsynth/engines/dpctgan/_train.py",
        (("        idx = torch.nonzero(torch.rand(n, generator=g) < q).squeeze(1)",
          "        idx = torch.randperm(n, generator=g)[:m_fake]"),),
        "fixed-size batches instead of Poisson sampling (the accounting assumes Poisson)",
        (f"{T_PAIRED}::test_dpsgd_batches_steps_clipping_and_noise_match_the_record",)),
    Mutant(
        "dpctgan-extra-step", "privsynth/engines/dpctgan/_train.py",
        (("    for step in range(steps):\n", "    for step in range(steps + 1):\n"),),
        "one DP-SGD step more than charged",
        (f"{T_PAIRED}::test_dpsgd_batches_steps_clipping_and_noise_match_the_record",)),
    Mutant(
        "dpctgan-clipping-doubled", "privsynth/engines/dpctgan/_train.py",
        (('loss_reduction="mean",\n'
          "                                               max_grad_norm=clip, "
          "use_ghost_clipping=True)",
          'loss_reduction="mean",\n'
          "                                               max_grad_norm=2 * clip, "
          "use_ghost_clipping=True)"),),
        "per-sample gradients clipped at twice the norm the noise is scaled to",
        (f"{T_PAIRED}::test_dpsgd_batches_steps_clipping_and_noise_match_the_record",)),
    Mutant(
        "dpctgan-noise-multiplier-halved", "privsynth/engines/dpctgan/_train.py",
        (("        noise_multiplier=sigma, max_grad_norm=clip,",
          "        noise_multiplier=sigma / 2, max_grad_norm=clip,"),),
        "the optimizer adds half the recorded DP-SGD noise",
        (f"{T_PAIRED}::test_dpsgd_batches_steps_clipping_and_noise_match_the_record",)),
    Mutant(
        "dpctgan-delta-above-1-over-n", "privsynth/engines/dpctgan/_engine.py",
        (("        if delta >= 1.0 / n_hat:", "        if False:"),),
        "DP-CTGAN accepts a delta at or above 1/n (whole records may be published)",
        ("tests/test_dpctgan.py::test_delta_is_refused_at_or_above_one_over_n",)),
    Mutant(
        "dpctgan-exact-n", "privsynth/engines/dpctgan/_engine.py",
        (("        n_hat = max(float(np.mean(sums)), 2.0)\n", "        n_hat = float(n)\n"),),
        "DP-CTGAN uses the exact row count (sampling rate, steps, sample size)",
        (f"{T_PAIRED}::test_dpctgan_noisy_quantities_stay_noisy",)),
    Mutant(
        "dpctgan-record-exact-rows", "privsynth/engines/dpctgan/_engine.py",
        (("        return FitDetails(noisy_rows=n_hat, description=description",
          "        return FitDetails(noisy_rows=float(n), description=description"),),
        "the fit record (report, model file, sample(n=None)) holds the exact row count",
        (f"{T_PAIRED}::test_dpctgan_noisy_quantities_stay_noisy",)),
    Mutant(
        "dpctgan-frequencies-from-exact-counts", "privsynth/engines/dpctgan/_engine.py",
        (("            probs.append(frequencies(noisy))", "            probs.append(frequencies(counts))"),),
        "the saved condition frequencies are the exact category frequencies",
        (f"{T_PAIRED}::test_dpctgan_noisy_quantities_stay_noisy",)),
    Mutant(
        "dpctgan-model-file-holds-rows", "privsynth/engines/dpctgan/_engine.py",
        (("        self._layout = layout\n        self._generator = gen\n        description = {",
          "        self._layout = layout\n        self._generator = gen\n"
          "        self._rows = data.select_dtypes('number').to_numpy(dtype=np.float64)\n"
          "        description = {"),
         ('"steps": self.steps_, "cond_probs": list(self.cond_probs_),',
          '"steps": self.steps_, "cond_probs": list(self.cond_probs_), "rows": self._rows,')),
        "the model file carries training rows (as a binary array)",
        (f"{T_PAIRED}::test_model_file_holds_no_training_values[dpctgan]",)),
    Mutant(
        "dpctgan-pair-tables-doubled", "privsynth/engines/dpctgan/_engine.py",
        (("                flat, sigma=sigma, accountant=release, noise=noise,",
          "                flat * 2, sigma=sigma, accountant=release, noise=noise,"),),
        "pair tables noised from doubled counts (L2 sensitivity 2 declared as 1)",
        (f"{T_PAIRED}::test_dpctgan_counts_move_within_the_declared_sensitivity",)),
    Mutant(
        "dpctgan-category-counts-doubled", "privsynth/engines/dpctgan/_engine.py",
        (("                counts, epsilon=eps_counts / k, accountant=release, noise=noise,",
          "                counts * 2, epsilon=eps_counts / k, accountant=release, noise=noise,"),),
        "category counts noised after doubling (sensitivity 2 declared as 1)",
        (f"{T_PAIRED}::test_dpctgan_counts_move_within_the_declared_sensitivity",)),
    # ------------------------------------------------------------------ audits (evidence)
    Mutant(
        "clopper-pearson-one-tail", "privsynth/risk/audit_bound.py",
        (("    tpr_lo = np.where(tp > 0, stats.beta.ppf(alpha / 2, np.maximum(tp, 1), fn + 1), 0.0)",
          "    tpr_lo = np.where(tp > 0, stats.beta.ppf(alpha, np.maximum(tp, 1), fn + 1), 0.0)"),),
        "the audit's Clopper-Pearson bound uses one tail where two were stated (overclaims "
        "the evidence)",
        ("tests/test_risk.py::test_epsilon_lower_bound_matches_hand_computation",)),
    # ------------------------------------------------------------------ schema inference
    Mutant(
        "infer-dp-threshold-2", "privsynth/inference.py",
        (("                counts, epsilon=p.epsilon, threshold=p.threshold, accountant=accountant,",
          "                counts, epsilon=p.epsilon, threshold=2, accountant=accountant,"),),
        "infer_dp releases categories at a threshold below the one its delta was charged for",
        ("tests/test_infer_dp.py::test_single_record_category_is_found_with_probability_delta",)),
    Mutant(
        "infer-dp-no-upfront-check", "privsynth/inference.py",
        (('        accountant.check(events, label="infer_dp")', "        pass"),),
        "infer_dp starts drawing before checking that all of its events fit the budget",
        ("tests/test_infer_dp.py::test_adult_overspend_raises_before_drawing",)),
    Mutant(
        "infer-dp-quantile-uncharged", "privsynth/inference.py",
        (("    picks = {side: mechanisms.quantile(values, q_of[side], grid=grid, "
          "epsilon=plan.epsilon,\n                                       accountant=accountant,",
          "    picks = {side: mechanisms.quantile(values, q_of[side], grid=grid, "
          "epsilon=plan.epsilon,\n                                       "
          "accountant=type(accountant)(1e6),"),),
        "infer_dp's bounds are charged to a throw-away accountant, not the data set's",
        ("tests/test_infer_dp.py::test_adult_charges_exactly_epsilon_and_brackets_the_data",)),
    # ------------------------------------------------------------------ privacy units (issue 22)
    Mutant(
        "units-not-bounded", "privsynth/engines/units.py",
        (("        data = bound_units(data, unit.column, unit.max_rows, unit_generator(noise))\n",
          "        pass\n"),),
        "a unit's rows beyond max_rows_per_unit are used (its change exceeds the sensitivity k)",
        (f"{T_UNITS}::test_rows_beyond_the_bound_are_not_used",)),
    Mutant(
        "units-bound-keeps-k-plus-1", "privsynth/engines/units.py",
        (("    keep[order[rank < k]] = True\n", "    keep[order[rank <= k]] = True\n"),),
        "bounding keeps k + 1 rows of a unit",
        (f"{T_UNITS}::test_bounding_keeps_a_uniform_subset_of_each_unit",)),
    Mutant(
        "units-sensitivity-not-scaled", "privsynth/engines/privbayes/_engine.py",
        (("        k = 1 if unit is None else unit.max_rows\n", "        k = 1\n"),),
        "PrivBayes noises every count for one row when a unit has up to k rows",
        (f"{T_UNITS}::test_unit_fit_records_the_unit_and_scales_every_sensitivity",)),
    Mutant(
        "units-score-sensitivity-not-scaled", "privsynth/engines/privbayes/_structure.py",
        (("    return SCORE_SENSITIVITY * max_rows\n", "    return SCORE_SENSITIVITY\n"),),
        "the structure score's sensitivity stays 2 when a unit adds k rows",
        (f"{T_UNITS}::test_structure_score_moves_by_at_most_2k_and_more_than_2",)),
    Mutant(
        "units-ledger-unit-unchecked", "privsynth/engines/units.py",
        (("    if accountant is None or accountant.unit == unit.column:\n",
          "    if True:\n"),),
        "a fit is charged to a ledger that protects another unit",
        (f"{T_UNITS}::test_the_ledger_refuses_a_fit_of_another_unit_before_spending",)),
    Mutant(
        "units-nullable-unit-accepted", "privsynth/engines/units.py",
        (("    if col.nullable:\n", "    if False:\n"),),
        "rows without an identifier are accepted as units (no bound holds for them)",
        (f"{T_UNITS}::test_a_nullable_unit_column_is_refused",)),
    Mutant(
        "units-synthetic-prefix-unchecked", "privsynth/engines/units.py",
        (("        if clash:\n", "        if False:\n"),),
        "real identifiers may start with the synthetic prefix (a fresh id could equal a real one)",
        (f"{T_UNITS}::test_real_identifiers_with_the_synthetic_prefix_are_refused_before_spending",)),
    Mutant(
        "units-dpctgan-accepts-unit", "privsynth/engines/base.py",
        (("        if not unit.is_row and not self.supports_units:\n", "        if False:\n"),),
        "DP-CTGAN fits a declared unit without per-unit clipping",
        (f"{T_UNITS}::test_dpctgan_refuses_a_unit_before_spending",)),
    Mutant(
        "units-infer-dp-accepts-unit-ledger", "privsynth/_infer_plan.py",
        (("    if accountant.unit is not None:\n", "    if False:\n"),),
        "row-level DP schema inference is charged to a unit-level ledger",
        (f"{T_UNITS}::test_dp_schema_inference_refuses_a_unit_ledger_and_declares_ids_for_free",)),
    # ------------------------------------------------------------ parent/child tables
    Mutant(
        "tables-child-sensitivity-1", TABLES_FIT,
        (("release=c_part, noise=noise, unit=child_unit, given=given,",
          "release=c_part, noise=noise, unit=PrivacyUnit(rel.key, 1), given=given,"),),
        "the child model's counts are noised for one row, though one unit adds up to k",
        (f"{T_TABLES}::test_one_more_unit_moves_every_count_by_at_most_its_recorded_sensitivity",
         f"{T_TABLES}::test_network_path_structure_scores_move_within_the_units_sensitivity")),
    Mutant(
        "tables-children-not-capped", TABLES_FIT,
        (("    kept = bound_units(child[known], rel.key, k, rng)\n", "    kept = child[known]\n"),),
        "a parent's children are not bounded to k (one unit moves the child counts beyond k)",
        (f"{T_TABLES}::test_one_more_unit_moves_every_count_by_at_most_its_recorded_sensitivity",
         f"{T_TABLES}::test_too_many_children_are_capped_at_k")),
    Mutant(
        "tables-child-rows-not-bounded", TABLES_FIT,
        (("    if child_rows is not None and child_rows < k:", "    if False:"),),
        "the child model is noised for max_child_rows rows per unit but learns from up to k",
        (f"{T_TABLES}::test_one_more_unit_moves_every_count_by_at_most_its_recorded_sensitivity",)),
    Mutant(
        "tables-default-child-rows-not-bounded", TABLES_FIT,
        (("    parent_rows, child_rows = bound_tables(parent, child, rel, k, rng, k_child)",
          "    parent_rows, child_rows = bound_tables(parent, child, rel, k, rng, max_child_rows)"),),
        "by default the child model is noised for one row per unit (max_child_rows 1) but learns from up to k",
        (f"{T_TABLES}::test_one_more_unit_moves_every_count_by_at_most_its_recorded_sensitivity",)),
    Mutant(
        "tables-parent-keys-not-deduplicated", TABLES_FIT,
        (("    parent = bound_units(parent, rel.key, 1, rng)\n", ""),),
        "a key held by several parent rows counts them all (the parent model's sensitivity is 1)",
        (f"{T_TABLES}::test_duplicated_parent_keys_count_once",)),
    Mutant(
        "tables-given-levels-from-real-rows", TABLES_FIT,
        (("    given_rows = parent_draws(parent_model, rel, k_child, noise)\n",
          "    given_rows = ParentDraws(child_rows[list(plan.given)], np.ones(len(child_rows)))\n"),),
        "the child model's given-column levels are read from the real rows without DP, not from "
        "the parent model's draws",
        (f"{T_TABLES_CHILD}::test_a_units_unique_parent_value_shows_in_the_given_levels_only_through_dp",
         "tests/test_data_blind.py::test_fit_tables_sees_data_only_through_its_mechanisms")),
    Mutant(
        "tables-links-unchecked", TABLES_FIT,
        (("    checked_links = check_links(links, plan)\n",
          "    checked_links = dict(links or {})\n"),),
        "declared links are not checked before spending (bad names fail only after the ledger "
        "was charged)",
        (f"{T_TABLES_CHILD}::test_bad_links_are_refused_before_anything_is_spent",
         f"{T_TABLES_CHILD}::test_cli_link")),
    Mutant(
        "privbayes-given-levels-from-data", "privsynth/engines/privbayes/_engine.py",
        (("given_mass(disc, j, given_rows), missing_code",
          "given_mass(disc, j, ParentDraws(data, np.ones(len(data)))), missing_code"),),
        "the child model cuts its given columns' levels from its own real rows without DP",
        (f"{T_TABLES_CHILD}::test_a_units_unique_parent_value_shows_in_the_given_levels_only_through_dp",
         "tests/test_data_blind.py::test_fit_tables_sees_data_only_through_its_mechanisms")),
    Mutant(
        "load-unit-unchecked", "privsynth/engines/base.py",
        (("            check_record_unit(record, schema, cls.supports_units)  # and its unit\n", ""),),
        "a model file whose record states a privacy unit its noise does not give loads (the "
        "report would promise the unit's protection)",
        ("tests/test_model_claims.py::test_a_record_that_contradicts_its_entries_is_refused_on_load",
         "tests/test_model_claims.py::test_an_honest_unit_level_fit_loads")),
    Mutant(
        "record-unit-sensitivity-unchecked", "privsynth/engines/record.py",
        (("           and getattr(e.event, \"sensitivity\", None) != unit.max_rows]",
          "           and False]"),),
        "a record's unit of k rows is accepted over counts noised for fewer rows",
        ("tests/test_model_claims.py::test_an_honest_unit_level_fit_loads",)),
    Mutant(
        "record-release-delta-unchecked", "privsynth/engines/record.py",
        (("    if any(e.release != record.release or (e.release_delta is not None\n",
          "    if False and any(e.release != record.release or (e.release_delta is not None\n"),),
        "a record's delta (or release) edited away from its entries' loads",
        ("tests/test_model_claims.py::test_a_record_that_contradicts_its_entries_is_refused_on_load",
         "tests/test_model_claims.py::test_a_composed_claim_has_the_pld_tolerance_and_nothing_more")),
    Mutant(
        "verify-unit-noise-unchecked", "privsynth/release/verify.py",
        (("                                         or ev.get(\"sensitivity\") == k) for ev in events)",
          "                                         or True) for ev in events)"),),
        "verify accepts a record's unit of k rows over counts noised for fewer rows",
        ("tests/test_model_claims.py::test_verify_refuses_a_unit_its_counts_were_not_noised_for",)),
    Mutant(
        "verify-ledger-unit-unchecked", "privsynth/release/verify.py",
        (("        if column != ledger.get(\"unit\"):", "        if False:"),),
        "verify accepts a model stating a privacy unit the data set's ledger does not protect",
        ("tests/test_model_claims.py::test_a_record_that_contradicts_its_entries_is_refused_on_load",)),
    Mutant(
        "tables-orphans-kept", TABLES_FIT,
        (("    known = ckeys.notna().to_numpy(dtype=bool) & ckeys.astype(str).isin(set(keys)).to_numpy(\n        dtype=bool)\n",
          "    known = ckeys.notna().to_numpy(dtype=bool)\n"),),
        "children whose key matches no parent are used (they belong to no unit in the data)",
        (f"{T_TABLES}::test_children_of_no_parent_and_without_key_are_not_used",)),
    Mutant(
        "units-prefixed-ids-not-counted", "privsynth/engines/units.py",
        (("    return int(present.str.startswith(prefix).sum())\n", "    return 0\n"),),
        "real identifiers starting with the synthetic prefix go uncounted (one could equal a fresh id)",
        (f"{T_UNITS}::test_real_identifiers_with_the_synthetic_prefix_are_refused_before_spending",
         f"{T_TABLES}::test_a_real_parent_key_with_the_synthetic_prefix_is_refused",
         f"{T_TABLES}::test_real_keys_with_the_synthetic_prefix_are_refused_before_spending")),
    Mutant(
        "tables-key-prefix-unchecked", TABLES_FIT,
        (("    _check_key_prefix(child[rel.key], rel, parent_schema)\n", ""),),
        "a real child key may start with the parents' synthetic prefix (could equal a fresh key)",
        (f"{T_TABLES}::test_real_keys_with_the_synthetic_prefix_are_refused_before_spending",)),
    Mutant(
        "tables-part-overspends", "privsynth/engines/tables/_part.py",
        (("        if not own.epsilon <= self.epsilon * (1 + _REL_TOL) + 1e-12:\n",
          "        if False:\n"),),
        "one table's model may spend beyond its share of the release",
        (f"{T_TABLES}::test_a_part_cannot_spend_beyond_its_share",)),
    # ------------------------------------------------- report of related tables (issue 22)
    Mutant(
        "tables-report-public-keeps-relation", "privsynth/report/document.py",
        (('        doc["relation"]["evaluation"] = dict(omitted)\n',
          '        doc["relation"]["evaluation"] = doc["relation"]["evaluation"]\n'),),
        "the public edition keeps the relation's evaluation numbers (computed on private data "
        "without DP)",
        (f"{T_TABLES_REPORT}::test_the_public_edition_holds_no_evaluation_number",)),
    Mutant(
        "tables-report-public-keeps-table-utility", "privsynth/report/document.py",
        (('        table["utility"] = dict(omitted)\n', '        table["utility"] = table["utility"]\n'),),
        "the public edition keeps each table's utility numbers (computed on private data "
        "without DP)",
        (f"{T_TABLES_REPORT}::test_the_public_edition_holds_no_evaluation_number",)),
    Mutant(
        "tables-report-real-shares-exact", TABLES_RELATION,
        (('        "real": [rounded(v, REAL_SHARE_DECIMALS) for v in pr],\n',
          '        "real": [rounded(v, 8) for v in pr],\n'),),
        "the real shares of children per parent are shown unrounded (share times the noisy "
        "parent count gives back exact counts)",
        (f"{T_TABLES_REPORT}::test_children_per_parent_are_the_real_capped_counts",)),
    Mutant(
        "tables-report-mean-difference-exact", TABLES_RELATION,
        (('        "relative_difference": rounded(rel_diff, 2),\n',
          '        "relative_difference": rounded(rel_diff, 8),\n'),),
        "the relative difference of the mean numbers of children is shown unrounded (with the "
        "synthetic mean it gives back the real mean, times the noisy parent count the exact "
        "number of child rows)",
        (f"{T_TABLES_REPORT}::test_children_per_parent_are_the_real_capped_counts",)),
    Mutant(
        "tables-report-correlation-difference-exact", TABLES_RELATION,
        (("    return _signed(rounded(synthetic - real, 2))\n",
          "    return _signed(rounded(synthetic - real, 8))\n"),),
        "the difference of the correlations is shown unrounded (with the synthetic tables it "
        "gives back the real correlation more finely than the report's rounding allows)",
        (f"{T_TABLES_REPORT}::test_parent_by_child_pairs_are_the_ones_computed_directly",)),
    Mutant(
        "tables-report-row-count-unbounded", TABLES_REPORT,
        (("    same_rows = any(len(synthetic[n]) in real_counts[n] for n in order)\n",
          "    same_rows = any(len(synthetic[n]) == len(real_v[n]) for n in order)\n"),),
        "the exact-row-count hazard compares the synthetic tables with the real ones as given "
        "only: a synthetic table as long as the bounded real one (the rows the fit used) passes",
        (f"{T_TABLES_REPORT}::test_a_synthetic_table_as_long_as_a_bounded_real_one_fails_the_row_count_hazard",)),
    Mutant(
        "tables-report-parent-rows-exact", TABLES_REPORT,
        (("    parent_rows = facts.parts[rel.parent].noisy_rows\n",
          "    parent_rows = len(real_v[rel.parent])\n"),),
        "the data section (public edition too) states the exact number of real parent rows, "
        "not the parent model's noisy count",
        (f"{T_TABLES_REPORT}::test_the_public_edition_shows_the_noisy_row_counts_never_the_exact_ones",)),
    Mutant(
        "tables-report-child-rows-exact", TABLES_REPORT,
        (("    child_rows = facts.parts[rel.child].noisy_rows\n",
          "    child_rows = len(real_v[rel.child])\n"),),
        "the data section (public edition too) states the exact number of real child rows, "
        "not the child model's noisy count",
        (f"{T_TABLES_REPORT}::test_the_public_edition_shows_the_noisy_row_counts_never_the_exact_ones",)),
    Mutant(
        "tables-report-part-rows-exact", TABLES_REPORT,
        (('            "noisy_rows": round(rows) if rows is not None else None,\n',
          '            "noisy_rows": len(real_b[name]) if real_b is not None else None,\n'),),
        "each table's part (public edition too) shows the exact number of its bounded real "
        "rows as its noisy row count",
        (f"{T_TABLES_REPORT}::test_the_public_edition_shows_the_noisy_row_counts_never_the_exact_ones",)),
    Mutant(
        "schema-not-dp-unmarked", RECORD,
        (("    if all(s.is_public for s in schemas):\n",
          "    if True:\n"),),
        "a fit on a schema read from the data without DP records no hazard: the manifest "
        "states it end-to-end DP",
        ("tests/test_release.py::test_a_fit_on_a_schema_read_from_the_data_is_never_verified",
         "tests/test_release.py::test_related_tables_on_a_schema_read_from_the_data_carry_the_hazard")),
    Mutant(
        "verify-ignores-schema-source", "privsynth/release/verify.py",
        (("    not_dp = _schemas_not_dp(doc[\"payload\"])\n",
          "    not_dp: list[str] = []\n"),),
        "verify passes a model whose schema was read from the data without DP",
        ("tests/test_release.py::test_a_fit_on_a_schema_read_from_the_data_is_never_verified",)),
    Mutant(
        "report-public-edition-despite-failed-evaluation", "privsynth/report/document.py",
        (("        if failed:\n            raise ParameterError(\n",
          "        if False:\n            raise ParameterError(\n"),),
        "a public edition is written while a check it leaves out fails (it reads 'pass' for a "
        "release whose sample has exactly the real row count)",
        ("tests/test_report.py::test_no_public_edition_when_a_check_it_leaves_out_fails",
         "tests/test_report.py::test_synthetic_row_count_equal_to_the_real_one_fails_without_showing_it")),
    Mutant(
        "verify-duplicate-release-ids", "privsynth/release/verify.py",
        (("    if len(releases) != len(doc[\"releases\"]):",
          "    if False:"),),
        "a manifest stating one release id twice verifies (only the last entry is checked)",
        ("tests/test_release.py::test_a_release_id_stated_twice_fails",)),
    Mutant(
        "verify-entry-stamps-unchecked", "privsynth/release/verify.py",
        (("    if not entries:\n        return \"it lists no ledger entries",
          "    if False:\n        return \"it lists no ledger entries"),
         ("        if e.get(\"release\") != release:", "        if False:"),
         ("        if recorded is not None and recorded != delta:",
          "        if False:")),
        "verify accepts a release with no entries, another release's entries, or a delta "
        "its entries were not charged at",
        ("tests/test_release.py::test_a_release_with_no_entries_fails",
         "tests/test_release.py::test_another_releases_entry_under_a_new_id_fails",
         "tests/test_release.py::test_a_delta_other_than_the_recorded_one_fails")),
    Mutant(
        "load-own-ledger-chain-unchecked", RECORD,
        (("    if whole and record.ledger.kind == \"none\" and (",
          "    if False and ("),),
        "a model fitted without a ledger loads with entries dropped and a lower claim",
        ("tests/test_release.py::test_a_model_without_a_ledger_refuses_dropped_entries_on_load",)),
)


def by_id() -> dict[str, Mutant]:
    """The mutants by id (ids are unique)."""
    out = {m.id: m for m in MUTANTS}
    assert len(out) == len(MUTANTS), "duplicate mutant ids"
    return out
