"""An optimizer's state, step by step, under gradients we choose.

The slides' arguments about Adagrad's growing G, RMSProp's bounded G, AdaDelta's slow start
and Adam's bias correction are about the state alone: feed the optimizer a fixed sequence
of gradients (often the same one, g = 1, every step) and watch the step and the state.
:func:`record` does that once for notebooks 05–08 and for ``python -m kai_lib.figures``.

>>> from kai_lib import optimizers
>>> rec = record(optimizers.RMSProp(lr=0.01, gamma=0.9), np.ones((3, 1)), ["G"])
>>> rec["G"][:, 0].round(3).tolist(), rec["step"][0, 0].round(4)
([0.1, 0.19, 0.271], np.float64(0.0316))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import optimizers

__all__ = ["record"]


def record(opt: optimizers.Optimizer, grads, attrs: Sequence[str] = (), theta=None) -> dict[str, np.ndarray]:
    """Step ``opt`` once per row of ``grads`` and record what each step did.

    Args:
        opt: the optimizer (its state goes on from where it is).
        grads: ``(T, *shape)``: the gradient of step t is ``grads[t - 1]``, whatever θ is.
        attrs: state attributes to record after every step (``"G"``, ``"m"``, ``"v"``, ``"t"``).
        theta: the start, shape ``shape`` (default zeros).

    Returns:
        ``{"step": |θ_t − θ_{t−1}|, "theta": θ_t, attr: its value after step t}``, each an
        array with one row per step.
    """
    grads = np.asarray(grads, dtype=float)
    theta = np.zeros(grads.shape[1:]) if theta is None else np.asarray(theta, dtype=float)
    out: dict[str, list] = {"step": [], "theta": [], **{a: [] for a in attrs}}
    for g in grads:
        new = opt.step(theta, lambda th, g=g: g)
        out["step"].append(np.abs(new - theta))
        out["theta"].append(new)
        for a in attrs:
            out[a].append(np.copy(getattr(opt, a)))
        theta = new
    return {k: np.array(v) for k, v in out.items()}
