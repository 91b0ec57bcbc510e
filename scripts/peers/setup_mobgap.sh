#!/usr/bin/env bash
# Create the mobgap peer venv (separate from the gait env) and install mobgap into it.
#   bash scripts/peers/setup_mobgap.sh            # -> ${GAIT_MOBGAP_VENV:-<repo>/.peer-venvs/mobgap}
# Then: GAIT_MOBGAP_PYTHON=<venv>/bin/python (the benchmarks' default is that path).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${GAIT_MOBGAP_VENV:-$root/.peer-venvs/mobgap}"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    echo "creating $venv" >&2
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pip >&2 || true
"$venv/bin/python" -m pip install -q -r "$here/requirements-mobgap.txt" >&2
"$venv/bin/python" - <<'PY'
import importlib.metadata as m
import mobgap.pipeline, mobgap.initial_contacts  # noqa: F401
print("mobgap", m.version("mobgap"), "ready")
PY
echo "GAIT_MOBGAP_PYTHON=$venv/bin/python"
