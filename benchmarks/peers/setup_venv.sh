#!/usr/bin/env bash
# Create a separate virtualenv holding the peer DP synthesizers used by the benchmarks.
#
# The peers (DataSynthesizer, smartnoise-synth) are NEVER dependencies of privsynth: they
# live in their own environment and are run in subprocesses by benchmarks/peers/run_peer.py.
#
# Usage: bash benchmarks/peers/setup_venv.sh            # creates ${PEERS_VENV:-/work/peers-venv}
#        PEERS_VENV=/tmp/pv bash benchmarks/peers/setup_venv.sh
set -euo pipefail

VENV="${PEERS_VENV:-/work/peers-venv}"
PY="${PEERS_PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check)

"${PIP[@]}" --upgrade pip wheel setuptools
# A CPU build of torch first, so smartnoise-synth does not pull a CUDA build.
"${PIP[@]}" "torch==${PEERS_TORCH_VERSION:-2.13.0}" || "${PIP[@]}" torch
"${PIP[@]}" psutil
# DataSynthesizer: PrivBayes (correlated) and independent attribute modes.
"${PIP[@]}" DataSynthesizer || echo "WARNING: DataSynthesizer did not install" >&2
# SmartNoise Synth: MST, AIM, DPCTGAN, PATECTGAN.
"${PIP[@]}" smartnoise-synth || echo "WARNING: smartnoise-synth did not install" >&2

"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("DataSynthesizer", "smartnoise-synth", "torch", "numpy", "pandas"):
    try:
        print(f"{name}=={md.version(name)}")
    except md.PackageNotFoundError:
        print(f"{name}: not installed")
PY
