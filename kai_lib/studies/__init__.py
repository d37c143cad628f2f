"""One module per experiment a notebook runs: its settings, the runs and their pictures.

Each module's docstring names the notebook it belongs to. A study stands on the maths,
the loops and the pictures below it; nothing below imports a study.
"""
