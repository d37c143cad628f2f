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

from .. import optimizers
from ..pictures.plotting import color_for
from ..pictures.widgets import Explorer, _slider
from ..runner import Trajectory, run
from ..surfaces import ALL as SURFACES
from ..surfaces import Surface
from ..surfaces import get as get_surface

__all__ = ["SecondOrderExplorer", "explore_second_order", "METHODS"]

#: The methods the dropdown offers.
METHODS = ("Newton", "BFGS", "L-BFGS")

_STYLE = {"description_width": "90px"}
_LAYOUT = {"width": "360px"}


def build_optimizer(method: str, surface: Surface, lr: float = 1.0, history: int = 10, damping: float = 0.0,
                    line_search: bool = True) -> optimizers.Optimizer:
    """The optimizer the sliders describe: Newton gets the surface's Hessian, BFGS and L-BFGS its loss."""
    loss_fn = surface if line_search else None
    if method == "Newton":
        return optimizers.Newton(hessian_fn=surface.hessian, lr=lr, damping=damping)
    if method == "BFGS":
        return optimizers.BFGS(lr=lr, loss_fn=loss_fn)
    if method == "L-BFGS":
        return optimizers.LBFGS(lr=lr, history=history, loss_fn=loss_fn)
    raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


class SecondOrderExplorer(Explorer):
    """The widget :func:`explore_second_order` returns; drawing as :class:`kai_lib.pictures.widgets.Explorer`.

    Attributes:
        sliders: ``method`` (dropdown), ``lr``, ``history``, ``damping``, ``line_search``
            (checkbox), ``steps``, ``x0``, ``y0``, ``surface``.
        trajectory: the last run; ``optimizer``: the optimizer of the last run.
    """

    _ranges_settable = False  # its slider ranges are fixed

    def __init__(self, surface: Surface | str = "beale", method: str = "BFGS", steps: int = 100,
                 initial: dict | None = None, figsize=(6.0, 4.5), dpi: int = 80):
        surface = get_surface(surface)
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
        self.optimizer_cls = optimizers.SECOND_ORDER[method]
        s = self.sliders = {}
        s["method"] = W.Dropdown(options=list(METHODS), value=method, description="method", style=_STYLE)
        s["lr"] = _slider("lr", 1.0, 1e-3, 2.0)
        s["history"] = W.IntSlider(value=10, min=1, max=30, description="history m", style=_STYLE,
                                   layout=W.Layout(**_LAYOUT))
        s["damping"] = W.FloatSlider(value=0.0, min=0.0, max=100.0, step=0.5, description="damping λ",
                                     readout_format=".1f", style=_STYLE, layout=W.Layout(**_LAYOUT))
        s["line_search"] = W.Checkbox(value=True, description="Armijo line search (BFGS, L-BFGS)")
        s["steps"] = W.IntSlider(value=steps, min=1, max=max(300, steps), step=1, description="steps",
                                 style=_STYLE, layout=W.Layout(**_LAYOUT))
        s["x0"] = _slider("x0", surface.start[0], *surface.xlim)
        s["y0"] = _slider("y0", surface.start[1], *surface.ylim)
        s["surface"] = W.Dropdown(options=list(SURFACES), value=surface.name, description="surface", style=_STYLE)
        self._ranges = {"lr": (1e-3, 2.0), "history": (1, 30), "damping": (0.0, 100.0),
                        "x0": surface.xlim, "y0": surface.ylim}
        self.optimizer: optimizers.Optimizer | None = None
        self._build_picture(figsize, dpi, color_for("L-BFGS"))
        self._finish(initial, "Second-order methods")

    def update(self, **values) -> Trajectory:
        """Run with the sliders' values (any overridden by ``values``) and redraw; returns the run.

        A diverged run (Newton where H is singular, a fixed step that flies off) is drawn up to
        its last finite point with a red ✕, never an error.
        """
        unknown = set(values) - set(self.sliders)
        if unknown:
            raise TypeError(f"no slider named {sorted(unknown)}; sliders: {', '.join(self.sliders)}")
        v = {**self.values(), **values}
        surface = SURFACES[v["surface"]]
        self.optimizer = build_optimizer(v["method"], surface, lr=v["lr"], history=int(v["history"]),
                                         damping=v["damping"], line_search=v["line_search"])
        traj = run(self.optimizer, surface, start=[v["x0"], v["y0"]], steps=int(v["steps"]))
        self.trajectory = traj
        self.image.value = self._draw(surface, traj)
        self.status.value = self._describe(traj) + self._counts(self.optimizer)
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
        initial: starting slider values, e.g. ``{"damping": 60.0}``.

    Returns:
        A :class:`SecondOrderExplorer`; ``widget.update(**values)`` is what the sliders call.
    """
    return SecondOrderExplorer(surface, method=method, steps=steps, initial=initial)
