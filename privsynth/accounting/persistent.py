"""A file-backed accountant: one ledger file per data set, safe across processes and days.

:class:`FileAccountant` is an :class:`~privsynth.accounting.Accountant` whose
ledger lives in a JSON file. Every spend is written to the file *before* the
mechanism draws its noise, as follows:

1. take an exclusive lock on the sibling file ``<ledger>.lock``
   (``fcntl.flock``; the kernel releases it if the process dies);
2. re-read the ledger from disk, because another process may have spent
   since this one last looked, and verify it (fail closed on any doubt);
3. check the new events against the budget *on top of the on-disk ledger*
   and raise :class:`~privsynth.errors.BudgetExceededError` if they no
   longer fit;
4. write the extended ledger atomically: temporary file in the same folder,
   ``fsync``, ``os.replace``, ``fsync`` of the folder;
5. release the lock.

So two processes spending from one ledger at the same time can never
overspend it together, and a process killed at any moment leaves either the
old or the new ledger on disk, never a half-written one. A spend is never
refunded: a crash after step 4 leaves it recorded.

The file is exactly the JSON of :meth:`Accountant.to_dict` (one format,
whoever writes it): a header whose hash is the *genesis*, and entries chained
by their ids (see :mod:`privsynth.accounting.ledger`). A chain without a
secret key detects accidental corruption and hand edits, not a determined
forger: protect the file with ordinary file permissions and backups.

Rollbacks and second ledgers. A *witness* file in the user's state folder
(``$PRIVSYNTH_STATE_DIR``, else ``~/.local/state/privsynth``) remembers, per
ledger genesis, the longest chain this machine has seen, and which ledger
each data-set fingerprint belongs to. Opening a ledger whose chain lacks an
entry seen before (a restored older backup) fails with
:class:`LedgerRolledBackError`; creating a second ledger for a table that
already has one fails with :class:`LedgerExistsError`.

File locks are POSIX (Linux, macOS). On network file systems ``flock`` may
not be enforced; keep ledgers on a local disk.

>>> import os, tempfile
>>> from privsynth.accounting import DiscreteLaplaceEvent
>>> path = os.path.join(tempfile.mkdtemp(), "ledger.json")
>>> acct = FileAccountant.init(path, epsilon=1.0)
>>> _ = acct.spend(DiscreteLaplaceEvent(0.25), label="count")
>>> FileAccountant.open(path).spent().epsilon          # another process sees it
0.25
>>> with FileAccountant.locked(path) as held:          # hold the file for a whole job
...     _ = held.spend(DiscreteLaplaceEvent(0.5), label="table")
>>> FileAccountant.open(path).remaining().epsilon
0.25
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from privsynth._fileutil import LockTimeout, atomic_write_text, exclusive_lock, locks_available
from privsynth.accounting.accountant import Accountant, DatasetInfo
from privsynth.accounting.ledger import Ledger, LedgerEntry, now
from privsynth.errors import LedgerError, ParameterError, PrivsynthError

#: Seconds to wait for another process's lock before giving up.
DEFAULT_LOCK_TIMEOUT = 60.0


class LedgerBusyError(PrivsynthError):
    """Another process held the ledger's lock for longer than the timeout."""


class LedgerExistsError(LedgerError):
    """A new ledger was requested where one already exists (a budget is never reset)."""


class LedgerRolledBackError(LedgerError):
    """The ledger lacks entries this machine has seen in it: it was restored or replaced."""


def lock_path(path: str | Path) -> Path:
    """The lock file used for the ledger at ``path`` (``<ledger>.lock``)."""
    p = Path(path)
    return p.with_name(p.name + ".lock")


def read_ledger(path: str | Path) -> Accountant:
    """Load and verify the ledger file at ``path`` as an in-memory Accountant.

    Raises
    ------
    LedgerError
        The file is missing, unreadable, not a ledger, of an unknown version,
        or its seal or checksum does not match (edited or corrupted), or it
        records more spending than its budget. Nothing may spend from it.
    """
    p = Path(path)
    acct = _parse_ledger(p)
    try:
        _witness_check(p, acct)
    except LedgerRolledBackError:
        # A concurrent spend may have written the file and then the witness between our
        # read of the file and our read of the witness: the file only grows, so a second
        # read holds every entry the witness names, unless it really was rolled back.
        acct = _parse_ledger(p)
        _witness_check(p, acct)
    return acct


def _parse_ledger(p: Path) -> Accountant:
    """Read and verify the ledger file (no witness check)."""
    try:
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise LedgerError(
            f"no ledger at {p}; create one with `privsynth budget init {p} --epsilon E` "
            "(or FileAccountant.init)") from exc
    except OSError as exc:
        raise LedgerError(f"cannot read ledger {p}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise LedgerError(
            f"ledger {p} is not valid JSON (corrupted or truncated); refusing to use it. "
            "Restore it from a backup.") from exc
    if not isinstance(data, dict):
        raise LedgerError(f"ledger {p} is not a privsynth ledger; refusing to use it")
    try:
        acct = Accountant.from_dict(data)
    except LedgerError as exc:
        raise LedgerError(f"ledger {p}: {exc}") from exc
    return acct


def _write_ledger(path: Path, acct: Accountant) -> None:
    """Write the ledger atomically and durably, then record its head in the witness."""
    text = json.dumps(acct.to_dict(), indent=2, allow_nan=True) + "\n"
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise LedgerError(f"cannot write ledger {path}: {exc.strerror or exc}; nothing "
                          "was spent") from exc
    _witness_record(path, acct)


# -- the witness ------------------------------------------------------------
def state_dir() -> Path:
    """Where privsynth keeps per-user state (``$PRIVSYNTH_STATE_DIR`` or ~/.local/state)."""
    env = os.environ.get("PRIVSYNTH_STATE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "privsynth"


def _witness_path() -> Path:
    return state_dir() / "ledger-witness.json"


def _witness_load() -> dict[str, Any]:
    try:
        data = json.loads(_witness_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"ledgers": {}, "fingerprints": {}}
    if not isinstance(data, dict):
        return {"ledgers": {}, "fingerprints": {}}
    data.setdefault("ledgers", {})
    data.setdefault("fingerprints", {})
    return data


def _witness_check(path: Path, acct: Accountant) -> None:
    seen = _witness_load()["ledgers"].get(acct.genesis)
    if not isinstance(seen, dict):
        return
    count, head = seen.get("count"), seen.get("head")
    if not isinstance(count, int) or not isinstance(head, str) or count <= 0:
        return
    entries = acct.ledger.entries
    if len(entries) < count or entries[count - 1].id != head:
        raise LedgerRolledBackError(
            f"ledger {path}: this machine has seen {count} entries in this ledger (head "
            f"{head[:12]}...), but the file holds {len(entries)} that do not include it: it was "
            "rolled back (restored from an older backup) or replaced, which would silently refund "
            "spent budget. Refusing to use it. Find the newest copy of the ledger. (The "
            f"witness is {_witness_path()}.)")


def _witness_record(path: Path, acct: Accountant) -> None:
    """Remember the ledger's length and head (best effort: a failure never blocks a spend)."""
    try:
        folder = state_dir()
        folder.mkdir(parents=True, exist_ok=True)
        with _flock(_witness_path(), DEFAULT_LOCK_TIMEOUT):
            data = _witness_load()
            old = data["ledgers"].get(acct.genesis)
            if isinstance(old, dict) and isinstance(old.get("count"), int) \
                    and old["count"] > len(acct.ledger):
                return
            data["ledgers"][acct.genesis] = {"count": len(acct.ledger), "head": acct.head,
                                             "path": str(path.resolve())}
            for fp in acct.dataset.fingerprints:
                data["fingerprints"].setdefault(fp, {"genesis": acct.genesis,
                                                     "path": str(path.resolve())})
            atomic_write_text(_witness_path(), json.dumps(data, indent=1) + "\n")
    except (OSError, PrivsynthError):
        pass


def _witness_ledger_for(fingerprint: str) -> str | None:
    """The path of another ledger already bound to ``fingerprint``, if it still exists."""
    hit = _witness_load()["fingerprints"].get(fingerprint)
    if isinstance(hit, dict) and isinstance(hit.get("path"), str) and Path(hit["path"]).exists():
        return str(hit["path"])
    return None


@contextlib.contextmanager
def _flock(path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on the ledger's lock file, waiting up to ``timeout`` s."""
    if not locks_available():  # pragma: no cover - Windows
        raise PrivsynthError("file-backed ledgers need POSIX file locks (Linux or macOS)")
    lock = lock_path(path)
    held = False  # errors of the caller's block pass through untouched
    try:
        with exclusive_lock(lock, timeout=timeout, create=True):
            held = True
            yield
    except LockTimeout:
        if held:
            raise
        raise LedgerBusyError(
            f"ledger busy: another privsynth process has held {path} for more "
            f"than {timeout:g} s (lock file {lock}); wait for it to finish and "
            "try again") from None
    except OSError as exc:
        if held:
            raise
        raise LedgerError(f"cannot create the lock file {lock}: {exc.strerror or exc}") from exc


def _same_entries(mine: list[LedgerEntry], disk: list[LedgerEntry]) -> bool:
    """True when ``mine`` is a prefix of ``disk`` (the file only ever grows)."""
    if len(mine) > len(disk):
        return False
    # the ids chain every entry to all before it: comparing the last one suffices
    return not mine or mine[-1].id == disk[len(mine) - 1].id


class FileAccountant(Accountant):
    """An accountant whose ledger is a file, shared safely by processes over time.

    Create the file once with :meth:`init`, then :meth:`open` it (or hold it
    for a whole job with :meth:`locked`) wherever budget is spent. Use it
    like any accountant: engines and mechanisms call :meth:`spend`, which
    writes the ledger before any noise is drawn.

    Parameters
    ----------
    path : str or Path
        The ledger file. It must exist and verify (see :func:`read_ledger`).
    lock_timeout : float, default 60
        Seconds a spend waits for another process holding the file.
    release : str, default ""
        Stamped on entries recorded without a release id (for example
        ``"2024-05-01-adult-v1"``), so a ledger groups spends by release.

    Examples
    --------
    >>> import os, tempfile
    >>> from privsynth.accounting import DiscreteLaplaceEvent
    >>> path = os.path.join(tempfile.mkdtemp(), "ledger.json")
    >>> _ = FileAccountant.init(path, epsilon=0.5)
    >>> acct = FileAccountant.open(path, release="v1")
    >>> acct.spend(DiscreteLaplaceEvent(1.0), label="too much")
    Traceback (most recent call last):
    ...
    privsynth.errors.BudgetExceededError: refused 'too much'...
    >>> entry = acct.spend(DiscreteLaplaceEvent(0.5), label="ok")
    >>> entry.release, len(FileAccountant.open(path).ledger)
    ('v1', 1)
    """

    kind: Literal["memory", "file"] = "file"

    def __init__(self, path: str | Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
                 release: str = "", key: bytes | str | Path | None = None) -> None:
        self.path = Path(path)
        disk = read_ledger(self.path)
        super().__init__(disk.epsilon, disk.delta, dataset=disk.dataset, unit=disk.unit)
        self.ledger = disk.ledger
        self.lock_timeout = float(lock_timeout)
        self.release = str(release)
        self._held = 0  # depth of the lock held by this object (re-entrant)
        self._key = _load_key(self.path, key)

    def __repr__(self) -> str:
        return f"FileAccountant({str(self.path)!r}; {super().__repr__()})"

    # -- the data set -------------------------------------------------------
    @property
    def key(self) -> bytes | None:
        """The secret key of the data-set fingerprint, when available (never written here)."""
        return self._key

    def check_fingerprint(self, fingerprint: str | None, *, what: str = "the data") -> None:
        """Raise LedgerError unless ``fingerprint`` is one this ledger is bound to.

        A ledger without fingerprints accepts any data (the report says the
        ledger is not bound to a data set); ``None`` means the caller could
        not compute one (no key), which is refused for a bound ledger.
        """
        bound = self.dataset.fingerprints
        if not bound:
            return
        if fingerprint is None:
            raise LedgerError(
                f"ledger {self.path} is bound to a data set by a keyed fingerprint, but the key "
                f"is not available (expected at {default_key_path(self.path)}); pass key= to "
                "FileAccountant.open or --key-file to the CLI. Nothing was spent.")
        if fingerprint not in bound:
            raise LedgerError(
                f"{what} is not the data set ledger {self.path} belongs to "
                f"({self.dataset.name or 'unnamed'}): its fingerprint differs. Charge each "
                "data set to its own ledger. If it is the same table, read it with the same "
                "missing-value tokens as at `budget init --data` (they change the values "
                "fingerprinted), and note that a part of the table (e.g. after `split`) is a "
                "different table. Nothing was spent.")

    # -- creating and opening ---------------------------------------------
    @classmethod
    def init(cls, path: str | Path, epsilon: float, delta: float = 0.0, *,
             dataset: DatasetInfo | None = None, unit: str | None = None,
             fingerprint: str | Sequence[str] | None = None, key: bytes | None = None,
             overwrite: bool = False,
             lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> FileAccountant:
        """Create the ledger file of a data set with its total budget.

        ``fingerprint`` (with the ``key`` it was computed with, see
        :mod:`privsynth.accounting.fingerprint`) binds the ledger to a source
        table; several bind it to a table and the parts made of it (e.g. by
        ``privsynth split``). The key's public id is recorded, never the key.

        Raises
        ------
        LedgerExistsError
            A file exists at ``path`` (``overwrite=True`` replaces only a
            ledger that records no spend: a data set has one budget forever),
            or another ledger on this machine is bound to the same table.
        ParameterError
            ``epsilon`` is not positive or ``delta`` is not in [0, 1).
        """
        from privsynth.accounting.fingerprint import key_id

        p = Path(path)
        info = dataset if dataset is not None else DatasetInfo()
        info = dataclasses.replace(info, created=info.created or now())
        if fingerprint is not None:
            if key is None:
                raise ParameterError("FileAccountant.init: a fingerprint needs the key it was "
                                     "computed with (key=...)")
            prints = (fingerprint,) if isinstance(fingerprint, str) else tuple(fingerprint)
            info = dataclasses.replace(info, fingerprints=prints, key_id=key_id(key))
            for one in prints:
                other = _witness_ledger_for(one)
                if other is not None and Path(other) != p.resolve():
                    raise LedgerExistsError(
                        f"the table already has a ledger on this machine: {other}. A data set "
                        "has one budget forever; spend from that ledger instead of starting "
                        "another.")
        fresh = Accountant(epsilon, delta, dataset=info, unit=unit)  # validates the budget
        with _flock(p, lock_timeout):
            if p.exists():
                if not overwrite:
                    raise LedgerExistsError(
                        f"a ledger already exists at {p}; a data set has one budget forever, so "
                        "it is not replaced. Use it with `privsynth budget show`.")
                try:
                    old = read_ledger(p)
                except LedgerError:
                    old = None
                if old is None or len(old.ledger):
                    raise LedgerExistsError(
                        f"the ledger at {p} records spends (or cannot be read); it is never "
                        "replaced, overwrite=True or not: that would forget what was spent.")
            _write_ledger(p, fresh)
        return cls(p, lock_timeout=lock_timeout, key=key)

    @classmethod
    def open(cls, path: str | Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
             release: str = "", key: bytes | str | Path | None = None) -> FileAccountant:
        """Load the ledger at ``path``; raises LedgerError if it does not verify.

        ``key`` (bytes, or a key file's path) defaults to the key file next to
        the ledger (``<ledger>.key``) when one exists.
        """
        return cls(path, lock_timeout=lock_timeout, release=release, key=key)

    @classmethod
    @contextlib.contextmanager
    def locked(cls, path: str | Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
               release: str = "", key: bytes | str | Path | None = None
               ) -> Iterator[FileAccountant]:
        """Hold the ledger exclusively for a whole job (e.g. one fit).

        Other processes' spends wait (up to their own ``lock_timeout``) until
        the block ends, so a job that passed its budget check cannot be
        starved half-way by a concurrent one. Raises
        :class:`LedgerBusyError` after ``lock_timeout`` seconds of waiting.
        """
        p = Path(path)
        with _flock(p, lock_timeout):
            acct = cls(p, lock_timeout=lock_timeout, release=release, key=key)
            acct._held += 1
            try:
                yield acct
            finally:
                acct._held -= 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Accountant:
        """An in-memory :class:`Accountant` from a ledger dictionary (no file)."""
        return Accountant.from_dict(data)

    # -- the file -----------------------------------------------------------
    @contextlib.contextmanager
    def _hold(self) -> Iterator[None]:
        if self._held:
            self._held += 1
            try:
                yield
            finally:
                self._held -= 1
            return
        with _flock(self.path, self.lock_timeout):
            self._held += 1
            try:
                yield
            finally:
                self._held -= 1

    def _sync(self) -> bool:
        """Adopt the on-disk ledger (caller holds the lock); fail closed on any doubt.

        Returns True when the file holds entries this process had not seen.
        """
        disk = read_ledger(self.path)
        if disk.genesis != self.genesis:
            raise LedgerError(
                f"ledger {self.path}: its budget or data-set header changed on disk (now "
                f"epsilon {disk.epsilon:g}, delta {disk.delta:g}; this process opened epsilon "
                f"{self.epsilon:g}, delta {self.delta:g}); refusing to spend. Open it again.")
        if not _same_entries(self.ledger.entries, disk.ledger.entries):
            raise LedgerRolledBackError(
                f"ledger {self.path}: entries this process recorded or read are gone from the "
                "file (it was replaced or rolled back); refusing to spend.")
        grew = len(disk.ledger) > len(self.ledger)
        self.ledger = Ledger(list(disk.ledger.entries), self.genesis)
        return grew

    def refresh(self) -> FileAccountant:
        """Re-read the file to see other processes' spends; returns ``self``."""
        with self._lock, self._hold():
            self._sync()
        return self

    def _commit(self, drafts: list[LedgerEntry]) -> list[LedgerEntry]:
        """Lock, re-read, re-check, chain, write atomically; then the noise may be drawn."""
        if self.release:
            drafts = [dataclasses.replace(e, release=self.release) if not e.release else e
                      for e in drafts]
        with self._hold():
            self._sync()
            self._check_entries(drafts, drafts[0].label if drafts else "")
            grown = Ledger(list(self.ledger.entries), self.genesis)
            made = grown.extend(drafts)
            previous, self.ledger = self.ledger, grown
            try:
                _write_ledger(self.path, self)
            except BaseException:
                self.ledger = previous
                raise
            return made


def default_key_path(ledger: str | Path) -> Path:
    """Where the key of a ledger's fingerprint is kept by default: ``<ledger>.key``."""
    p = Path(ledger)
    return p.with_name(p.name + ".key")


def _load_key(ledger: Path, key: bytes | str | Path | None) -> bytes | None:
    from privsynth.accounting.fingerprint import read_key

    if isinstance(key, bytes):
        out: bytes | None = key
    elif key is not None:
        out = read_key(key)
    else:
        default = default_key_path(ledger)
        out = read_key(default) if default.exists() else None
    return out



__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "FileAccountant",
    "LedgerBusyError",
    "LedgerExistsError",
    "LedgerRolledBackError",
    "default_key_path",
    "lock_path",
    "read_ledger",
    "state_dir",
]
