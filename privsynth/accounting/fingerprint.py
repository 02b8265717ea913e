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

Each value is hashed in a *canonical form* (:func:`canonical_values`), so the
fingerprint of a table does not depend on how it was read: the text of a CSV
file (``budget init --data``) and the same data typed by a schema (``fit``)
fingerprint alike. Numbers are taken by value (``"1.50"``, ``"1.5"`` and
``1.5`` agree; ``"100"``, ``"1e2"``, ``100`` and ``100.0`` too), booleans and
the true/false tokens of :data:`privsynth._checks.TRUE_TOKENS` as 1/0, ISO
8601 dates and times by their instant (UTC when a time zone is given), other
text stripped of surrounding spaces, and every missing value (None, NaN, NA,
NaT) alike. Column order and row order do not matter; column names do.

>>> import pandas as pd
>>> key = bytes(range(32))
>>> a = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", None]})
>>> table_fingerprint(a, key) == table_fingerprint(a.iloc[::-1], key)
True
>>> table_fingerprint(a, key) == table_fingerprint(a.iloc[:2], key)
False
>>> typed = pd.DataFrame({"y": ["b", "a", None], "x": [2.0, 1.0, 3.0]})
>>> text = pd.DataFrame({"x": ["3", "1.0", " 2"], "y": [None, "a", "b"]})
>>> table_fingerprint(typed, key) == table_fingerprint(text, key) == table_fingerprint(a, key)
True
>>> key_id(key)
'62d380630b7917e0'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from privsynth._checks import FALSE_TOKENS, TRUE_TOKENS
from privsynth.errors import LedgerError

_KEY_BYTES = 32
_NA = "\x00NA"
_TAG = "privsynth.table-fingerprint.v2\n"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
                       r"(Z|[+-]\d{2}:?\d{2})?$")
_INT_SAFE = float(2 ** 53)


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


def _numbers(values: np.ndarray) -> np.ndarray:
    """Canonical text of finite or infinite floats: integers without a point, else repr."""
    out = np.empty(len(values), dtype=object)
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(values) & (np.abs(values) < _INT_SAFE) \
            & (np.floor(values) == values)
    out[whole] = values[whole].astype(np.int64).astype(str)
    out[~whole] = [repr(float(v)) for v in values[~whole]]
    return out


def _instants(values: pd.Series) -> np.ndarray:
    """Datetimes as ``T<nanoseconds since 1970 UTC>`` (naive times are read as UTC)."""
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    ns = values.astype("datetime64[ns]").astype("int64").to_numpy()
    return np.array(["T" + str(v) for v in ns], dtype=object)


def _texts(values: pd.Series) -> np.ndarray:
    """Text values: numbers by value, true/false tokens as 1/0, ISO dates by instant."""
    text = values.astype(str).str.strip()
    out = text.to_numpy(dtype=object).copy()
    number = pd.to_numeric(text, errors="coerce")
    is_num = number.notna().to_numpy()
    if is_num.any():
        out[is_num] = _numbers(number.to_numpy(dtype=float)[is_num])
    low = text.str.lower()
    rest = ~is_num
    out[rest & low.isin(TRUE_TOKENS).to_numpy()] = "1"
    out[rest & low.isin(FALSE_TOKENS).to_numpy()] = "0"
    maybe = rest & text.str.match(_ISO_DATE).to_numpy()
    if maybe.any():
        when = pd.to_datetime(text[maybe], errors="coerce", utc=True, format="ISO8601")
        ok = when.notna().to_numpy()
        idx = np.flatnonzero(maybe)[ok]
        out[idx] = _instants(when[ok])
    return out


def canonical_values(column: pd.Series) -> np.ndarray:
    """The canonical text of each value of a column (see the module docstring).

    >>> canonical_values(pd.Series(["1.50", "1e2", "yes", "2024-01-02", None, " x "])).tolist()
    ['1.5', '100', '1', 'T1704153600000000000', '\\x00NA', 'x']
    >>> canonical_values(pd.Series([1.5, 100.0, None])).tolist()
    ['1.5', '100', '\\x00NA']
    """
    na = column.isna().to_numpy()
    out = np.full(len(column), _NA, dtype=object)
    present = column[~na]
    if not len(present):
        return out
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        out[~na] = np.where(present.to_numpy(dtype=bool), "1", "0")
    elif pd.api.types.is_integer_dtype(dtype):
        out[~na] = present.astype("int64").astype(str).to_numpy(dtype=object)
    elif pd.api.types.is_float_dtype(dtype):
        out[~na] = _numbers(present.to_numpy(dtype=float))
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        out[~na] = _instants(present)
    else:  # object, string, category: each distinct value read once, by its text
        codes, uniques = pd.factorize(present.to_numpy(dtype=object))
        out[~na] = _objects(np.asarray(uniques, dtype=object))[codes]
    return out


def _objects(vals: np.ndarray) -> np.ndarray:
    """Canonical text of distinct Python values (text, numbers, booleans, mixed)."""
    kinds = {type(v) for v in vals}
    if kinds <= {bool, np.bool_}:
        return np.where(vals.astype(bool), "1", "0").astype(object)
    if kinds <= {int, float, np.int64, np.float64}:
        return _numbers(vals.astype(float))
    return _texts(pd.Series(vals, dtype=object).map(
        lambda v: ("1" if v else "0") if isinstance(v, bool | np.bool_) else v))


def row_digest(df: pd.DataFrame, key: bytes) -> tuple[int, int]:
    """(sum mod 2^64 of keyed row hashes, row count) of ``df``; add these over partitions."""
    cols = sorted(str(c) for c in df.columns)
    by_name = {str(c): c for c in df.columns}
    text = pd.DataFrame({c: canonical_values(df[by_name[c]]) for c in cols},
                        index=df.index) if len(cols) else pd.DataFrame(index=df.index)
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
    msg = _TAG + "\x1f".join(sorted(columns)) \
        + f"\n{total}\n{n}"
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).hexdigest()


def table_fingerprint(df: pd.DataFrame, key: bytes) -> str:
    """The keyed fingerprint of a whole table (row order does not matter)."""
    return combine([str(c) for c in df.columns], [row_digest(df, key)], key)


__all__ = ["canonical_values", "combine", "key_id", "new_key", "read_key", "row_digest",
           "table_fingerprint", "write_key"]
