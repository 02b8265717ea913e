"""The append-only, hash-chained ledger of privacy spends: plain data, serializable to JSON.

Every entry names the entry before it (``prev``) and carries its own id, the
SHA-256 of its canonical body, so the ledger is a hash chain starting at the
ledger's *genesis* (a hash of its budget and data-set header, see
:mod:`privsynth.accounting.accountant`). An entry's id therefore identifies
it, its place in the chain and everything before it: a model records the ids
of the entries its fit created (its link to the ledger), and the id of the
last entry (the *head*) identifies the whole ledger at that moment.

Hash recipes (documented field by field in ``docs/accounting.md``):

- canonical JSON: ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
  ensure_ascii=True, allow_nan=False)``;
- entry id: ``sha256("privsynth.ledger.entry.v2\\n" + canonical(body))`` where
  ``body`` is the entry's JSON object without ``id``.

A checksum without a secret key detects accidents and edits, not a forger who
recomputes the chain; what makes forgery detectable is that the head is
printed in every report and manifest handed to others (see
:mod:`privsynth.accounting.persistent` for the witness of the last head seen).

>>> from privsynth.accounting.events import LaplaceEvent
>>> led = Ledger()
>>> first = led.append(LaplaceEvent(0.1), label="count")
>>> second = led.append(LaplaceEvent(0.2), label="table")
>>> second.prev == first.id and led.head == second.id
True
>>> Ledger.from_dict(led.to_dict(), genesis=led.genesis) == led
True
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from privsynth.accounting.events import Event, event_from_dict
from privsynth.errors import LedgerError

#: Genesis of a ledger without a header (tests, scratch ledgers).
NO_GENESIS = "0" * 64
_ENTRY_TAG = "privsynth.ledger.entry.v2\n"


def canonical(obj: Any) -> str:
    """The canonical JSON text that every privsynth hash is taken over.

    >>> canonical({"b": 1.0, "a": [True, None]})
    '{"a":[true,null],"b":1.0}'
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def sha256_text(tag: str, obj: Any) -> str:
    """``sha256(tag + canonical(obj))`` as hex."""
    return hashlib.sha256((tag + canonical(obj)).encode("utf-8")).hexdigest()


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 \
        and all(c in "0123456789abcdef" for c in value)


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded spend: what was released (label), how (event), when, and in which release.

    ``release`` groups the entries of one release (one fit, one schema
    inference); ``release_delta`` is the delta at which that release states
    its own guarantee (None when it states none, e.g. a loose spend).
    ``reproducible_noise`` is True when the noise came from a seeded test
    generator: such a release is NOT private and reports say so. ``prev`` and
    ``id`` chain the entry (see the module docstring); an entry not yet in a
    ledger has both empty.
    """

    label: str
    event: Event
    timestamp: str
    release: str = ""
    release_delta: float | None = None
    reproducible_noise: bool = False
    prev: str = ""
    id: str = ""

    def body(self) -> dict[str, Any]:
        """The hashed part of the entry: every field but ``id``."""
        return {
            "label": self.label,
            "event": self.event.to_dict(),
            "timestamp": self.timestamp,
            "release": self.release,
            "release_delta": self.release_delta,
            "reproducible_noise": self.reproducible_noise,
            "prev": self.prev,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.body(), "id": self.id}

    def chained(self, prev: str) -> LedgerEntry:
        """This entry placed after ``prev`` in a chain (its id computed)."""
        linked = replace(self, prev=prev, id="")
        return replace(linked, id=sha256_text(_ENTRY_TAG, linked.body()))

    @property
    def is_chained(self) -> bool:
        return bool(self.id)

    def matches_id(self) -> bool:
        """Whether ``id`` is the hash of the entry's body (False for an edited entry)."""
        return _is_hex64(self.id) and sha256_text(_ENTRY_TAG, self.body()) == self.id

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LedgerEntry:
        if not isinstance(data, dict):
            raise LedgerError("a ledger entry must be a JSON object")
        try:
            label, timestamp = data["label"], data["timestamp"]
            event = event_from_dict(data["event"])
        except KeyError as exc:
            raise LedgerError(f"a ledger entry is missing the key {exc.args[0]!r}") from exc
        if not isinstance(label, str) or not isinstance(timestamp, str):
            raise LedgerError("ledger entry label and timestamp must be strings")
        release = data.get("release", "")
        rdelta = data.get("release_delta")
        if not isinstance(release, str):
            raise LedgerError("a ledger entry's release must be a string")
        if rdelta is not None and (isinstance(rdelta, bool) or not isinstance(rdelta, int | float)
                                   or not math.isfinite(rdelta) or not 0 <= rdelta < 1):
            raise LedgerError("a ledger entry's release_delta must be null or in [0, 1)")
        prev, eid = data.get("prev", ""), data.get("id", "")
        if not isinstance(prev, str) or not isinstance(eid, str):
            raise LedgerError("a ledger entry's prev and id must be strings")
        return cls(label=label, event=event, timestamp=timestamp, release=release,
                   release_delta=None if rdelta is None else float(rdelta),
                   reproducible_noise=bool(data.get("reproducible_noise", False)),
                   prev=prev, id=eid)


def check_entry_ids(entries: Iterable[LedgerEntry], *, first: int = 1) -> None:
    """Raise LedgerError unless every entry's ``id`` is the hash of its body.

    A model file links to its ledger entries by these ids; an entry whose
    fields were edited (a smaller epsilon, another label) keeps an id that no
    longer matches. ``first`` numbers the entries in the message.

    >>> from privsynth.accounting.events import LaplaceEvent
    >>> led = Ledger()
    >>> entry = led.append(LaplaceEvent(0.1), label="a")
    >>> check_entry_ids([entry])
    >>> check_entry_ids([replace(entry, event=LaplaceEvent(0.001))])
    Traceback (most recent call last):
    ...
    privsynth.errors.LedgerError: ledger entry 1 ('a') does not match its id: ...
    """
    for i, e in enumerate(entries, start=first):
        if not e.matches_id():
            raise LedgerError(
                f"ledger entry {i} ({e.label!r}) does not match its id: the entry was "
                "edited or corrupted")


def now() -> str:
    """The current time as an ISO 8601 UTC timestamp with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class Ledger:
    """An append-only hash chain of :class:`LedgerEntry`. Entries are never removed."""

    entries: list[LedgerEntry] = field(default_factory=list)
    genesis: str = NO_GENESIS

    @property
    def head(self) -> str:
        """The id of the last entry (the genesis when empty): identifies the whole ledger."""
        return self.entries[-1].id if self.entries else self.genesis

    def append(self, event: Event, *, label: str, release: str = "",
               release_delta: float | None = None,
               reproducible_noise: bool = False) -> LedgerEntry:
        entry = LedgerEntry(label, event, now(), release, release_delta, reproducible_noise)
        return self.extend([entry])[0]

    def extend(self, entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
        """Chain ``entries`` after the head and append them; returns them chained."""
        out = []
        prev = self.head
        for e in entries:
            chained = e.chained(prev)
            out.append(chained)
            prev = chained.id
        self.entries.extend(out)
        return out

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(self.entries)

    @property
    def events(self) -> list[Event]:
        return [e.event for e in self.entries]

    def ids(self) -> set[str]:
        return {e.id for e in self.entries}

    def releases(self) -> list[str]:
        """Release ids in order of first appearance (entries without one are not listed)."""
        seen: dict[str, None] = {}
        for e in self.entries:
            if e.release:
                seen.setdefault(e.release, None)
        return list(seen)

    def to_dict(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.entries]

    def verify(self) -> None:
        """Raise LedgerError unless every entry is chained to the one before it.

        >>> from privsynth.accounting.events import LaplaceEvent
        >>> led = Ledger()
        >>> _ = led.append(LaplaceEvent(0.1), label="a")
        >>> led.entries[0] = replace(led.entries[0], label="edited")
        >>> led.verify()
        Traceback (most recent call last):
        ...
        privsynth.errors.LedgerError: ledger entry 1 ('edited') does not match its id: ...
        """
        prev = self.genesis
        for i, e in enumerate(self.entries, start=1):
            if e.prev != prev:
                raise LedgerError(
                    f"ledger entry {i} ({e.label!r}) does not follow entry {i - 1}: the chain "
                    "is broken (an entry was removed, reordered or inserted)")
            check_entry_ids([e], first=i)
            prev = e.id

    @classmethod
    def from_dict(cls, data: list[dict[str, Any]], *, genesis: str = NO_GENESIS,
                  verify: bool = True) -> Ledger:
        if not isinstance(data, list):
            raise LedgerError("the ledger entries must be a JSON list")
        led = cls([LedgerEntry.from_dict(d) for d in data], genesis)
        if verify:
            led.verify()
        return led

    @classmethod
    def rechain(cls, entries: Sequence[LedgerEntry], genesis: str) -> Ledger:
        """A new chain of the same entries (used to migrate unchained version-1 ledgers)."""
        led = cls([], genesis)
        led.extend([replace(e, prev="", id="") for e in entries])
        return led


__all__ = ["NO_GENESIS", "Ledger", "LedgerEntry", "canonical", "check_entry_ids", "now",
           "sha256_text"]
