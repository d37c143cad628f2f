"""Live sliders: move a hyperparameter, watch the trajectory change.

>>> from kai_lib import optimizers, surfaces, explore
>>> w = explore(optimizers.Momentum, surfaces.RAVINE)    # display w in a notebook
>>> traj = w.update(lr=0.5, gamma=0.99)                  # what moving the sliders does

The picture is redrawn by blitting: the contours of each surface are rendered once,
then only the path is drawn on top, so a slider answers within a few tens of ms
(``python -m kai_lib.tools.bench`` measures it).
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

from .. import checks
from .. import optimizers as _optimizers
from ..runner import MAX_STEPS, Trajectory, run
from ..surfaces import ALL as SURFACES
from ..surfaces import Surface
from ..surfaces import get as get_surface
from . import styles
from .plotting import color_for, divergence_mark, mark_minima, plot_contours, tight_layout

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

    #: whether explore(name=(low, high)) can widen a hyperparameter slider
    _ranges_settable = True
    #: the surfaces the dropdown offers (an instance adds its own if it is not built in)
    _surfaces: dict[str, Surface] = SURFACES

    def __init__(self, optimizer_cls, surface: Surface | str, steps: int = 300, initial: dict | None = None,
                 figsize=None, dpi: int | None = None, **ranges):
        if not (inspect.isclass(optimizer_cls) and issubclass(optimizer_cls, _optimizers.Optimizer)):
            raise TypeError(f"optimizer_cls must be a kai_lib optimizer class, got {optimizer_cls!r}")
        surface = get_surface(surface)
        style = styles.current()  # sizes are read now: a widget made after use_style() follows it
        figsize, dpi = figsize or style.widget_figsize, dpi or style.widget_dpi
        defaults = optimizer_cls()
        known = default_ranges(optimizer_cls)
        unknown = set(ranges) - set(known)
        if unknown:
            raise TypeError(f"no slider named {sorted(unknown)} for {optimizer_cls.__name__}; "
                            f"sliders with a range to set: {', '.join(known)}")
        steps = _check_steps(steps)
        figsize = checks.size("figsize", figsize, high=30)
        dpi = checks.integer("dpi", dpi, low=10, high=300)
        if initial is not None and not isinstance(initial, dict):
            raise checks.WrongType(f"initial must be a dict {{slider name: value}} or None, "
                                   f"got {checks.shown(initial)}")
        self.optimizer_cls = optimizer_cls
        # the built-in surfaces, and this one if it is not one of them (e.g. a dataset's loss)
        self._surfaces = {**SURFACES, surface.name: surface}
        self.sliders: dict[str, W.ValueWidget] = {}
        self._ranges: dict[str, tuple[float, float]] = {}
        for name, bounds in {**known, **ranges}.items():
            low, high = _check_range(optimizer_cls, name, bounds)
            self._ranges[name] = (low, high)
            self.sliders[name] = _slider(name, getattr(defaults, name), low, high)
        if "eps_inside_sqrt" in inspect.signature(optimizer_cls).parameters:
            self.sliders["eps_inside_sqrt"] = W.Checkbox(value=True, description="ε inside √ (slides)")
        self.sliders["steps"] = W.IntSlider(value=steps, min=1, max=max(1000, steps), step=1,
                                            description="steps", style={"description_width": "90px"},
                                            layout=W.Layout(width="360px"))
        self.sliders["x0"] = _slider("x0", surface.start[0], *surface.xlim)
        self.sliders["y0"] = _slider("y0", surface.start[1], *surface.ylim)
        self._ranges["x0"], self._ranges["y0"] = surface.xlim, surface.ylim
        self.sliders["surface"] = W.Dropdown(options=list(self._surfaces), value=surface.name,
                                             description="surface", style={"description_width": "90px"})
        self._build_picture(figsize, dpi, color_for(optimizer_cls.__name__))
        self._finish(initial, optimizer_cls.__name__)

    # --- what every explorer shares: the picture, and the wiring of its sliders ----------------

    def _build_picture(self, figsize, dpi: int, color: str) -> None:
        """The status line, the image and the figure whose path artists are blitted, sized by the style."""
        style = styles.current()
        self.status = W.HTML()
        self.image = W.Image(format="png", layout=W.Layout(width=f"{int(figsize[0] * dpi)}px"))
        self._figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self._figure)
        self._ax = ax = self._figure.add_subplot()
        self._backgrounds: dict[str, tuple] = {}
        self._trail = ax.plot([], [], "-o", color=color, lw=style.path_width + 0.4, markersize=style.marker,
                              animated=True)[0]
        self._head = ax.plot([], [], "o", color=color, markeredgecolor="k", markersize=9 * style.marks,
                             animated=True)[0]
        self._start = ax.plot([], [], "o", color="white", markeredgecolor="k", markersize=8 * style.marks,
                              animated=True)[0]
        self._cross = ax.plot([], [], "X", color="red", markeredgecolor="k", markersize=14 * style.marks,
                              animated=True)[0]

    def _finish(self, initial: dict | None, title: str) -> None:
        """Set the ``initial`` slider values (checked), make every slider redraw, lay out, draw once."""
        for name, value in (initial or {}).items():
            if name not in self.sliders or name in ("surface", "steps"):
                raise TypeError(f"initial: no slider named {name!r}; sliders: {', '.join(self.sliders)}")
            self.sliders[name].value = self._check_initial(name, value)
        self.sliders["surface"].observe(self._surface_changed, names="value")
        for name, widget in self.sliders.items():
            if name != "surface":
                widget.observe(lambda change: self.update(), names="value")
        W.HBox.__init__(self, [W.VBox([W.HTML(f"<b>{title}</b>"), *self.sliders.values(), self.status]),
                               self.image])
        self.trajectory: Trajectory | None = None
        self.update()

    # --- what a slider does -------------------------------------------------------------

    def values(self) -> dict:
        """The current slider values."""
        return {name: widget.value for name, widget in self.sliders.items()}

    def _check_initial(self, name: str, value):
        """An ``initial=`` value, refused (not clamped) if its slider cannot show it."""
        widget = self.sliders[name]
        if isinstance(widget, W.Checkbox):
            return checks.boolean(f"initial[{name!r}]", value)
        if isinstance(widget, W.Dropdown):
            return checks.choice(f"initial[{name!r}]", value, widget.options)
        low, high = self._ranges[name]
        if name in ("x0", "y0"):
            where = f"the {name} slider's range, the surface's view"
        elif self._ranges_settable:
            where = f"the {name} slider's range; pass {name}=(low, high) to explore() to widen it"
        else:
            where = f"the {name} slider's range"
        x = checks.number(f"initial[{name!r}]", value)
        if not low <= x <= high:
            raise ValueError(f"initial[{name!r}] must be in [{low:g}, {high:g}] ({where}), got {value!r}")
        return x

    def _surface_changed(self, change):
        surface = self._surfaces[change["new"]]
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
        surface = self._surfaces[checks.choice("surface", v["surface"], self._surfaces)]
        kwargs = {k: v[k] for k in inspect.signature(self.optimizer_cls).parameters if k in v}
        optimizer = self.optimizer_cls(**kwargs)  # checks every hyperparameter, naming it
        start = [checks.number("x0", v["x0"]), checks.number("y0", v["y0"])]
        traj = run(optimizer, surface, start=start, steps=_check_steps(v["steps"]))
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
            tight_layout(self._figure)
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
        self._cross.set_data(*divergence_mark(path, xlim, ylim)[:, None])  # on the view, where it is seen
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


def _check_steps(steps) -> int:
    steps = checks.integer("steps", steps, low=1)
    if steps > MAX_STEPS:
        raise ValueError(f"steps must be at most {MAX_STEPS:,} (kai_lib.runner.MAX_STEPS, a ceiling on the work "
                         f"of one run), got {steps:,}")
    return steps


def _check_range(optimizer_cls, name: str, bounds) -> tuple[float, float]:
    """A slider's ``(low, high)``: increasing, > 0 for a log slider, and accepted by ``optimizer_cls`` at both ends."""
    if not (isinstance(bounds, (tuple, list)) and len(bounds) == 2):
        raise checks.WrongType(f"{name} range must be (low, high) with low < high, got {checks.shown(bounds)}")
    low, high = (checks.number(f"{name} range's {end}", b) for end, b in zip(("low", "high"), bounds, strict=True))
    if not low < high:
        raise ValueError(f"{name} range must be (low, high) with low < high, got {tuple(bounds)!r}")
    if name in LOG_SLIDERS and low <= 0:
        raise ValueError(f"{name} range must be (low, high) with 0 < low < high (a log slider), got {tuple(bounds)!r}")
    for value in (low, high):
        try:
            optimizer_cls(**{name: value})
        except ValueError as error:
            raise ValueError(f"{name} range {tuple(bounds)!r} reaches outside what {optimizer_cls.__name__} "
                             f"accepts: {error}") from None
    return low, high


def explore(optimizer_cls, surface: Surface | str = "beale", steps: int = 300, initial: dict | None = None,
            **ranges) -> Explorer:
    """A slider for every hyperparameter of ``optimizer_cls``, the steps and the start point.

    Args:
        optimizer_cls: e.g. ``optimizers.Momentum``.
        surface: the surface to start on (a dropdown switches it).
        steps: the initial number of steps, 1 to 100,000 (the slider goes from 1 to 1000,
            or to ``steps``).
        initial: starting slider values other than the class defaults, e.g. ``{"lr": 0.05}``;
            a value outside its slider's range is refused (widen the range with ``**ranges``).
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
