"""The privacy mutation battery: every planted privacy bug must be killed by a test.

For each mutant of ``tests/mutation/mutants.py`` (a realistic bug in a
privacy-relevant line: a noise scale, a sensitivity, a budget split, a check
that refuses to spend), this script

1. applies it to a temporary copy of the repository (never to the working tree;
   the copy is imported through ``PYTHONPATH``, without bytecode caches),
2. runs the mutant's selected tests there, with a timeout,
3. reports it *killed* (a selected test failed), *survived* (all passed),
   *stale* (a snippet no longer occurs exactly once: the code moved, update the
   mutant) or *error* (pytest could not run the tests).

Before the mutants, the union of the selected tests runs once on the unmutated
copy: a test that fails anyway would "kill" every mutant and prove nothing.
The exit status is 0 only when every mutant is killed.

Usage::

    python tests/mutation/run.py               # the whole battery (CI)
    python tests/mutation/run.py --list        # ids, files, tests
    python tests/mutation/run.py -k privbayes  # mutants whose id contains a word
    python tests/mutation/run.py --markdown    # the table for docs/testing.md
    python tests/mutation/run.py --jobs 1 --json results.json

See docs/testing.md ("Privacy mutation battery").
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: What is copied for a mutant run: the package, the tests and the pytest configuration.
COPY = ("privsynth", "tests", "conftest.py", "pyproject.toml", "docs", "README.md")
DEFAULT_TIMEOUT = 300.0


def load_mutants() -> Any:
    """``tests/mutation/mutants.py`` loaded by path (``tests`` is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "privsynth_mutation_mutants", Path(__file__).with_name("mutants.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def apply_edits(text: str, edits: Iterable[tuple[str, str]]) -> str:
    """``text`` with every (original, replacement) applied; ValueError unless each original
    occurs exactly once (checked on the text as it is before that edit)."""
    for original, replacement in edits:
        count = text.count(original)
        if count != 1:
            raise ValueError(f"snippet occurs {count} times (must be exactly once): "
                             f"{original.strip()[:70]!r}")
        text = text.replace(original, replacement)
    return text


def stale_reason(mutant: Any, root: Path = ROOT) -> str | None:
    """Why ``mutant`` no longer applies to the code under ``root`` (None when it applies)."""
    path = root / mutant.file
    if not path.is_file():
        return f"{mutant.file} does not exist"
    try:
        apply_edits(path.read_text(encoding="utf-8"), mutant.edits)
    except ValueError as exc:
        return f"{mutant.file}: {exc}"
    return None


@dataclass
class Result:
    id: str
    status: str  # killed | survived | stale | error
    seconds: float
    detail: str = ""


def _copy_repo(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache")
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, dest / name)
    return dest


#: Third-party modules imported once by the runner, before it forks a child per mutant, so
#: that a child only imports privsynth (mutated) and the tests. Never privsynth itself.
PRELOAD = ("numpy", "pandas", "scipy.stats", "scipy.special", "scipy.optimize", "networkx",
           "dp_accounting", "dp_accounting.pld.privacy_loss_distribution", "dp_accounting.rdp",
           "torch", "opacus")  # not pytest plugins (hypothesis): pytest must rewrite them


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional extra (e.g. torch) that is not installed
            pass
    assert not any(m == "privsynth" or m.startswith("privsynth.") for m in sys.modules), \
        "the runner must not import privsynth (children import the mutated copy)"


def _pytest_args(copy: Path, tests: Sequence[str]) -> list[str]:
    # each copy its own temporary root: two mutants' pytest runs at once must not clean up
    # each other's numbered tmp_path folders (a race that left a scandir iterator open in
    # one child, a ResourceWarning the suite's filterwarnings turns into an error)
    return ["-q", "-x", "-rf", "--no-header", "-p", "no:cacheprovider",
            f"--basetemp={copy / '.pytest-tmp'}",
            # the whole selection runs, slow-marked or not; doctests may be selected by file
            "-o", "addopts=--import-mode=importlib --doctest-modules", *tests]


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy)
    env["COLUMNS"] = "240"  # pytest then prints why each selected test failed
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant restored within one second must not
    # be shadowed by a stale .pyc (the cache keys on mtime in seconds and size)
    shared = ROOT.parent / "shared" / "datasets"
    env.setdefault("PRIVSYNTH_SHARED_DATASETS", str(shared))
    return env


def _child(copy: Path, tests: Sequence[str], out: Path) -> None:
    """In a forked child: run pytest on ``copy`` in-process; never returns."""
    code = 3
    try:
        os.setsid()  # its own process group: a timeout kills it and anything it started
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.chdir(copy)
        os.environ.clear()
        os.environ.update(_env(copy))
        sys.path.insert(0, str(copy))
        sys.dont_write_bytecode = True
        import privsynth

        if not Path(privsynth.__file__).resolve().is_relative_to(copy.resolve()):
            print(f"privsynth imported from {privsynth.__file__}, not the copy {copy}")
        else:
            import pytest

            code = int(pytest.main(_pytest_args(copy, tests)))
    except BaseException:  # report anything and exit: a child must never return
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


class _Job:
    """One pytest run on a copy: a forked child (or a subprocess where fork is missing)."""

    def __init__(self, copy: Path, tests: Sequence[str], out: Path, fork: bool) -> None:
        self.t0 = time.monotonic()
        self.out = out
        self.proc: subprocess.Popen[bytes] | None = None
        if fork:
            pid = os.fork()
            if pid == 0:
                _child(copy, tests, out)
            self.pid = pid
        else:
            with open(out, "wb") as fh:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "pytest", *_pytest_args(copy, tests)], cwd=copy,
                    env=_env(copy), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
            self.pid = self.proc.pid

    def poll(self, timeout: float) -> tuple[bool, int | None]:
        """(finished, exit code or None on timeout)."""
        if self.proc is not None:
            code = self.proc.poll()
            if code is not None:
                return True, code
        else:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return True, os.waitstatus_to_exitcode(status)
        if time.monotonic() - self.t0 > timeout:
            try:
                os.killpg(self.pid, signal.SIGKILL)  # the group this job started
            except ProcessLookupError:
                pass
            if self.proc is not None:
                self.proc.wait()
            else:
                os.waitpid(self.pid, 0)
            return True, None
        return False, None

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")


def _pytest(copy: Path, tests: Sequence[str], timeout: float, fork: bool) -> tuple[int | None, str]:
    """Run ``tests`` in ``copy``; (exit code or None on timeout, output)."""
    job = _Job(copy, tests, copy / ".mutation-output.txt", fork)
    while True:
        done, code = job.poll(timeout)
        if done:
            return code, job.output()
        time.sleep(0.1)


def _failed_lines(output: str) -> str:
    lines = [ln for ln in output.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    return "; ".join(ln[:160] for ln in lines[:2])


def _classify(mutant: Any, code: int | None, out: str, secs: float, timeout: float) -> Result:
    if code is None:
        return Result(mutant.id, "killed", secs, f"timeout after {timeout:g} s")
    if code == 1:
        return Result(mutant.id, "killed", secs, _failed_lines(out))
    if code == 0:
        return Result(mutant.id, "survived", secs, "all selected tests passed")
    tail = " | ".join(out.strip().splitlines()[-3:])
    return Result(mutant.id, "error", secs, f"pytest exit {code}: {tail[:300]}")


def run_mutants(mutants: Sequence[Any], copies: Sequence[Path], *, timeout: float, fork: bool,
                report: Any = print, verbose: bool = False) -> list[Result]:
    """Each mutant applied in a free copy, its tests run there, the file restored after."""
    pending = list(mutants)
    free = list(copies)
    running: dict[Path, tuple[Any, _Job, Path, str]] = {}
    results: dict[str, Result] = {}

    def done(res: Result) -> None:
        results[res.id] = res
        report(f"{res.status:8s} {res.seconds:6.1f} s  {res.id}"
               + (f"  ({res.detail})" if res.status != "killed" or verbose else ""))

    while pending or running:
        while pending and free:
            m, copy = pending.pop(0), free.pop()
            why = stale_reason(m, copy)
            if why is not None:
                done(Result(m.id, "stale", 0.0, why))
                free.append(copy)
                continue
            path = copy / m.file
            original = path.read_text(encoding="utf-8")
            path.write_text(apply_edits(original, m.edits), encoding="utf-8")
            running[copy] = (m, _Job(copy, m.tests, copy / ".mutation-output.txt", fork),
                             path, original)
        for copy, (m, job, path, original) in list(running.items()):
            finished, code = job.poll(timeout)
            if finished:
                path.write_text(original, encoding="utf-8")
                del running[copy]
                free.append(copy)
                done(_classify(m, code, job.output(), time.monotonic() - job.t0, timeout))
        time.sleep(0.05)
    return [results[m.id] for m in mutants]


def baseline(copy: Path, mutants: Sequence[Any], timeout: float, fork: bool) -> tuple[bool, str]:
    """The union of the selected tests must pass on the unmutated code."""
    tests = sorted({t for m in mutants for t in m.tests})
    code, out = _pytest(copy, tests, timeout * 3, fork)
    if code == 0:
        return True, f"{len(tests)} selected tests pass on the unmutated code"
    return False, (f"the selected tests do not pass on the unmutated code (exit {code}): "
                   f"{_failed_lines(out) or out[-800:]}")


def markdown(mutants: Sequence[Any]) -> str:
    """The table of docs/testing.md: id, file, the bug, the tests that kill it."""
    rows = ["| mutant | file | planted bug | killed by |", "|---|---|---|---|"]
    for m in mutants:
        tests = "<br>".join(f"`{t.split('/')[-1]}`" for t in m.tests)
        rows.append(f"| `{m.id}` | `{m.file}` | {m.reason} | {tests} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    mod = load_mutants()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="select", action="append", default=[],
                        help="run only mutants whose id contains this text (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--markdown", action="store_true", help="print the docs table and exit")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="mutants run in parallel (one repository copy each; default 2)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds per mutant (a mutant that times out counts as killed)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the run of the selected tests on the unmutated code")
    parser.add_argument("--no-fork", action="store_true",
                        help="start a fresh Python per mutant instead of forking the runner")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also show which test killed each mutant, and how")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    mutants = [m for m in mod.MUTANTS if not args.select or any(s in m.id for s in args.select)]
    if args.markdown:
        print(markdown(mutants))
        return 0
    if args.list:
        for m in mutants:
            print(f"{m.id:40s} {m.file}\n    {m.reason}\n    -> {', '.join(m.tests)}")
        return 0
    if not mutants:
        print("no mutant selected", file=sys.stderr)
        return 2

    fork = hasattr(os, "fork") and not args.no_fork
    t0 = time.perf_counter()
    if fork:
        _preload()
    with tempfile.TemporaryDirectory(prefix="privsynth-mutants-") as tmp:
        jobs = max(1, min(args.jobs, len(mutants)))
        copies = [_copy_repo(Path(tmp) / f"copy{i}") for i in range(jobs)]
        if not args.no_baseline:
            ok, msg = baseline(copies[0], mutants, args.timeout, fork)
            print(f"baseline: {msg} ({time.perf_counter() - t0:.0f} s)", flush=True)
            if not ok:
                return 2
        results = run_mutants(mutants, copies, timeout=args.timeout, fork=fork,
                              report=lambda line: print(line, flush=True),
                              verbose=args.verbose)
    total = time.perf_counter() - t0
    counts = {s: sum(r.status == s for r in results) for s in ("killed", "survived", "stale",
                                                              "error")}
    print(f"\n{len(results)} mutants: " + ", ".join(f"{v} {k}" for k, v in counts.items())
          + f" in {total:.0f} s (jobs={args.jobs})")
    for r in results:
        if r.status != "killed":
            print(f"  NOT KILLED {r.id}: {r.status}: {r.detail}")
    if args.json:
        args.json.write_text(json.dumps({"seconds": total, "results": [asdict(r) for r in results]},
                                        indent=1) + "\n", encoding="utf-8")
    return 0 if counts["killed"] == len(results) else 1



if __name__ == "__main__":
    sys.exit(main())
