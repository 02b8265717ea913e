"""Release folders: a manifest of what is handed over, and its independent verification.

- :func:`write_manifest` (:mod:`privsynth.release.manifest`): add a release's
  files (with SHA-256), its own guarantee, its ledger entry ids and the data
  set's ledger state to ``FOLDER/manifest.json``;
- :func:`verify_release` (:mod:`privsynth.release.verify`): recompute every
  hash and every stated epsilon from the files and the ledger alone, with
  :mod:`privsynth.release.independent` (which imports nothing from privsynth).

This layer sits between the CLI and the report: it reads models through their
fit record and ledgers through the accountant, and nothing below imports it.
"""

from privsynth.release.manifest import MANIFEST_NAME, read_manifest, write_manifest
from privsynth.release.verify import Check, Verification, verify_release

__all__ = ["MANIFEST_NAME", "Check", "Verification", "read_manifest", "verify_release",
           "write_manifest"]
