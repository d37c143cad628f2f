"""Sliders for the second-order methods: method, η, history m, damping λ and the start point.

>>> from kai_lib.studies.second_order_widgets import explore_second_order
>>> w = explore_second_order("beale", method="Newton")      # display w in a notebook
>>> traj = w.update(damping=60.0)                           # what moving a slider does

The same picture as :func:`kai_lib.explore` (contours rendered once, the path blitted on
top); the sliders are the ones a second-order method has. ``explore`` itself needs an
optimizer that constructs with no arguments, which Newton (it needs the surface's
Hessian) does not.
"""

from __future__ import annotations

import ipywidgets as W

from .. import checks, optimizers
from ..pictures.plotting import color_for
from ..pictures.render import SLIDER_STYLE, slider
from ..pictures.widgets import SurfaceExplorer
from ..surfaces import Surface
from ..surfaces import get as get_surface
from .second_order import make_optimizer

__all__ = ["SecondOrderExplorer", "explore_second_order", "METHODS"]

#: The methods the dropdown offers.
METHODS = ("Newton", "BFGS", "L-BFGS")

#: The hyperparameters each method takes from the sliders.
_TAKES = {"Newton": ("lr", "damping"), "BFGS": ("lr",), "L-BFGS": ("lr", "history")}


class SecondOrderExplorer(SurfaceExplorer):
    """The widget :func:`explore_second_order` returns; drawing as :class:`kai_lib.pictures.widgets.Explorer`.

    Attributes:
        sliders: ``method`` (dropdown), ``lr``, ``history``, ``damping``, ``line_search``
            (checkbox), ``steps``, ``x0``, ``y0``, ``surface``.
        trajectory: the last run; ``optimizer``: the optimizer of the last run.
    """

    def __init__(self, surface: Surface | str = "beale", method: str = "BFGS", steps: int = 100,
                 initial: dict | None = None, figsize=(6.0, 4.5), dpi: int = 80):
        surface = get_surface(surface)
        method = checks.choice("method", method, METHODS)
        sliders = {
            "method": W.Dropdown(options=list(METHODS), value=method, description="method", style=SLIDER_STYLE),
            "lr": slider("lr", 1.0, 1e-3, 2.0, log=True),
            "history": slider("history", 10, 1, 30, integer=True, description="history m"),
            "damping": slider("damping", 0.0, 0.0, 100.0, step=0.5, description="damping λ", readout_format=".1f"),
            "line_search": W.Checkbox(value=True, description="Armijo line search (BFGS, L-BFGS)"),
        }
        super().__init__("Second-order methods", sliders, surface, steps, 300, initial, figsize, dpi,
                         color_for("L-BFGS"))

    def optimizer_for(self, values: dict, surface: Surface) -> optimizers.Optimizer:
        method = values["method"]
        return make_optimizer(method, surface, line_search=values["line_search"],
                              **{k: values[k] for k in _TAKES[method]})

    def draw(self, values: dict):
        """Run and draw, as :meth:`SurfaceExplorer.draw`; the status adds L-BFGS's and BFGS's counts.

        A diverged run (Newton where H is singular, a fixed step that flies off) is drawn up to
        its last finite point with a red ✕, never an error.
        """
        traj = super().draw(values)
        self.status.value += self._counts(self.optimizer)
        return traj

    @staticmethod
    def _counts(opt: optimizers.Optimizer) -> str:
        if getattr(opt, "pairs", None) is None:
            return ""
        return (f"<br>curvature pairs kept {int(opt.pairs)}, skipped (sᵀy ≤ 1e-10) {int(opt.skipped)}; "
                f"loss evaluations {opt.loss_evals}")


def explore_second_order(surface: Surface | str = "beale", method: str = "BFGS", steps: int = 100,
                         initial: dict | None = None) -> SecondOrderExplorer:
    """Sliders for Newton, BFGS and L-BFGS: method, η, history m, damping λ, line search, start.

    Args:
        surface: where to start (a dropdown switches it).
        method: ``"Newton"``, ``"BFGS"`` or ``"L-BFGS"``.
        steps: initial number of steps (the slider goes to 300).
        initial: starting slider values, e.g. ``{"damping": 60.0}``; a value a slider
            cannot show (``history=2.5``, ``damping=500``) is refused, not clamped.

    Returns:
        A :class:`SecondOrderExplorer`; ``widget.update(**values)`` is what the sliders call.
    """
    return SecondOrderExplorer(surface, method=method, steps=steps, initial=initial)
