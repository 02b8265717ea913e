"""The append-only ledger of privacy spends: plain data, serializable to JSON.

>>> from privsynth.accounting.events import LaplaceEvent
>>> led = Ledger()
>>> _ = led.append(LaplaceEvent(0.1), label="count")
>>> len(led), led.entries[0].label
(1, 'count')
>>> Ledger.from_dict(led.to_dict()) == led
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from privsynth.accounting.events import Event, event_from_dict
from privsynth.errors import LedgerError


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded spend: what was released (label), how (event) and when.

    ``reproducible_noise`` is True when the noise came from a seeded test
    generator: such a release is NOT private and reports say so.
    """

    label: str
    event: Event
    timestamp: str
    release: str = ""
    reproducible_noise: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label,
            "event": self.event.to_dict(),
            "timestamp": self.timestamp,
            "release": self.release,
        }
        if self.reproducible_noise:
            out["reproducible_noise"] = True
        return out

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
        return cls(
            label=label,
            event=event,
            timestamp=timestamp,
            release=str(data.get("release", "")),
            reproducible_noise=bool(data.get("reproducible_noise", False)),
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass
class Ledger:
    """An append-only list of :class:`LedgerEntry`. Entries are never removed."""

    entries: list[LedgerEntry] = field(default_factory=list)

    def append(
        self, event: Event, *, label: str, release: str = "", reproducible_noise: bool = False
    ) -> LedgerEntry:
        entry = LedgerEntry(label, event, _now(), release, reproducible_noise)
        self.entries.append(entry)
        return entry

    def extend(self, entries: list[LedgerEntry]) -> None:
        self.entries.extend(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(self.entries)

    @property
    def events(self) -> list[Event]:
        return [e.event for e in self.entries]

    def to_dict(self) -> list[dict[str, Any]]:
        return [e.to_dict() for e in self.entries]

    @classmethod
    def from_dict(cls, data: list[dict[str, Any]]) -> Ledger:
        if not isinstance(data, list):
            raise LedgerError("the ledger entries must be a JSON list")
        return cls([LedgerEntry.from_dict(d) for d in data])

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the entries (tamper evidence)."""
        canon = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()
