"""Verify a release folder: every hash and every stated epsilon, recomputed from the files.

:func:`verify_release` reads ``manifest.json`` (see
:mod:`privsynth.release.manifest`), the files it lists, the model files'
fit records and the data set's ledger, and recomputes everything that can be
recomputed with :mod:`privsynth.release.independent` (which imports nothing
from privsynth: hashes with :mod:`hashlib`, epsilons with dp-accounting):

1. every listed file exists and has the SHA-256 stated;
2. every model file's fit record: its entries match their ids, they are the
   entries the manifest lists for its release, and the epsilon it states; for a
   parent/child tables model also each part's record: exactly the release's
   entries of its table, the epsilon it states (recomputed from those entries),
   the split and the privacy units the fit records;
3. the ledger: its hash chain holds, its genesis and budget are the ones
   stated, it holds the head the manifest was written at (an older copy, a
   removed entry or another ledger fails here), and it holds every entry of
   every release the manifest states (and no other entry of those releases);
4. every stated epsilon is at least the one recomputed: each release's own,
   from its events at its delta; the data set's total, from the ledger up to
   the stated head, at the budget's delta.

A check that cannot run (no ledger given) is *skipped*, and the folder is
then not verified. Exit codes (``privsynth verify``): 0 verified; 4 no
readable manifest; 5 a file is missing or changed; 6 the ledger does not
hold the release (or the records do not match); 7 a stated epsilon is not
proven (below the recomputed one, or insecure test noise); 8 nothing failed
but something could not be checked. When several fail, the smallest code.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, TypeGuard

from privsynth.engines.tables import ENGINE as TABLES_ENGINE
from privsynth.engines.tables import Relation
from privsynth.engines.tables._model import part_entry_ids
from privsynth.errors import PrivsynthError
from privsynth.release import independent as ind

EXIT_VERIFIED = 0
EXIT_NO_MANIFEST = 4
EXIT_FILES = 5
EXIT_LEDGER = 6
EXIT_EPSILON = 7
EXIT_INCOMPLETE = 8

Status = Literal["ok", "fail", "skip", "note"]
_MANIFEST = "manifest.json"
_LEDGER_FORMAT = "privsynth.ledger"
_MODEL_FORMAT = "privsynth.model"
_LEDGER_VERSION = 2


@dataclass(frozen=True)
class Check:
    """One verified (or failed, or skipped) statement about the release."""

    status: Status
    subject: str
    message: str
    code: int = EXIT_VERIFIED

    def line(self) -> str:
        label = {"ok": "ok", "fail": "FAIL", "skip": "SKIP", "note": "note"}[self.status]
        return f"{label:<5} {self.subject}: {self.message}"


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify_release`: every check, and the verdict."""

    folder: Path
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """True when every check holds and none was skipped."""
        return self.exit_code == EXIT_VERIFIED

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def exit_code(self) -> int:
        """0 verified; else the smallest code of a failed check; 8 when only skips."""
        failed = [c.code for c in self.checks if c.status == "fail"]
        if failed:
            return min(failed)
        if any(c.status == "skip" for c in self.checks):
            return EXIT_INCOMPLETE
        return EXIT_VERIFIED

    def lines(self) -> list[str]:
        """The checks as lines, then the verdict."""
        out = [c.line() for c in self.checks]
        n_fail = len(self.failures)
        n_skip = sum(c.status == "skip" for c in self.checks)
        n = sum(c.status != "note" for c in self.checks)
        if n_fail:
            out.append(f"NOT VERIFIED: {n_fail} of {n} checks failed (exit {self.exit_code})")
        elif n_skip:
            out.append(f"NOT VERIFIED: {n_skip} of {n} checks could not be run (exit "
                       f"{self.exit_code}); nothing failed")
        else:
            out.append(f"VERIFIED: all {n} checks hold")
        return out


class _Checks:
    def __init__(self) -> None:
        self.items: list[Check] = []

    def ok(self, subject: str, message: str) -> None:
        self.items.append(Check("ok", subject, message))

    def fail(self, code: int, subject: str, message: str) -> None:
        self.items.append(Check("fail", subject, message, code))

    def skip(self, subject: str, message: str) -> None:
        self.items.append(Check("skip", subject, message, EXIT_INCOMPLETE))

    def note(self, subject: str, message: str) -> None:
        self.items.append(Check("note", subject, message))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None


def _safe_name(name: object) -> bool:
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return False
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts


def _fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.6g}"


def verify_release(folder: str | Path, ledger: str | Path | None = None) -> Verification:
    """Recompute every hash and stated epsilon of a release folder; never raises on content.

    Parameters
    ----------
    folder : path
        The release folder holding ``manifest.json``.
    ledger : path, optional
        The data set's ledger file. Default: the ledger the manifest names
        inside the folder, if any. Without a ledger the data set's claims
        are skipped (and the folder is not verified).

    Returns
    -------
    Verification
        ``.passed``, ``.exit_code``, ``.checks`` and ``.lines()``.

    Examples
    --------
    >>> import tempfile
    >>> v = verify_release(tempfile.mkdtemp())
    >>> v.passed, v.exit_code
    (False, 4)
    """
    root = Path(folder)
    out = _Checks()
    doc = _load_json(root / _MANIFEST) if (root / _MANIFEST).is_file() else None
    if not isinstance(doc, dict) or doc.get("format") != "privsynth.manifest" \
            or not isinstance(doc.get("files"), list) \
            or not isinstance(doc.get("releases"), list):
        why = "is not a readable privsynth manifest" if (root / _MANIFEST).exists() \
            else "is missing (is this a release folder written by privsynth?)"
        out.fail(EXIT_NO_MANIFEST, _MANIFEST, f"{root / _MANIFEST} {why}")
        return Verification(root, tuple(out.items))
    releases = {r.get("release"): r for r in doc["releases"] if isinstance(r, dict)}
    for r in doc["releases"]:
        if not isinstance(r, dict) or not isinstance(r.get("release"), str) \
                or not isinstance(r.get("entries"), list):
            out.fail(EXIT_LEDGER, _MANIFEST, "a release entry is malformed")
            return Verification(root, tuple(out.items))
    if len(releases) != len(doc["releases"]):  # a second entry would hide the first
        out.fail(EXIT_LEDGER, _MANIFEST, "a release id is stated more than once: each release "
                 "has one entry, and a repeated id hides all but the last")
        return Verification(root, tuple(out.items))
    models = _check_files(root, doc["files"], releases, out)
    for name, model_doc in models:
        _check_model(name, model_doc, releases, out)
    units = {name: _record_unit(model_doc) for name, model_doc in models}
    _check_ledger(root, doc, releases, ledger, out, units)
    return Verification(root, tuple(out.items))


def _record_unit(model_doc: Any) -> Any:
    """The unit column a model file's fit record states (None: one row), or "?" if unreadable."""
    try:
        unit = model_doc["payload"]["record"].get("unit") or {}
        return unit.get("column") if isinstance(unit, dict) else "?"
    except (KeyError, TypeError, AttributeError):
        return "?"


def _check_files(root: Path, files: list[Any], releases: Mapping[Any, Any],
                 out: _Checks) -> list[tuple[str, Any]]:
    """Hashes of the listed files; returns the model files whose hash matched, parsed."""
    models = []
    for f in files:
        name = f.get("name") if isinstance(f, dict) else None
        if not isinstance(f, dict) or not _safe_name(name) \
                or not isinstance(f.get("sha256"), str):
            out.fail(EXIT_FILES, _MANIFEST, f"a file entry is malformed ({name!r}); a manifest "
                     "names files inside its folder with their sha256")
            continue
        path = root / str(name)
        if not path.is_file():
            out.fail(EXIT_FILES, f"file {name}", "missing from the folder")
            continue
        if _sha256(path) != f["sha256"]:
            out.fail(EXIT_FILES, f"file {name}",
                     "changed since the release (its SHA-256 differs from the manifest's)")
            continue
        out.ok(f"file {name}", f"SHA-256 matches ({f['sha256'][:16]}...)")
        rel = f.get("release")
        if rel is not None and rel not in releases:
            out.fail(EXIT_LEDGER, f"file {name}",
                     f"belongs to release {rel!r}, which the manifest does not state")
        if f.get("role") == "model" or _looks_like_model(path):
            # a model file listed under another role is still a model someone can load:
            # its claim is checked like any other
            models.append((str(name), _load_json(path)))
    return models


def _looks_like_model(path: Path) -> bool:
    """Whether a file starts as a privsynth model file does (whatever its name)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(256)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and _MODEL_FORMAT.encode() in head


def _check_model(name: str, doc: Any, releases: Mapping[Any, Any], out: _Checks) -> None:
    """A model file's fit record against the manifest, and its own epsilon recomputed."""
    subject = f"model {name}"
    record = doc.get("payload", {}).get("record") if isinstance(doc, dict) \
        and isinstance(doc.get("payload"), dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("entries"), list):
        out.fail(EXIT_LEDGER, subject, "holds no fit record (not a privsynth model file of "
                 "version 2)")
        return
    rel = record.get("release")
    stated = releases.get(rel)
    if stated is None:
        out.fail(EXIT_LEDGER, subject, f"its release {rel!r} is not stated in the manifest")
        return
    entries = record["entries"]
    for i, e in enumerate(entries, start=1):
        try:
            good = isinstance(e, dict) and e.get("id") == ind.entry_id(e)
        except (TypeError, ValueError):
            good = False
        if not good:
            out.fail(EXIT_LEDGER, subject, f"its ledger entry {i} does not match its id (the "
                     "fit record was edited)")
            return
    stamp = _stamp_problem(entries, rel, stated.get("delta"))
    if stamp:
        out.fail(EXIT_LEDGER, subject, stamp)
        return
    ids = [e["id"] for e in entries]
    if ids != list(stated["entries"]):
        out.fail(EXIT_LEDGER, subject, f"its {len(ids)} ledger entries are not the "
                 f"{len(stated['entries'])} the manifest lists for release {rel!r}")
        return
    out.ok(subject, f"its fit record holds the {len(ids)} ledger entries of release {rel!r}")
    if record.get("epsilon") != stated.get("epsilon") \
            or record.get("delta") != stated.get("delta"):
        out.fail(EXIT_EPSILON, subject, f"the model states epsilon {record.get('epsilon')!r}, "
                 f"delta {record.get('delta')!r}; the manifest states "
                 f"{stated.get('epsilon')!r}, {stated.get('delta')!r}")
        return
    _confirm_release(subject, stated, [e.get("event") for e in entries], out)
    not_dp = _schemas_not_dp(doc["payload"])
    if _schemas_dp(doc["payload"]):
        out.note(subject, "its schema was estimated with DP (infer_dp): the data set's total "
                 "covers that estimation only if it was charged to this ledger (entries "
                 "labelled infer_dp/...); verify does not link the schema to them")
    if not_dp:
        out.fail(EXIT_EPSILON, subject, f"its schema{'s' if len(not_dp) > 1 else ''} "
                 f"({', '.join(not_dp)}) came from the data without DP: the model file "
                 "holds domains read from the data, so the release is not end-to-end DP and "
                 "no epsilon covers it (the stated one covers the model's noise only)")
    if doc.get("engine") == TABLES_ENGINE:
        _check_tables_parts(subject, doc["payload"], record, out)
    elif not _unit_noise_ok(record):
        out.fail(EXIT_EPSILON, subject, f"it states the privacy unit {record.get('unit')!r} "
                 "but its counts' noise is calibrated for another number of rows")


#: Schema sources whose domains a release's guarantee covers (public, or estimated with DP).
_DP_SOURCES = ("public", "dp")


def _schemas_dp(payload: Mapping[str, Any]) -> bool:
    """Whether the model file's (single-table) schema was estimated with DP."""
    sch = payload.get("schema")
    return isinstance(sch, Mapping) and sch.get("source") == "dp"


def _schemas_not_dp(payload: Mapping[str, Any]) -> list[str]:
    """Where a model file's schemas are not public or DP (a missing source reads as public,
    the schema format's default)."""
    found = [("schema", payload.get("schema"))]
    schemas = payload.get("schemas")  # related tables: each table's, and each model's
    if isinstance(schemas, Mapping):
        found += [(f"table {name}", sch) for name, sch in schemas.items()]
    found += [(f"{role} model", payload[role].get("schema")) for role in ("parent", "child")
              if isinstance(payload.get(role), Mapping)]
    return [f"{where}: source {sch.get('source')!r}" for where, sch in found
            if isinstance(sch, Mapping) and sch.get("source", "public") not in _DP_SOURCES]


#: Events whose sensitivity is one privacy unit's count sensitivity (its ``max_rows``).
_COUNT_KINDS = ("discrete_laplace", "discrete_gaussian")


def _unit_noise_ok(record: Mapping[str, Any]) -> bool:
    """Every count of the record is noised for the unit it states (``max_rows`` rows)."""
    unit = record.get("unit") if isinstance(record.get("unit"), dict) else {}
    k = unit.get("max_rows", 1) if unit else 1
    events = [e.get("event") for e in record.get("entries", []) if isinstance(e, dict)]
    return all(isinstance(ev, dict) and (ev.get("kind") not in _COUNT_KINDS
                                         or ev.get("sensitivity") == k) for ev in events)


def _check_tables_parts(subject: str, payload: Mapping[str, Any], record: Mapping[str, Any],
                        out: _Checks) -> None:
    """A tables model's two parts: the whole's entries split by table, each epsilon proven.

    The whole's entries were checked against their ids, the manifest and (with
    a ledger) the ledger; each part must hold exactly its table's share of them
    and state an epsilon its own events prove, and the units the fit records.
    """
    try:
        rel = Relation.from_dict(payload["relation"])
        parts = {rel.parent: payload["parent"]["record"], rel.child: payload["child"]["record"]}
        by_table = part_entry_ids(rel, record["entries"])
        whole = {e["id"]: e for e in record["entries"]}
        ok_ids = all(isinstance(p, dict) and isinstance(p.get("entries"), list)
                     and [e.get("id") if isinstance(e, dict) else None
                          for e in p["entries"]] == by_table[t]
                     and all(e == whole[e["id"]] for e in p["entries"])
                     and p.get("release") == record.get("release")
                     and p.get("delta") == record.get("delta") for t, p in parts.items())
    except (KeyError, TypeError, ValueError, AttributeError, PrivsynthError):
        ok_ids = False
    if not ok_ids:
        out.fail(EXIT_LEDGER, subject, "its parent and child parts do not hold exactly the "
                 "release's entries of their tables (entries labelled '<table>/...')")
        return
    desc: Mapping[str, Any] = record["description"] \
        if isinstance(record.get("description"), dict) else {}
    units_ok = _tables_units_ok(rel.key, desc, record.get("unit"), parts) \
        and all(_unit_noise_ok(p) for p in parts.values())
    if desc.get("epsilon_split") != {t: p.get("epsilon") for t, p in parts.items()} \
            or not units_ok:
        out.fail(EXIT_EPSILON, subject, "its stated split of epsilon or its privacy units are "
                 "not the parts' records")
    for table, part in parts.items():
        _confirm_release(f"{subject} part {table!r}", part,
                         [e.get("event") for e in part["entries"]], out)


def _tables_units_ok(key: str, desc: Mapping[str, Any], unit: Any,
                     parts: Mapping[str, Mapping[str, Any]]) -> bool:
    """The units a tables fit records: whole (key, k); parent (key, 1); child (key, k')."""
    k, k_child = desc.get("max_children"), desc.get("max_child_rows")
    if not (isinstance(k, int) and isinstance(k_child, int)) or not 1 <= k_child <= k:
        return False
    parent, child = (p.get("unit") for p in parts.values())
    return (unit == {"column": key, "max_rows": k}
            and parent == {"column": key, "max_rows": 1}
            and child == {"column": key, "max_rows": k_child})


def _stamp_problem(entries: Sequence[Any], release: object, delta: object) -> str | None:
    """Why ``entries`` cannot be all of release ``release`` stating ``delta``, or None.

    Every entry of a fit is stamped with its release id and the delta at which the
    release states its guarantee (``release_delta``, under the entry's hash): an entry
    of another release, or a delta other than the one the entries were charged at,
    makes the claim something the ledger never recorded.
    """
    if not entries:
        return "it lists no ledger entries: a fit always spends (at least its noisy count)"
    for e in entries:
        if not isinstance(e, Mapping):
            return "a ledger entry is malformed"
        if e.get("release") != release:
            return (f"an entry of another release ({e.get('release')!r}) is listed under "
                    f"release {release!r}")
        recorded = e.get("release_delta")
        if recorded is not None and recorded != delta:
            return (f"its entries were charged for delta {recorded!r}; the release states "
                    f"delta {delta!r}")
    return None


def _confirm_release(subject: str, stated: Mapping[str, Any], events: Sequence[Any],
                     out: _Checks) -> None:
    eps, delta = stated.get("epsilon"), stated.get("delta")
    if not _is_number(eps) or not _is_number(delta) or not 0 <= delta < 1:
        out.fail(EXIT_EPSILON, subject, "its stated epsilon and delta are not numbers")
        return
    try:
        again = ind.release_epsilon(events, float(delta))
        pure = ind.all_pure(events)
    except ind.RecomputeError as exc:
        out.fail(EXIT_EPSILON, subject, f"its events cannot be recomputed: {exc}")
        return
    if ind.confirms(float(eps), again, pure=pure):
        out.ok(subject, f"stated own epsilon {_fmt(eps)} (delta {delta:g}) "
               f"{_relation(float(eps), again, pure)} {_fmt(again)} recomputed with "
               "dp-accounting")
    else:
        out.fail(EXIT_EPSILON, subject, f"stated own epsilon {_fmt(eps)} (delta {delta:g}) "
                 f"is below the {_fmt(again)} recomputed from its events: the claim is false")


def _relation(stated: float, again: float, pure: bool) -> str:
    """How a confirmed stated epsilon compares: ``>=``, or only within the tolerance."""
    if stated >= again:
        return ">="
    tol = ind.PURE_RELATIVE_TOLERANCE if pure else ind.RELATIVE_TOLERANCE
    what = "float rounding of an exact sum" if pure else "PLD discretization"
    return f"is within the accounting tolerance (relative {tol:g}, {what}) of the"


def _is_number(x: object) -> TypeGuard[float]:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _check_ledger(root: Path, doc: Mapping[str, Any], releases: Mapping[Any, Any],
                  given: str | Path | None, out: _Checks,
                  units: Mapping[str, Any] | None = None) -> None:
    """The data set's ledger: chain, identity, the release's entries, the stated total."""
    block: dict[str, Any] = doc["ledger"] if isinstance(doc.get("ledger"), dict) else {}
    for rid, r in releases.items():
        if r.get("reproducible_noise"):
            out.fail(EXIT_EPSILON, f"release {rid}", "its noise came from a seeded test "
                     "generator: it is NOT private, whatever epsilon it states")
        if r.get("ledger") == "none":
            out.skip(f"release {rid}", "fitted without a ledger: its spend is recorded in no "
                     "data set's ledger, so no data-set total includes it")
    if given is not None:
        path: Path | None = Path(given)
    elif isinstance(block.get("file"), str) and _safe_name(block["file"]):
        path = root / block["file"]
    else:
        path = None
    if path is None:
        out.skip("ledger", "no ledger given and none in the folder: the releases' links and "
                 "the data set's total cannot be checked (give the ledger with --ledger)")
        return
    ledger = _load_json(path) if path.is_file() else None
    subject = f"ledger {path.name}"
    if ledger is None:
        out.fail(EXIT_LEDGER, subject, f"{path} is missing or not JSON")
        return
    if not isinstance(ledger, dict) or ledger.get("format") != _LEDGER_FORMAT \
            or ledger.get("version") != _LEDGER_VERSION:
        out.fail(EXIT_LEDGER, subject, f"{path} is not a privsynth ledger of version "
                 f"{_LEDGER_VERSION}")
        return
    problems = ind.chain_problems(ledger)
    for p in problems:
        out.fail(EXIT_LEDGER, subject, p)
    if problems:
        return
    entries: list[dict[str, Any]] = ledger["entries"]
    out.ok(subject, f"its hash chain holds ({len(entries)} entries, head "
           f"{str(ledger.get('head'))[:16]}...)")
    for name, column in (units or {}).items():  # the ledger's unit is under its genesis hash
        if column != ledger.get("unit"):
            out.fail(EXIT_EPSILON, f"model {name}", f"it states the privacy unit {column!r}; "
                     f"the data set's ledger protects {ledger.get('unit')!r}")
    if block.get("genesis") is not None and block["genesis"] != ledger.get("genesis"):
        out.fail(EXIT_LEDGER, subject, "it is not the ledger the release was charged to (its "
                 "genesis differs: another data set, or a ledger created anew)")
        return
    ids = [ledger["genesis"]] + [e["id"] for e in entries]
    head = block.get("head")
    if head is None:
        upto = len(entries)
        out.note(subject, "the manifest states no ledger head; the whole ledger is used")
    elif head in ids:
        upto = ids.index(head)
        later = len(entries) - upto
        out.ok(subject, f"holds the state the manifest was written at (head {head[:16]}..., "
               f"entry {upto} of {len(entries)})")
        if later:
            out.note(subject, f"{later} entries were added since (later releases)")
    else:
        out.fail(EXIT_LEDGER, subject, f"does not hold the head {str(head)[:16]}... the "
                 "manifest was written at: entries were removed, or this is an older copy or "
                 "another data set's ledger")
        return
    prefix = entries[:upto]
    budget = ledger.get("budget")
    _check_release_links(prefix, releases, out,
                         budget.get("delta") if isinstance(budget, dict) else None)
    _check_total(block, ledger, prefix, out)
    if upto < len(entries):
        try:
            now = ind.ledger_epsilon(entries, float(ledger["budget"]["delta"]))
            out.note("data set", f"its total now, over all {len(entries)} entries: epsilon "
                     f"{_fmt(now)}")
        except (ind.RecomputeError, KeyError, TypeError, ValueError):
            pass


def _check_release_links(prefix: list[dict[str, Any]], releases: Mapping[Any, Any],
                         out: _Checks, budget_delta: object = None) -> None:
    by_id = {e["id"]: e for e in prefix}
    for rid, r in releases.items():
        if r.get("ledger") == "none":
            continue
        subject = f"release {rid}"
        wanted = list(r["entries"])
        missing = [i for i in wanted if i not in by_id]
        if missing:
            out.fail(EXIT_LEDGER, subject, f"{len(missing)} of its {len(wanted)} ledger "
                     "entries are not in the ledger: it was not charged to this ledger, or "
                     "entries were removed")
            continue
        extra = [e["id"] for e in prefix if e.get("release") == rid and e["id"] not in wanted]
        if extra:
            out.fail(EXIT_LEDGER, subject, f"the ledger holds {len(extra)} more entries of this "
                     "release than the manifest lists")
            continue
        stamp = _stamp_problem([by_id[i] for i in wanted], rid, r.get("delta"))
        if stamp is None and _is_number(budget_delta) and _is_number(r.get("delta")) \
                and r["delta"] > budget_delta:
            stamp = (f"it states delta {r['delta']!r}, above the data set's budget delta "
                     f"{budget_delta!r}")
        if stamp:
            out.fail(EXIT_LEDGER, subject, stamp)
            continue
        if any(by_id[i].get("reproducible_noise") for i in wanted) \
                and not r.get("reproducible_noise"):
            out.fail(EXIT_EPSILON, subject, "the ledger records seeded test noise for it: NOT "
                     "private")
        out.ok(subject, f"its {len(wanted)} entries are in the ledger")
        _confirm_release(subject, r, [by_id[i].get("event") for i in wanted], out)


def _check_total(block: Mapping[str, Any], ledger: Mapping[str, Any],
                 prefix: list[dict[str, Any]], out: _Checks) -> None:
    budget = ledger.get("budget")
    if not isinstance(budget, dict) or not _is_number(budget.get("delta")) \
            or not _is_number(budget.get("epsilon")):
        out.fail(EXIT_LEDGER, "data set", "the ledger's budget is malformed")
        return
    stated_budget = block.get("budget")
    if isinstance(stated_budget, dict) and (
            stated_budget.get("epsilon") != budget["epsilon"]
            or stated_budget.get("delta") != budget["delta"]):
        out.fail(EXIT_LEDGER, "data set", f"the manifest states a budget of {stated_budget}, "
                 f"the ledger {budget}")
    total = block.get("total")
    if not isinstance(total, dict):
        out.note("data set", "the manifest states no total for the data set")
        return
    stated = total.get("epsilon")
    try:
        again = ind.ledger_epsilon(prefix, float(budget["delta"]))
        pure = ind.all_pure([e.get("event") for e in prefix])
    except ind.RecomputeError as exc:
        out.fail(EXIT_EPSILON, "data set", f"the ledger's events cannot be recomputed: {exc}")
        return
    if _is_number(stated) and ind.confirms(float(stated), again, pure=pure):
        out.ok("data set", f"stated total epsilon {_fmt(stated)} (delta {budget['delta']:g}) "
               f"{_relation(float(stated), again, pure)} {_fmt(again)} recomputed from the "
               "ledger with dp-accounting")
    else:
        out.fail(EXIT_EPSILON, "data set", f"stated total epsilon {stated!r} is below the "
                 f"{_fmt(again)} recomputed from the ledger: the claim is false")
    if again > float(budget["epsilon"]) * (1 + ind.RELATIVE_TOLERANCE):
        out.fail(EXIT_EPSILON, "data set", f"the ledger's total {_fmt(again)} exceeds its budget "
                 f"{budget['epsilon']:g}")


__all__ = ["EXIT_EPSILON", "EXIT_FILES", "EXIT_INCOMPLETE", "EXIT_LEDGER", "EXIT_NO_MANIFEST",
           "EXIT_VERIFIED", "Check", "Verification", "verify_release"]
