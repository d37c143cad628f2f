r"""A fair comparison of optimizers on a real network: every learning rate tuned under one budget.

The slides' conclusion: which optimizer works best depends on the problem, the data and
the network, so in real training one should try several and compare (실제 네트워크 학습 시
다양한 시도를 해보며 성능 비교를 수행하는 것이 적합). A comparison is only fair if every
optimizer gets the same chance, so here each one:

- trains the same network (:data:`BUDGET`: an ``MLP([64, 32, 10], "tanh")`` on
  :func:`kai_lib.data.digits`) for the same number of epochs at the same batch size;
- has its learning rate η picked from the same log grid (:data:`GRID`, 9 values half a
  decade apart, 1e-3 … 10). AdaDelta has no η: its step size is set by ε (its first
  step is :math:`\sqrt{\epsilon/(1-\gamma)}`), so ε is tuned on a grid of the same size
  (:data:`EPS_GRID`, 1e-8 … 1);
- is run with several seeds (each seed sets both the initialisation and the shuffling),
  and judged by :data:`CRITERION`: the **lowest mean final training loss** over the
  seeds, a run whose loss stopped being finite counting as +∞. Test accuracy is
  reported beside it, not used to choose (it would tune on the test set).

Choi et al. (2019, "On Empirical Comparisons of Optimizers for Deep Learning",
https://arxiv.org/abs/1910.05446) show that rankings of optimizers flip with the tuning
protocol, and that with their hyperparameters tuned the more general ones (Adam ⊃
Momentum ⊃ SGD) never lose; Schmidt et al. (2021, "Descending through a Crowded Valley",
https://arxiv.org/abs/2007.01547) benchmark fifteen optimizers and find that none
dominates, and that tuning a single one often matters about as much as switching.

>>> from kai_lib import tuning
>>> table = tuning.tune(["SGD", "Adam"])          # doctest: +SKIP
>>> print(table)                                   # doctest: +SKIP

Introduced in notebook ``10-neural-network``. (Floor 4, beside :mod:`kai_lib.studies.races`: the
settings of a comparison and its pictures.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np

from .. import data, nn, optimizers
from ..pictures.plotting import color_for

__all__ = ["Budget", "BUDGET", "GRID", "EPS_GRID", "CRITERION", "Tuned", "Table", "tune", "batch_size_study",
           "plot_sweep", "plot_curves", "plot_batch_sizes"]

#: The learning rates every optimizer chooses from: 1e-3, 3.2e-3, 1e-2, …, 3.2, 10.
GRID: np.ndarray = 10.0 ** np.arange(-3.0, 1.01, 0.5)
#: AdaDelta's ε, on a grid of the same size: 1e-8, 1e-7, …, 1.
EPS_GRID: np.ndarray = 10.0 ** np.arange(-8.0, 0.01, 1.0)
#: How the best value is chosen.
CRITERION = "lowest mean final training loss over the seeds (a run that blew up counts as +inf)"


@dataclass(frozen=True)
class Budget:
    """What every optimizer gets: the same network, epochs, batch size and seeds."""

    sizes: tuple[int, ...] = (64, 32, 10)
    activation: str = "tanh"
    epochs: int = 5
    batch_size: int = 32
    seeds: tuple[int, ...] = (0, 1, 2)


#: The budget of notebook 10's comparison: 5 epochs of 45 mini-batches of 32 (225 steps), 3 seeds.
#: Small, so the whole sweep (7 optimizers × 9 values × 3 seeds) runs in the notebook.
BUDGET = Budget()


@dataclass(frozen=True, eq=False)
class Tuned:
    """One optimizer's sweep and its runs at the chosen value.

    Attributes:
        name: the optimizer (a key of :data:`kai_lib.optimizers.ALL`).
        knob: ``"lr"``, or ``"eps"`` for AdaDelta.
        grid: the values tried.
        grid_loss: ``(len(grid), seeds)`` final training loss of each run (``inf`` if it
            blew up: see :func:`kai_lib.nn.train`).
        best_index: where the criterion picked.
        histories: the runs at the chosen value, one per seed.
        settings: the optimizer's other keyword arguments.
    """

    name: str
    knob: str
    grid: np.ndarray
    grid_loss: np.ndarray
    best_index: int
    histories: tuple[nn.History, ...]
    settings: dict = field(default_factory=dict)

    @property
    def best(self) -> float:
        return float(self.grid[self.best_index])

    @property
    def at_edge(self) -> bool:
        """The best value is the grid's first or last: the grid may be too short."""
        return self.best_index in (0, len(self.grid) - 1)

    def _over_seeds(self, values) -> tuple[float, float]:
        values = np.asarray(values, dtype=float)
        return float(values.mean()), float(values.std())

    @property
    def final_loss(self) -> tuple[float, float]:
        """Mean and standard deviation over the seeds of the final training loss."""
        return self._over_seeds([h.loss_per_epoch[-1] for h in self.histories])

    @property
    def test_accuracy(self) -> tuple[float, float]:
        """Mean and standard deviation over the seeds of the final test accuracy."""
        return self._over_seeds([h.test_accuracy[-1] for h in self.histories])

    @property
    def seconds(self) -> float:
        """Mean wall time of one training run (the steps only)."""
        return float(np.mean([h.seconds[-1] for h in self.histories]))

    def optimizer(self) -> optimizers.Optimizer:
        """A fresh optimizer with the chosen value."""
        return optimizers.ALL[self.name](**self.settings, **{self.knob: self.best})


class Table(dict):
    """``{optimizer name: Tuned}``; ``print(table)`` shows the tuned results (no times, so it repeats)."""

    def __init__(self, results, budget: Budget):
        super().__init__(results)
        self.budget = budget

    def text(self, seconds: bool = False) -> str:
        """The table as text: tuned value, final loss and test accuracy (mean ± std over seeds)."""
        b = self.budget
        lines = [f"{b.epochs} epochs, batch {b.batch_size}, {len(b.seeds)} seeds, {len(GRID)}-point grid; "
                 f"criterion: {CRITERION}",
                 f"{'optimizer':10s} {'tuned':>11s}  {'final loss':>17s}  {'test accuracy':>15s}"
                 + ("   s/run" if seconds else "")]
        for name, t in self.items():
            (loss, loss_sd), (acc, acc_sd) = t.final_loss, t.test_accuracy
            knob = "η" if t.knob == "lr" else "ε"
            edge = "*" if t.at_edge else " "
            blown = [h.blew_up_at for h in t.histories if h.blew_up]
            if blown:   # every value blew up: its loss is the outcome, not a number to compare
                line = (f"{name:10s} {knob} = {t.best:<7.2g}{edge} {'blew up':>17s}  "
                        f"{'(epoch ' + str(min(blown)) + ')':>15s}")
            else:
                line = (f"{name:10s} {knob} = {t.best:<7.2g}{edge} {loss:8.4f} ± {loss_sd:6.4f}  "
                        f"{100 * acc:6.1f} ± {100 * acc_sd:3.1f} %")
            lines.append(line + (f"  {t.seconds:6.2f}" if seconds else ""))
        if any(t.at_edge for t in self.values()):
            lines.append("* at the edge of its grid")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__


def _run(name: str, knob: str, value: float, settings: dict, budget: Budget, dataset, seed: int) -> nn.History:
    X_train, X_test, y_train, y_test = dataset
    net = nn.MLP(list(budget.sizes), activation=budget.activation, seed=seed)
    opt = optimizers.ALL[name](**settings, **{knob: float(value)})
    return nn.train(opt, net, X_train, y_train, epochs=budget.epochs, batch_size=budget.batch_size, seed=seed,
                    X_test=X_test, y_test=y_test)


def tune(names: Sequence[str] = optimizers.SLIDES, budget: Budget = BUDGET, grid: Sequence[float] | None = None,
         dataset=None, settings: dict[str, dict] | None = None) -> Table:
    """Tune each optimizer's learning rate (AdaDelta's ε) on a log grid under one budget.

    Args:
        names: optimizers, keys of :data:`kai_lib.optimizers.ALL`.
        budget: network, epochs, batch size and seeds, the same for all.
        grid: the learning rates (default :data:`GRID`); AdaDelta uses :data:`EPS_GRID`
            unless ``grid`` is given.
        dataset: ``(X_train, X_test, y_train, y_test)``, default :func:`kai_lib.data.digits`.
        settings: fixed keyword arguments per optimizer, e.g. ``{"Momentum": {"gamma": 0.95}}``.

    Returns:
        A :class:`Table` in the order of ``names``. Every run is deterministic, so the
        table is too (its times aside).
    """
    for name in names:
        optimizers.get(name)  # unknown names: a KeyError that lists the known ones
    if not (isinstance(budget, Budget)):
        raise TypeError(f"budget must be a kai_lib.studies.tuning.Budget, got {budget!r}")
    if grid is not None:
        grid = np.asarray(grid, dtype=float)
        if grid.ndim != 1 or len(grid) < 2 or not np.all(np.isfinite(grid) & (grid > 0)):
            raise ValueError(f"grid must be at least two finite values > 0, got {grid!r}")
    dataset = data.digits() if dataset is None else dataset
    settings = settings or {}
    results = {}
    for name in names:
        cls = optimizers.get(name)
        name = cls.__name__ if cls.__name__ in optimizers.ALL else name
        knob = "lr" if "lr" in cls().hyperparameters() else "eps"
        values = grid if grid is not None else (GRID if knob == "lr" else EPS_GRID)
        runs = [[_run(name, knob, v, settings.get(name, {}), budget, dataset, s) for s in budget.seeds]
                for v in values]
        grid_loss = np.array([[np.inf if h.blew_up else h.loss_per_epoch[-1] for h in row] for row in runs])
        best = int(np.argmin(grid_loss.mean(axis=1)))
        results[name] = Tuned(name, knob, np.asarray(values, dtype=float), grid_loss, best, tuple(runs[best]),
                              dict(settings.get(name, {})))
    return Table(results, budget)


def batch_size_study(name: str = "SGD", batch_sizes: Sequence[int | None] = (1, 32, None), epochs: int = 3,
                     full_batch_epochs: int = 60, grid: Sequence[float] = (1e-2, 1e-1, 1.0, 10.0),
                     seed: int = 0, dataset=None) -> dict[int, tuple[float, nn.History]]:
    """The same network at several batch sizes, each with its own η tuned on ``grid``.

    Batch size 1 is single-sample SGD, ``None`` the full training set (batch gradient
    descent). Every batch size trains for ``epochs`` epochs except the full batch, which
    takes one step per epoch and gets ``full_batch_epochs``, so that per *second* it can
    be compared too. η is chosen by the lowest final training loss (one seed).

    Returns:
        ``{batch size: (tuned η, History)}``.
    """
    X_train, X_test, y_train, y_test = data.digits() if dataset is None else dataset
    out = {}
    for b in batch_sizes:
        size = len(X_train) if b is None else b
        E = full_batch_epochs if b is None else epochs
        net = nn.MLP(list(BUDGET.sizes), activation=BUDGET.activation, seed=seed)
        runs = [nn.train(optimizers.get(name)(lr=lr), net, X_train, y_train,
                         epochs=E, batch_size=size, seed=seed, X_test=X_test, y_test=y_test) for lr in grid]
        losses = [np.inf if h.blew_up else h.loss_per_epoch[-1] for h in runs]
        best = int(np.argmin(losses))
        out[size] = (float(grid[best]), runs[best])
    return out


# --- pictures ----------------------------------------------------------------------------------

def plot_sweep(table: Table, ax=None):
    """Final training loss (mean over seeds) against the tuned value, one curve per optimizer.

    AdaDelta's ε is drawn at its first step √(ε/(1−γ)).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    for i, (name, t) in enumerate(table.items()):
        mean = t.grid_loss.mean(axis=1)
        gamma = t.settings.get("gamma", 0.9)
        # AdaDelta has no η: it sits at its first step √(ε/(1−γ)), the size an η gives the others' first steps
        x = t.grid if t.knob == "lr" else np.sqrt(t.grid / (1 - gamma))
        label = name if t.knob == "lr" else f"{name} (at √(ε/(1−γ)))"
        ax.plot(x, np.where(np.isfinite(mean), mean, np.nan), "-o", ms=4, color=color_for(name, i), label=label)
        ax.plot(x[t.best_index], mean[t.best_index], "*", ms=14, color=color_for(name, i), mec="k")
    ax.set(xscale="log", yscale="log", xlabel="η (the grid)", ylabel="final training loss (mean of seeds)",
           title="The sweep: every optimizer on the same grid, ★ = tuned")
    ax.legend(fontsize="small", ncol=2)
    return ax


def plot_curves(table: Table, x: str = "epoch", ax=None):
    """Training loss at the tuned value against epochs (``x="epoch"``) or seconds (``"seconds"``).

    The line is the mean over the seeds, the band spans the lowest and highest seed.
    """
    if x not in ("epoch", "seconds"):
        raise ValueError(f"x must be 'epoch' or 'seconds', got {x!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    for i, (name, t) in enumerate(table.items()):
        losses = np.array([h.loss_per_epoch for h in t.histories])
        xs = (np.arange(losses.shape[1]) if x == "epoch"
              else np.mean([h.seconds for h in t.histories], axis=0))
        color = color_for(name, i)
        ax.plot(xs, losses.mean(axis=0), color=color, lw=2, label=name)
        ax.fill_between(xs, losses.min(axis=0), losses.max(axis=0), color=color, alpha=0.2, lw=0)
    ax.set(yscale="log", xlabel="epoch" if x == "epoch" else "wall time of the steps (s)", ylabel="training loss")
    ax.legend(fontsize="small", ncol=2)
    return ax


def plot_batch_sizes(study: dict[int, tuple[float, nn.History]], axes=None):
    """Loss against epochs and against seconds, one curve per batch size."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4))
    n = max(study)
    for i, (size, (lr, h)) in enumerate(study.items()):
        label = f"batch {size}" + (" (full)" if size == n else "") + f", η = {lr:g}"
        color = ["#d62728", "#1f77b4", "#111111", "#2ca02c"][i % 4]
        axes[0].plot(np.arange(len(h.loss_per_epoch)), h.loss_per_epoch, "-", color=color, lw=2, label=label)
        axes[1].plot(h.seconds, h.loss_per_epoch, "-", color=color, lw=2, label=label)
    axes[0].set(xscale="symlog", yscale="log", xlabel="epoch", ylabel="training loss", title="per epoch")
    axes[1].set(yscale="log", xlabel="wall time of the steps (s)", title="per second")
    axes[0].legend(fontsize="small")
    return axes
