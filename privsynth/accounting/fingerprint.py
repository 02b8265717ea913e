"""Keyed fingerprints of source tables, and the secret key they are keyed with.

A ledger belongs to one data set. To let every fit check that it charges the
right ledger without the ledger revealing anything about the data, the
ledger stores a *keyed* fingerprint of the source table: an HMAC-SHA256,
under a secret key the steward keeps, of an order-independent digest of the
table's rows. Without the key the fingerprint is a random-looking string;
with it, the steward's tools recompute it from a table and compare.

The digest is a multiset hash (the sum modulo 2^64 of keyed 64-bit row
hashes), so it does not depend on row order and can be computed partition by
partition (Dask, chunks) and added up.

>>> import pandas as pd
>>> key = bytes(range(32))
>>> a = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", None]})
>>> table_fingerprint(a, key) == table_fingerprint(a.iloc[::-1], key)
True
>>> table_fingerprint(a, key) == table_fingerprint(a.iloc[:2], key)
False
>>> key_id(key)
'62d380630b7917e0'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from privsynth.errors import LedgerError

_KEY_BYTES = 32
_NA = "\x00NA"


def new_key() -> bytes:
    """32 bytes from the operating system's CSPRNG."""
    return secrets.token_bytes(_KEY_BYTES)


def key_id(key: bytes) -> str:
    """A public name of a key (16 hex digits of its SHA-256); reveals nothing about it."""
    return hashlib.sha256(b"privsynth.key-id\n" + key).hexdigest()[:16]


def write_key(path: str | Path, key: bytes) -> None:
    """Write a key file (hex, owner-only permissions); refuses to replace an existing one."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise LedgerError(f"a key file already exists at {p}; it is never replaced") from exc
    except OSError as exc:
        raise LedgerError(f"cannot create the key file {p}: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")


def read_key(path: str | Path) -> bytes:
    """Read a key file written by :func:`write_key`."""
    try:
        text = Path(path).read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except FileNotFoundError as exc:
        raise LedgerError(f"no key file at {path}: the data-set fingerprint cannot be checked "
                          "without the key the ledger was created with") from exc
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read the key file {path}: not a privsynth key") from exc
    if len(key) != _KEY_BYTES:
        raise LedgerError(f"the key file {path} does not hold a {_KEY_BYTES}-byte key")
    return key


def row_digest(df: pd.DataFrame, key: bytes) -> tuple[int, int]:
    """(sum mod 2^64 of keyed row hashes, row count) of ``df``; add these over partitions."""
    cols = sorted(str(c) for c in df.columns)
    text = pd.DataFrame({c: df[c].astype("string").fillna(_NA) for c in cols}) \
        if len(cols) else pd.DataFrame(index=df.index)
    hash_key = hmac.new(key, b"privsynth.row-hash-key", hashlib.sha256).hexdigest()[:16]
    if len(text) == 0:
        return 0, 0
    h = pd.util.hash_pandas_object(text, index=False, hash_key=hash_key, categorize=False)
    with np.errstate(over="ignore"):
        total = int(h.to_numpy(dtype=np.uint64).sum(dtype=np.uint64))
    return total, len(text)


def combine(columns: list[str], parts: list[tuple[int, int]], key: bytes) -> str:
    """The fingerprint from per-partition :func:`row_digest` results."""
    total = sum(p[0] for p in parts) % (1 << 64)
    n = sum(p[1] for p in parts)
    msg = "privsynth.table-fingerprint.v1\n" + "\x1f".join(sorted(columns)) \
        + f"\n{total}\n{n}"
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).hexdigest()


def table_fingerprint(df: pd.DataFrame, key: bytes) -> str:
    """The keyed fingerprint of a whole table (row order does not matter)."""
    return combine([str(c) for c in df.columns], [row_digest(df, key)], key)


__all__ = ["combine", "key_id", "new_key", "read_key", "row_digest", "table_fingerprint",
           "write_key"]
