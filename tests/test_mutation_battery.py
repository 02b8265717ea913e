"""The privacy mutation battery stays true to the code, its tests and its documentation.

The battery itself (``python tests/mutation/run.py``, run by CI) takes minutes;
these checks take a second and run in the default suite, so that a change that
moves a privacy-relevant line fails here at once until its mutant is updated
(the issue's "a mutant that no longer applies fails loudly"), and
docs/testing.md always lists every mutant with the tests that kill it.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _runner() -> Any:
    spec = importlib.util.spec_from_file_location("privsynth_mutation_run",
                                                  ROOT / "tests" / "mutation" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


RUN = _runner()
MUTANTS = RUN.load_mutants().MUTANTS


def test_every_mutant_applies_to_the_current_code() -> None:
    stale = {m.id: RUN.stale_reason(m) for m in MUTANTS}
    stale = {k: v for k, v in stale.items() if v is not None}
    assert not stale, ("privacy-relevant lines moved or changed: update these mutants in "
                       f"tests/mutation/mutants.py (and docs/testing.md): {stale}")


def test_mutant_ids_are_unique_and_every_mutant_changes_the_code() -> None:
    assert len({m.id for m in MUTANTS}) == len(MUTANTS)
    assert len(MUTANTS) >= 25
    for m in MUTANTS:
        assert m.edits and all(a != b for a, b in m.edits), m.id
        assert m.reason and m.tests, m.id


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_every_killing_test_exists(mutant: Any) -> None:
    for node in mutant.tests:
        path, _, name = node.partition("::")
        assert (ROOT / path).is_file(), node
        if name:
            func = re.sub(r"\[.*\]$", "", name)
            text = (ROOT / path).read_text(encoding="utf-8")
            assert re.search(rf"^def {re.escape(func)}\(", text, re.M), node


def test_docs_list_every_mutant_with_the_tests_that_kill_it() -> None:
    doc = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    table = RUN.markdown(MUTANTS)
    assert table in doc, ("docs/testing.md must hold the table printed by "
                          "`python tests/mutation/run.py --markdown` (regenerate it)")


def test_a_snippet_must_occur_exactly_once() -> None:
    assert RUN.apply_edits("a = 1\nb = 2\n", [("b = 2", "b = 3")]) == "a = 1\nb = 3\n"
    with pytest.raises(ValueError, match="2 times"):
        RUN.apply_edits("x\nx\n", [("x", "y")])
    with pytest.raises(ValueError, match="0 times"):
        RUN.apply_edits("x\n", [("z", "y")])
