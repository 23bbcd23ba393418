#!/usr/bin/env bash
# Ship as users install: build the wheel, install it in a fresh virtual environment outside the
# checkout, and from another folder run baseline, run, report and `serve --demo` up to /healthz.
# Nothing of the repository is on the path: a table, template or example missing from the wheel
# fails here. Usage: scripts/wheel_smoke.sh [WORKDIR]  (default: a temporary folder, removed)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
work="${1:-$(mktemp -d -t stpsim-wheel-XXXXXX)}"
[ -n "${1:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dist" "$work/elsewhere"
step() { echo "wheel-smoke: $*" >&2; }

step "building the wheel"
# From a copy of the sources: setuptools writes build/ and *.egg-info beside them.
"$python" - "$root" "$work/source" <<'PY'
import shutil, sys
skip = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "artefacts")
shutil.copytree(sys.argv[1], sys.argv[2], symlinks=True, ignore=skip)
PY
"$python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$work/dist" "$work/source" >&2
wheel=$(ls "$work"/dist/stpsim-*.whl)
step "installing $(basename "$wheel") into a fresh virtual environment"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel" >&2

cd "$work/elsewhere"
export STPSIM_CACHE_DIR="$work/cache"
stpsim="$work/venv/bin/stpsim"
# The installed package, not the checkout, must be the one imported.
"$work/venv/bin/python" -c 'import stpsim, sys; p = stpsim.__file__; sys.exit(0 if p.startswith(sys.argv[1]) else f"imported {p}")' "$work/venv"
step "baseline"
"$stpsim" baseline --footprint E54000007 --json > baseline.json
step "examples, run, report"
"$stpsim" examples plans
"$stpsim" run plans/greater_manchester.yaml --draws 50 --json > run.json
"$stpsim" report plans/greater_manchester.yaml --draws 50 -o gm.html
"$stpsim" report plans/greater_manchester.yaml --draws 50 -o gm.xlsx
test -s gm.html && test -s gm.xlsx

step "serve --demo up to /healthz"
port=$("$work/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$stpsim" serve --demo --port "$port" > serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; [ -n "${1:-}" ] || rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  if "$work/venv/bin/python" - "$port" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
  if ! kill -0 "$server" 2>/dev/null; then cat serve.log >&2; echo "wheel-smoke: the server stopped" >&2; exit 1; fi
  sleep 0.5
done
"$work/venv/bin/python" - "$port" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=5) as r:
    assert r.status == 200, r.status
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=30) as r:
    assert r.status == 200 and b"<html" in r.read().lower()
PY
step "ok"
