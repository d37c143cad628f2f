"""Static pictures: contours of a surface and the paths the optimizers take over them.

Every helper takes ``ax=None`` (a new figure if not given), returns what it drew and
never calls ``plt.show()``, like matplotlib's own functions.

>>> from kai_lib import optimizers, surfaces, run, plot_paths
>>> s = surfaces.BEALE
>>> trajs = {name: run(optimizers.ALL[name](lr=0.01), s) for name in ("SGD", "Momentum")}
>>> lines = plot_paths(s, trajs)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from functools import lru_cache

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib import colors as mcolors
from matplotlib.axes import Axes

from .. import checks
from ..runner import MAX_STEPS, Trajectory
from ..schedules import lr_at
from ..surfaces import Surface
from ..surfaces import get as get_surface
from . import styles

__all__ = ["COLORS", "SCHEDULE_COLORS", "NEUTRAL", "LINESTYLES", "color_for", "shades", "linestyle_for",
           "contour_levels", "divergence_mark", "mark_minima", "plot_contours", "plot_paths",
           "plot_surface_3d", "start_points"]

#: One colour per optimizer, used by every plot, animation and widget of the project.
COLORS: dict[str, str] = {
    "SGD": "#d62728",       # red
    "Momentum": "#2ca02c",  # green
    "NAG": "#e377c2",       # magenta
    "Adagrad": "#9467bd",   # purple
    "RMSProp": "#1f77b4",   # blue
    "AdaDelta": "#ff7f0e",  # orange
    "Adam": "#111111",      # black
    "AdaMax": "#8c564b",    # brown
    "Nadam": "#bcbd22",     # olive
    "AMSGrad": "#7f7f7f",   # grey
    "AdamW": "#17becf",     # cyan
}
# the second-order methods of notebook 11
COLORS.update({"Newton": "#8a2be2", "BFGS": "#ffb000", "L-BFGS": "#dc143c"})  # violet, amber, crimson
COLORS.update({  # after Adam (notebook 12)
    "Lion": "#a6761d",                 # ochre
    "RAdam": "#1b9e77",                # teal
    "Schedule-Free SGD": "#e7298a",    # pink
    "Schedule-Free AdamW": "#7570b3",  # slate violet
    "Prodigy": "#d95f02",              # burnt orange
    "Shampoo": "#999933",              # khaki olive
    "Adafactor": "#377eb8",            # steel blue
    "Muon": "#e41a1c",                 # bright red
})
#: One colour per kind of learning-rate schedule, in every notebook that draws one (02, 05, 09, 12 and
#: :func:`plot_schedule`): a label that starts with the kind takes its colour (``"pure 1/t: η = 0.1 / t"``).
#: Muted tones that no optimizer owns, so a schedule's curve never reads as an optimizer's.
SCHEDULE_COLORS: dict[str, str] = {
    "constant": "#54657a",     # slate
    "1/t": "#b0607a",          # dusty rose: 1/t with a decay rate d (inverse_time(lr, decay=d))
    "pure 1/t": "#c29a3e",     # sand: η/t
    "step decay": "#5f8a4f",   # sage
    "exponential": "#7a5570",  # mauve
    "1/√t": "#8a7a5a",         # taupe
    "cosine": "#2f7080",       # deep teal
    "warm-up": "#a07050",      # tan
}
#: For a label that names neither an optimizer nor a schedule (an n-th series of something else):
#: neutral greys and muted tones, none an optimizer's or a schedule's.
NEUTRAL = ["#3b3f58", "#8f9bb0", "#6b6f55", "#b59a8a", "#4f6f6a", "#9a8fb0", "#404040", "#b0b0a0"]

# matplotlib's own colour cycle starts with blue, orange, green and red: RMSProp's, AdaDelta's, Momentum's
# and SGD's. A curve drawn without a colour (a notebook's own plt.plot) takes NEUTRAL instead, unless
# the learner has set a cycle of their own.
if mpl.rcParams["axes.prop_cycle"] == mpl.rcParamsDefault["axes.prop_cycle"]:
    mpl.rcParams["axes.prop_cycle"] = cycler(color=NEUTRAL)

CONTOUR_CMAP = "Blues_r"

#: Dashes for the optimizers whose paths run on top of another's (NAG on Momentum's,
#: RMSProp on Adagrad's and Adam's), so the one underneath still shows; the rest are solid.
LINESTYLES: dict[str, object] = {
    "NAG": (0, (5, 2.5)),
    "RMSProp": (0, (5, 2.5)),
    "AdaMax": (0, (5, 2.5)),
    "AMSGrad": (0, (1.5, 1.5)),
}


def _named(label: str, names) -> str | None:
    """The longest of ``names`` that ``label`` starts with as a whole name, any case
    (``"Schedule-Free SGD  η=2"`` → ``"Schedule-Free SGD"``, ``"AdamW"`` → ``"AdamW"``, not ``"Adam"``)."""
    text = str(label).strip().lower()
    for name in sorted(names, key=len, reverse=True):
        rest = text[len(name):]
        if text.startswith(name.lower()) and not (rest[:1].isalnum() or (rest[:1] and rest[:1] in "-_")):
            return name
    return None


def linestyle_for(label: str):
    """The line style of the optimizer a label names (see :data:`LINESTYLES`); ``"-"`` otherwise."""
    name = _named(label, LINESTYLES)
    return "-" if name is None else LINESTYLES[name]


def _check_linestyles(linestyles) -> dict:
    """``{label: line style}`` (``None`` is none), each style one matplotlib accepts."""
    if linestyles is None:
        return {}
    if not isinstance(linestyles, Mapping):
        checks.fail("linestyles", "a mapping {label: line style} or None", linestyles, wrong_type=True)
    from matplotlib.lines import Line2D

    for label, style in linestyles.items():
        try:
            Line2D([], [], linestyle=style)
        except (ValueError, TypeError):
            checks.fail(f"linestyles[{label!r}]", "a matplotlib line style ('-', '--', ':', '-.' or "
                        "(offset, (on, off, ...)))", style)
    return dict(linestyles)


def color_for(label: str, index: int = 0) -> str:
    """The colour of the optimizer a label names (``"Momentum, γ = 0.5"`` → Momentum's), else of the
    schedule it names (``"step decay: ..."``, :data:`SCHEDULE_COLORS`).

    Labels that name neither take the ``index``-th colour of :data:`NEUTRAL`, a cycle that shares no
    colour with them: a colour means the same thing in every picture.
    """
    name = _named(label, COLORS)
    if name is not None:
        return COLORS[name]
    kind = _named(label, SCHEDULE_COLORS)
    return NEUTRAL[index % len(NEUTRAL)] if kind is None else SCHEDULE_COLORS[kind]


def shades(label: str, n: int) -> list[str]:
    """``n`` shades of the colour :func:`color_for` gives ``label``, from dark to light, the middle one
    (for an odd ``n``) the colour itself: for runs of one optimizer that differ in one setting
    (RMSProp at γ = 0.9 and 0.99, L-BFGS with five history sizes), so each still reads as that optimizer.

    >>> shades("RMSProp", 3)[1] == color_for("RMSProp")
    True
    """
    import colorsys

    from matplotlib.colors import to_hex, to_rgb

    n = checks.integer("n", n, low=1, high=12)
    h, lightness, s = colorsys.rgb_to_hls(*to_rgb(color_for(label)))
    low, high = max(0.0, lightness - 0.22), min(0.9, lightness + 0.22)
    if n % 2:  # darker ones below the colour itself, lighter ones above it
        half = n // 2
        levels = [low + (lightness - low) * k / half for k in range(half)] + [lightness] \
            + [lightness + (high - lightness) * (k + 1) / half for k in range(half)]
    else:
        levels = [low + (high - low) * k / (n - 1) for k in range(n)]
    return [to_hex(colorsys.hls_to_rgb(h, level, s)) for level in levels]


@lru_cache(maxsize=32)
def _grid(surface: Surface, n: int):
    return surface.grid(n)


def contour_levels(surface: Surface, n: int = 20) -> np.ndarray:
    """Contour levels that show the surface's shape: log-spaced where values span decades."""
    n = checks.integer("n", n, low=2, high=MAX_LEVELS)
    _, _, Z = _grid(surface, 200)
    lo, hi = float(np.min(Z)), float(np.percentile(Z, 98))
    if surface.log_levels:
        floor = max(lo, 0.0)
        return floor + np.logspace(-2, np.log10(hi - floor), n)
    return np.linspace(lo, hi, n)


#: The most contour levels, and the finest contour grid (n × n points), a plot may ask for.
MAX_LEVELS = 500
MAX_GRID = 2000


def _check_ax(ax):
    if ax is not None and not isinstance(ax, Axes):
        checks.fail("ax", "a matplotlib Axes or None", ax, wrong_type=True)
    return ax


def _check_levels(surface: Surface, levels) -> np.ndarray:
    """``levels`` as contour levels: ``None`` (the default ones), how many, or the levels themselves."""
    if levels is None:
        return contour_levels(surface)
    if isinstance(levels, (int, np.integer)) and not isinstance(levels, bool):
        return contour_levels(surface, checks.integer("levels", levels, low=2, high=MAX_LEVELS))
    allowed = (f"None, a number of levels (an integer in [2, {MAX_LEVELS}]) or an increasing sequence of at least "
               f"2 finite numbers{' > 0 (the levels are log-spaced here)' if surface.log_levels else ''}")
    try:
        arr = np.asarray(levels)
    except (TypeError, ValueError):
        arr = np.asarray(None)
    if arr.dtype.kind not in "iuf" or arr.ndim != 1:
        checks.fail("levels", allowed, levels, wrong_type=True)
    arr = arr.astype(float)
    if (len(arr) < 2 or len(arr) > MAX_LEVELS or not np.all(np.isfinite(arr)) or np.any(np.diff(arr) <= 0)
            or (surface.log_levels and arr[0] <= 0)):
        checks.fail("levels", allowed, levels)
    return arr


def _check_trajs(trajs) -> dict[str, Trajectory]:
    """``trajs`` as ``{label: trajectory}``: a single trajectory is labelled by nothing."""
    if isinstance(trajs, Trajectory):
        return {"": trajs}
    if not isinstance(trajs, Mapping):
        checks.fail("trajs", "a trajectory or a mapping {label: trajectory}", trajs, wrong_type=True)
    if not trajs:
        checks.fail("trajs", "at least one trajectory", verb="hold", got="an empty mapping")
    for label, traj in trajs.items():
        if not isinstance(label, str):
            checks.fail("trajs' labels", "strings", label, wrong_type=True)
        if not isinstance(traj, Trajectory):
            checks.instance(f"trajs[{label!r}]", traj, Trajectory, "a Trajectory (what run returns)")
    return dict(trajs)


def tight_layout(fig) -> None:
    """``fig.tight_layout()``, quietly: on a figure too small for its labels matplotlib leaves the
    layout as it is and warns; the picture is still drawn, so that is no reason to print."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tight layout not applied")
        fig.tight_layout()


def _new_ax(ax, figsize=(6.4, 4.8)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_contours(surface: Surface | str, ax=None, levels=None, filled: bool = True, marks: bool = True, n: int = 300,
                  starts=None):
    """Light contours of ``surface`` over its view, its minimisers (★) and start (●) marked.

    Args:
        surface: a :class:`~kai_lib.surfaces.Surface` or its name.
        ax: the axes to draw on (a new figure if ``None``).
        levels: contour levels (default :func:`contour_levels`: log-spaced for Beale,
            Rosenbrock and Himmelblau).
        filled: filled contours under the lines.
        marks: mark the minimisers and the start point(s).
        n: the grid is ``n × n`` points (an integer in [2, 2000]).
        starts: the start point(s) to mark, ``(2,)`` or ``(k, 2)`` (default ``surface.start``).

    Returns:
        The line ``QuadContourSet`` (its ``.axes`` is the axes).
    """
    surface = get_surface(surface)
    ax = _check_ax(ax)
    levels = _check_levels(surface, levels)
    filled = checks.boolean("filled", filled)
    marks = checks.boolean("marks", marks)
    n = checks.integer("n", n, low=2, high=MAX_GRID)
    starts = None if starts is None else checks.points("starts", starts)
    ax = _new_ax(ax)
    X, Y, Z = _grid(surface, n)
    norm = mcolors.LogNorm(levels[0], levels[-1]) if surface.log_levels else None
    if filled:
        ax.contourf(X, Y, Z, levels=levels, cmap=CONTOUR_CMAP, norm=norm, alpha=0.35, extend="both")
    lines = ax.contour(X, Y, Z, levels=levels, cmap=CONTOUR_CMAP, norm=norm, linewidths=0.7, alpha=0.8)
    if marks:
        mark_minima(surface, ax)
        starts = np.reshape(surface.start if starts is None else starts, (-1, 2))
        ax.plot(*starts.T, "o", color="white", markeredgecolor="k", markersize=7 * styles.current().marks, zorder=5,
                label="_start",
                linestyle="none")
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_title(surface.title)
    return lines


def mark_minima(surface: Surface, ax):
    """Gold stars on the surface's global minimisers; returns the Line2D (or None)."""
    if len(surface.minima):
        return ax.plot(*surface.minima.T, "*", color="gold", markeredgecolor="k",
                       markersize=15 * styles.current().marks, zorder=5,
                       label="_minimum")[0]
    return None


def _segments(path: np.ndarray) -> list[np.ndarray]:
    """A trajectory's path ``(T, ..., 2)`` as a list of ``(T, 2)`` paths, one per start point."""
    return list(path.reshape(len(path), -1, 2).transpose(1, 0, 2))


def _diverged_flags(traj: Trajectory) -> np.ndarray:
    return np.atleast_1d(np.asarray(traj.diverged)).ravel()


def start_points(trajs) -> np.ndarray:
    """The distinct start points of ``trajs`` (a mapping of trajectories), ``(k, 2)``."""
    points = np.concatenate([t.path[0].reshape(-1, 2) for t in trajs.values()])
    return np.unique(points, axis=0)


def divergence_mark(seg: np.ndarray, xlim, ylim) -> np.ndarray:
    """Where to put the ✕ of a path that diverged: its last finite point, or if that is
    off the view, the point where the path last leaves the view (so the mark is seen)."""
    inside = ((seg[:, 0] >= xlim[0]) & (seg[:, 0] <= xlim[1]) & (seg[:, 1] >= ylim[0]) & (seg[:, 1] <= ylim[1]))
    if inside[-1] or not inside.any():
        return np.clip(seg[-1], [xlim[0], ylim[0]], [xlim[1], ylim[1]])
    i = np.flatnonzero(inside)[-1]
    a, b = seg[i], seg[i + 1]
    # the largest fraction s of the way from a to b that stays inside the box
    s = 1.0
    for k, (lo, hi) in enumerate((xlim, ylim)):
        d = b[k] - a[k]
        if d > 0 and b[k] > hi:
            s = min(s, (hi - a[k]) / d)
        elif d < 0 and b[k] < lo:
            s = min(s, (lo - a[k]) / d)
    return a + s * (b - a)


def plot_paths(
    surface: Surface | str,
    trajs: Mapping[str, Trajectory] | Trajectory,
    ax=None,
    contours: bool = True,
    legend: bool = True,
    markers: bool = True,
    levels=None,
    colors: Mapping[str, str] | None = None,
    linestyles: Mapping[str, object] | None = None,
):
    """Several labelled trajectories over the contours of ``surface``.

    Args:
        surface: the surface they ran on.
        trajs: ``{label: trajectory}`` (a single trajectory is labelled by nothing).
            A batch trajectory draws one line per start point, all in its colour.
        ax: the axes (a new figure if ``None``).
        contours: draw :func:`plot_contours` underneath.
        legend: add a legend.
        markers: dots on each step (off for long runs).
        levels: contour levels, passed to :func:`plot_contours` (fewer levels, a lighter PNG).
        colors: ``{label: colour}`` for runs of one optimizer that must differ (two γ of
            Momentum); the others take their optimizer's colour (:func:`color_for`).
        linestyles: ``{label: matplotlib line style}`` for such runs, so that they differ
            in greyscale too (``"--"``, ``(0, (6, 2.5))``); the others take their
            optimizer's (:func:`linestyle_for`).

    Returns:
        ``{label: [Line2D, ...]}``. A run that diverged ends in a red ✕ at its last finite
        point, or where it leaves the view if that point is off the view.
    """
    surface = get_surface(surface)
    trajs = _check_trajs(trajs)
    ax = _check_ax(ax)
    contours = checks.boolean("contours", contours)
    legend = checks.boolean("legend", legend)
    markers = checks.boolean("markers", markers)
    linestyles = _check_linestyles(linestyles)
    levels = _check_levels(surface, levels) if contours else None
    ax = _new_ax(ax)
    if contours:
        plot_contours(surface, ax=ax, levels=levels, starts=start_points(trajs))
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    drawn = {}
    style_now = styles.current()
    for i, (label, traj) in enumerate(trajs.items()):
        color = (colors or {}).get(label) or color_for(label, i)
        flags = _diverged_flags(traj)
        lines = []
        for j, seg in enumerate(_segments(traj.path)):
            style = dict(marker="o", markersize=style_now.marker) if markers and len(seg) <= 400 else {}
            (line,) = ax.plot(*seg.T, color=color, lw=style_now.path_width,
                              linestyle=linestyles.get(label, linestyle_for(label)),
                              label=label if j == 0 and label else "_", zorder=3, **style)
            lines.append(line)
            if flags[j]:
                ax.plot(*divergence_mark(seg, xlim, ylim), "X", color="red", markeredgecolor="k",
                        markersize=11 * style_now.marks,
                        zorder=6, clip_on=False)
        drawn[label] = lines
    if legend and any(trajs):
        ax.legend(loc="best", fontsize=style_now.font("legend"), framealpha=0.85)
    return drawn


def plot_surface_3d(surface: Surface | str, trajs: Mapping[str, Trajectory] | None = None, ax=None, n: int = 120):
    """The surface in 3-D, with the trajectories lifted onto it.

    Returns:
        The ``Poly3DCollection`` of the surface (its ``.axes`` is the 3-D axes).
    """
    surface = get_surface(surface)
    trajs = None if trajs is None else _check_trajs(trajs)
    if ax is not None and not hasattr(ax, "plot_surface"):
        checks.fail("ax", "a 3-D axes (projection='3d') or None", ax, wrong_type=True)
    n = checks.integer("n", n, low=2, high=500)
    if ax is None:
        fig = plt.figure(figsize=styles.current().figsize(7, 5))
        ax = fig.add_subplot(projection="3d")
    X, Y, Z = _grid(surface, n)
    norm = mcolors.LogNorm(*contour_levels(surface)[[0, -1]]) if surface.log_levels else None
    top = np.percentile(Z, 98)
    Zc = np.minimum(Z, top)
    surf = ax.plot_surface(X, Y, Zc, cmap=CONTOUR_CMAP, norm=norm, alpha=0.6, linewidth=0, antialiased=True)
    for i, (label, traj) in enumerate((trajs or {}).items()):
        color = color_for(label, i)
        for j, seg in enumerate(_segments(traj.path)):
            with np.errstate(all="ignore"):  # a far-away path's loss may overflow: drawn at the top
                height = np.minimum(surface(seg), top)
            ax.plot(*seg.T, height, color=color, lw=max(2.0, styles.current().path_width),
                    linestyle=linestyle_for(label), label=label if j == 0 else "_")
    if trajs:
        ax.legend(fontsize=styles.current().font("legend"))
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_zlabel("$J$")
    ax.set_title(surface.title)
    return surf


def plot_schedule(schedules, steps: int, ax=None, log: bool = False, legend: bool = True):
    r"""The learning rate :math:`\eta_t` of one or several schedules over the steps ``1 … steps``.

    The small panel beside :func:`plot_paths` when a run used ``run(..., schedule=...)``.

    Args:
        schedules: a callable ``t -> lr`` (a :mod:`kai_lib.schedules` schedule), or
            ``{label: schedule}``; labels pick colours as in :func:`plot_paths`.
        steps: the last step drawn (an int >= 1), usually the run's ``steps``.
        ax: the axes (a new figure if ``None``).
        log: a logarithmic :math:`\eta` axis (for the decays that span decades).
        legend: add a legend (when there are labels).

    Returns:
        ``{label: Line2D}``. Each :math:`\eta_t` is drawn as a flat step from ``t - 1`` to
        ``t``: the learning rate that moved the run from point ``t - 1`` to point ``t``, so
        the panel shares its step axis with a plot of ``traj.loss``.
    """
    steps = checks.count("steps", steps, 1, MAX_STEPS, "kai_lib.runner.MAX_STEPS, the longest run a schedule can "
                         "drive")
    log, legend = checks.boolean("log", log), checks.boolean("legend", legend)
    if callable(schedules):
        schedules = {"": schedules}
    if not isinstance(schedules, Mapping):
        checks.fail("schedules", "a callable t -> lr or a mapping label -> callable", schedules, wrong_type=True)
    for label, schedule in schedules.items():
        checks.function(f"schedules[{label!r}]", schedule, "a callable t -> lr")
    ax = _new_ax(ax, figsize=(4, 3))
    t = np.arange(0, steps + 1)
    drawn = {}
    for i, (label, schedule) in enumerate(schedules.items()):
        lrs = np.array([lr_at(schedule, k) for k in range(1, steps + 1)])
        (line,) = ax.step(t, np.append(lrs, lrs[-1]), where="post", color=color_for(label, i), lw=1.8,
                          label=label if label else "_")
        drawn[label] = line
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(0, None)
    ax.set_xlim(0, steps)
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"learning rate $\eta_t$")
    if legend and any(schedules):
        ax.legend(loc="best", fontsize="small", framealpha=0.85)
    return drawn


__all__ += ["plot_schedule"]
