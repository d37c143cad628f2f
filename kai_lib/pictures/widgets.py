"""Live sliders: move a hyperparameter, watch the trajectory change.

>>> from kai_lib import optimizers, surfaces, explore
>>> w = explore(optimizers.Momentum, surfaces.RAVINE)    # display w in a notebook
>>> traj = w.update(lr=0.5, gamma=0.99)                  # what moving the sliders does

The picture is redrawn by blitting: the contours of each surface are rendered once,
then only the path is drawn on top, so a slider answers within a few tens of ms
(``python -m kai_lib.tools.bench`` measures it).
"""

from __future__ import annotations

import inspect

import ipywidgets as W
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import checks
from .. import optimizers as _optimizers
from ..runner import MAX_STEPS, Trajectory, run
from ..surfaces import ALL as SURFACES
from ..surfaces import Surface
from ..surfaces import get as get_surface
from . import styles
from .plotting import color_for, divergence_mark, mark_minima, plot_contours, tight_layout
from .render import SLIDER_STYLE, SliderPanel, StillPicture, png, slider

__all__ = ["Explorer", "SurfaceExplorer", "StillInteractive", "explore", "default_ranges", "interactive_still"]

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
    return slider(name, value, low, high, log=name in LOG_SLIDERS)


class SurfaceExplorer(SliderPanel):
    """A :class:`~kai_lib.pictures.render.SliderPanel` that runs an optimizer on a surface and draws its path.

    Its subclasses give the hyperparameter sliders and :meth:`optimizer`; this adds the
    ``steps``, ``x0``, ``y0`` and ``surface`` sliders and the picture: the surface's contours
    rendered once per surface, the path blitted on top, so a slider answers in tens of ms.

    Attributes:
        sliders: the hyperparameter sliders, then ``steps``, ``x0``, ``y0``, ``surface`` (a dropdown).
        trajectory: the last run; ``optimizer``: the optimizer of the last run.
        image: the ``ipywidgets.Image`` that shows the picture.
    """

    _not_initial = ("surface", "steps")
    _leading = ("surface",)

    def __init__(self, title: str, hyper_sliders: dict, surface: Surface, steps: int, steps_max: int,
                 initial: dict | None, figsize, dpi, color: str):
        style = styles.current()  # sizes are read now: a widget made after use_style() follows it
        figsize = checks.size("figsize", figsize or style.widget_figsize, high=30)
        dpi = checks.integer("dpi", dpi or style.widget_dpi, low=10, high=300)
        steps = _check_steps(steps)
        # the built-in surfaces, and this one if it is not one of them (e.g. a dataset's loss)
        self._surfaces = {**SURFACES, surface.name: surface}
        sliders = dict(hyper_sliders)
        sliders["steps"] = slider("steps", steps, 1, max(steps_max, steps), integer=True)
        sliders["x0"] = _slider("x0", surface.start[0], *surface.xlim)
        sliders["y0"] = _slider("y0", surface.start[1], *surface.ylim)
        sliders["surface"] = W.Dropdown(options=list(self._surfaces), value=surface.name, description="surface",
                                        style=SLIDER_STYLE)
        self.trajectory: Trajectory | None = None
        self.optimizer: _optimizers.Optimizer | None = None
        self._build_picture(figsize, dpi, color)
        SliderPanel.__init__(self, title, sliders, self._figure, initial)

    def optimizer_for(self, values: dict, surface: Surface) -> _optimizers.Optimizer:
        """The optimizer the sliders describe."""
        raise NotImplementedError

    def _build_picture(self, figsize, dpi: int, color: str) -> None:
        """The figure whose path artists are blitted, sized by the style."""
        style = styles.current()
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

    # --- what the start sliders do ------------------------------------------------------------

    def _bounds(self, name: str, pending: dict) -> tuple[float, float]:
        if name in ("x0", "y0") and "surface" in pending:  # checked against the surface being chosen
            surface = self._surfaces[checks.choice("surface", pending["surface"], self._surfaces)]
            return surface.xlim if name == "x0" else surface.ylim
        return super()._bounds(name, pending)

    def _range_hint(self, name: str) -> str:
        if name in ("x0", "y0"):
            return f"the {name} slider's range, the surface's view"
        return super()._range_hint(name)

    def _check(self, name: str, value, label: str, pending: dict):
        if name == "steps":
            _check_steps(value)  # the run's own ceiling first, in its own words
        return super()._check(name, value, label, pending)

    def _slider_moved(self, name: str) -> None:
        if name != "surface":
            return
        surface = self._surfaces[self.sliders["surface"].value]
        for coordinate, lim, value in (("x0", surface.xlim, surface.start[0]), ("y0", surface.ylim, surface.start[1])):
            s = self.sliders[coordinate]
            s.min, s.max = -1e300, 1e300  # widen first, so setting min/max never clips against the old range
            s.min, s.max, s.value = lim[0], lim[1], float(value)
            s.step = (lim[1] - lim[0]) / 200

    # --- what a run shows ---------------------------------------------------------------------

    def draw(self, values: dict) -> Trajectory:
        """Run with ``values`` and draw; a diverged run is drawn up to its last finite point, with a red ✕."""
        surface = self._surfaces[values["surface"]]
        self.optimizer = self.optimizer_for(values, surface)
        traj = run(self.optimizer, surface, start=[values["x0"], values["y0"]], steps=values["steps"])
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
        return png(self._figure, redraw=False)


class Explorer(SurfaceExplorer):
    """The widget :func:`explore` returns: a slider for every hyperparameter of one optimizer class.

    Attributes:
        sliders: ``{name: widget}`` for every hyperparameter, ``steps``, ``x0``, ``y0``
            and ``surface`` (a dropdown).
        trajectory: the last run.
        image: the ``ipywidgets.Image`` that shows the picture.
    """

    def __init__(self, optimizer_cls, surface: Surface | str, steps: int = 300, initial: dict | None = None,
                 figsize=None, dpi: int | None = None, **ranges):
        if not (inspect.isclass(optimizer_cls) and issubclass(optimizer_cls, _optimizers.Optimizer)):
            raise checks.WrongType(f"optimizer_cls must be a kai_lib optimizer class, got {optimizer_cls!r}")
        surface = get_surface(surface)
        defaults = optimizer_cls()
        known = default_ranges(optimizer_cls)
        unknown = set(ranges) - set(known)
        if unknown:
            raise checks.WrongType(f"no slider named {sorted(unknown)} for {optimizer_cls.__name__}; "
                                   f"sliders with a range to set: {', '.join(known)}")
        self.optimizer_cls = optimizer_cls
        sliders = {}
        for name, span in {**known, **ranges}.items():
            low, high = _check_range(optimizer_cls, name, span)
            sliders[name] = _slider(name, getattr(defaults, name), low, high)
        if "eps_inside_sqrt" in inspect.signature(optimizer_cls).parameters:
            sliders["eps_inside_sqrt"] = W.Checkbox(value=True, description="ε inside √ (slides)")
        super().__init__(optimizer_cls.__name__, sliders, surface, steps, 1000, initial, figsize, dpi,
                         color_for(optimizer_cls.__name__))

    def optimizer_for(self, values: dict, surface: Surface) -> _optimizers.Optimizer:
        kwargs = {k: values[k] for k in inspect.signature(self.optimizer_cls).parameters if k in values}
        return self.optimizer_cls(**kwargs)

    def _range_hint(self, name: str) -> str:
        if name in default_ranges(self.optimizer_cls):
            return f"the {name} slider's range; pass {name}=(low, high) to explore() to widen it"
        return super()._range_hint(name)


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


class StillInteractive(StillPicture, W.interactive):
    """``ipywidgets.interactive`` around a function that draws a matplotlib figure and
    returns it. Like :class:`Explorer`, its output also carries a PNG still of the last
    picture: what a reader of the committed notebook, or any viewer without a kernel, sees.

    >>> w = StillInteractive(one_epoch, batch_size=W.SelectionSlider(options=[1, 32]))  # doctest: +SKIP
    """

    def _still(self) -> bytes | None:
        return png(self.result) if isinstance(self.result, Figure) else None


def interactive_still(fn, **sliders) -> StillInteractive:
    """Sliders for the arguments of ``fn`` (as ``ipywidgets.interactive``), which draws and
    returns a figure; the saved notebook keeps a still of it.

    Args:
        fn: ``fn(**values) -> matplotlib.figure.Figure``.
        **sliders: a widget or an ``interactive`` abbreviation per argument of ``fn``.
    """
    if not callable(fn):
        raise checks.WrongType(f"fn must be a function that returns a figure, got {fn!r}")
    return StillInteractive(fn, **sliders)
