r"""Basins of attraction: from which start points does an optimizer end in which minimum?

One start point shows *that* momentum can roll through a shallow minimum; a grid of
them shows *from where*. :func:`basin_map` runs one optimizer from every point of an
``n``×``n`` grid over the surface's view at once (a batch, see :func:`kai_lib.run`),
keeps only the first and the last step (``record_every=steps``), and classifies each
start by the minimum its last point lies within ``tol`` of:

.. math::
    \mathrm{basin}(\theta_0) = \begin{cases}
        i & \text{if } \lVert \theta_T - \theta^*_i \rVert < \mathrm{tol} \\
        \text{none} & \text{if no minimum is that close after } T \text{ steps} \\
        \text{diverged} & \text{if the run left the finite world}
    \end{cases}

A start is "none" when the run has not settled within ``tol`` of a minimum after the
budget: it is still on its way (AdaDelta, Adagrad with a small η), or it hops about a
minimum at a fixed step size (RMSProp: its step :math:`\eta g/\sqrt{G}` stays about η
long). :attr:`BasinMap.nearest` still says which minimum it is closest to.

>>> from kai_lib import optimizers, surfaces
>>> from kai_lib.studies.basins import basin_map
>>> m = basin_map(optimizers.SGD(lr=0.01), surfaces.HIMMELBLAU, n=40)
>>> sorted(m.fractions())                                # doctest: +SKIP
['(-2.81, 3.13)', '(-3.78, -3.28)', '(3, 2)', '(3.58, -1.85)', 'diverged', 'none']

:func:`plot_basins` draws one panel per optimizer; :func:`explore_basins` is the slider.
The settings of the slides' optimizers for these maps live in :data:`kai_lib.studies.races.BASINS`.
Introduced in notebooks ``03-momentum`` (the shallow minimum) and ``09-comparison``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.patches import Patch

from .. import checks
from ..optimizers import Optimizer
from ..pictures import styles
from ..runner import run
from ..surfaces import LOCAL_MINIMA_SHALLOW, Surface
from ..surfaces import get as get_surface

__all__ = ["BasinMap", "NONE", "DIVERGED", "MAX_N", "MINIMUM_COLORS", "start_grid", "minima_of", "classify",
           "basin_map", "plot_basins", "explore_basins"]

#: The basin code of a start that ends near no minimum.
NONE = -1
#: The basin code of a start whose run diverged.
DIVERGED = -2
#: The most grid points per side of a basin map: 1,000 × 1,000 starts (the notebook's maps are 200 × 200).
MAX_N = 1_000
#: One fixed colour per minimum (Okabe & Ito's colour-blind-safe palette), in the
#: order of :func:`minima_of`; "none" is black, "diverged" white with a red ✕.
MINIMUM_COLORS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#F0E442", "#0072B2", "#D55E00")
NONE_COLOR, DIVERGED_COLOR = "#000000", "#ffffff"

#: Local (non-global) minimisers known in closed form, per surface name.
_LOCAL_MINIMA = {"local_minima": {"shallow": LOCAL_MINIMA_SHALLOW}}


def _coords(point) -> str:
    return "(" + ", ".join(f"{v:.3g}".replace("-", "−") for v in point) + ")"


def minima_of(surface: Surface | str) -> dict[str, np.ndarray]:
    """The minima a basin map sorts starts into: ``{label: point}``.

    The surface's global minimisers (labelled by their coordinates, or ``deep`` when
    the surface also has a local one), then the known local minimisers: for
    ``local_minima``, ``{"deep (2, 0)": ..., "shallow (−1.5, 0)": ...}``.
    """
    surface = get_surface(surface)
    local = _LOCAL_MINIMA.get(surface.name, {})
    out = {}
    for point in surface.minima:
        out[("deep " if local else "") + _coords(point)] = np.array(point)
    for name, point in local.items():
        out[f"{name} {_coords(point)}"] = np.array(point)
    return out


def start_grid(surface: Surface | str, n: int = 200, xlim=None, ylim=None) -> np.ndarray:
    """An ``n``×``n`` grid of start points over the view, shape ``(n, n, 2)``.

    ``grid[i, j]`` is ``(x_j, y_i)``: row ``i`` runs along x at the ``i``-th y (from the
    bottom), as an image with ``origin="lower"`` shows it.

    Raises:
        ValueError: ``n`` is not an integer in [1, :data:`MAX_N`] (a grid with no points has
            no basins; 1,000² starts is a ceiling on memory), or a view is not ``(low, high)``
            with ``low < high``.
    """
    surface = get_surface(surface)
    n = checks.count("n", n, 1, MAX_N, "kai_lib.studies.basins.MAX_N: the grid has n×n start points, a ceiling "
                     "on memory")
    xlim = _view("xlim", surface.xlim if xlim is None else xlim, n)
    ylim = _view("ylim", surface.ylim if ylim is None else ylim, n)
    X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    return np.stack([X, Y], axis=-1)


def classify(final: np.ndarray, diverged: np.ndarray, minima: np.ndarray, tol: float = 1e-3):
    """The basin code of each final point: the index of the minimum it is within ``tol``
    of, :data:`NONE`, or :data:`DIVERGED`; and the index of the nearest minimum.

    Args:
        final: ``(..., 2)`` last points.
        diverged: ``(...)`` flags.
        minima: ``(k, 2)`` minimisers (closer together than ``2·tol`` is ambiguous).
        tol: the distance that counts as "in" a minimum.

    Returns:
        ``(basin, nearest, distance)``, each of shape ``(...)``; ``nearest`` is
        :data:`DIVERGED` and ``distance`` NaN where the run diverged.
    """
    minima = np.asarray(minima, dtype=float).reshape(-1, 2)
    if len(minima) == 0:
        checks.fail("minima", "at least one point", verb="hold", got="none")
    distances = np.linalg.norm(final[..., None, :] - minima, axis=-1)  # (..., k)
    nearest = np.argmin(distances, axis=-1)
    distance = np.take_along_axis(distances, nearest[..., None], axis=-1)[..., 0]
    basin = np.where(distance < tol, nearest, NONE)
    diverged = np.asarray(diverged, dtype=bool)
    basin[diverged] = DIVERGED
    nearest = np.where(diverged, DIVERGED, nearest)
    distance = np.where(diverged, np.nan, distance)
    return basin, nearest, distance


@dataclass(frozen=True, eq=False)
class BasinMap:
    """Where each start of a grid ended.

    Attributes:
        surface: the surface.
        label: the optimizer's label (its name and hyperparameters).
        starts: ``(n, n, 2)`` start points (see :func:`start_grid`).
        final: ``(n, n, 2)`` their last points after ``steps`` steps.
        basin: ``(n, n)`` index into ``names`` / ``minima``, :data:`NONE` or :data:`DIVERGED`.
        nearest: ``(n, n)`` index of the nearest minimum (:data:`DIVERGED` if diverged).
        distance: ``(n, n)`` distance to it (NaN if diverged).
        diverged_at: ``(n, n)`` the step at which each run diverged, ``-1`` if it did not.
        minima: ``(k, 2)``; names: their labels.
        steps, tol: the budget and the distance that counts as arrived.
    """

    surface: Surface
    label: str
    starts: np.ndarray
    final: np.ndarray
    basin: np.ndarray
    nearest: np.ndarray
    distance: np.ndarray
    diverged_at: np.ndarray
    minima: np.ndarray
    names: tuple[str, ...]
    steps: int
    tol: float

    def fractions(self) -> dict[str, float]:
        """The share of starts per minimum, then ``"none"`` and ``"diverged"`` (they sum to 1)."""
        counts = np.bincount(self.basin.ravel() + 2, minlength=len(self.names) + 2)  # DIVERGED=-2 -> 0
        total = self.basin.size
        out = {name: counts[i + 2] / total for i, name in enumerate(self.names)}
        out["none"] = counts[1] / total
        out["diverged"] = counts[0] / total
        return out

    def nearest_fractions(self) -> dict[str, float]:
        """The share of starts whose last point is *nearest* each minimum, however far
        (diverged runs left out of the count but not of the total)."""
        counts = np.bincount(self.nearest[self.nearest >= 0].ravel(), minlength=len(self.names))
        return {name: counts[i] / self.nearest.size for i, name in enumerate(self.names)}

    def __repr__(self) -> str:
        shares = ", ".join(f"{k} {v:.0%}" for k, v in self.fractions().items() if v)
        return f"<BasinMap {self.label} on {self.surface.name}, {self.basin.shape[0]}² starts: {shares}>"


def basin_map(optimizer: Optimizer, surface: Surface | str, n: int = 200, steps: int = 500, tol: float = 1e-3,
              minima: Mapping[str, np.ndarray] | None = None, label: str | None = None, xlim=None,
              ylim=None) -> BasinMap:
    """Run ``optimizer`` from every point of an ``n``×``n`` grid and sort the starts by basin.

    All ``n²`` starts run as one batch through :func:`kai_lib.run` with
    ``record_every=steps``: only the start and the end are kept (two rows, not
    ``steps + 1``), and divergence is still checked at every step.

    Args:
        optimizer: any :mod:`kai_lib.optimizers` instance (it is reset first).
        surface: the surface or its name.
        n: grid points per side (an int >= 1).
        steps: the budget.
        tol: a start is in minimum ``i`` if its last point is closer than this to it.
        minima: ``{label: point}`` (default :func:`minima_of`).
        label: how panels name the optimizer (default its repr).
        xlim, ylim: the grid's extent (default the surface's view).
    """
    surface = get_surface(surface)
    minima = minima_of(surface) if minima is None else _checked_minima(minima)
    tol = checks.number("tol", tol, low=0, low_open=True)
    starts = start_grid(surface, n, xlim, ylim)
    points = np.array(list(minima.values()), dtype=float).reshape(-1, 2)
    traj = run(optimizer, surface, start=starts, steps=steps, record_every=max(1, steps))
    basin, nearest, distance = classify(traj.final, traj.diverged, points, tol)
    return BasinMap(surface, label or repr(optimizer), starts, traj.final, basin, nearest, distance,
                    traj.diverged_at, points, tuple(minima), steps, float(tol))


def _view(name: str, value, n: int) -> tuple[float, float]:
    """A grid's extent ``(low, high)``, low < high; a one-point grid (n = 1) may sit at ``(x, x)``."""
    try:
        return checks.limits(name, value)
    except ValueError:
        if n == 1 and checks.points(name, value)[0] == checks.points(name, value)[1]:
            return float(value[0]), float(value[1])
        raise


def _checked_minima(minima) -> dict[str, np.ndarray]:
    """``{label: point}`` with one finite point ``(x, y)`` per label, so the shares sum to 1."""
    if not isinstance(minima, Mapping):
        checks.fail("minima", "a dict {label: (x, y)}", minima, wrong_type=True)
    if not minima:
        checks.fail("minima", "at least one point", verb="hold", got="none")
    out = {}
    for label, point in minima.items():
        point = checks.points(f"minima[{label!r}]", point)
        if point.shape != (2,):
            checks.fail(f"minima[{label!r}]", "one point (x, y)", point)
        out[label] = point
    return out


# --- pictures ------------------------------------------------------------------------------------

def _cmap(k: int):
    """Codes DIVERGED, NONE, 0 .. k-1 shifted by 2 → colours."""
    return mcolors.ListedColormap([DIVERGED_COLOR, NONE_COLOR, *(MINIMUM_COLORS[i % len(MINIMUM_COLORS)]
                                                                   for i in range(k))])


def draw_basin_map(m: BasinMap, ax, title: bool = True, fontsize: float = 12):
    """One map on ``ax``: the basin colours, the minima as stars, diverged starts ✕.

    Returns the ``AxesImage``.
    """
    k = len(m.names)
    (x0, y0), (x1, y1) = m.starts[0, 0], m.starts[-1, -1]
    n = m.basin.shape[0]
    dx, dy = (x1 - x0) / max(n - 1, 1) / 2, (y1 - y0) / max(n - 1, 1) / 2
    image = ax.imshow(m.basin + 2, origin="lower", extent=(x0 - dx, x1 + dx, y0 - dy, y1 + dy), cmap=_cmap(k),
                      vmin=-0.5, vmax=k + 1.5, interpolation="nearest", aspect="auto")
    bad = np.argwhere(m.basin == DIVERGED)
    if len(bad):  # a red ✕ on a sparse lattice of the diverged starts, so the white reads as "diverged"
        stride = max(1, n // 25)
        bad = bad[(bad[:, 0] % stride == 0) & (bad[:, 1] % stride == 0)]
        ax.plot(m.starts[bad[:, 0], bad[:, 1], 0], m.starts[bad[:, 0], bad[:, 1], 1], "x", color="#d62728",
                markersize=4, mew=1.2, linestyle="none")
    for i, point in enumerate(m.minima):
        ax.plot(*point, "*", color=MINIMUM_COLORS[i % len(MINIMUM_COLORS)], markeredgecolor="k",
                markeredgewidth=1.2, markersize=17, zorder=5)
    ax.set_xlim(x0 - dx, x1 + dx)
    ax.set_ylim(y0 - dy, y1 + dy)
    if title:
        shares = m.fractions()
        parts = [f"{shares[name]:.0%}" for name in m.names]
        extra = [f"{key} {shares[key]:.0%}" for key in ("none", "diverged") if shares[key] >= 0.005]
        joint = "  |  " if styles.current().name == "notebook" else "\n"  # a projector's big text: a third line
        ax.set_title(f"{m.label}\n" + " · ".join(parts) + (joint + ", ".join(extra) if extra else ""),
                     fontsize=fontsize)
    return image


def basin_legend_handles(names) -> list[Patch]:
    """Legend patches: one per minimum (its colour), then none (black) and diverged (white)."""
    handles = [Patch(facecolor=MINIMUM_COLORS[i % len(MINIMUM_COLORS)], edgecolor="k", label=name)
               for i, name in enumerate(names)]
    handles.append(Patch(facecolor=NONE_COLOR, edgecolor="k", label="none within tol"))
    handles.append(Patch(facecolor=DIVERGED_COLOR, edgecolor="#d62728", hatch="xx", label="diverged"))
    return handles


def plot_basins(maps: Mapping[str, BasinMap] | BasinMap, axes=None, ncols: int | None = None, panel_size=(4.0, 3.4),
                fontsize: float | None = None, suptitle: str | None = None, dpi: float | None = None):
    """One panel per optimizer, the same grid and budget; a legend of the minima colours.

    Each panel's title gives the optimizer and the share of starts that end in each
    minimum, in the legend's order (then "none" and "diverged" when there are any).

    Args:
        maps: ``{label: BasinMap}`` (the panel titles use each map's own label).
        axes: the axes to draw into (one per map); default a new figure with ``ncols``
            columns (4; 2 in the ``"classroom"`` style) and the legend in a spare panel.
        panel_size: inches per panel (the style may scale the figure down to its
            ``max_width``, see :mod:`kai_lib.pictures.styles`).
        fontsize: titles and legend (default 12 pt, 17 px at 100 dpi; the classroom
            style's title size).
        suptitle: the figure's title (default: the surface, steps and tolerance).
        dpi: the new figure's resolution (default matplotlib's; a notebook shows it at this).

    Returns:
        The figure.
    """
    if isinstance(maps, BasinMap):
        maps = {maps.label: maps}
    if not isinstance(maps, Mapping):
        checks.fail("maps", "a BasinMap or a dict {label: BasinMap}", maps, wrong_type=True)
    if not maps:
        checks.fail("maps", "at least one BasinMap", verb="hold", got="none")
    maps = dict(maps)
    for label, m in maps.items():
        checks.instance(f"maps[{label!r}]", m, BasinMap, "a BasinMap (from basin_map)")
    first = next(iter(maps.values()))
    style = styles.current()
    if fontsize is None:
        fontsize = 12.0 if style.name == "notebook" else style.font("title")
    ticks = fontsize - 2 if style.name == "notebook" else style.font("small")
    spare = None
    if axes is None:
        ncols = min(ncols or (2 if style.stack_panels else 4), len(maps) + 1)
        nrows = -(-(len(maps) + 1) // ncols)
        size = style.figsize(panel_size[0] * ncols, panel_size[1] * nrows + 0.6)
        fig, grid = plt.subplots(nrows, ncols, figsize=size, squeeze=False, sharex=True, sharey=True, dpi=dpi)
        axes = list(grid.flat)
        for ax in axes[len(maps) + 1:]:
            ax.set_visible(False)
        spare = axes[len(maps)]
    else:
        axes = list(np.ravel(axes))
        if len(axes) < len(maps):   # a map without an axes would be dropped without a word
            checks.fail("axes", f"one axes per map, at least {len(maps)}", got=f"{len(axes)} axes")
        fig = axes[0].figure
    for ax, m in zip(axes, maps.values(), strict=False):
        draw_basin_map(m, ax, fontsize=fontsize)
        ax.tick_params(labelsize=ticks)
    handles = basin_legend_handles(first.names)
    title = f"start → minimum within {first.tol:g} after {first.steps} steps"
    if spare is not None:
        spare.axis("off")
        spare.legend(handles=handles, loc="center", fontsize=fontsize, title=title, title_fontsize=fontsize,
                     frameon=False)
    else:
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=fontsize, frameon=False)
    n = first.basin.shape[0]
    fig.suptitle(suptitle or f"Basins of attraction — {first.surface.title}: {n}×{n} start points, "
                             f"{first.steps} steps", fontsize=fontsize + 3)
    fig.tight_layout()
    return fig


# --- the slider ----------------------------------------------------------------------------------

def explore_basins(optimizer_cls: type[Optimizer], surface: Surface | str, n: int = 60, steps: int = 300,
                   figsize=(7.0, 4.2), dpi: int = 80, **initial):
    """Sliders for η and γ (whichever ``optimizer_cls`` takes) that redraw its basin map.

    Live, the map uses a coarser grid (``n = 60``: 3,600 starts) and a shorter budget
    than the figures, so one update takes a fraction of a second; the committed
    figures use 200×200 and 500 steps.

    Returns:
        An ``ipywidgets.VBox`` with ``.update(**values) -> BasinMap`` (what moving a
        slider calls; tests drive it directly), ``.sliders`` and ``.basin_map`` (the last one).
    """
    import ipywidgets as W
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    surface = get_surface(surface)
    defaults = optimizer_cls(**initial).hyperparameters()
    sliders = {}
    if "lr" in defaults:
        sliders["lr"] = W.FloatLogSlider(value=defaults["lr"], base=10, min=-4, max=0, step=0.05, description="η (lr)",
                                         readout_format=".2g", continuous_update=False)
    if "gamma" in defaults:
        sliders["gamma"] = W.FloatSlider(value=defaults["gamma"], min=0.0, max=0.99, step=0.01, description="γ",
                                         readout_format=".2f", continuous_update=False)
    image = W.Image(format="png", layout=W.Layout(width=f"{int(figsize[0] * dpi)}px"))
    status = W.HTML()
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    box = W.VBox([W.HBox(list(sliders.values())), status, image])

    def update(**values):
        for name in values:
            if name not in sliders:
                raise TypeError(f"no slider named {name!r}; sliders: {', '.join(sliders)}")
        hyper = {**defaults, **{k: w.value for k, w in sliders.items()}, **values}
        opt = optimizer_cls(**hyper)
        shown = {"lr": "η", "gamma": "γ"}
        label = optimizer_cls.__name__ + "  " + ", ".join(f"{shown[k]}={hyper[k]:.3g}" for k in sliders)
        m = basin_map(opt, surface, n=n, steps=steps, label=label)
        ax.clear()
        draw_basin_map(m, ax, fontsize=10)
        ax.legend(handles=basin_legend_handles(m.names), fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  frameon=False)
        fig.tight_layout()
        import io

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        image.value = buffer.getvalue()
        status.value = ", ".join(f"{k} {v:.1%}" for k, v in m.fractions().items() if v)
        box.basin_map = m
        return m

    for widget in sliders.values():
        widget.observe(lambda change: update(), names="value")
    box.sliders, box.update, box.image, box.status = sliders, update, image, status
    update()
    return box
