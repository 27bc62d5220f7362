"""Test-suite settings: one torch thread. The tests use tiny networks, where extra threads only add
overhead, and on a busy 2-core machine a second OpenMP thread waiting on the other core slows them 10x."""

import torch

torch.set_num_threads(1)
