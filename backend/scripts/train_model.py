#!/usr/bin/env python3
"""The setup guide's training command, kept working as written:

    python3.12 scripts/train_model.py --base_model models/mdm/humanml_trans_enc_512/model000475000.pt \\
        --data training_data.json --output trained_models/kpop_model --epochs 100 --batch_size 32 --lr 1e-4

It is `choreo train` under another name; see `choreo train --help` for every option.
"""

import sys

try:
    from choreo.cli import main
except ImportError as exc:  # run with an interpreter that lacks the project
    sys.exit(f"train_model.py: the choreo package is not installed for {sys.executable} ({exc}); "
             "run ./scripts/setup_ai_model.sh first or use the project's environment")

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
