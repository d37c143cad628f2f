r"""Comparing optimizers: first steps from the zero state, learning-rate sweeps, heat maps.

Two things the notebooks measure again and again live here, once.

**The first step from the zero state** (notebooks 05–08). Every adaptive optimizer of
the slides divides its first step by the root of an average of squared gradients that
starts at 0. After one step that average is :math:`c\,g^2`, with :math:`c = 1` for
Adagrad and for Adam's bias-corrected :math:`\hat v_1`, and :math:`c = 1-\gamma` for
RMSProp, so the first step, in units of η, is

.. math::
    \frac{|g|}{\sqrt{c\,g^2 + \epsilon}} \quad (\epsilon \text{ inside the root, the slides})
    \qquad\text{or}\qquad
    \frac{|g|}{\sqrt{c}\,|g| + \epsilon} \quad (\epsilon \text{ outside, the papers and PyTorch}).

:func:`first_step_formula` is that formula; :func:`first_step` measures the same number on
the real optimizer, and :func:`first_step_table` / :func:`eps_placement` print it for a
few gradients and settings. Notebook ``05-adagrad`` derives it; 06–08 refer back to it.

**A fair learning-rate sweep** (notebook ``09-comparison``): every optimizer of the slides,
on each of the three races of :mod:`kai_lib.studies.races`, at 9 learning rates half a decade apart
(AdaDelta, which has none, at 9 values of ε), from 8 seeded start points at once, scored by
a stated criterion (:func:`score`). :func:`sweep` runs it, :func:`best_table` prints each
optimizer's best setting, and :func:`heat_map` draws the whole sweep as an
η × optimizer grid with the score written in every cell.

>>> from kai_lib import optimizers
>>> from kai_lib.studies import comparison
>>> comparison.first_step(optimizers.Adagrad, [1.0, 1e-3], eps=1e-4).round(4).tolist()
[1.0, 0.0995]
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors

from .. import checks, optimizers
from ..pictures.labels import knob
from ..runner import Trajectory, run
from . import tuning
from .races import RACES

__all__ = ["first_step", "first_step_formula", "first_step_table", "eps_placement",
           "LRS", "EPSILONS", "STEPS", "N_STARTS", "TUNE_STARTS", "EVAL_STARTS", "Start", "protocol",
           "start_points", "score_each", "make", "score", "Sweep", "sweep",
           "best_table", "heat_map", "heat_maps", "compact_png"]


# --- the first step from the zero state ----------------------------------------------------

def first_step(cls: type[optimizers.Optimizer], gradient, **hyperparameters) -> np.ndarray:
    r"""How far one step of a fresh ``cls(**hyperparameters)`` moves θ = 0, per coordinate, in units of η.

    The gradient is ``gradient`` (constant), so the result is :math:`|\Delta\theta_1| / \eta`
    (for AdaDelta, which has no η, the distance itself).

    >>> first_step(optimizers.RMSProp, [1.0], gamma=0.9).round(3).tolist()   # 1/√(1−γ)
    [3.162]
    """
    g = np.asarray(gradient, dtype=float)
    opt = cls(**hyperparameters)
    moved = np.abs(opt.step(np.zeros_like(g), lambda _: g))
    return moved / getattr(opt, "lr", 1.0)


def first_step_formula(gradient, eps: float, inside: bool = True, c: float = 1.0) -> np.ndarray:
    r"""The first step in units of η, by formula (ε inside or outside the root).

    .. math:: \frac{|g|}{\sqrt{c\,g^2+\epsilon}} \quad\text{or}\quad \frac{|g|}{\sqrt c\,|g|+\epsilon}

    ``c`` is what the squared-gradient average holds after one step, per unit of :math:`g^2`:
    1 for Adagrad and Adam (bias-corrected), :math:`1-\gamma` for RMSProp.
    """
    g = np.abs(np.asarray(gradient, dtype=float))
    return g / np.sqrt(c * g**2 + eps) if inside else g / (np.sqrt(c) * g + eps)


def first_step_table(cls: type[optimizers.Optimizer], gradients: Sequence[float],
                     settings: Mapping[str, Mapping[str, object]], fmt: str = "{:9.4f}") -> str:
    """A table of :func:`first_step`: one row per labelled setting, one column per gradient.

    The steps are in units of η (``first step / η``), or plain distances for AdaDelta.
    """
    title = "first step / η for g =" if "lr" in inspect.signature(cls).parameters else "first step for g ="
    width = max(len(title), *(len(label) for label in settings))
    head = f"{title:<{width}}" + "".join(f"{g:>10.0e}" for g in gradients)
    rows = [f"{label:<{width}}" + "".join(" " + fmt.format(x) for x in first_step(cls, gradients, **kwargs))
            for label, kwargs in settings.items()]
    return "\n".join([head, *rows])


def eps_placement(cls: type[optimizers.Optimizer], gradients: Sequence[float], eps_values: Sequence[float],
                  fmt: str = "{:9.4f}", **hyperparameters) -> str:
    """:func:`first_step_table` for each ε, inside the root (the slides) and outside (PyTorch)."""
    settings = {}
    for eps in eps_values:
        settings[f"ε = {eps:g}, inside the root"] = {**hyperparameters, "eps": eps}
        settings[f"ε = {eps:g}, outside the root"] = {**hyperparameters, "eps": eps, "eps_inside_sqrt": False}
    return first_step_table(cls, gradients, settings, fmt=fmt)


# --- the fair sweep ------------------------------------------------------------------------

#: The learning rates of the sweep: the collection's one grid, :data:`kai_lib.studies.tuning.GRID` (10⁻³ … 10).
LRS = tuning.GRID
#: AdaDelta's ε values instead (its first step is √(ε/(1−γ)): 3·10⁻⁴ … 3.2): :data:`tuning.EPS_GRID`.
EPSILONS = tuning.EPS_GRID
#: The budget: steps per run.
STEPS = 100
#: Start points per race, run at once as a batch.
N_STARTS = 8
#: What each race's score measures (lower is better).
CRITERIA = {"long_valley": "loss J after {steps} steps", "beale": "loss J after {steps} steps",
            "saddle": "steps until |y| > 1"}
_HEADER = {"long_valley": "J after {steps}", "beale": "J after {steps}", "saddle": "steps to |y|>1"}


def start_points(n: int = N_STARTS, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` seeded start points per race, near the race's start (on the saddle: spread along the ridge).

    Long valley: normal noise of 0.2 around its start; Beale: 0.1; saddle: x uniform in
    [0.5, 1], y = ±(0.5 … 2)·10⁻³. One generator draws all three, in this order.
    """
    rng = np.random.default_rng(seed)
    start = {name: np.asarray(r.start if r.start is not None else r.surface.start, dtype=float)
             for name, r in RACES.items()}
    return {
        "long_valley": start["long_valley"] + rng.normal(0, 0.2, (n, 2)),
        "beale": start["beale"] + rng.normal(0, 0.1, (n, 2)),
        "saddle": np.column_stack([rng.uniform(0.5, 1.0, n),
                                   rng.choice([-1, 1], n) * rng.uniform(0.5, 2.0, n) * 1e-3]),
    }


def swept(name: str) -> np.ndarray:
    """The values swept for optimizer ``name``: :data:`LRS`, or :data:`EPSILONS` for AdaDelta (:func:`knob`)."""
    return LRS if knob(name) == "lr" else EPSILONS


def make(name: str, value: float) -> optimizers.Optimizer:
    """Optimizer ``name`` at one value of its sweep: ``lr=value``, or ``eps=value`` for AdaDelta (:func:`knob`)."""
    return optimizers.ALL[name](**{knob(name): value})


def score_each(race_name: str, traj: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, blew_up)``, one of each per start point of a batch run (see :func:`score`)."""
    path = traj.path                                   # (steps + 1, n_starts, 2)
    if race_name != "saddle":
        blew_up = np.asarray(traj.diverged, dtype=bool) | (np.abs(path[-1]).max(axis=-1) > 100)
        return np.where(blew_up, np.inf, traj.loss[-1]), blew_up
    out = np.abs(path[..., 1]) > 1
    escaped = out.any(axis=0)
    at = np.where(escaped, out.argmax(axis=0), len(path) - 1)        # first step with |y| > 1
    blew_up = np.array([np.any(np.abs(path[: k + 1, i, 0]) > 1.5) for i, k in enumerate(at)])
    return np.where(escaped & ~blew_up, at.astype(float), np.inf), blew_up


def score(race_name: str, traj: Trajectory) -> tuple[float, bool]:
    """``(score, blew_up)`` of a batch run: the criterion averaged over the start points.

    Long valley and Beale: the mean loss after the run; a run that *blows up* (any start
    point diverged, or ended more than 100 from the origin) fails. Saddle: the mean number
    of steps until ``|y| > 1``; it fails if any start point never gets there, or is thrown
    off the view sideways (``|x| > 1.5``) first, which counts as blowing up. A failure
    scores ``inf``.
    """
    scores, blew_up = score_each(race_name, traj)
    return float(scores.mean()) if np.all(np.isfinite(scores)) else np.inf, bool(blew_up.any())


@dataclass(frozen=True)
class Sweep:
    """One race's sweep: per optimizer, the swept values, their scores and which blew up.

    Attributes:
        race: the race's name (a key of :data:`kai_lib.studies.races.RACES`).
        steps: the budget.
        values: optimizer → the swept values (η, or ε for AdaDelta).
        scores: optimizer → one score per value (``inf`` = fails); lower is better.
        blew_up: optimizer → one flag per value.
    """

    race: str
    steps: int
    values: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]
    blew_up: dict[str, np.ndarray]

    @property
    def criterion(self) -> str:
        return CRITERIA[self.race].format(steps=self.steps)

    def step_scale(self, name: str) -> np.ndarray:
        """Where each value sits on a common axis: η, or AdaDelta's first step √(ε/(1−γ)) (γ = 0.9)."""
        return np.sqrt(self.values[name] / (1 - 0.9)) if name == "AdaDelta" else self.values[name]

    def best(self, name: str) -> tuple[float, float]:
        """``(value, score)`` of optimizer ``name``'s best setting (score ``inf`` if all fail)."""
        i = int(np.argmin(self.scores[name]))
        return float(self.values[name][i]), float(self.scores[name][i])


def sweep(race_name: str, names: Sequence[str] = optimizers.SLIDES, steps: int = STEPS,
          starts: np.ndarray | None = None, schedule=None) -> Sweep:
    """Run every optimizer of ``names`` at every value of its sweep on race ``race_name``.

    ``schedule``: ``None`` (a constant η), or a function ``(lr, steps) -> schedule`` that makes
    the learning-rate schedule of each value of the sweep, e.g.
    ``lambda lr, steps: schedules.cosine(lr, total=steps)``; ``run`` then sets ``lr`` before
    every step (AdaDelta, which has no ``lr``, refuses one: leave it out of ``names``).
    """
    if race_name not in RACES:
        checks.unknown("race_name", race_name, RACES, "race")
    starts = start_points()[race_name] if starts is None else np.asarray(starts, dtype=float)
    surface = RACES[race_name].surface
    values, scores, blew_up = {}, {}, {}
    for name in names:
        results = [score(race_name, run(make(name, v), surface, start=starts, steps=steps,
                                        schedule=None if schedule is None else schedule(v, steps)))
                   for v in swept(name)]
        values[name] = swept(name)
        scores[name] = np.array([s for s, _ in results])
        blew_up[name] = np.array([b for _, b in results])
    return Sweep(race_name, steps, values, scores, blew_up)


#: The protocol's start points (:func:`protocol`): tuned on the starts of seeds 0–7, judged on those of 100–109.
TUNE_STARTS = range(8)
EVAL_STARTS = range(100, 110)


class Start:
    """``criterion(optimizer, seed)`` of a race for :func:`kai_lib.studies.tuning.compare`: one start point per seed.

    The seed draws the start point (``start_points(1, seed)``: near the race's start, on
    the saddle along the ridge), the optimizer runs ``steps`` steps from it, and the
    criterion is :func:`score`'s (``inf`` if it blows up). Tuning on some start points
    and judging on others asks what a learner of the 2-D notebooks wants to know: does
    the η that looked best from *these* starts also work from a start it was not tuned on?
    """

    def __init__(self, race_name: str, steps: int = STEPS):
        if race_name not in RACES:
            checks.unknown("race_name", race_name, RACES, "race")
        self.race, self.steps = race_name, steps

    @property
    def budget(self) -> str:
        return f"{self.steps} steps from one start point per seed on {RACES[self.race].surface.title}"

    @property
    def criterion(self) -> str:
        return CRITERIA[self.race].format(steps=self.steps) + " (lower is better; blowing up fails)"

    def __call__(self, optimizer: optimizers.Optimizer, seed: int) -> float:
        return float(self.many(optimizer, [seed])[0])

    def many(self, optimizer: optimizers.Optimizer, seeds: Sequence[int]) -> np.ndarray:
        """The criterion of every seed at once: one batch run (every rule is element-wise, so the same numbers)."""
        starts = np.concatenate([start_points(1, seed)[self.race] for seed in seeds])
        traj = run(optimizer, RACES[self.race].surface, start=starts, steps=self.steps)
        return score_each(self.race, traj)[0]


def protocol(race_name: str, names: Sequence[str] = optimizers.SLIDES, steps: int = STEPS) -> tuning.Comparison:
    """The comparison protocol on race ``race_name``: tuned on :data:`TUNE_STARTS`, judged on :data:`EVAL_STARTS`.

    Notebook 09 prints it; notebook 10 sets it beside the digits network's. The same
    grids as :func:`sweep` (:data:`LRS`, :data:`EPSILONS`).
    """
    return tuning.compare(names, Start(race_name, steps), tune_seeds=TUNE_STARTS, eval_seeds=EVAL_STARTS)


def _short(x: float) -> str:
    """A score in at most 5 characters: 0.29, 0.0011, 3e-05 → 3e-5, 6.5, 72."""
    if not np.isfinite(x):
        return "✕"
    if x >= 0.01 or x == 0:
        return f"{x:.2g}"
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def best_table(sweeps: Mapping[str, Sweep]) -> str:
    """Each optimizer's best setting and its score, one column per race."""
    names = list(next(iter(sweeps.values())).values)
    titles = {r: RACES[r].surface.title for r in sweeps}
    lines = [f"{'':9}" + "".join(f" | {titles[r]:^22}" for r in sweeps),
             f"{'':9}" + "".join(f" | {'best':>7} {_HEADER[r].format(steps=s.steps):>14}" for r, s in sweeps.items())]
    for name in names:
        row = f"{name:9}"
        for s in sweeps.values():
            value, best = s.best(name)
            setting = f"ε={value:.0e}" if name == "AdaDelta" else f"η={value:.2g}"
            row += f" | {setting:>7} {best:>14.2g}" if np.isfinite(best) else f" | {'-':>7} {'fails':>14}"
        lines.append(row)
    return "\n".join(lines)


def heat_map(s: Sweep, ax=None, fontsize: float = 13, cmap: str = "viridis_r"):
    """The sweep as an η × optimizer grid: colour = score (log for losses), the score or ✕ in each cell.

    Columns are half-decades of :meth:`Sweep.step_scale` (η; AdaDelta at its first step),
    rows the optimizers; a cell not swept is left blank, a failure is a grey ✕, each
    row's best cell has a thick frame. Returns the ``AxesImage``; the colour bar is added.
    """
    ax = plt.subplots(figsize=(12, 4.6))[1] if ax is None else ax
    names = list(s.values)
    cols = {name: np.rint(2 * np.log10(s.step_scale(name))).astype(int) for name in names}  # half-decades
    lo = min(c.min() for c in cols.values())
    hi = max(c.max() for c in cols.values())
    grid = np.full((len(names), hi - lo + 1), np.nan)
    swept_cells = np.zeros_like(grid, dtype=bool)
    for i, name in enumerate(names):
        grid[i, cols[name] - lo] = s.scores[name]
        swept_cells[i, cols[name] - lo] = True
    log = s.race != "saddle"
    finite = grid[np.isfinite(grid)]
    if log:
        finite = np.maximum(finite, 1e-10)
        norm = mcolors.LogNorm(vmin=finite.min(), vmax=finite.max())
    else:
        norm = mcolors.Normalize(vmin=0, vmax=finite.max())
    shown = np.where(np.isfinite(grid), np.maximum(grid, 1e-10) if log else grid, np.nan)
    cm = plt.get_cmap(cmap).with_extremes(bad="white")
    image = ax.imshow(shown, cmap=cm, norm=norm, aspect="auto")
    for i, name in enumerate(names):
        best = int(np.argmin(s.scores[name])) if np.isfinite(s.scores[name]).any() else None
        for j in range(grid.shape[1]):
            if not swept_cells[i, j]:
                continue
            x = grid[i, j]
            if not np.isfinite(x):
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, color="0.85", zorder=1))
                ax.text(j, i, "✕", ha="center", va="center", fontsize=fontsize + 2, color="0.35", zorder=2)
                continue
            rgba = cm(norm(shown[i, j]))
            light = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.55
            ax.text(j, i, _short(x), ha="center", va="center", fontsize=fontsize, zorder=2,
                    color="black" if light else "white", fontweight="bold" if j == cols[name][best] - lo else None)
        if best is not None:
            ax.add_patch(plt.Rectangle((cols[name][best] - lo - 0.5, i - 0.5), 1, 1, fill=False, lw=3.5,
                                       ec="#d62728", zorder=3))
    ax.set_yticks(range(len(names)), names, fontsize=fontsize + 1)
    ax.set_xticks(range(grid.shape[1]), [f"{10 ** ((lo + k) / 2):.2g}" for k in range(grid.shape[1])],
                  fontsize=fontsize)
    ax.set_xlabel("learning rate η   (AdaDelta: its first step √(ε/(1−γ)))", fontsize=fontsize)
    ax.set_title(f"{RACES[s.race].surface.title}: {s.criterion}  (✕ fails, framed: each row's best)",
                 fontsize=fontsize + 2)
    bar = ax.figure.colorbar(image, ax=ax, pad=0.01)
    bar.set_label(s.criterion, fontsize=fontsize)
    bar.ax.tick_params(labelsize=fontsize - 1)
    return image


def heat_maps(sweeps: Mapping[str, Sweep], fontsize: float = 13) -> plt.Figure:
    """:func:`heat_map` for each race, stacked, one figure."""
    fig, axes = plt.subplots(len(sweeps), 1, figsize=(12, 4.3 * len(sweeps)), squeeze=False)
    for ax, s in zip(axes[:, 0], sweeps.values(), strict=True):
        heat_map(s, ax=ax, fontsize=fontsize)
    fig.tight_layout()
    return fig




class _PNG:
    """PNG bytes that Jupyter shows as an image."""

    def __init__(self, data: bytes, size: tuple[int, int]):
        self.data, self.size = data, size

    def _repr_png_(self) -> bytes:
        return self.data

    def __repr__(self) -> str:
        return f"<PNG, {self.size[0]} × {self.size[1]} px>"


def compact_png(fig: plt.Figure, colors: int = 96, dpi: int = 100) -> _PNG:
    """``fig`` as a palette PNG of ``colors`` colours (about a third of the bytes of matplotlib's), closed.

    A heat map full of numbers is mostly anti-aliased text, which a full-colour PNG stores
    expensively; the picture looks the same with a small palette.
    """
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    image = Image.open(buffer).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                                        dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return _PNG(out.getvalue(), image.size)
