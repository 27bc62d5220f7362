#!/usr/bin/env bash
# Reproduce the shipped default model (backend/models/default) from the CMU data in ../shared/data.
# Resumable: run it again after an interruption and training continues from RUN/checkpoint.pt.
#
#   ./scripts/train_default_model.sh            # from backend/; STEPS, RUN, DATA, THREADS override
#
# Steps: prepare the training set (once) -> train to STEPS -> evaluate on the held-out split with the
# sampling settings SAMPLE_STEPS/GUIDANCE -> copy the bundle and write MODEL_CARD.md into models/default
# (the evaluated sampling settings become the published model's defaults).
set -euo pipefail
BACKEND="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$BACKEND/.." && pwd)"
DATA="${DATA:-$ROOT/../shared/data}"
RUN="${RUN:-$ROOT/runs/default}"
STEPS="${STEPS:-8000}"
SAMPLE_STEPS="${SAMPLE_STEPS:-20}"
GUIDANCE="${GUIDANCE:-1.0}"
THREADS="${THREADS:-$(nproc)}"
CHOREO="${CHOREO:-$ROOT/.venv/bin/choreo}"
command -v "$CHOREO" >/dev/null 2>&1 || CHOREO=choreo

[ -d "$DATA/cmu" ] || { echo "train_default_model.sh: CMU data not found at $DATA/cmu (set DATA=...)" >&2; exit 2; }
mkdir -p "$RUN"
if [ ! -f "$RUN/dataset/clips.npz" ]; then
  "$CHOREO" prepare-data "$DATA/cmu/salsa" "$DATA/cmu/modern" "$DATA/cmu/charleston" --out "$RUN/dataset" --seed 0
fi
RESUME=()
[ -f "$RUN/checkpoint.pt" ] && RESUME=(--resume)
"$CHOREO" train --data "$RUN/dataset" --output "$RUN" --window 120 --latent_dim 256 --layers 4 --heads 4 \
  --ff_size 1024 --batch_size 32 --lr 2e-4 --max_steps "$STEPS" --checkpoint_every 200 --val_every 500 \
  --threads "$THREADS" --seed 0 "${RESUME[@]}"
"$CHOREO" eval-model --model "$RUN/final_model.pt" --data "$RUN/dataset" --out "$RUN/eval" --samples 4 \
  --steps "$SAMPLE_STEPS" --guidance "$GUIDANCE"
"$CHOREO" publish-model --run "$RUN" --data "$RUN/dataset" --eval "$RUN/eval" --out "$BACKEND/models/default" --force \
  --reproduce "cd backend && STEPS=$STEPS ./scripts/train_default_model.sh"
