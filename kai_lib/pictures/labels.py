"""How a picture names an optimizer and its settings, and which knob a sweep moves.

One legend label for every race, map, animation and widget (:func:`label`), and one rule
for the optimizer without a learning rate (:func:`knob`: AdaDelta's speed is set by ε).
"""

from __future__ import annotations

import inspect

from .. import optimizers

__all__ = ["label", "knob", "SYMBOLS"]

#: The slides' symbols for the hyperparameter names.
SYMBOLS = {"lr": "η", "gamma": "γ", "eps": "ε", "beta1": "β₁", "beta2": "β₂", "weight_decay": "λ"}


def _short(v: float) -> str:
    return f"{v:g}" if v >= 1e-3 else f"{v:.0e}".replace("e-0", "e-")


def label(name: str, settings: dict[str, float], compact: bool = False) -> str:
    """A legend label: the learning rate and any hyperparameter off its default.

    ``compact`` (a crowded legend): single spaces and short exponents.

    >>> label("Adam", {"lr": 0.05}), label("AdaDelta", {"gamma": 0.95, "eps": 5e-4})
    ('Adam  η=0.05', 'AdaDelta  γ=0.95, ε=0.0005')
    >>> label("AdaDelta", {"gamma": 0.95, "eps": 5e-4}, compact=True)
    'AdaDelta γ=0.95 ε=5e-4'
    """
    defaults = optimizers.get(name)().hyperparameters()
    number = _short if compact else "{:g}".format
    shown = [f"{SYMBOLS.get(k, k)}={number(v)}" for k, v in settings.items() if k == "lr" or v != defaults.get(k)]
    if compact:
        return " ".join([name, *shown])
    return f"{name}  {', '.join(shown)}" if shown else name


def knob(optimizer: str | type) -> str:
    """The hyperparameter that sets an optimizer's speed: ``"lr"`` (η), or ``"eps"`` for one
    without a learning rate (AdaDelta, whose first step is √(ε/(1−γ))).

    >>> knob("Adam"), knob("AdaDelta")
    ('lr', 'eps')
    """
    cls = optimizers.get(optimizer) if isinstance(optimizer, str) else optimizer
    return "lr" if "lr" in inspect.signature(cls).parameters else "eps"
