"""Durable file writing shared by model files, ledgers and release manifests (bottom layer).

>>> import os, tempfile
>>> p = os.path.join(tempfile.mkdtemp(), "f.txt")
>>> atomic_write_text(p, "hello")
>>> from pathlib import Path
>>> Path(p).read_text()
'hello'
>>> sha256_file(p)[:12]
'2cf24dba5fb0'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

try:  # POSIX only: Linux and macOS
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_POLL = 0.05


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    A reader sees the old file or the new one, never a half-written one; the
    folder is fsynced too, so the rename survives a crash.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: str | Path) -> None:
    """fsync a folder (so a rename in it is durable); a no-op where folders cannot be opened."""
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


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, as hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


class LockTimeout(TimeoutError):
    """The lock stayed held by another process for longer than the timeout."""


def locks_available() -> bool:
    """True where :func:`exclusive_lock` can lock (POSIX ``flock``)."""
    return fcntl is not None


@contextlib.contextmanager
def exclusive_lock(path: str | Path, *, timeout: float | None = None,
                   create: bool = False) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` for the ``with`` block.

    ``path`` is a lock file (made if ``create``) or an existing folder (locked
    in place, no file left behind). The kernel drops the lock if the process
    dies. ``timeout=None`` waits for ever; otherwise :class:`LockTimeout` after
    ``timeout`` seconds. Callers check :func:`locks_available` first (Windows
    has no ``flock``).

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with exclusive_lock(folder):
    ...     with exclusive_lock(os.path.join(folder, "x.lock"), create=True, timeout=1):
    ...         pass
    """
    if fcntl is None:  # pragma: no cover - Windows
        raise OSError("file locks need POSIX flock (Linux or macOS)")
    flags = (os.O_RDWR | os.O_CREAT) if create else os.O_RDONLY
    fd = os.open(path, flags, 0o644)
    try:
        if timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + max(0.0, timeout)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(str(path)) from None
                    time.sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


__all__ = ["LockTimeout", "atomic_write_text", "exclusive_lock", "fsync_dir",
           "locks_available", "sha256_file"]
