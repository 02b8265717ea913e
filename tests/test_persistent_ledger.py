"""The file-backed ledger: persistence, fail-closed loading, locking, crashes, concurrency.

The concurrency and crash tests run real processes (``subprocess``) against
one ledger file, and kill them with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from privsynth import mechanisms
from privsynth.accounting import Accountant, DiscreteLaplaceEvent, LaplaceEvent
from privsynth.accounting.persistent import (
    FileAccountant,
    LedgerBusyError,
    LedgerExistsError,
    lock_path,
    read_ledger,
)
from privsynth.errors import BudgetExceededError, LedgerError, ParameterError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")



@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.json"
    FileAccountant.init(path, epsilon=1.0)
    return path


def _run(args: list[str], cwd: Path, **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]


def _spent(path: Path) -> float:
    return read_ledger(path).spent().epsilon


# ---------------------------------------------------------------------------
# creating, opening, persisting
# ---------------------------------------------------------------------------
def test_init_writes_a_chained_empty_ledger(ledger: Path) -> None:
    data = json.loads(ledger.read_text())
    assert data["format"] == "privsynth.ledger" and data["version"] == 2
    assert data["budget"] == {"epsilon": 1.0, "delta": 0.0}
    assert data["entries"] == []
    assert len(data["genesis"]) == 64 and data["head"] == data["genesis"]
    # one format: a plain Accountant reads the same file and writes it back identically
    acct = Accountant.from_json(ledger)
    assert acct.epsilon == 1.0 and acct.genesis == data["genesis"]


def test_init_records_who_and_what_and_binds_the_table(tmp_path: Path) -> None:
    import pandas as pd

    from privsynth.accounting import DatasetInfo
    from privsynth.accounting.fingerprint import new_key, table_fingerprint

    key = new_key()
    table = pd.DataFrame({"age": [30, 41, 52], "sex": ["f", "m", "f"]})
    path = tmp_path / "l.json"
    acct = FileAccountant.init(path, epsilon=1.0, delta=1e-7,
                               dataset=DatasetInfo(name="clinic", owner="stats unit",
                                                   approved_by="DPO"),
                               fingerprint=table_fingerprint(table, key), key=key)
    data = json.loads(path.read_text())
    assert data["dataset"]["name"] == "clinic" and data["dataset"]["approved_by"] == "DPO"
    assert key.hex() not in path.read_text()  # the key is never written to the ledger
    acct.check_fingerprint(table_fingerprint(table.iloc[::-1], key))  # row order is irrelevant
    with pytest.raises(LedgerError, match="not the data set"):
        acct.check_fingerprint(table_fingerprint(table.iloc[:2], key))
    # a second ledger for the same table on this machine is refused
    with pytest.raises(LedgerExistsError, match="already has a ledger"):
        FileAccountant.init(tmp_path / "second.json", epsilon=5.0,
                            fingerprint=table_fingerprint(table, key), key=key)


def test_init_refuses_to_replace_a_ledger(ledger: Path) -> None:
    FileAccountant.open(ledger).spend(LaplaceEvent(0.5), label="a")
    before = ledger.read_bytes()
    with pytest.raises(LedgerExistsError, match="one budget forever"):
        FileAccountant.init(ledger, epsilon=5.0)
    assert ledger.read_bytes() == before
    # overwrite=True does not replace a ledger that records spends either (issue 17)
    with pytest.raises(LedgerExistsError, match="records spends"):
        FileAccountant.init(ledger, epsilon=5.0, overwrite=True)
    assert ledger.read_bytes() == before


def test_overwrite_replaces_only_an_unused_ledger(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    FileAccountant.init(path, epsilon=1.0)
    assert FileAccountant.init(path, epsilon=5.0, overwrite=True).epsilon == 5.0


@pytest.mark.parametrize("eps, delta", [(0.0, 0.0), (-1.0, 0.0), (1.0, 1.0), (1.0, -0.1)])
def test_init_validates_the_budget(tmp_path: Path, eps: float, delta: float) -> None:
    with pytest.raises(ParameterError):
        FileAccountant.init(tmp_path / "l.json", epsilon=eps, delta=delta)
    assert not (tmp_path / "l.json").exists()


def test_spends_persist_and_other_instances_see_them(ledger: Path) -> None:
    a, b = FileAccountant.open(ledger), FileAccountant.open(ledger)
    a.spend(DiscreteLaplaceEvent(0.25), label="x")
    assert _spent(ledger) == 0.25
    assert b.spent().epsilon == 0.0  # in memory until refreshed ...
    assert b.refresh().spent().epsilon == 0.25
    b.spend(DiscreteLaplaceEvent(0.25), label="y")  # ... and a spend always re-reads
    assert [e.label for e in read_ledger(ledger).ledger] == ["x", "y"]


def test_a_stale_instance_cannot_overspend(ledger: Path) -> None:
    stale = FileAccountant.open(ledger)
    FileAccountant.open(ledger).spend(LaplaceEvent(0.75), label="other process")
    before = ledger.read_bytes()
    # in memory the stale object thinks 1.0 is left; the file says 0.25
    with pytest.raises(BudgetExceededError, match=r"only epsilon 0\.25"):
        stale.spend(LaplaceEvent(0.5), label="too much")
    assert ledger.read_bytes() == before
    assert stale.spent().epsilon == 0.75  # it adopted the file's entries


def test_refused_spend_changes_nothing(ledger: Path) -> None:
    acct = FileAccountant.open(ledger)
    before = ledger.read_bytes()
    with pytest.raises(BudgetExceededError):
        acct.spend_many([("a", LaplaceEvent(0.6)), ("b", LaplaceEvent(0.6))])
    assert ledger.read_bytes() == before
    assert len(acct.ledger) == 0


def test_release_id_is_stamped_on_loose_spends(ledger: Path) -> None:
    acct = FileAccountant.open(ledger, release="adult-2024-05")
    entry = acct.spend(LaplaceEvent(0.1), label="a")
    explicit = acct.spend(LaplaceEvent(0.1), label="b", release="mine")
    assert entry.release == "adult-2024-05" and explicit.release == "mine"
    assert [e.release for e in read_ledger(ledger).ledger] == ["adult-2024-05", "mine"]


def test_the_charge_is_on_disk_before_noise_is_drawn(ledger: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    original = mechanisms._sample_discrete_laplace

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(len(read_ledger(ledger).ledger))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mechanisms, "_sample_discrete_laplace", spy)
    acct = FileAccountant.open(ledger)
    mechanisms.discrete_laplace(np.array([3, 4]), epsilon=0.5, accountant=acct, label="h")
    assert seen == [1]


def test_a_failed_write_records_nothing(ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    acct = FileAccountant.open(ledger)
    before = ledger.read_bytes()

    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(LedgerError, match="No space left on device"):
        acct.spend(LaplaceEvent(0.1), label="a")
    monkeypatch.undo()
    assert ledger.read_bytes() == before
    assert len(acct.ledger) == 0
    assert not [p for p in ledger.parent.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------
# fail closed
# ---------------------------------------------------------------------------
def _edit(path: Path, change: object) -> None:
    data = json.loads(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("what", ["entry", "budget", "head", "truncated", "garbage", "empty"])
def test_tampered_or_corrupted_ledgers_are_refused(ledger: Path, what: str) -> None:
    FileAccountant.open(ledger).spend(LaplaceEvent(0.5), label="a")
    if what == "entry":
        _edit(ledger, lambda d: d["entries"][0]["event"].update(epsilon=0.1))
    elif what == "budget":  # the genesis covers the header
        _edit(ledger, lambda d: d["budget"].update(epsilon=100.0))
    elif what == "head":
        _edit(ledger, lambda d: d.update(head=d["genesis"]))
    elif what == "truncated":
        ledger.write_bytes(ledger.read_bytes()[:100])
    elif what == "garbage":
        ledger.write_bytes(b"\x00\xff binary")
    else:
        ledger.write_text("")
    with pytest.raises(LedgerError, match=r"ledger\.json"):
        FileAccountant.open(ledger)
    with pytest.raises(LedgerError):
        read_ledger(ledger)


def test_a_ledger_tampered_while_open_stops_spending(ledger: Path) -> None:
    acct = FileAccountant.open(ledger)
    acct.spend(LaplaceEvent(0.25), label="a")
    _edit(ledger, lambda d: d["entries"][0].update(label="edited"))
    before = ledger.read_bytes()
    with pytest.raises(LedgerError, match="edited or corrupted"):
        acct.spend(LaplaceEvent(0.25), label="b")
    assert ledger.read_bytes() == before


def test_a_rolled_back_ledger_stops_spending(ledger: Path) -> None:
    old = ledger.read_bytes()
    acct = FileAccountant.open(ledger)
    acct.spend(LaplaceEvent(0.5), label="a")
    ledger.write_bytes(old)  # "restored" a copy from before the spend: a refund
    with pytest.raises(LedgerError, match="rolled back"):
        acct.spend(LaplaceEvent(0.1), label="b")
    # a fresh process that never held the newer copy in memory notices too (the witness)
    from privsynth.accounting.persistent import LedgerRolledBackError

    with pytest.raises(LedgerRolledBackError, match="older backup"):
        FileAccountant.open(ledger)


def test_a_replaced_budget_stops_spending(ledger: Path, tmp_path: Path) -> None:
    acct = FileAccountant.open(ledger)
    FileAccountant.init(ledger, epsilon=9.0, overwrite=True)  # allowed: nothing spent yet
    with pytest.raises(LedgerError, match="budget or data-set header changed"):
        acct.spend(LaplaceEvent(0.1), label="b")


def test_missing_ledger_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="budget init"):
        FileAccountant.open(tmp_path / "nope.json")


# ---------------------------------------------------------------------------
# locking
# ---------------------------------------------------------------------------
def test_locked_blocks_other_spenders_until_released(ledger: Path) -> None:
    other = FileAccountant.open(ledger, lock_timeout=0.2)
    with FileAccountant.locked(ledger) as held:
        held.spend(LaplaceEvent(0.25), label="held")
        t0 = time.monotonic()
        with pytest.raises(LedgerBusyError, match="ledger busy"):
            other.spend(LaplaceEvent(0.25), label="waiting")
        assert time.monotonic() - t0 >= 0.2
    other.spend(LaplaceEvent(0.25), label="after")  # released at the end of the block
    assert _spent(ledger) == 0.5
    assert lock_path(ledger).exists()


def test_lock_is_released_when_the_job_fails(ledger: Path) -> None:
    with pytest.raises(RuntimeError), FileAccountant.locked(ledger) as held:
        held.spend(LaplaceEvent(0.25), label="spent")
        raise RuntimeError("the fit crashed")
    # never refunded, and the file is usable again at once
    acct = FileAccountant.open(ledger, lock_timeout=0.5)
    acct.spend(LaplaceEvent(0.25), label="next")
    assert _spent(ledger) == 0.5


# ---------------------------------------------------------------------------
# real processes
# ---------------------------------------------------------------------------
_SPENDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from privsynth.accounting import LaplaceEvent
    from privsynth.accounting.persistent import FileAccountant
    from privsynth.errors import BudgetExceededError
    ledger, go, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    acct = FileAccountant.open(ledger, lock_timeout=30)
    while not go.exists():
        time.sleep(0.005)
    ok = 0
    for i in range(10):
        try:
            acct.spend(LaplaceEvent(0.05), label=f"{name}/{i}")
            ok += 1
        except BudgetExceededError:
            pass
    print(ok)
""")


def test_concurrent_small_spends_never_overspend_or_get_lost(ledger: Path,
                                                             tmp_path: Path) -> None:
    """Four processes race 10 spends of 0.05 each (2.0 asked) on a budget of 1.0."""
    go = tmp_path / "go"
    procs = [_run(["-c", _SPENDER, str(ledger), str(go), f"p{i}"], tmp_path) for i in range(4)]
    time.sleep(0.5)
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outs]
    succeeded = sum(int(out) for out, _ in outs)
    acct = read_ledger(ledger)
    assert succeeded == len(acct.ledger) == 20  # every success recorded, none lost
    assert acct.spent().epsilon == pytest.approx(1.0)
    assert acct.spent().epsilon <= 1.0 + 1e-9


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from privsynth.datasets import adult_schema, load_adult

    folder = tmp_path_factory.mktemp("data")
    load_adult().iloc[:600].to_csv(folder / "adult.csv", index=False)
    adult_schema().to_json(folder / "adult.schema.json")
    return folder / "adult.csv", folder / "adult.schema.json"


def test_concurrent_cli_fits_never_overspend(small_csv: tuple[Path, Path],
                                             tmp_path: Path) -> None:
    """Four `privsynth fit --epsilon 0.4` at once on a budget of 1.0: exactly two succeed."""
    data, schema = small_csv
    ledger = tmp_path / "ledger.json"
    FileAccountant.init(ledger, epsilon=1.0)
    procs = [
        _run(["-m", "privsynth", "-q", "fit", str(data), "--schema", str(schema),
              "--engine", "privbayes", "--epsilon", "0.4", "--ledger", str(ledger),
              "--out", str(tmp_path / f"m{i}.json")], tmp_path)
        for i in range(4)
    ]
    errs = [p.communicate(timeout=180)[1] for p in procs]
    results = [(p.returncode, err) for p, err in zip(procs, errs, strict=True)]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 0, 3, 3], results
    for code, err in results:
        if code == 3:
            assert err.startswith("privsynth: error: refused") and err.count("\n") == 1
            assert "Traceback" not in err
    acct = read_ledger(ledger)
    assert acct.spent().epsilon == pytest.approx(0.8)
    assert len({e.release for e in acct.ledger}) == 2
    models = sorted(p.name for p in tmp_path.glob("m[0-9].json"))
    assert len(models) == 2
    # the release manifest of the folder lists both, whichever wrote last (H10)
    listed = json.loads((tmp_path / "manifest.json").read_text())["files"]
    assert sorted(f["name"] for f in listed) == models


# Runs the CLI with os.replace patched: right after the ledger file is replaced (the
# charge is on disk, no noise drawn yet) the process says so on stdout and waits to be
# killed, so the test kills it at exactly that point on any machine, fast or slow.
_PAUSE_AFTER_CHARGE = textwrap.dedent("""
    import os, sys, time
    real_replace = os.replace
    def replace_then_pause(src, dst, *a, **k):
        real_replace(src, dst, *a, **k)
        if str(dst).endswith("ledger.json"):
            print("charged", flush=True)
            time.sleep(120)
    os.replace = replace_then_pause
    from privsynth.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_sigkill_mid_fit_leaves_the_spend_recorded(small_csv: tuple[Path, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`privsynth fit` killed right after its first charge reached the ledger file."""
    data, schema = small_csv
    ledger, model = tmp_path / "ledger.json", tmp_path / "model.json"
    FileAccountant.init(ledger, epsilon=1.0)
    proc = _run(["-c", _PAUSE_AFTER_CHARGE, "-q", "fit", str(data), "--schema", str(schema),
                 "--epsilon", "0.5", "--ledger", str(ledger), "--out", str(model)], tmp_path)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=30)
    assert line.strip() == "charged", err
    assert proc.returncode == -signal.SIGKILL
    acct = read_ledger(ledger)  # valid: it verifies
    assert len(acct.ledger) >= 1
    assert 0 < acct.spent().epsilon <= 0.5 + 1e-9
    assert not model.exists()
    # the CLI reads the killed fit's ledger as it is: spent, never refunded
    spent = acct.spent().epsilon
    from privsynth.cli import main

    assert main(["-q", "budget", "show", str(ledger), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["spent"]["epsilon"] == pytest.approx(spent)
    assert shown["remaining"]["epsilon"] == pytest.approx(1.0 - spent)
    # the kernel released the lock with the process: the ledger is usable at once
    FileAccountant.open(ledger, lock_timeout=1).spend(LaplaceEvent(0.1), label="after")


_SLOW_SAVE = textwrap.dedent("""
    import os, sys, time
    real_replace = os.replace
    def slow_replace(src, dst, *a, **k):
        if str(dst).endswith("model.json"):
            print("saving", flush=True)
            time.sleep(120)
        return real_replace(src, dst, *a, **k)
    os.replace = slow_replace
    from privsynth.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_sigkill_while_saving_leaves_no_model_under_the_final_name(
        small_csv: tuple[Path, Path], tmp_path: Path) -> None:
    data, schema = small_csv
    ledger, model = tmp_path / "ledger.json", tmp_path / "model.json"
    FileAccountant.init(ledger, epsilon=1.0)
    proc = _run(["-c", _SLOW_SAVE, "-q", "fit", str(data), "--schema", str(schema),
                 "--epsilon", "0.5", "--ledger", str(ledger), "--out", str(model)], tmp_path)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        # the whole model text is in a temporary file, not yet renamed
        pending = [p for p in tmp_path.iterdir() if p.name.startswith(".model.json.")]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=30)
    assert line.strip() == "saving", err
    assert pending
    assert proc.returncode == -signal.SIGKILL
    assert not model.exists()
    acct = read_ledger(ledger)
    assert acct.spent().epsilon == pytest.approx(0.5)  # the whole fit was charged
