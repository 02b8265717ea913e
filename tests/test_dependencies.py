"""Facts about our dependencies that the pins in pyproject.toml rely on.

diffprivlib 0.6.6 fails to import with scikit-learn 1.9 (``cannot import name
'DOUBLE' from 'sklearn.tree._tree'``), so pyproject pins ``scikit-learn<1.9``.
These tests fail loudly when that pin is violated, and so tell whoever sees
them whether the pin must move or can be lifted.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import re

PIN = (1, 9)


def _major_minor(version: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", version)
    assert match, f"cannot parse the version {version!r}"
    return int(match.group(1)), int(match.group(2))


def test_diffprivlib_imports() -> None:
    dpl = importlib.import_module("diffprivlib")
    # the models are what break with a too-new scikit-learn; touch one
    from diffprivlib.mechanisms import Geometric

    assert Geometric(epsilon=1.0, sensitivity=1).epsilon == 1.0
    assert hasattr(dpl, "models")


def test_installed_scikit_learn_is_below_the_pin() -> None:
    installed = metadata.version("scikit-learn")
    if _major_minor(installed) >= PIN:
        raise AssertionError(
            f"scikit-learn {installed} is installed, but pyproject.toml pins scikit-learn<1.9 "
            "because diffprivlib 0.6.6 does not import with scikit-learn 1.9 (it imports "
            "sklearn.tree._tree.DOUBLE, which 1.9 removed). Either the pin was bypassed (install "
            "with the pin: pip install 'scikit-learn<1.9'), or a new diffprivlib supports 1.9: "
            "if test_diffprivlib_imports passes with this version, lift the pin in "
            "pyproject.toml and update PIN here and in ../shared/DEPENDENCIES.md."
        )


def test_pin_is_declared_in_the_package_metadata() -> None:
    requirements = metadata.requires("privsynth") or []
    sklearn = [r for r in requirements if re.match(r"scikit-learn\b", r)]
    assert sklearn, "privsynth no longer declares scikit-learn; update this test"
    assert "<1.9" in sklearn[0], (
        f"the scikit-learn requirement changed to {sklearn[0]!r}; if the pin was lifted on "
        "purpose, update PIN and the explanation in this file"
    )
