r"""Regenerate the slide figures: ``python -m kai_lib.figures [--out DIR] [--only NAME ...] [--list] [--style S]``.

``make figures`` runs it. It writes, into ``--out`` (default ``figures/`` under the
current directory) and nowhere else:

=========================  ==============================================================
``long_valley.gif``        all seven slide optimizers racing down a long narrow valley
``beale.gif``              ... on Beale's function
``saddle_point.gif``       ... off a saddle point
``momentum_ravine.png``    SGD without / with momentum in a ravine
``local_minima.png``       momentum rolls through a shallow local minimum, SGD stops in it
``momentum_decay.png``     the weight γᵏ of a gradient k steps back; 0.9²² ≈ 0.0985
``nag_lookahead.png``      Momentum's step vs NAG's look-ahead step, as vectors
``adagrad_step_size.png``  Adagrad's shrinking step η/√(G_t+ε), RMSProp's bounded one
``adam_bias_correction.png``  m_t vs m̂_t and v_t vs v̂_t from the zero state
``batch_vs_minibatch.png`` full batch vs mini-batch vs single sample on a line fit
``learning_rate.png``      η too small / right / too large (divergence)
``saddle_point_3d.gif``    the saddle-point race over the surface in 3-D
``long_valley_3d.gif``     the long-valley race in 3-D
``noisy_moons.gif``        Radford's fourth: decision boundaries of a small network, seven optimizers
``basins_himmelblau.png``  where each slide optimizer ends from 200×200 starts on Himmelblau
``basins_local_minima.png``  ... on the surface with a shallow and a deep minimum
``after_adam_beale.gif``   notebook 12: the optimizers after Adam (Lion ... Muon) beside Adam on Beale
=========================  ==============================================================

The race settings live in :mod:`kai_lib.studies.races` (notebook 12's in :mod:`kai_lib.studies.after_adam`).
Every figure is deterministic: two runs write byte-identical files (no dates or software versions in the PNGs; seeded
data). Each figure prints one progress line with its time in seconds. ``--style classroom``
draws them for a projector (:mod:`kai_lib.pictures.styles`); ``figures/`` holds the notebook style.

>>> from kai_lib import figures
>>> figures.main(["--out", "/tmp/figs", "--only", "momentum_decay"])   # doctest: +SKIP
momentum_decay.png          0.21 s     38 KB
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from . import checks, optimizers, surfaces
from .data import make_regression
from .pictures import styles
from .pictures.animation import animate, save_gif
from .pictures.diagrams import draw_nag_lookahead, plot_momentum_decay
from .pictures.plotting import COLORS, mark_minima, plot_contours, plot_paths
from .runner import run
from .studies import after_adam, races
from .studies.basins import plot_basins
from .studies.states import record

__all__ = ["FIGURES", "main", "race_gif", "after_adam_gif", "race_gif_3d", "race_animation_3d", "basins_png",
           "step_size_figure", "bias_correction_figure"]

#: PNG resolution: a 12 × 4.2 in figure is 1200 × 420 px.
DPI = 100
#: No software version in the PNG, so the bytes do not change with matplotlib's.
_PNG_METADATA = {"Software": None}


def _font(role: str) -> float:
    """A text's size in points, from the style in use (:mod:`kai_lib.pictures.styles`)."""
    return styles.current().font(role)


def _figsize(width: float, height: float) -> tuple[float, float]:
    """A figure's size in inches, as drawn for the notebook style, in the style in use."""
    return styles.current().figsize(width, height)


def _save(fig, path: Path) -> None:
    styles.fit_titles(fig)
    fig.savefig(path, dpi=DPI, metadata=_PNG_METADATA)
    plt.close(fig)


# --- the three races -----------------------------------------------------------------------

def race_gif(name: str, path: Path, dpi: int | None = None) -> Path:
    """Animate the race :data:`kai_lib.studies.races.RACES` ``[name]`` into the GIF ``path``."""
    return _race_gif(races.RACES[name], races.race(name), path, dpi=dpi)


def after_adam_gif(name: str, path: Path, dpi: int | None = None) -> Path:
    """Animate notebook 12's race :data:`kai_lib.studies.after_adam.RACES` ``[name]`` (the slides' race
    with the optimizers after Adam beside Adam) into the GIF ``path``."""
    return _race_gif(after_adam.RACES[name], after_adam.race(name), path, dpi=dpi)


def _race_gif(r: races.Race, trajs: dict, path: Path, dpi: int | None = None) -> Path:
    """The race ``r``, run into ``trajs`` (optimizer name → trajectory), as a GIF at ``path``."""
    labels = {opt: r.label(opt) for opt in trajs}
    # Drawn slowest-last, so SGD's short path is not hidden under the others'; the
    # legend keeps the slides' order.
    drawn = {labels[opt]: trajs[opt] for opt in reversed(list(trajs))}
    anim = animate(r.surface, drawn, frames=r.frames, title=r.title, legend=False, pace=r.pace,
                   xlim=r.xlim, ylim=r.ylim)
    ax = next(iter(anim.trails.values()))[0].axes
    for text, xy in r.landmarks:
        ax.plot(*xy, "P", color="white", markeredgecolor="k", markersize=10 * styles.current().marks, zorder=2)
        ax.annotate(text, xy, xytext=(6, -16), textcoords="offset points", fontsize=_font("annotation"), zorder=2)
    # on a projector the legend's big text would cover the paths: it goes beside the map
    outside = styles.current().legend_outside
    where = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0)) if outside else dict(loc=r.legend_loc)
    ax.legend(handles=[anim.trails[labels[opt]][0] for opt in trajs], fontsize=_font("legend"), framealpha=0.9,
              **where)
    if outside:
        anim._fig.tight_layout()
    styles.fit_titles(anim._fig)
    try:
        return save_gif(anim, path, dpi=dpi)
    finally:
        plt.close(anim._fig)


#: The 3-D races' resolution: their 9.6 × 6.8 in figure is 768 × 544 px.
GIF_DPI_3D = 80


def race_gif_3d(name: str, path: Path, dpi: int = GIF_DPI_3D) -> Path:
    """The race :data:`kai_lib.studies.races.RACES` ``[name]`` over its surface in 3-D, from the
    race's camera (``elev``, ``azim``), into the GIF ``path`` (768 px wide at 80 dpi)."""
    anim = race_animation_3d(name)
    try:
        return save_gif(anim, path, dpi=dpi)
    finally:
        plt.close(anim._fig)


def race_animation_3d(name: str, frames: int | None = None, figsize: tuple[float, float] = (9.6, 6.8)):
    """The 3-D animation of the race ``name``, as :func:`race_gif_3d` writes it (the
    legend in 11 pt: 12 px at the GIF's 80 dpi). A notebook, which must stay small,
    commits fewer ``frames`` in a smaller ``figsize`` (9 × 6 in: 720 px wide at 80 dpi)."""
    r = races.RACES[name]
    trajs = races.race(name)
    labels = {opt: r.label(opt) for opt in trajs}
    drawn = {labels[opt]: trajs[opt] for opt in reversed(list(trajs))}  # SGD's short path on top
    anim = animate(r.surface, drawn, frames=frames or r.frames, title=r.title, legend=False, pace=r.pace,
                   view="3d", elev=r.elev, azim=r.azim, figsize=figsize)
    ax = anim.trails[labels["SGD"]][0].axes
    lift = 0.02 * np.ptp(ax.get_zlim())
    for text, (x, y) in r.landmarks:
        z = float(r.surface(np.array([x, y]))) + lift
        ax.plot([x], [y], [z], "P", color="white", markeredgecolor="k", markersize=11)
        ax.text(x, y, z + 8 * lift, text, fontsize=11, ha="center", bbox=dict(boxstyle="round", fc="white", alpha=0.85))
    # The legend goes beside the surface, not over it: the 3-D axes give up the figure's left quarter.
    fig = ax.figure
    fig.subplots_adjust(left=0.24, right=1.0)
    fig.legend(handles=[anim.trails[labels[opt]][0] for opt in trajs], loc="lower left",
               bbox_to_anchor=(0.005, 0.03), fontsize=11, framealpha=0.9)
    # x's last tick label and y's last meet in the near corner ("1.5 1.5"): x keeps its others
    ax.set_xticks([t for t in ax.get_xticks() if r.surface.xlim[0] <= t < r.surface.xlim[1]])
    return anim


# --- basins of attraction --------------------------------------------------------------------

def basins_png(name: str, path: Path) -> None:
    """Every slide optimizer's basin map, :data:`kai_lib.studies.races.BASINS` ``[name]``."""
    b = races.BASINS[name]
    fig = plot_basins(races.basins(name), suptitle=(
        f"Where does each optimizer end? {b.n}×{b.n} starts on {b.surface.title}, {b.steps} steps, "
        f"the learning rates of the {b.race.replace('_', ' ').replace('beale', 'Beale')} race"))
    _save(fig, path)


# --- momentum ------------------------------------------------------------------------------

def momentum_ravine(path: Path) -> None:
    """SGD without and with momentum, same η, in an ill-conditioned ravine.

    γ = 0.5, not the slides' usual 0.9: this ravine is short (condition number 20), and
    with γ = 0.9 momentum overshoots the minimum along the floor (to x = 1.5 ... 3.2, the
    view's edge and beyond) and still swings across it (|y| > 1) after 10 steps, for
    each η tried from 0.1 to 0.63. The best heavy-ball γ here is about 0.4; with
    γ = 0.5 and SGD's own η, both the zig-zag and the crawl along the floor shrink by
    0.71 a step, instead of 0.8 and 0.91 for SGD.
    """
    s = surfaces.RAVINE
    lr, gamma, steps = 0.45, 0.5, 30
    trajs = {
        "SGD": run(optimizers.SGD(lr=lr), s, steps=steps),
        "Momentum": run(optimizers.Momentum(lr=lr, gamma=gamma), s, steps=steps),
    }
    titles = {"SGD": f"SGD without momentum (η = {lr})", "Momentum": f"SGD with momentum (η = {lr}, γ = {gamma})"}
    fig, axes = plt.subplots(1, 2, figsize=_figsize(12, 4.4), sharey=True)
    for ax, (name, traj) in zip(axes, trajs.items(), strict=True):
        plot_paths(s, {name: traj}, ax=ax, legend=False)
        ax.set_title(titles[name])
        dist = np.linalg.norm(traj.final - s.minima[0])
        ax.text(0.98, 0.04, f"after {steps} steps: {dist:.2g} from the minimum", transform=ax.transAxes,
                ha="right", fontsize=_font("annotation"), bbox=dict(boxstyle="round", fc="white", alpha=0.9))
    axes[1].set_ylabel("")
    fig.suptitle("Momentum damps the zig-zag across the ravine and speeds along its floor", fontsize=_font("suptitle"))
    fig.tight_layout()
    _save(fig, path)


def local_minima(path: Path) -> None:
    """Momentum rolls through the shallow local minimum at (−1.5, 0) where SGD stops."""
    s = surfaces.LOCAL_MINIMA
    lr, gamma, steps = 0.1, 0.9, 100
    trajs = {
        f"SGD  η={lr}": run(optimizers.SGD(lr=lr), s, steps=steps),
        f"Momentum  η={lr}, γ={gamma}": run(optimizers.Momentum(lr=lr, gamma=gamma), s, steps=steps),
    }
    fig, (ax, prof) = plt.subplots(1, 2, figsize=_figsize(12, 4.4), gridspec_kw={"width_ratios": [1.25, 1]})
    plot_paths(s, trajs, ax=ax, legend=False)
    shallow = surfaces.LOCAL_MINIMA_SHALLOW
    ax.plot(*shallow, "v", color="white", markeredgecolor="k", markersize=10, zorder=5)
    ax.annotate("shallow local minimum", shallow, xytext=(-3.3, -1.55), fontsize=_font("annotation"),
                arrowprops=dict(arrowstyle="->", color="k"))
    ax.annotate("global minimum", s.minima[0], xytext=(1.25, -1.55), fontsize=_font("annotation"),
                arrowprops=dict(arrowstyle="->", color="k"))
    ax.legend(loc="upper right", fontsize=_font("legend"), framealpha=0.9)
    ax.set_title(f"{steps} steps from the same start")

    x = np.linspace(*s.xlim, 400)
    profile = s(np.stack([x, np.zeros_like(x)], -1))
    prof.plot(x, profile, color="0.35", lw=2)
    for label, traj in trajs.items():
        color = COLORS[label.split()[0]]
        end = traj.final[0]
        prof.plot(end, s(np.array([end, 0.0])), "o", color=color, markeredgecolor="k", markersize=12, zorder=4,
                  label=f"{label.split()[0]} ends at x = {end:.2f}")
    prof.set_xlabel("$x$")
    prof.set_ylabel("$J(x, 0)$")
    prof.set_title("The valley floor, y = 0")
    prof.legend(loc="upper right", fontsize=_font("legend"))
    fig.suptitle("Momentum carries the ball over the low ridge; plain SGD stops in the first dip",
                 fontsize=_font("suptitle"))
    fig.tight_layout()
    _save(fig, path)


def momentum_decay(path: Path) -> None:
    """γᵏ: how much a gradient k steps back still counts in v_t."""
    fig, ax = plt.subplots(figsize=_figsize(8, 4.4))
    plot_momentum_decay(ax, gammas=(0.5, 0.9, 0.99), k_max=60)
    fig.tight_layout()
    _save(fig, path)


def nag_lookahead(path: Path) -> None:
    """Momentum: gradient at θ, then add the momentum step. NAG: momentum step first, gradient there."""
    lr, gamma = 0.12, 0.9
    theta = np.array([-3.0, -0.9])
    v = np.array([-1.0, -1.5])  # the previous update was −v: up and to the right, across the floor
    fig, axes = plt.subplots(1, 2, figsize=_figsize(12, 5.2), sharey=True)
    for ax, name in zip(axes, ("Momentum", "NAG"), strict=True):
        draw_nag_lookahead(ax, method=name, theta=theta, v=v, lr=lr, gamma=gamma, surface=surfaces.RAVINE,
                           xlim=(-3.9, -0.9), ylim=(-1.15, 1.15))
    axes[1].set_ylabel("")
    fig.suptitle(f"Heading across the valley floor, NAG looks ahead and brakes  (η = {lr}, γ = {gamma}, "
                 "J = 0.1x² + 2y²)", fontsize=_font("title"))
    fig.tight_layout()
    _save(fig, path)


# --- adaptive step sizes ---------------------------------------------------------------------

def _record(opt: optimizers.Optimizer, grads: Sequence[float], attrs: Sequence[str]) -> dict[str, np.ndarray]:
    """:func:`kai_lib.studies.states.record` for one scalar parameter: each step and state as floats."""
    rec = record(opt, np.asarray(grads, dtype=float)[:, None], attrs)
    return {k: v.reshape(len(v), -1)[:, 0].astype(float) for k, v in rec.items()}


def adagrad_step_size(path: Path) -> None:
    """η/√(G_t+ε) under a constant gradient: Adagrad's falls like 1/√t, RMSProp's levels off."""
    _save(step_size_figure(), path)


def step_size_figure(lr: float = 0.1, steps: int = 300):
    """The picture of ``adagrad_step_size.png`` (notebook 06 shows it too): under the constant gradient
    g = 1, Adagrad's and RMSProp's step size η/√(G_t+ε) and the distance each travels, over ``steps``."""
    lr = checks.number("lr", lr, low=0, low_open=True)
    T = checks.integer("steps", steps, low=10, high=100_000)
    grads = np.ones(T)  # |g| = 1: the step size *is* η/√(G_t+ε)
    t = np.arange(1, T + 1)
    ada = _record(optimizers.Adagrad(lr=lr), grads, ["G"])
    rms = _record(optimizers.RMSProp(lr=lr, gamma=0.9), grads, ["G"])
    fig, (ax, dist) = plt.subplots(1, 2, figsize=_figsize(12, 4.4))
    ax.plot(t, ada["step"], color=COLORS["Adagrad"], lw=2.2, label=r"Adagrad: $G_t = \sum g^2 = t$")
    ax.plot(t, rms["step"], color=COLORS["RMSProp"], lw=2.2, label=r"RMSProp ($\gamma$ = 0.9): $G_t \to g^2$")
    ax.set_yscale("log")
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"step size $\eta / \sqrt{G_t + \epsilon}$")
    ax.set_title(f"The effective step size, η = {lr}, gradient g = 1 every step")
    ax.annotate(r"first step $\eta/\sqrt{1-\gamma} = 3.16\,\eta$", (1, rms["step"][0]), xytext=(T * 2 / 15, 5 * lr),
                fontsize=_font("annotation"), arrowprops=dict(arrowstyle="->", color="k"))
    ax.annotate(rf"$\eta/\sqrt{{t}}$: {ada['step'][-1]:.4f} at t = {T}", (T, ada["step"][-1]),
                xytext=(T / 2, 0.12 * lr), fontsize=_font("annotation"), arrowprops=dict(arrowstyle="->", color="k"))
    ax.set_ylim(0.03 * lr * np.sqrt(300 / T), 10 * lr)
    ax.legend(loc="upper right", fontsize=_font("legend"))
    ax.grid(alpha=0.3, which="both")

    dist.plot(t, np.cumsum(ada["step"]), color=COLORS["Adagrad"], lw=2.2, label=r"Adagrad: $\approx 2\eta\sqrt{t}$")
    dist.plot(t, np.cumsum(rms["step"]), color=COLORS["RMSProp"], lw=2.2, label=r"RMSProp: $\approx \eta t$")
    dist.set_xlabel("step $t$")
    dist.set_ylabel(r"distance travelled $|\theta_t - \theta_0|$")
    dist.set_title("Adagrad slows to a crawl on a constant slope")
    dist.legend(loc="upper left", fontsize=_font("legend"))
    dist.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def adam_bias_correction(path: Path) -> None:
    """m_t, v_t start at zero and are biased towards it; m̂_t, v̂_t are not."""
    _save(bias_correction_figure(), path)


def bias_correction_figure(steps: int = 3000):
    """The picture of ``adam_bias_correction.png`` (notebook 08 shows it too): Adam from the zero state
    under the constant gradient g = 1, over ``steps``: m_t and m̂_t, v_t and v̂_t, and the step with and
    without the correction."""
    g, T = 1.0, checks.integer("steps", steps, low=50, high=100_000)
    opt = optimizers.Adam(lr=0.01)
    rec = _record(opt, np.full(T, g), ["m", "v", "t"])
    t = rec["t"]
    m_hat = rec["m"] / (1 - opt.beta1**t)
    v_hat = rec["v"] / (1 - opt.beta2**t)
    uncorrected = opt.lr * rec["m"] / np.sqrt(rec["v"] + opt.eps)
    black = COLORS["Adam"]
    fig, axes = plt.subplots(1, 3, figsize=_figsize(14, 4.2))
    ax = axes[0]
    n = 40
    ax.plot(t[:n], rec["m"][:n], "--", color=black, lw=2, label=r"$m_t = \beta_1 m_{t-1} + (1-\beta_1) g$")
    ax.plot(t[:n], m_hat[:n], "-", color=black, lw=2.2, label=r"$\hat m_t = m_t / (1-\beta_1^t)$")
    ax.set_title(r"first moment, $\beta_1$ = 0.9")
    ax.set_xlabel("step $t$")
    ax.set_ylim(0, 1.15)
    ax = axes[1]
    ax.plot(t, rec["v"], "--", color=black, lw=2, label=r"$v_t = \beta_2 v_{t-1} + (1-\beta_2) g^2$")
    ax.plot(t, v_hat, "-", color=black, lw=2.2, label=r"$\hat v_t = v_t / (1-\beta_2^t)$")
    ax.set_xscale("log")
    ax.set_title(r"second moment, $\beta_2$ = 0.999")
    ax.set_xlabel("step $t$ (log scale)")
    ax.set_ylim(0, 1.15)
    for ax, where in zip(axes[:2], ("lower right", "center left"), strict=True):
        ax.axhline(g, color="0.5", lw=0.8, ls=":")
        ax.legend(loc=where, fontsize=_font("legend"))
        ax.grid(alpha=0.3)
    ax = axes[2]
    ax.plot(t, rec["step"], "-", color=black, lw=2.2,
            label=r"with correction: $\eta\,\hat m_t/\sqrt{\hat v_t+\epsilon}$")
    ax.plot(t, uncorrected, "--", color=black, lw=2, label=r"without: $\eta\, m_t/\sqrt{v_t+\epsilon}$")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.15 * uncorrected.max())
    ax.annotate(rf"first step $\eta\cdot 0.1/\sqrt{{0.001}} = {uncorrected[0] / opt.lr:.2f}\,\eta$",
                (1, uncorrected[0]), xytext=(1.3, 0.25 * uncorrected.max()), fontsize=_font("annotation"),
                arrowprops=dict(arrowstyle="->", color="k"))
    peak = int(np.argmax(uncorrected))
    ax.annotate(rf"up to {uncorrected[peak] / opt.lr:.1f} $\eta$ at t = {t[peak]:.0f}", (t[peak], uncorrected[peak]),
                xytext=(60, 0.9 * uncorrected.max()), fontsize=_font("annotation"),
                arrowprops=dict(arrowstyle="->", color="k"))
    ax.set_title(f"the step, η = {opt.lr}")
    ax.set_xlabel("step $t$ (log scale)")
    ax.legend(loc="center right", fontsize=_font("legend"))
    ax.grid(alpha=0.3)
    fig.suptitle(f"Adam from the zero state, gradient g = {g:g} every step: bias correction removes the pull "
                 "towards 0", fontsize=_font("title"))
    fig.tight_layout()
    return fig


# --- gradient descent itself --------------------------------------------------------------

def batch_vs_minibatch(path: Path) -> None:
    """Full batch, mini-batch and single-sample SGD on a line fit, per epoch and per update."""
    data = make_regression()
    surface = data.surface()
    w_best, b_best = data.minimiser()
    best = float(surface(np.array([w_best, b_best])))
    lr, epochs = 0.1, 10
    runs = {  # label: (batch size, updates, colour: shades of SGD's red, line width)
        f"full batch (n = {data.n})": (data.n, 300, "#7f0000", 2.2),
        "mini-batch of 32": (32, epochs * (data.n // 32), COLORS["SGD"], 1.8),
        "single sample": (1, epochs * data.n, "#f4a09c", 0.8),
    }
    trajs = {label: run(optimizers.SGD(lr=lr), surface, steps=steps, grad_fn=data.minibatch_grad_fn(size, seed=0))
             for label, (size, steps, _, _) in runs.items()}
    fig, (ax_path, ax_epoch, ax_update) = plt.subplots(1, 3, figsize=_figsize(15, 4.6),
                                                       gridspec_kw={"width_ratios": [1, 1.1, 1.1]})
    order = list(trajs)[::-1]  # the noisy single-sample path underneath
    lines = plot_paths(surface, {k: trajs[k] for k in order}, ax=ax_path, legend=False, markers=False)
    for label, drawn in lines.items():
        for line in drawn:
            line.set_color(runs[label][2])
            line.set_linewidth(runs[label][3] + 0.4)
            final = trajs[label].final
            line.set_label(f"{label.split(' (')[0]}: ends at ({final[0]:.2f}, {final[1]:.2f})")
    handles = [lines[label][0] for label in trajs]
    ax_path.legend(handles=handles, loc="lower left", fontsize=_font("legend"), framealpha=0.9,
                   title=f"least squares: ({w_best:.2f}, {b_best:.2f})", title_fontsize=_font("legend"))
    ax_path.set_xlabel("slope $w$")
    ax_path.set_ylabel("intercept $b$")
    ax_path.set_title(f"SGD, η = {lr}, on the mean squared error $J(w, b)$", fontsize=_font("annotation") + 1)
    for label, traj in trajs.items():
        size, _, color, lw = runs[label]
        excess = traj.loss - best
        updates = np.arange(len(excess))
        epoch = updates * size / data.n
        keep = epoch <= epochs
        ax_epoch.plot(epoch[keep], excess[keep], color=color, lw=lw, label=label)
        ax_update.plot(updates[1:], excess[1:], color=color, lw=lw,
                       label=f"{label}: {size} gradient{'s' if size > 1 else ''} per update")
    ax_epoch.set_xlabel(f"epochs (passes over the {data.n} points)")
    ax_epoch.set_title("per epoch (the same computation): small batches win", fontsize=_font("annotation") + 1)
    ax_update.set_xscale("log")
    ax_update.set_xlabel("updates (gradient evaluations)")
    ax_update.set_title("per update: the full batch is smoothest, but costs n", fontsize=_font("annotation") + 1)
    for ax in (ax_epoch, ax_update):
        ax.set_yscale("log")
        ax.set_ylim(1e-5, 3e3)  # room above the curves: the legends sit there, off the data
        ax.set_ylabel(r"$J(\theta) - J(\theta^*)$")
        ax.grid(alpha=0.3)
    ax_epoch.legend(loc="upper right", fontsize=_font("legend"), framealpha=0.9)
    ax_update.legend(loc="upper right", fontsize=_font("legend"), framealpha=0.9)
    fig.suptitle("Batch vs mini-batch vs single-sample gradient descent on a line fit, y ≈ w·x + b",
                 fontsize=_font("suptitle"))
    fig.tight_layout()
    _save(fig, path)


def learning_rate(path: Path) -> None:
    """SGD on the ravine with η too small, about right, and too large (it diverges)."""
    s = surfaces.RAVINE
    start = np.array([-5.0, -1.0])
    shown = 40  # steps drawn
    cases = {  # label: (η, steps, line style)
        "too small": (0.05, shown, ":"),
        "about right": (0.4, shown, "-"),
        "too large": (0.55, 5000, "--"),
    }
    trajs = {name: run(optimizers.SGD(lr=lr), s, start=start, steps=steps) for name, (lr, steps, _) in cases.items()}
    fig, axes = plt.subplots(2, 2, figsize=_figsize(12, 8.2))
    red = COLORS["SGD"]
    for ax, (name, traj) in zip(axes.flat, trajs.items(), strict=False):
        lr = cases[name][0]
        plot_contours(s, ax=ax, marks=False)
        mark_minima(s, ax)
        ax.plot(*start, "o", color="white", markeredgecolor="k", markersize=7, zorder=5)
        if traj.diverged:
            # the first steps only: later ones zig-zag far outside the view
            first = dataclasses.replace(traj, path=traj.path[:13], loss=traj.loss[:13], diverged=False)
            plot_paths(s, {f"SGD  η={lr}": first}, ax=ax, contours=False, legend=False)
            growth = (1 - 4 * lr) ** 2  # J's steep part, 2y², is multiplied by this each step
            note = f"J grows ×{growth:.2f} a step: ∞ (overflow) at step {traj.diverged_at}"
        else:
            plot_paths(s, {f"SGD  η={lr}": traj}, ax=ax, contours=False, legend=False)
            note = f"after {shown} steps: J = {traj.loss[shown]:.3g}"
        ax.set_title(f"η = {lr}: {name}")
        ax.text(0.98, 0.04, note, transform=ax.transAxes, ha="right", fontsize=_font("annotation"), zorder=10,
                bbox=dict(boxstyle="round", fc="white", alpha=0.95))
    ax = axes[1, 1]
    for name, traj in trajs.items():
        lr, _, style = cases[name]
        k = np.arange(min(len(traj.loss), shown + 1))
        ax.plot(k, traj.loss[k], style, color=red, lw=2, label=f"η = {lr} ({name})")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(r"$J(\theta)$")
    ax.set_title("the loss: η must stay below 2/4 = 0.5 here")
    ax.legend(loc="upper left", fontsize=_font("legend"))
    ax.grid(alpha=0.3)
    fig.suptitle(r"Gradient descent $\theta \leftarrow \theta - \eta\nabla J(\theta)$ on $J = 0.1x^2 + 2y^2$: "
                 "the learning rate η", fontsize=_font("suptitle"))
    fig.tight_layout()
    _save(fig, path)


def noisy_moons(path: Path) -> None:
    """Radford's fourth animation: seven optimizers train a network on noisy moons (kai_lib.studies.moons)."""
    from .studies import moons  # the network and its training are needed only here

    save_gif(moons.animate_boundaries(), path, dpi=moons.MOONS.dpi)


# --- the registry and the command line ----------------------------------------------------------

#: Figure name → (file name, function that writes it to a path), in the README's order.
FIGURES: dict[str, tuple[str, Callable[[Path], object]]] = {
    **{
        races.RACES[name].gif.removesuffix(".gif"): (races.RACES[name].gif, lambda p, name=name: race_gif(name, p))
        for name in ("long_valley", "beale", "saddle")
    },
    "momentum_ravine": ("momentum_ravine.png", momentum_ravine),
    "local_minima": ("local_minima.png", local_minima),
    "momentum_decay": ("momentum_decay.png", momentum_decay),
    "nag_lookahead": ("nag_lookahead.png", nag_lookahead),
    "adagrad_step_size": ("adagrad_step_size.png", adagrad_step_size),
    "adam_bias_correction": ("adam_bias_correction.png", adam_bias_correction),
    "batch_vs_minibatch": ("batch_vs_minibatch.png", batch_vs_minibatch),
    "learning_rate": ("learning_rate.png", learning_rate),
    **{
        races.RACES[name].gif_3d.removesuffix(".gif"): (races.RACES[name].gif_3d,
                                                        lambda p, name=name: race_gif_3d(name, p))
        for name in ("saddle", "long_valley")
    },
    "noisy_moons": ("noisy_moons.gif", noisy_moons),
    **{
        races.BASINS[name].png.removesuffix(".png"): (races.BASINS[name].png, lambda p, name=name: basins_png(name, p))
        for name in ("himmelblau", "local_minima")
    },
    "after_adam_beale": (after_adam.RACES["beale"].gif, lambda p: after_adam_gif("beale", p)),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kai_lib.figures",
        description="Regenerate the slide figures (deterministically) into --out.",
    )
    parser.add_argument("--out", default="figures", help="output folder (default: figures/)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these figures (see --list)")
    parser.add_argument("--list", action="store_true", help="list the figure names and exit")
    parser.add_argument("--style", default="notebook", choices=list(styles.STYLES),
                        help="sizes for a laptop (notebook, the default: what figures/ holds) or a projector "
                             "(classroom); see kai_lib.pictures.styles")
    return parser


def _writable_folder(parser: argparse.ArgumentParser, out: str) -> Path:
    """``--out`` as a folder that exists and takes files, or ``parser.error`` (one line, exit status 2)."""
    if not out.strip():
        parser.error("--out must name a folder, got an empty string (use --out . for the current folder)")
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        parser.error(f"--out {out!r} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # can a file be written there? (removed at once)
            pass
    except OSError as error:
        parser.error(f"--out {out!r}: cannot write there ({error.strerror or error})")
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status (argparse exits with 2 on bad arguments)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        for name, (filename, _) in FIGURES.items():
            print(f"{name:<22} {filename}")
        return 0
    names = list(FIGURES)
    if args.only:
        by_file = {filename: name for name, (filename, _) in FIGURES.items()}
        wanted = [by_file.get(n, n) for n in args.only]  # "beale" or "beale.gif"
        unknown = [n for n in wanted if n not in FIGURES]
        if unknown:
            parser.error(f"unknown figure name(s): {', '.join(unknown)}; known: {', '.join(FIGURES)}")
        names = [n for n in FIGURES if n in wanted]

    out = _writable_folder(parser, args.out)

    matplotlib.use("Agg")
    total = time.perf_counter()
    with styles.using(args.style), plt.rc_context({"figure.max_open_warning": 0}):
        for name in names:
            filename, make = FIGURES[name]
            target = out / filename
            start = time.perf_counter()
            try:
                make(target)
            except OSError as error:  # a full disk, a folder that went away: one line, not a traceback
                parser.error(f"cannot write {target}: {error.strerror or error}")
            seconds = time.perf_counter() - start
            print(f"{filename:<26} {seconds:5.2f} s  {target.stat().st_size / 1024:6.0f} KB", flush=True)
    print(f"{len(names)} figure(s) in {time.perf_counter() - total:.2f} s -> {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
