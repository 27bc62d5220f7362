"""Dance-quality metrics on 22-joint motions (see docs/EVALUATION.md for every protocol).

One module per metric family; `suite.evaluate` runs them all. Nothing here imports the model or torch:
judging a motion needs no generator.
"""
