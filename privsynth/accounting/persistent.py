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

The file is the JSON of :meth:`Accountant.to_dict` plus ``seal_sha256``, a
SHA-256 over the budget *and* the entries (the accountant's own ``sha256``
covers the entries only). A checksum without a secret key detects accidental
corruption and hand edits, not a determined forger: protect the file with
ordinary file permissions and backups.

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
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from privsynth._modelfile import atomic_write_text
from privsynth.accounting.accountant import Accountant
from privsynth.accounting.ledger import Ledger, LedgerEntry
from privsynth.errors import LedgerError, PrivsynthError

try:  # POSIX only; see the module docstring
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Seconds to wait for another process's lock before giving up.
DEFAULT_LOCK_TIMEOUT = 60.0
_POLL = 0.05


class LedgerBusyError(PrivsynthError):
    """Another process held the ledger's lock for longer than the timeout."""


class LedgerExistsError(LedgerError):
    """A new ledger was requested where one already exists (a budget is never reset)."""


def lock_path(path: str | Path) -> Path:
    """The lock file used for the ledger at ``path`` (``<ledger>.lock``)."""
    p = Path(path)
    return p.with_name(p.name + ".lock")


def _seal(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the budget and the entries."""
    canon = json.dumps({"budget": data.get("budget"), "entries": data.get("entries")},
                       sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


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
    if data.get("seal_sha256") != _seal(data):
        raise LedgerError(
            f"ledger {p}: its seal does not match its budget and entries: the file was edited "
            "or corrupted. Refusing to use it; restore it from a backup.")
    return acct


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _write_ledger(path: Path, data: dict[str, Any]) -> None:
    """Write the ledger atomically and durably (temp file, fsync, rename, fsync dir)."""
    data = dict(data)
    data["seal_sha256"] = _seal(data)
    text = json.dumps(data, indent=2, allow_nan=True) + "\n"
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise LedgerError(f"cannot write ledger {path}: {exc.strerror or exc}; nothing "
                          "was spent") from exc
    _fsync_dir(path.parent)


@contextlib.contextmanager
def _flock(path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on the ledger's lock file, waiting up to ``timeout`` s."""
    if fcntl is None:  # pragma: no cover - Windows
        raise PrivsynthError("file-backed ledgers need POSIX file locks (Linux or macOS)")
    lock = lock_path(path)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LedgerError(f"cannot create the lock file {lock}: {exc.strerror or exc}") from exc
    try:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LedgerBusyError(
                        f"ledger busy: another privsynth process has held {path} for more "
                        f"than {timeout:g} s (lock file {lock}); wait for it to finish and "
                        "try again") from None
                time.sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _same_entries(mine: list[LedgerEntry], disk: list[LedgerEntry]) -> bool:
    """True when ``mine`` is a prefix of ``disk`` (the file only ever grows)."""
    if len(mine) > len(disk):
        return False
    return all(a.to_dict() == b.to_dict() for a, b in zip(mine, disk, strict=False))


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

    def __init__(self, path: str | Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
                 release: str = "") -> None:
        self.path = Path(path)
        disk = read_ledger(self.path)
        super().__init__(disk.epsilon, disk.delta)
        self.ledger = disk.ledger
        self.lock_timeout = float(lock_timeout)
        self.release = str(release)
        self._held = 0  # depth of the lock held by this object (re-entrant)

    def __repr__(self) -> str:
        return f"FileAccountant({str(self.path)!r}; {super().__repr__()})"

    # -- creating and opening ---------------------------------------------
    @classmethod
    def init(cls, path: str | Path, epsilon: float, delta: float = 0.0, *,
             overwrite: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> FileAccountant:
        """Create the ledger file of a data set with its total budget.

        Raises
        ------
        LedgerExistsError
            A file exists at ``path`` and ``overwrite`` is False. A data set
            has one budget forever: replacing its ledger forgets what was
            spent. Only overwrite a ledger that belongs to nothing.
        ParameterError
            ``epsilon`` is not positive or ``delta`` is not in [0, 1).
        """
        p = Path(path)
        fresh = Accountant(epsilon, delta)  # validates the budget
        with _flock(p, lock_timeout):
            if p.exists() and not overwrite:
                raise LedgerExistsError(
                    f"a ledger already exists at {p}; a data set has one budget forever, so it "
                    "is not replaced. Use it with `privsynth budget show`, or remove it yourself "
                    "only if it belongs to no released data.")
            _write_ledger(p, fresh.to_dict())
        return cls(p, lock_timeout=lock_timeout)

    @classmethod
    def open(cls, path: str | Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
             release: str = "") -> FileAccountant:
        """Load the ledger at ``path``; raises LedgerError if it does not verify."""
        return cls(path, lock_timeout=lock_timeout, release=release)

    @classmethod
    @contextlib.contextmanager
    def locked(cls, path: str | Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
               release: str = "") -> Iterator[FileAccountant]:
        """Hold the ledger exclusively for a whole job (e.g. one fit).

        Other processes' spends wait (up to their own ``lock_timeout``) until
        the block ends, so a job that passed its budget check cannot be
        starved half-way by a concurrent one. Raises
        :class:`LedgerBusyError` after ``lock_timeout`` seconds of waiting.
        """
        p = Path(path)
        with _flock(p, lock_timeout):
            acct = cls(p, lock_timeout=lock_timeout, release=release)
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

    def _sync(self) -> None:
        """Adopt the on-disk ledger (caller holds the lock); fail closed on any doubt."""
        disk = read_ledger(self.path)
        if (disk.epsilon, disk.delta) != (self.epsilon, self.delta):
            raise LedgerError(
                f"ledger {self.path}: its budget changed on disk (now epsilon {disk.epsilon:g}, "
                f"delta {disk.delta:g}; this process opened epsilon {self.epsilon:g}, delta "
                f"{self.delta:g}); refusing to spend. Open it again.")
        if not _same_entries(self.ledger.entries, disk.ledger.entries):
            raise LedgerError(
                f"ledger {self.path}: entries this process recorded or read are gone from the "
                "file (it was replaced or rolled back); refusing to spend.")
        self.ledger = Ledger(list(disk.ledger.entries))

    def refresh(self) -> FileAccountant:
        """Re-read the file to see other processes' spends; returns ``self``."""
        with self._lock, self._hold():
            self._sync()
        return self

    def _commit(self, entries: list[LedgerEntry]) -> None:
        """Lock, re-read, re-check, append and write atomically; then the noise may be drawn."""
        if self.release:
            # in place: spend_many returns this very list to its caller
            entries[:] = [dataclasses.replace(e, release=self.release) if not e.release else e
                          for e in entries]
        with self._hold():
            self._sync()
            self.check([e.event for e in entries], label=entries[0].label if entries else "")
            grown = Ledger([*self.ledger.entries, *entries])
            previous, self.ledger = self.ledger, grown
            try:
                _write_ledger(self.path, self.to_dict())
            except BaseException:
                self.ledger = previous
                raise


__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "FileAccountant",
    "LedgerBusyError",
    "LedgerExistsError",
    "lock_path",
    "read_ledger",
]
