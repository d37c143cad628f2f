r"""Explanatory pictures that a notebook and :mod:`kai_lib.figures` draw: one place each.

Built on :mod:`kai_lib.pictures.plotting` (floor 3 of the house). Like every plot helper here,
each function takes ``ax=None`` (or ``axes=None``), returns what it drew and never calls
``plt.show()``: the notebook cell that calls it keeps the one line that matters.

>>> import numpy as np
>>> from kai_lib.pictures import diagrams
>>> artists = diagrams.draw_nag_lookahead(method="NAG", theta=np.array([-4.8, -0.4]),
...                                       v=np.array([-0.2, -1.6]), lr=0.2, gamma=0.9)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .. import optimizers, surfaces
from ..runner import Trajectory
from ..surfaces import Surface
from ..surfaces import get as get_surface
from .plotting import COLORS, color_for, contour_levels, plot_contours, plot_paths

__all__ = ["draw_nag_lookahead", "lookahead_points", "mark_ends", "plot_escape", "plot_excess_loss",
           "plot_floor_profile", "plot_log_loss", "plot_momentum_decay", "plot_step_components", "steps_inside_view"]

_METHODS = ("Momentum", "NAG")


def _new_ax(ax, figsize=(6.4, 4.8)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _point(value, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.shape != (2,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite point of shape (2,), got {value!r}")
    return arr


def _positive(value, name: str, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    ok = np.isfinite(value) and (0 < value if upper is None else 0 <= value < upper)
    if not ok:
        allowed = "> 0" if upper is None else f"in [0, {upper:g})"
        raise ValueError(f"{name} must be finite and {allowed}, got {value!r}")
    return float(value)


# --- NAG's look-ahead ---------------------------------------------------------------------

def lookahead_points(theta, v, *, lr: float, gamma: float, surface: Surface | str = surfaces.RAVINE) -> dict:
    r"""The points of one Momentum and one NAG step from the same state ``(theta, v)``.

    Both steps are the library's own (``optimizers.Momentum`` / ``optimizers.NAG`` handed
    this ``v``):

    .. math::
        \text{look-ahead} = \theta - \gamma v, \qquad
        \theta^{\text{Momentum}} = \theta - \gamma v - \eta\nabla J(\theta), \qquad
        \theta^{\text{NAG}} = \theta - \gamma v - \eta\nabla J(\theta - \gamma v).

    Returns:
        ``{"theta", "lookahead", "Momentum", "NAG"}``: each a ``(2,)`` array.
    """
    surface = get_surface(surface)
    theta, v = _point(theta, "theta"), _point(v, "v")
    lr, gamma = _positive(lr, "lr"), _positive(gamma, "gamma", upper=1.0)
    points = {"theta": theta, "lookahead": theta - gamma * v}
    for name in _METHODS:
        opt = optimizers.ALL[name](lr=lr, gamma=gamma)
        opt.v = v.copy()  # the state some steps into a run
        points[name] = opt.step(theta, surface.grad)
    return points


def _arrow(ax, start, end, color, lw=2.0, ls="-"):
    return ax.annotate("", xy=end, xytext=start, zorder=6,
                       arrowprops=dict(arrowstyle="-|>", color=color, lw=lw, ls=ls, shrinkA=0, shrinkB=0,
                                       mutation_scale=16))


def _label(ax, xy, text, offset, color="k", ha="left", va="center", **kw):
    return ax.annotate(text, xy, xytext=offset, textcoords="offset points", color=color, ha=ha, va=va,
                       fontsize=kw.pop("fontsize", 10), zorder=8,
                       bbox=dict(fc="white", ec="none", alpha=0.75, pad=1), **kw)


def _view(points: Sequence[np.ndarray]):
    # room on the left for the arrows' labels and on the right for the new θ's
    pts = np.array(points)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    # points that coincide still get a view: a span relative to where they are (1e-9 alone
    # vanishes beside a coordinate of 1e8, and the axes would get identical limits)
    span = np.maximum(hi - lo, 1e-9 * np.maximum(1.0, np.abs(pts).max(axis=0)))
    return (lo[0] - 0.45 * span[0], hi[0] + 0.75 * span[0]), (lo[1] - 0.15 * span[1], hi[1] + 0.15 * span[1])


def draw_nag_lookahead(ax=None, *, method: str, theta, v, lr: float, gamma: float,
                       surface: Surface | str = surfaces.RAVINE, previous=None, floor: float | None = 0.0,
                       xlim=None, ylim=None, title: bool = True) -> dict:
    r"""The slide's look-ahead picture: one step of ``method`` from ``(theta, v)``, as vectors.

    Momentum computes its two parts independently and adds them: the gradient step
    :math:`-\eta\nabla J(\theta)`, taken where it stands, and the momentum step
    :math:`-\gamma v_{t-1}`. NAG takes the momentum step first and measures the gradient
    where it lands, :math:`-\eta\nabla J(\theta - \gamma v_{t-1})`. The thick arrow is the
    whole step :math:`-v_t`; its end is the library's next :math:`\theta`.

    Args:
        ax: the axes (a new figure if ``None``).
        method: ``"Momentum"`` or ``"NAG"``.
        theta, v: the state, ``(2,)`` each (``v`` is the velocity :math:`v_{t-1}`).
        lr, gamma: :math:`\eta` and :math:`\gamma`.
        surface: the surface whose gradient is taken (contours drawn underneath).
        previous: the point before ``theta``, to draw the last step :math:`-v` (optional).
        floor: the height ``y`` of a valley floor to mark with a dotted line, or ``None``.
        xlim, ylim: the view (default: around every point of both methods' steps, so a
            Momentum and a NAG panel of the same state share one view).
        title: set the axes title.

    Returns:
        ``{name: artist}``: ``"momentum_step"``, ``"gradient_step"``, ``"step"`` (arrows),
        ``"theta"``, ``"new_theta"`` (markers), ``"new_theta_label"``, and for NAG ``"lookahead"``.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(_METHODS)}, got {method!r}")
    surface = get_surface(surface)
    pts = lookahead_points(theta, v, lr=lr, gamma=gamma, surface=surface)
    theta, look, new = pts["theta"], pts["lookahead"], pts[method]
    view = [theta, look, pts["Momentum"], pts["NAG"]]
    if previous is not None:
        previous = _point(previous, "previous")
        view.append(previous)
    auto_x, auto_y = _view(view)
    xlim, ylim = xlim or auto_x, ylim or auto_y

    ax = _new_ax(ax)
    plot_contours(surface, ax=ax, levels=contour_levels(surface, 12), filled=False, marks=False)
    if floor is not None:
        ax.axhline(floor, color="0.4", lw=0.8, ls=":")
        ax.annotate("valley floor", (0, floor), xycoords=("axes fraction", "data"), xytext=(4, -3),
                    textcoords="offset points", ha="left", va="top", fontsize=9, color="0.35")
    out = {}
    if previous is not None:
        _arrow(ax, previous, theta, "0.55", lw=1.2, ls="--")
        _label(ax, (previous + theta) / 2, "last step, −v", (8, 0), color="0.4", fontsize=9)
    momentum_text = "momentum step\n" r"$-\gamma v_{t-1}$"
    if method == "Momentum":  # two independent parts, added: gradient at θ, then the momentum step
        bend = theta - lr * surface.grad(theta)
        out["gradient_step"] = _arrow(ax, theta, bend, "0.2")
        out["momentum_step"] = _arrow(ax, bend, new, "0.2", ls="--")
        _label(ax, (theta + bend) / 2, "gradient step\n" r"$-\eta\nabla J(\theta)$", (-8, 8), ha="right",
               va="bottom")
        _label(ax, (bend + new) / 2, momentum_text, (-8, 0), ha="right")
    else:  # the momentum step first, then the gradient where it lands
        out["momentum_step"] = _arrow(ax, theta, look, "0.2", ls="--")
        out["gradient_step"] = _arrow(ax, look, new, "0.2")
        _label(ax, (theta + look) / 2, momentum_text, (-8, 0), ha="right")
        _label(ax, look, "gradient step\n" r"$-\eta\nabla J(\theta - \gamma v_{t-1})$", (10, 2), va="bottom")
        out["lookahead"] = ax.plot(*look, "o", color="white", mec="k", ms=8, zorder=9)[0]
        _label(ax, look, r"look-ahead $\theta - \gamma v_{t-1}$", (-8, 8), ha="right", va="bottom", fontsize=9)
    color = COLORS[method]
    out["step"] = _arrow(ax, theta, new, color, lw=3.5)
    out["new_theta"] = ax.plot(*new, "o", color=color, mec="k", ms=8, zorder=9)[0]
    below = method == "NAG"  # NAG's gradient-step label sits just above its new θ
    out["new_theta_label"] = _label(ax, new, f"{method}'s new θ\n(y = {new[1]:+.2f})", (10, -6 if below else 0),
                                    color=color, fontweight="bold", va="top" if below else "center")
    out["theta"] = ax.plot(*theta, "o", color="k", ms=8, zorder=9)[0]
    _label(ax, theta, "θ", (-8, 0), fontsize=13, ha="right")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    if title:
        ax.set_title("Momentum: the gradient at θ, plus the momentum step" if method == "Momentum"
                     else "NAG: the momentum step first, then the gradient there")
    return out


# --- momentum's memory ----------------------------------------------------------------------

def plot_momentum_decay(ax=None, gammas: Sequence[float] = (0.5, 0.9, 0.99), k_max: int = 60,
                        colors: Mapping[float, str] | None = None,
                        linestyles: Mapping[float, object] | None = None) -> dict:
    r"""The weight :math:`\gamma^k` of a gradient :math:`k` steps old in
    :math:`v_t = \sum_k \gamma^k \eta \nabla J_{t-k}`, with the slide's :math:`0.9^{22} \approx 0.0985` marked.

    Each curve is labelled with its horizon :math:`1/(1-\gamma)`; a grey line marks a tenth. Every
    curve is Momentum's colour, told apart by its line style, unless ``colors`` (and
    ``linestyles``) map a :math:`\gamma` to its own (a notebook that draws each setting the
    same everywhere).

    Returns:
        ``{gamma: Line2D}``.
    """
    if isinstance(k_max, bool) or not isinstance(k_max, (int, np.integer)) or k_max < 22:
        raise ValueError(f"k_max must be an integer >= 22 (the slide's 0.9^22 is marked), got {k_max!r}")
    gammas = [_positive(g, "gamma", upper=1.0) for g in gammas]
    ax = _new_ax(ax, figsize=(8, 4.4))
    k = np.arange(0, k_max + 1)
    lines = {}
    for gamma in gammas:
        style = (linestyles or {}).get(gamma) or {0.5: ":", 0.9: "-", 0.99: "--"}.get(gamma, "-.")  # 0.9 solid
        color = (colors or {}).get(gamma, COLORS["Momentum"])
        lines[gamma] = ax.plot(k, gamma**k, linestyle=style, color=color, lw=2.2 if gamma == 0.9 else 1.6,
                               label=f"γ = {gamma}  (horizon {1 / (1 - gamma):.0f})")[0]
    ax.axhline(0.1, color="0.5", lw=0.8)
    ax.annotate("a tenth", (1, 0.1), xycoords=("axes fraction", "data"), xytext=(-4, 3), textcoords="offset points",
                ha="right", va="bottom", color="0.4", fontsize="small")
    ax.plot([22], [0.9**22], "o", color=COLORS["Momentum"], markeredgecolor="k", markersize=9, zorder=4)
    ax.annotate(f"$0.9^{{22}} = {0.9**22:.4f}$\nfrom step 22 on, a gradient counts\nless than 1/10",
                (22, 0.9**22), xytext=(0.5 * k_max, 0.24), fontsize=11, arrowprops=dict(arrowstyle="->", color="k"))
    ax.set_xlim(0, k_max)
    ax.set_ylim(0, 1.03)
    ax.set_xlabel("$k$ (steps back)")
    ax.set_ylabel(r"weight $\gamma^k$ of $\eta\nabla J(\theta)_{t-k}$ in $v_t$")
    ax.set_title(r"$v_t = \eta\nabla J_t + \gamma\eta\nabla J_{t-1} + \gamma^2\eta\nabla J_{t-2} + \dots$")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    return lines


# --- runs and their losses ------------------------------------------------------------------

def mark_ends(trajs: Mapping[str, Trajectory], ax, colors: Mapping[str, str] | None = None) -> dict:
    """A dot in each run's colour at its last point: where a long run without step
    markers ended. Returns ``{label: Line2D}``."""
    if not isinstance(trajs, Mapping):
        raise TypeError(f"trajs must map label -> Trajectory, got {type(trajs).__name__}")
    out = {}
    for i, (label, traj) in enumerate(trajs.items()):
        color = (colors or {}).get(label) or color_for(label, i)
        ends = np.reshape(traj.final, (-1, 2))
        out[label] = ax.plot(*ends.T, "o", color=color, mec="k", ms=7, zorder=6, ls="none", label="_")[0]
    return out


def steps_inside_view(traj: Trajectory, xlim=None, ylim=None) -> int:
    """The step at which ``traj`` first leaves the view (its surface's, by default); all its
    steps if it never does. For a picture that shows a run only while it is in view."""
    if not isinstance(traj, Trajectory):
        raise TypeError(f"traj must be a Trajectory, got {type(traj).__name__}")
    (x_lo, x_hi), (y_lo, y_hi) = xlim or traj.surface.xlim, ylim or traj.surface.ylim
    x, y = traj.path[..., 0], traj.path[..., 1]
    outside = ((x < x_lo) | (x > x_hi) | (y < y_lo) | (y > y_hi)).reshape(len(traj.path), -1).any(axis=1)
    return int(np.argmax(outside)) if outside.any() else traj.steps


def plot_log_loss(trajs: Mapping[str, Trajectory], ax=None, colors: Sequence[str] | None = None) -> dict:
    r""":math:`\log_{10} J` step by step for each run; a diverged run ends in a red ✕, labelled
    with its step, under a dotted line at the largest float64.

    Returns:
        ``{label: Line2D}``.
    """
    if not isinstance(trajs, Mapping) or not trajs:
        raise TypeError("trajs must be a non-empty mapping of label -> Trajectory")
    ax = _new_ax(ax)
    lines = {}
    for i, (label, traj) in enumerate(trajs.items()):
        log_loss = np.log10(np.maximum(traj.loss, 1e-300))  # floored so that J = 0 stays finite
        color = colors[i] if colors else color_for(label, i)
        lines[label] = ax.plot(log_loss, lw=1.5, label=label, color=color)[0]
        if np.any(traj.diverged):
            ax.plot(traj.steps, log_loss[-1], "X", color="red", mec="k", ms=11, zorder=5)
            ax.annotate(f"diverged at step {int(np.max(traj.diverged_at))}", (traj.steps, log_loss[-1]),
                        xytext=(-40, -70), textcoords="offset points", ha="center",
                        arrowprops=dict(arrowstyle="-", color="0.4"))
    top = np.log10(np.finfo(float).max)
    ax.axhline(top, color="0.5", ls=":", lw=1)
    ax.annotate("largest float64, 1.8e308", (0, top), xycoords=("axes fraction", "data"), xytext=(8, -4),
                textcoords="offset points", color="0.4", fontsize="small", va="top")
    ax.set_xlabel("step")
    ax.set_ylabel(r"$\log_{10} J$")
    ax.legend(loc="center right")
    return lines


def plot_step_components(traj: Trajectory, label: str, fig=None) -> dict:
    r"""A run's path (left) and the two components of each step, :math:`\Delta y` and
    :math:`\Delta x`, as bars (right): the zig-zag across a ravine, the steady crawl along it.

    Returns:
        ``{"path": ax, "dy": ax, "dx": ax}``.
    """
    if not isinstance(traj, Trajectory):
        raise TypeError(f"traj must be a Trajectory, got {type(traj).__name__}")
    fig = fig or plt.figure(figsize=(11, 4.2))
    steps = np.diff(traj.path, axis=0)
    k = np.arange(1, len(steps) + 1)
    grid = fig.add_gridspec(2, 2, width_ratios=[1.25, 1])
    ax = fig.add_subplot(grid[:, 0])
    plot_contours(traj.surface, ax=ax, levels=contour_levels(traj.surface, 12))
    plot_paths(traj.surface, {label: traj}, ax=ax, contours=False)
    ax_y, ax_x = fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, 1])
    ax_y.bar(k, steps[:, 1], color="#d62728")
    ax_y.set_ylabel("Δy (across)")
    ax_y.set_title(f"{label.split(',')[0]}'s steps, component by component")
    ax_x.bar(k, steps[:, 0], color="#1f77b4")
    ax_x.set_ylabel("Δx (along)")
    ax_x.set_xlabel("step")
    for a in (ax_y, ax_x):
        a.axhline(0, color="k", lw=0.6)
    return {"path": ax, "dy": ax_y, "dx": ax_x}


def plot_excess_loss(trajs: Mapping[str, Trajectory], batch_sizes: Mapping[str, int], n: int, best: float,
                     axes=None) -> dict:
    r"""How fast mini-batch runs approach the best loss, :math:`J(\theta) - J(\theta^*)` on log axes:
    per update (left) and per unit of work, epochs of ``n`` examples (right, with the count of
    per-example gradients on a top axis).

    Args:
        trajs: ``{label: trajectory}``.
        batch_sizes: ``{label: examples per update}`` for every label of ``trajs``.
        n: the number of training examples (one epoch).
        best: :math:`J(\theta^*)`.
        axes: two axes (a new figure if ``None``).

    Returns:
        ``{"per_update": ax, "per_epoch": ax}``.
    """
    missing = set(trajs) - set(batch_sizes)
    if missing:
        raise ValueError(f"batch_sizes has no entry for {sorted(missing)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    ax1, ax2 = axes
    for i, (label, traj) in enumerate(trajs.items()):
        updates = np.arange(traj.steps + 1)
        style = dict(lw=0.9, label=label, color=color_for(label, i))  # the project's colours: SGD red
        ax1.loglog(updates[1:], traj.loss[1:] - best, **style)
        ax2.loglog((updates * batch_sizes[label] / n)[1:], traj.loss[1:] - best, **style)
    ax1.set_xlabel("updates (gradient steps)")
    ax1.set_ylabel(r"$J(\theta) - J(\theta^*)$")
    ax1.set_title("Per update: the same progress, down to the noise", y=1.17)
    ax2.set_xlabel(f"epochs (1 epoch = n = {n} examples)")
    ax2.set_title("Per unit of work: small batches win, then plateau", y=1.17)
    top = ax2.secondary_xaxis("top", functions=(lambda e: e * n, lambda k: k / n))
    top.set_xlabel("per-example gradient evaluations", fontsize=9, labelpad=2)
    for ax in (ax1, ax2):
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small", loc="lower left")
    return {"per_update": ax1, "per_epoch": ax2}


# --- local minima -------------------------------------------------------------------------

def plot_floor_profile(surface: Surface | str, marks: Mapping[float, str], ax=None, y: float = 0.0,
                       ylim=(-2.2, 2.2)) -> dict:
    """The surface along the line ``y`` (its valley floor), with labelled points ``{x: text}``.

    Returns:
        ``{"profile": Line2D, x: Line2D for each mark}``.
    """
    surface = get_surface(surface)
    if not isinstance(marks, Mapping):
        raise TypeError(f"marks must map x -> label, got {type(marks).__name__}")
    ax = _new_ax(ax)
    xs = np.linspace(*surface.xlim, 400)
    out = {"profile": ax.plot(xs, surface(np.stack([xs, np.full_like(xs, y)], axis=-1)), color="k", lw=1.5)[0]}
    for x0, text in marks.items():
        j = surface(np.array([x0, y]))
        out[x0] = ax.plot(x0, j, "o", color="k")[0]
        peak = j > max(surface(np.array([x0 - 0.05, y])), surface(np.array([x0 + 0.05, y])))
        left = x0 < np.mean(surface.xlim)
        offset = (6, 6) if peak else ((-6, -14) if left else (8, -4))  # a ridge's label above it, a dip's below
        ax.annotate(text, (x0, j), xytext=offset, textcoords="offset points",
                    ha="right" if offset[0] < 0 else "left", fontsize="small")
    ax.set_ylim(ylim)
    ax.set_xlabel("x")
    ax.set_ylabel(f"J(x, {y:g})")
    ax.set_title(f"The floor of the surface, y = {y:g}")
    return out


def plot_escape(surface: Surface | str, exact: Trajectory, noisy: Trajectory, ridge_x: float, axes=None,
                shown: int = 3, color: str = "#2ca02c", levels=None) -> dict:
    """Noisy runs against the exact one on a surface with a shallow dip: a few of the noisy
    paths over the contours (left, ``levels`` passed to :func:`~kai_lib.pictures.plotting.plot_contours`),
    and where every noisy run ends along ``x`` (right).

    Returns:
        ``{"paths": ax, "ends": ax}``.
    """
    surface = get_surface(surface)
    if noisy.path.ndim != 3:
        raise ValueError(f"noisy must be a batch run, path (T, n, 2); got shape {noisy.path.shape}")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10.5, 3.6))
    ax1, ax2 = axes
    plot_contours(surface, ax=ax1, levels=levels)
    for i in range(min(shown, noisy.path.shape[1])):
        ax1.plot(*noisy.path[:, i].T, color=color, lw=0.8, alpha=0.8, label="gradient + noise" if i == 0 else "_")
    plot_paths(surface, {"full-batch gradient": exact}, ax=ax1, contours=False, markers=False)
    ax1.set_title(f"{exact.steps} steps: {shown} noisy runs and the exact one")
    n = noisy.path.shape[1]
    ax2.hist(noisy.final[:, 0], bins=np.linspace(*surface.xlim, 36), color=color, alpha=0.8,
             label=f"gradient + noise: final x of {n} runs")
    ax2.axvline(exact.final[0], color=COLORS["SGD"], lw=2.5, label="full batch: every run ends here")
    ax2.axvline(ridge_x, color="0.3", ls="--", lw=1, label="the ridge between the basins")
    ax2.set_xlabel(f"$x$ after {noisy.steps} steps")
    ax2.set_ylabel("runs")
    ax2.set_xlim(surface.xlim)
    ax2.legend(loc="upper left", fontsize="small")
    ax2.set_title(f"Where the {n} runs end")
    return {"paths": ax1, "ends": ax2}
