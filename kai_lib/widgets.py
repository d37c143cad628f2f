"""Live sliders: move a hyperparameter, watch the trajectory change.

>>> from kai_lib import optimizers, surfaces, explore
>>> w = explore(optimizers.Momentum, surfaces.RAVINE)    # display w in a notebook
>>> traj = w.update(lr=0.5, gamma=0.99)                  # what moving the sliders does

The picture is redrawn by blitting: the contours of each surface are rendered once,
then only the path is drawn on top, so a slider answers within a few tens of ms
(``python -m kai_lib.bench`` measures it).
"""

from __future__ import annotations

import base64
import inspect
import io

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from . import optimizers as _optimizers
from .plotting import color_for, mark_minima, plot_contours
from .runner import Trajectory, run
from .surfaces import ALL as SURFACES
from .surfaces import Surface
from .surfaces import get as get_surface

__all__ = ["Explorer", "StillInteractive", "explore", "default_ranges", "interactive_still"]

LOG_SLIDERS = {"lr", "eps"}


def default_ranges(optimizer_cls: type[_optimizers.Optimizer]) -> dict[str, tuple]:
    """Slider ranges for the hyperparameters of ``optimizer_cls``.

    ``(low, high)`` for linear sliders; for ``lr`` and ``eps`` the range is in powers
    of ten (a log slider): ``(1e-4, 1.0)``.
    """
    ranges = {}
    for name in inspect.signature(optimizer_cls).parameters:
        if name == "lr":
            ranges[name] = (1e-4, 1.0)
        elif name == "eps":
            ranges[name] = (1e-12, 1.0)
        elif name in ("gamma", "beta1"):
            ranges[name] = (0.0, 0.99)
        elif name == "beta2":
            ranges[name] = (0.9, 0.9999)
        elif name == "weight_decay":
            ranges[name] = (0.0, 1.0)
        elif name == "momentum_decay":
            ranges[name] = (0.0, 0.02)
    return ranges


def _slider(name: str, value: float, low: float, high: float):
    style = {"description_width": "90px"}
    layout = W.Layout(width="360px")
    if name in LOG_SLIDERS:
        lo, hi = np.log10(low), np.log10(high)
        return W.FloatLogSlider(value=float(np.clip(value, low, high)), base=10, min=lo, max=hi,
                                step=(hi - lo) / 200, description=name, readout_format=".1e",
                                continuous_update=True, style=style, layout=layout)
    step = 1e-4 if high - low < 0.2 else (high - low) / 200
    return W.FloatSlider(value=float(np.clip(value, low, high)), min=low, max=high, step=step,
                         description=name, readout_format=".4g", continuous_update=True,
                         style=style, layout=layout)


class Explorer(W.HBox):
    """The widget :func:`explore` returns: sliders on the left, the picture on the right.

    Attributes:
        sliders: ``{name: widget}`` for every hyperparameter, ``steps``, ``x0``, ``y0``
            and ``surface`` (a dropdown).
        trajectory: the last run.
        image: the ``ipywidgets.Image`` that shows the picture.
    """

    def __init__(self, optimizer_cls, surface: Surface | str, steps: int = 300, initial: dict | None = None,
                 figsize=(6.0, 4.5), dpi: int = 80, **ranges):
        if not (inspect.isclass(optimizer_cls) and issubclass(optimizer_cls, _optimizers.Optimizer)):
            raise TypeError(f"optimizer_cls must be a kai_lib optimizer class, got {optimizer_cls!r}")
        surface = get_surface(surface)
        defaults = optimizer_cls()
        known = default_ranges(optimizer_cls)
        unknown = set(ranges) - set(known)
        if unknown:
            raise TypeError(f"no slider named {sorted(unknown)} for {optimizer_cls.__name__}; "
                            f"sliders with a range to set: {', '.join(known)}")
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
        self.optimizer_cls = optimizer_cls
        self.sliders: dict[str, W.ValueWidget] = {}
        for name, (low, high) in {**known, **ranges}.items():
            if not low < high:
                raise ValueError(f"{name} range must be (low, high) with low < high, got {(low, high)!r}")
            self.sliders[name] = _slider(name, getattr(defaults, name), low, high)
        if "eps_inside_sqrt" in inspect.signature(optimizer_cls).parameters:
            self.sliders["eps_inside_sqrt"] = W.Checkbox(value=True, description="ε inside √ (slides)")
        self.sliders["steps"] = W.IntSlider(value=steps, min=10, max=max(1000, steps), step=10,
                                            description="steps", style={"description_width": "90px"},
                                            layout=W.Layout(width="360px"))
        self.sliders["x0"] = _slider("x0", surface.start[0], *surface.xlim)
        self.sliders["y0"] = _slider("y0", surface.start[1], *surface.ylim)
        self.sliders["surface"] = W.Dropdown(options=list(SURFACES), value=surface.name, description="surface",
                                             style={"description_width": "90px"})
        self.status = W.HTML()
        self.image = W.Image(format="png", layout=W.Layout(width=f"{int(figsize[0] * dpi)}px"))

        self._figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self._figure)
        self._ax = self._figure.add_subplot()
        self._backgrounds: dict[str, tuple] = {}
        self._surface = None
        color = color_for(optimizer_cls.__name__)
        ax = self._ax
        self._trail = ax.plot([], [], "-o", color=color, lw=2, markersize=2.5, animated=True)[0]
        self._head = ax.plot([], [], "o", color=color, markeredgecolor="k", markersize=9, animated=True)[0]
        self._start = ax.plot([], [], "o", color="white", markeredgecolor="k", markersize=8, animated=True)[0]
        self._cross = ax.plot([], [], "X", color="red", markeredgecolor="k", markersize=14, animated=True)[0]

        for name, value in (initial or {}).items():
            if name not in self.sliders or name in ("surface", "steps"):
                raise TypeError(f"initial: no slider named {name!r}; sliders: {', '.join(self.sliders)}")
            self.sliders[name].value = value
        self.sliders["surface"].observe(self._surface_changed, names="value")
        for name, widget in self.sliders.items():
            if name != "surface":
                widget.observe(lambda change: self.update(), names="value")
        title = W.HTML(f"<b>{optimizer_cls.__name__}</b>")
        super().__init__([W.VBox([title, *self.sliders.values(), self.status]), self.image])
        self.trajectory: Trajectory | None = None
        self.update()

    # --- what a slider does -------------------------------------------------------------

    def values(self) -> dict:
        """The current slider values."""
        return {name: widget.value for name, widget in self.sliders.items()}

    def _surface_changed(self, change):
        surface = SURFACES[change["new"]]
        with self.hold_trait_notifications():
            for name, lim, value in (("x0", surface.xlim, surface.start[0]), ("y0", surface.ylim, surface.start[1])):
                s = self.sliders[name]
                s.min, s.max = -1e9, 1e9  # widen first, so setting min/max never clips against the old range
                s.min, s.max, s.value = lim[0], lim[1], float(value)
                s.step = (lim[1] - lim[0]) / 200
        self.update()

    def update(self, **values) -> Trajectory:
        """Run with the sliders' values (any of them overridden by ``values``) and redraw.

        This is what every slider calls. Returns the new :class:`Trajectory`; a diverged
        run is drawn up to its last finite point, with a red ✕, never an error.
        """
        unknown = set(values) - set(self.sliders)
        if unknown:
            raise TypeError(f"no slider named {sorted(unknown)}; sliders: {', '.join(self.sliders)}")
        v = {**self.values(), **values}
        surface = SURFACES[v["surface"]]
        kwargs = {k: v[k] for k in inspect.signature(self.optimizer_cls).parameters if k in v}
        optimizer = self.optimizer_cls(**kwargs)
        traj = run(optimizer, surface, start=[v["x0"], v["y0"]], steps=int(v["steps"]))
        self.trajectory = traj
        self.image.value = self._draw(surface, traj)
        self.status.value = self._describe(traj)
        return traj

    @staticmethod
    def _describe(traj: Trajectory) -> str:
        if traj.diverged:
            return f"<span style='color:#c00'><b>diverged</b> at step {traj.diverged_at}</span>"
        x, y = traj.final
        return f"after {traj.steps} steps: ({x:.3f}, {y:.3f}), J = {traj.loss[-1]:.4g}"

    # --- drawing ------------------------------------------------------------------------------

    def _background(self, surface: Surface):
        if surface.name not in self._backgrounds:
            ax = self._ax
            ax.cla()
            plot_contours(surface, ax=ax, marks=False)
            mark_minima(surface, ax)
            for artist in (self._trail, self._head, self._start, self._cross):
                ax.add_line(artist)
            self._figure.tight_layout()
            self._figure.canvas.draw()
            self._backgrounds[surface.name] = (self._figure.canvas.copy_from_bbox(self._figure.bbox),
                                               ax.get_xlim(), ax.get_ylim(), ax.get_title())
        return self._backgrounds[surface.name]

    def _draw(self, surface: Surface, traj: Trajectory) -> bytes:
        background, xlim, ylim, title = self._background(surface)
        ax, canvas = self._ax, self._figure.canvas
        ax.set_xlim(xlim)  # the axes may hold another surface's view: only the data limits matter here
        ax.set_ylim(ylim)
        path = traj.path
        self._trail.set_data(path[:, 0], path[:, 1])
        self._trail.set_marker("o" if len(path) <= 400 else "")
        self._head.set_data(path[-1:, 0], path[-1:, 1])
        self._start.set_data(path[:1, 0], path[:1, 1])
        self._cross.set_data(path[-1:, 0], path[-1:, 1])
        self._cross.set_visible(bool(traj.diverged))
        canvas.restore_region(background)
        for artist in (self._trail, self._start, self._head, self._cross):
            ax.draw_artist(artist)
        size = canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def _repr_mimebundle_(self, **kwargs):
        # A still of the current picture beside the live widget: what a reader of the
        # committed notebook (or any viewer without a kernel) sees.
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle


def explore(optimizer_cls, surface: Surface | str = "beale", steps: int = 300, initial: dict | None = None,
            **ranges) -> Explorer:
    """A slider for every hyperparameter of ``optimizer_cls``, the steps and the start point.

    Args:
        optimizer_cls: e.g. ``optimizers.Momentum``.
        surface: the surface to start on (a dropdown switches it).
        steps: the initial number of steps (the slider goes from 10 to 1000, or to ``steps``).
        initial: starting slider values other than the class defaults, e.g. ``{"lr": 0.05}``.
        **ranges: ``name=(low, high)`` to override a hyperparameter slider's range, e.g.
            ``lr=(1e-3, 0.1)``.

    Returns:
        An :class:`Explorer` widget; ``widget.update(**values)`` is what the sliders call.
    """
    return Explorer(optimizer_cls, surface, steps=steps, initial=initial, **ranges)


class StillInteractive(W.interactive):
    """``ipywidgets.interactive`` around a function that draws a matplotlib figure and
    returns it. Like :class:`Explorer`, its output also carries a PNG still of the last
    picture: what a reader of the committed notebook, or any viewer without a kernel, sees.

    >>> w = StillInteractive(one_epoch, batch_size=W.SelectionSlider(options=[1, 32]))  # doctest: +SKIP
    """

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if hasattr(self.result, "savefig"):
            buffer = io.BytesIO()
            self.result.savefig(buffer, format="png")
            bundle["image/png"] = base64.b64encode(buffer.getvalue()).decode("ascii")
        return bundle


def interactive_still(fn, **sliders) -> StillInteractive:
    """Sliders for the arguments of ``fn`` (as ``ipywidgets.interactive``), which draws and
    returns a figure; the saved notebook keeps a still of it.

    Args:
        fn: ``fn(**values) -> matplotlib.figure.Figure``.
        **sliders: a widget or an ``interactive`` abbreviation per argument of ``fn``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function that returns a figure, got {fn!r}")
    return StillInteractive(fn, **sliders)
