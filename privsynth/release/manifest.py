"""The manifest of a release folder: what was handed over, and how to check every claim about it.

A release folder holds what a steward publishes or hands to an auditor: model
files, synthetic tables, the public schema, reports. ``manifest.json`` lists
them with their SHA-256, and states, for each release (one fit), its own
guarantee and the ids of the ledger entries it created; and, for the data
set, the ledger's genesis and head at the time and the total stated then.
Everything stated there can be recomputed by ``privsynth verify`` (see
:mod:`privsynth.release.verify`) from the files and the ledger alone.

The manifest is *updated*, not rewritten: ``privsynth fit`` adds the model
and its release, ``privsynth sample`` adds the synthetic table (with its row
count and sampling seed), ``privsynth demo`` writes the whole folder's.

Format ``privsynth.manifest`` version 1 (field by field in ``docs/release.md``)::

    {"format": "privsynth.manifest", "version": 1, "created": ..., "updated": ...,
     "privsynth": "0.x", "libraries": {...},
     "files": [{"name", "role", "sha256", "bytes", "release", ...}, ...],
     "releases": [{"release", "engine", "epsilon", "delta", "method", "entries",
                   "ledger", "reproducible_noise"}, ...],
     "ledger": {"file", "genesis", "head", "dataset", "budget", "total"}}

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "notes.txt").write_text("public notes")
>>> path = write_manifest(folder, files=[folder / "notes.txt"])
>>> doc = read_manifest(folder)
>>> [(f["name"], f["role"], f["sha256"][:12]) for f in doc["files"]]
[('notes.txt', 'file', 'b95d79706d68')]
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from privsynth._fileutil import atomic_write_text, exclusive_lock, locks_available, sha256_file
from privsynth.errors import DataValidationError, ParameterError

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "privsynth.manifest"
MANIFEST_VERSION = 1
_LIBRARIES = ("numpy", "pandas", "dp-accounting", "networkx", "torch", "opacus")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _new_manifest() -> dict[str, Any]:
    return {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "created": _now(),
            "files": [], "releases": [], "ledger": None}


def manifest_path(folder: str | Path) -> Path:
    """Where the manifest of a release folder is: ``FOLDER/manifest.json``."""
    return Path(folder) / MANIFEST_NAME


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of ``folder`` as a JSON object (a new, empty one when there is none).

    Raises DataValidationError when ``manifest.json`` exists but is not a
    privsynth manifest (nothing is overwritten then).
    """
    path = manifest_path(folder)
    if not path.exists():
        return _new_manifest()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DataValidationError(
            f"{path} exists but is not a readable privsynth manifest; move it away (privsynth "
            "never overwrites a file it cannot read)") from exc
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT \
            or doc.get("version") != MANIFEST_VERSION \
            or not isinstance(doc.get("files"), list) or not isinstance(doc.get("releases"), list):
        raise DataValidationError(
            f"{path} is not a privsynth manifest of version {MANIFEST_VERSION}; move it away "
            "or write the release to another folder")
    return doc


def check_manifest_folder(folder: str | Path) -> None:
    """Fail now (before anything is spent) if the folder's manifest could not be updated."""
    read_manifest(folder)


def _name_in(folder: Path, path: str | Path) -> str:
    """``path`` as a name relative to ``folder`` (it must lie inside it)."""
    p = Path(path)
    p = p if p.is_absolute() else Path.cwd() / p
    try:
        rel = p.resolve().relative_to(folder.resolve())
    except ValueError:
        raise ParameterError(f"{path} is not inside the release folder {folder}; a manifest "
                             "lists only the files of its own folder") from None
    if not p.is_file():
        raise ParameterError(f"{path} is not a file; write it before adding it to the manifest")
    return rel.as_posix()


def _file_entry(folder: Path, path: str | Path, role: str, **extra: Any) -> dict[str, Any]:
    name = _name_in(folder, path)
    p = folder / name
    return {"name": name, "role": role, "sha256": sha256_file(p), "bytes": p.stat().st_size,
            **extra}


def _schemas_public(model: Any) -> bool:
    """Whether every schema of ``model`` (a table's, or each part's) is public or DP."""
    parts = [getattr(model, "schema_", None), *(getattr(getattr(model, a, None), "schema_", None)
                                                for a in ("parent_model_", "child_model_"))]
    return all(s.is_public for s in parts if s is not None)


def _release_entry(record: Any, model: Any = None) -> dict[str, Any]:
    """What the manifest states about one fit, from its FitRecord (and its schemas)."""
    return {
        "release": record.release,
        "engine": record.engine,
        "epsilon": record.epsilon,
        "delta": record.delta,
        "method": record.method,
        "entries": [e.id for e in record.entries],
        "ledger": record.ledger.kind,
        "reproducible_noise": record.reproducible_noise,
        # False when the schema was read from the data without DP (rule 2): the stated
        # epsilon then covers the model's noise only, not the domains in the model file
        # (read from the schemas too: a model file written before the hazard existed)
        "end_to_end_dp": record.end_to_end_dp and _schemas_public(model),
    }


def _ledger_block(folder: Path, acct: Any) -> dict[str, Any]:
    """The data set's ledger as the manifest states it: identity, budget, total now."""
    path = getattr(acct, "path", None)
    name = None
    if path is not None:
        try:
            name = Path(path).resolve().relative_to(folder.resolve()).as_posix()
        except ValueError:
            name = None
    spent = acct.spent()
    ds = acct.dataset
    return {
        "file": name,
        "genesis": acct.genesis,
        "head": acct.head,
        "entries": len(acct.ledger),
        "dataset": {"name": ds.name, "owner": ds.owner, "approved_by": ds.approved_by},
        "budget": {"epsilon": acct.epsilon, "delta": acct.delta},
        "total": {"epsilon": spent.epsilon, "delta": spent.delta, "method": spent.method},
    }


def _upsert(items: list[dict[str, Any]], key: str, new: dict[str, Any]) -> None:
    for i, old in enumerate(items):
        if old.get(key) == new[key]:
            items[i] = new
            return
    items.append(new)


def write_manifest(folder: str | Path, *, model: Any = None, model_file: str | Path | None = None,
                   synthetic_file: str | Path | None = None, rows: int | None = None,
                   seed: int | None = None, accountant: Any = None,
                   ledger_file: str | Path | None = None, files: Iterable[str | Path] = (),
                   fresh: bool = False) -> Path:
    """Add a release's files and claims to ``FOLDER/manifest.json``; returns its path.

    Parameters
    ----------
    folder : path
        The release folder (created by the caller). Every file listed must lie
        inside it.
    model : fitted or loaded synthesizer, optional
        Its ``record_`` states the release: id, engine, own (epsilon, delta),
        the ids of its ledger entries.
    model_file : path, optional
        The saved model (role ``model``).
    synthetic_file : path, optional
        A synthetic table drawn from ``model`` (role ``synthetic``), with its
        row count ``rows`` and sampling ``seed`` (None: an unseeded draw).
    accountant : Accountant, optional
        The data set's ledger after the release: its genesis, head, budget and
        total are stated (the total as of now; later releases add to it).
        Without one, the model's ledger reference (its head) is kept if the
        manifest states no ledger yet.
    ledger_file : path, optional
        The ledger file inside the folder, when ``accountant`` is not a
        ``FileAccountant`` of that folder (e.g. an in-memory accountant
        written with ``to_json``): ``verify`` then finds it by default. Its
        hash is not listed (a ledger grows with later releases).
    files : paths, optional
        Other files handed over (schema, reports), role ``file``.
    fresh : bool
        Start a new manifest instead of updating the folder's (``demo`` does,
        as it replaces its ledger).

    Examples
    --------
    >>> import tempfile, pathlib, privsynth as ps
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> acct = ps.Accountant(epsilon=1.0)
    >>> df = ps.datasets.load_adult().head(500)
    >>> m = ps.PrivBayes().fit(df, schema=ps.datasets.adult_schema(), epsilon=0.5,
    ...                        accountant=acct, release="r1")
    >>> m.save(folder / "model.json")
    >>> _ = ps.write_manifest(folder, model=m, model_file=folder / "model.json",
    ...                       accountant=acct)
    >>> doc = read_manifest(folder)
    >>> doc["releases"][0]["release"], doc["releases"][0]["epsilon"]
    ('r1', 0.5)
    >>> doc["ledger"]["head"] == acct.head
    True
    """
    root = Path(folder)
    if not root.is_dir():
        raise ParameterError(f"the release folder {root} does not exist; create it first")
    with _folder_lock(root):  # fits and samples into one folder at once lose no update
        return _update(root, model=model, model_file=model_file,
                       synthetic_file=synthetic_file, rows=rows, seed=seed,
                       accountant=accountant, ledger_file=ledger_file, files=files,
                       fresh=fresh)


@contextlib.contextmanager
def _folder_lock(root: Path) -> Iterator[None]:
    """An exclusive lock on the folder itself (no lock file left behind)."""
    if not locks_available():  # pragma: no cover - Windows: updates are not serialized
        yield
        return
    with exclusive_lock(root):
        yield


def _update(root: Path, *, model: Any, model_file: str | Path | None,
            synthetic_file: str | Path | None, rows: int | None, seed: int | None,
            accountant: Any, ledger_file: str | Path | None, files: Iterable[str | Path],
            fresh: bool) -> Path:
    from privsynth._version import __version__

    doc = _new_manifest() if fresh else read_manifest(root)
    record = getattr(model, "record_", None) if model is not None else None
    if model is not None and record is None:
        raise ParameterError("write_manifest: model must be a fitted or loaded privsynth model")
    release = record.release if record is not None else None
    if record is not None:
        _upsert(doc["releases"], "release", _release_entry(record, model))
    if model_file is not None:
        _upsert(doc["files"], "name", _file_entry(root, model_file, "model", release=release))
    if synthetic_file is not None:
        _upsert(doc["files"], "name", _file_entry(root, synthetic_file, "synthetic",
                                                   release=release, rows=rows, seed=seed))
    for f in files:
        _upsert(doc["files"], "name", _file_entry(root, f, "file"))
    if accountant is not None:
        doc["ledger"] = _ledger_block(root, accountant)
    if ledger_file is not None:
        if doc.get("ledger") is None:
            raise ParameterError("write_manifest: ledger_file= names the ledger of "
                                 "accountant=; give the accountant too")
        doc["ledger"]["file"] = _name_in(root, ledger_file)
    elif doc.get("ledger") is None and record is not None and record.ledger.head:
        doc["ledger"] = {"file": None, "genesis": None, "head": record.ledger.head,
                         "entries": None,
                         "dataset": {"name": record.ledger.dataset or ""},
                         "budget": None, "total": None}
    doc["updated"] = _now()
    doc["privsynth"] = __version__
    doc["libraries"] = _versions()
    path = manifest_path(root)
    atomic_write_text(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")
    return path


def stated(doc: Mapping[str, Any]) -> list[str]:
    """Plain-language lines of what a manifest states (for the CLI and reports).

    >>> stated({"releases": [{"release": "r1", "epsilon": 0.5, "delta": 0.0}],
    ...         "ledger": {"total": {"epsilon": 1.5, "delta": 0.0}, "budget": {"epsilon": 3}}})
    ['release r1: epsilon 0.5 on its own', 'data set: epsilon 1.5 of 3 spent over all releases']
    """
    out = []
    for r in doc.get("releases") or []:
        delta = f", delta {r['delta']:g}" if r.get("delta") else ""
        dp = "" if r.get("end_to_end_dp", True) else (
            " for the model's noise only: NOT end-to-end DP (schema read from the data)")
        out.append(f"release {r['release']}: epsilon {r['epsilon']:g}{delta} on its own{dp}")
    led = doc.get("ledger") or {}
    total, budget = led.get("total"), led.get("budget")
    if total:
        of = f" of {budget['epsilon']:g}" if budget else ""
        out.append(f"data set: epsilon {total['epsilon']:.4g}{of} spent over all releases")
    return out


__all__ = ["MANIFEST_FORMAT", "MANIFEST_NAME", "MANIFEST_VERSION", "check_manifest_folder",
           "manifest_path", "read_manifest", "stated", "write_manifest"]
