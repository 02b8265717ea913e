"""Safe model files: one JSON document, arrays as base64 raw bytes, a checksum.

Never pickle: loading parses JSON and rebuilds arrays with ``np.frombuffer``
from an allow-listed dtype, so a model file cannot run code. Writes are
atomic (temporary file, fsync, rename).

>>> import numpy as np, tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "m.json")
>>> write_model(p, "demo", {"a": np.arange(3)}, arrays=True)
>>> read_model(p, "demo")["a"].tolist()
[0, 1, 2]
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from privsynth._fileutil import atomic_write_text
from privsynth.errors import ModelFileError

MODEL_FORMAT = "privsynth.model"
MODEL_VERSION = 2
_DTYPES = {"<f8", "<f4", "<i8", "<i4", "|b1", "<f2", "|u1", "<u4"}


def _encode(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        arr = np.array(obj, order="C", copy=True)  # ascontiguousarray makes 0-d arrays 1-d
        dt = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        arr = arr.astype(dt, copy=False)
        if arr.dtype.str not in _DTYPES:
            raise ModelFileError(f"cannot store arrays of dtype {arr.dtype} in a model file")
        return {"__ndarray__": base64.b64encode(arr.tobytes()).decode("ascii"),
                "dtype": arr.dtype.str, "shape": list(arr.shape)}
    if isinstance(obj, dict):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            dtype, shape = obj.get("dtype"), obj.get("shape")
            if not isinstance(dtype, str) or dtype not in _DTYPES or not isinstance(shape, list) \
                    or not all(isinstance(s, int) and s >= 0 for s in shape):
                raise ModelFileError("the model file holds an array of unsupported form")
            try:
                raw = base64.b64decode(obj["__ndarray__"], validate=True)
                # tuple(): reshape([]) is a no-op, and 0-d arrays must stay 0-d
                return np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(tuple(shape)).copy()
            except (ValueError, TypeError) as exc:
                raise ModelFileError(f"the model file holds a corrupted array: {exc}") from exc
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def _digest(payload: Any) -> str:
    canon = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def write_model(path: str | Path, engine: str, payload: dict[str, Any], *,
                arrays: bool = True) -> None:
    """Write ``payload`` (JSON values and numpy arrays) as a checksummed model file."""
    from privsynth._version import __version__

    body = _encode(payload)
    try:
        doc = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "engine": engine,
               "privsynth": __version__, "sha256": _digest(body), "payload": body}
        text = json.dumps(doc, allow_nan=False)
    except ValueError as exc:
        raise ModelFileError(f"the model holds non-finite numbers and cannot be saved: {exc}") \
            from exc
    atomic_write_text(path, text)


def read_model(path: str | Path, engine: str) -> dict[str, Any]:
    """Read and verify a model file written by :func:`write_model` for ``engine``."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        why = getattr(exc, "strerror", None) or exc
        raise ModelFileError(f"cannot read model file {path}: {why}") from exc
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(
            f"{path} is not a privsynth model file (not JSON); it may be truncated or a file of "
            "another kind. privsynth never loads pickle files."
        ) from exc
    if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path} is not a privsynth model file (no 'privsynth.model' format)")
    if doc.get("version") != MODEL_VERSION:
        raise ModelFileError(
            f"{path}: model file version {doc.get('version')!r} is not supported by this privsynth "
            f"(reads version {MODEL_VERSION}); refit the model or use the matching privsynth"
        )
    if doc.get("engine") != engine:
        raise ModelFileError(
            f"{path} holds a {doc.get('engine')!r} model, not {engine!r}; load it with that engine"
        )
    body = doc.get("payload")
    try:
        # a payload holding NaN/Infinity (never written by write_model) cannot be hashed
        sealed = isinstance(body, dict) and doc.get("sha256") == _digest(body)
    except ValueError:
        sealed = False
    if not sealed:
        raise ModelFileError(f"{path}: the checksum does not match; the file was modified or "
                             "corrupted. Refusing to load it.")
    return _decode(body)


def peek_engine(path: str | Path) -> str:
    """The engine name recorded in a model file (for generic loading)."""
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read().decode("utf-8"))
        engine = doc["engine"]
        if not isinstance(engine, str):
            raise TypeError
        return engine
    except (OSError, ValueError, RecursionError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path} is not a readable privsynth model file") from exc
