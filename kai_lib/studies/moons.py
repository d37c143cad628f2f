r"""Noisy moons: the slides' optimizers train a small network, and its decision boundary moves.

Alec Radford's fourth animation (2014), the one the slides leave out, ran SGD,
Momentum, NAG, Adagrad, AdaDelta and RMSProp on scikit-learn's "noisy moons"; here
Adam joins them. Each optimizer trains the same small network (:data:`MOONS`:
``MLP([2, 16, 2], "tanh")``, the same initial θ) on the same 200 noisy points, with the
same shuffled mini-batches; the animation shows, for each, the network's decision
boundary (where :math:`p(\text{class 1}) = 0.5`) epoch after epoch, beside the training
loss of all seven.

Every setting is in :data:`MOONS` and nowhere else; ``tests/test_figures.py`` checks the
caption as numbers. These are *not* tuned learning rates (notebook 10 tunes them on
digits): η = 0.1 for the methods whose step is η times the gradient, η = 0.01 for
RMSProp and Adam, whose first steps are about η per coordinate whatever the gradient
(the slides' defaults, 0.001, times ten), and AdaDelta as in :mod:`kai_lib.studies.races`.

>>> from kai_lib.studies import moons
>>> runs = moons.train_all()          # {"SGD": History, ...}, θ kept after every epoch
>>> anim = moons.animate_boundaries(runs)   # doctest: +SKIP

Also :func:`explore`, the live widget (optimizer, η, batch size, hidden width).
Floor 4: it uses :mod:`kai_lib.nn`, :mod:`kai_lib.data`, and the project's colours and GIF
writer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from .. import data, nn, optimizers
from ..pictures.animation import FrameAnimation, frame_steps
from ..pictures.labels import knob, label
from ..pictures.plotting import color_for
from ..pictures.render import SLIDER_STYLE, SLIDER_WIDTH, SliderPanel, png, slider
from .races import Racers

__all__ = ["Moons", "MOONS", "train_all", "first_epoch_at", "BoundaryAnimation", "animate_boundaries",
           "MoonsExplorer", "explore"]


@dataclass(frozen=True)
class Moons(Racers):
    """The noisy-moons race: data, network, budget and one setting per optimizer.

    Attributes:
        n, noise, seed: the data, :func:`kai_lib.data.moons`; the test set is 1,000 more
            points from ``seed + 1``.
        sizes, activation, net_seed: the network (every optimizer starts from the same θ).
        epochs, batch_size, shuffle_seed: the training (the same batches for everyone).
        settings: optimizer name → its keyword hyperparameters, in the slides' order.
        caption: what the picture shows, in the numbers of the test.
        frames: frames of the animation.
        dpi: its resolution in the GIF (10.4 in × 76 dpi = 790 px wide; 11 pt text is 11.6 px).
        gif: the file ``python -m kai_lib.figures`` writes.
    """

    n: int = 200
    noise: float = 0.2
    seed: int = 0
    sizes: tuple[int, ...] = (2, 16, 2)
    activation: str = "tanh"
    net_seed: int = 0
    epochs: int = 100
    batch_size: int = 20
    shuffle_seed: int = 0
    settings: dict[str, dict[str, float]] = field(default_factory=lambda: {
        "SGD": {"lr": 0.1},
        "Momentum": {"lr": 0.1},
        "NAG": {"lr": 0.1},
        "Adagrad": {"lr": 0.1},
        "RMSProp": {"lr": 0.01},
        "AdaDelta": {"gamma": 0.95, "eps": 5e-4},
        "Adam": {"lr": 0.01},
    })
    caption: str = (
        "The same network, start and mini-batches for all seven, 100 epochs. SGD's boundary "
        "stays almost a straight line (92 % of the training points right); Momentum and NAG "
        "bend it between the moons first (95 % by epoch 17); the adaptive methods get there "
        "later, Adagrad last as its steps shrink."
    )
    frames: int = 60
    dpi: int = 76
    gif: str = "noisy_moons.gif"

    def dataset(self):
        """``X, y, X_test, y_test``."""
        X, y = data.moons(n=self.n, noise=self.noise, seed=self.seed)
        X_test, y_test = data.moons(n=1000, noise=self.noise, seed=self.seed + 1)
        return X, y, X_test, y_test

    def net(self, hidden: int | None = None) -> nn.MLP:
        sizes = list(self.sizes) if hidden is None else [self.sizes[0], int(hidden), self.sizes[-1]]
        return nn.MLP(sizes, activation=self.activation, seed=self.net_seed)


#: The settings of the noisy-moons animation.
MOONS = Moons()


def train_all(moons: Moons = MOONS) -> dict[str, nn.History]:
    """Train one network per optimizer of ``moons.settings``; θ is kept after every epoch."""
    X, y, X_test, y_test = moons.dataset()
    net = moons.net()
    return {name: nn.train(moons.optimizer(name), net, X, y, epochs=moons.epochs, batch_size=moons.batch_size,
                           seed=moons.shuffle_seed, X_test=X_test, y_test=y_test, keep_theta=True)
            for name in moons.settings}


def train_accuracy(hist: nn.History, moons: Moons = MOONS) -> np.ndarray:
    """Training accuracy after each epoch, ``(epochs + 1,)``."""
    X, y, _, _ = moons.dataset()
    net = moons.net()
    return np.array([net.accuracy(theta, X, y) for theta in hist.theta_per_epoch])


def first_epoch_at(hist: nn.History, accuracy: float = 0.95, moons: Moons = MOONS) -> int:
    """The first epoch after which the training accuracy is at least ``accuracy`` (-1 if never)."""
    hits = np.flatnonzero(train_accuracy(hist, moons) >= accuracy)
    return int(hits[0]) if hits.size else -1


# --- the picture --------------------------------------------------------------------------------

#: The predicted class: red where p(class 1) < 0.5, blue above; the boundary is where they
#: meet. Two flat colours keep the GIF small (shades of confidence more than double it).
_BANDS = [0.0, 0.5, 1.0]
_BAND_COLORS = ["#f7bcbc", "#c4d6f5"]
_POINT_COLORS = ("#c0392b", "#1f4e9c")


def _probability_grid(net: nn.MLP, thetas: np.ndarray, xlim, ylim, n: int = 90) -> np.ndarray:
    """p(class 1) on an ``n × n`` grid for each θ: ``(len(thetas), n, n)``."""
    xs, ys = np.linspace(*xlim, n), np.linspace(*ylim, n)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    return np.array([net.predict_proba(theta, grid)[:, 1].reshape(n, n) for theta in thetas])


def _limits(X):
    pad = 0.4
    return (X[:, 0].min() - pad, X[:, 0].max() + pad), (X[:, 1].min() - pad, X[:, 1].max() + pad)


class BoundaryAnimation(FrameAnimation):
    """Decision boundaries growing epoch by epoch, one panel per optimizer, and the loss curves.

    A :class:`~kai_lib.pictures.animation.FrameAnimation`, as the races are: drawn and saved the
    same way (the background once, only the moving artists per frame, one shared palette), so
    :func:`kai_lib.save_gif` and :func:`kai_lib.show` take it as they take a race.
    Each frame moves every image with ``set_data`` and every loss curve with ``set_data``.

    Attributes:
        steps_shown: the epoch each frame shows.
    """

    def __init__(self, runs: dict[str, nn.History], moons: Moons = MOONS, frames: int | None = None,
                 interval: int = 100, figsize=(10.4, 5.5), grid_points: int = 60):
        X, y, _, _ = moons.dataset()
        net = moons.net()
        self.runs = dict(runs)
        n_epochs = max(h.epochs for h in runs.values())
        steps_shown = frame_steps(n_epochs, frames or moons.frames, pace=1.6)
        xlim, ylim = _limits(X)
        fig = plt.figure(figsize=figsize)
        grid = fig.add_gridspec(2, 5, width_ratios=[1, 1, 1, 1, 1.55], left=0.01, right=0.955, bottom=0.1,
                                top=0.86, wspace=0.08, hspace=0.2)
        panels = [fig.add_subplot(grid[r, c]) for r in range(2) for c in range(4)]
        loss_ax = fig.add_subplot(grid[:, 4])
        palette = list(_BAND_COLORS) + list(_POINT_COLORS) + ["white", "black"]
        self.images, self.curves, self.texts, self.points = {}, {}, {}, []
        self._probs = {}
        cmap, norm = ListedColormap(_BAND_COLORS), BoundaryNorm(_BANDS, len(_BAND_COLORS))
        for i, (name, hist) in enumerate(self.runs.items()):
            ax = panels[i]
            color = color_for(name, i)
            palette.append(color)
            shown = np.minimum(steps_shown, hist.epochs)
            self._probs[name] = _probability_grid(net, hist.theta_per_epoch[shown], xlim, ylim, grid_points)
            self.images[name] = ax.imshow(self._probs[name][0], origin="lower", extent=(*xlim, *ylim), cmap=cmap,
                                          norm=norm, aspect="auto", interpolation="nearest")
            self.points.append(ax.scatter(X[:, 0], X[:, 1], c=[_POINT_COLORS[k] for k in y], s=7, lw=0))
            ax.set(xlim=xlim, ylim=ylim, xticks=[], yticks=[])
            ax.set_title(name, color=color, fontsize=13, fontweight="bold", pad=3)
            self.texts[name] = ax.text(0.03, 0.04, "", transform=ax.transAxes, fontsize=11,
                                       bbox=dict(boxstyle="round,pad=0.2", fc="white", alpha=0.85))
            self.curves[name] = loss_ax.plot([], [], color=color, lw=2,
                                             label=moons.label(name, compact=True))[0]
        for ax in panels[len(self.runs):]:
            ax.axis("off")
        top = max(h.loss_per_epoch[0] for h in runs.values())
        low = min(h.loss_per_epoch.min() for h in runs.values())
        # a run that stopped in its first epoch has one point, at epoch 0: the axis still spans an epoch
        loss_ax.set(xlim=(0, max(1, n_epochs)), ylim=(0.8 * low, 1.25 * top), yscale="log")
        ticks = [t for t in (0.01, 0.03, 0.1, 0.3, 1.0) if 0.8 * low <= t <= 1.25 * top]
        loss_ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        loss_ax.minorticks_off()
        loss_ax.yaxis.tick_right()
        loss_ax.set_xlabel("epoch", fontsize=12, labelpad=1)
        loss_ax.set_title("training loss (log scale)", fontsize=13, pad=3)
        loss_ax.tick_params(labelsize=11)
        legend_slot = panels[-1] if len(self.runs) < len(panels) else loss_ax
        handles = [Line2D([], [], color=c.get_color(), lw=3) for c in self.curves.values()]  # not animated
        labels = [c.get_label() if len(c.get_label()) <= 18 else c.get_label().replace(" ", "\n", 1)
                  for c in self.curves.values()]
        legend_slot.legend(handles, labels, loc="center", fontsize=11,
                           frameon=False, handlelength=1.2, labelspacing=0.3, borderaxespad=0)
        self.counter = fig.text(0.5, 0.955, "", ha="center", va="center", fontsize=14)
        self._arch = f"a {'-'.join(map(str, moons.sizes))} {moons.activation} network"
        self._batch = moons.batch_size
        self._accuracy = {name: train_accuracy(h, moons) for name, h in self.runs.items()}
        super().__init__(fig, n_epochs, frames or moons.frames, pace=1.6, interval=interval, colors=palette)

    def _artists(self):
        return [*self.images.values(), *self.points, *self.texts.values(), *self.curves.values(), self.counter]

    def _init(self):
        for curve in self.curves.values():
            curve.set_data([], [])
        return self._artists()

    def _draw_frame_at(self, i):
        k = int(self.steps_shown[i])
        for name, hist in self.runs.items():
            e = min(k, hist.epochs)
            self.images[name].set_data(self._probs[name][i])
            self.texts[name].set_text(f"{100 * self._accuracy[name][e]:.0f} % right")
            self.curves[name].set_data(np.arange(e + 1), hist.loss_per_epoch[:e + 1])
        self.counter.set_text(f"Noisy moons: {self._arch}, mini-batches of {self._batch} — epoch {k} / {self._n_steps}")
        return self._artists()


def animate_boundaries(runs: dict[str, nn.History] | None = None, moons: Moons = MOONS, **kwargs) -> BoundaryAnimation:
    """The noisy-moons animation (``show`` it, or ``save_gif`` it); ``runs`` default :func:`train_all`."""
    return BoundaryAnimation(train_all(moons) if runs is None else runs, moons, **kwargs)


# --- the live widget ----------------------------------------------------------------------------

class MoonsExplorer(SliderPanel):
    """Sliders (optimizer, η, batch size, hidden width, epochs) that retrain a moons network live.

    Attributes:
        sliders: ``{name: widget}``.
        history, net: the last training run and its network; ``seconds``: how long the last update took (training
            and drawing), ``train_seconds``: the training alone.
        image: the ``ipywidgets.Image`` with the boundary and the loss curve.
    """

    BATCH_SIZES = (10, 20, 50, 100, 200)

    def __init__(self, moons: Moons = MOONS, dpi: int = 80, initial: dict | None = None):
        self.moons = moons
        self.X, self.y, self.X_test, self.y_test = moons.dataset()
        sliders = {
            "optimizer": W.Dropdown(options=list(optimizers.SLIDES), value="Adam", description="optimizer",
                                    style=SLIDER_STYLE),
            "lr": slider("lr", 0.01, 1e-4, 10.0, log=True, step=0.05, description="η (lr)"),
            "batch_size": W.SelectionSlider(options=self.BATCH_SIZES, value=20, description="batch size",
                                            style=SLIDER_STYLE, layout=W.Layout(width=SLIDER_WIDTH)),
            "hidden": slider("hidden", 16, 2, 64, integer=True, description="hidden width"),
            "epochs": slider("epochs", 100, 10, 100, integer=True, step=10),
        }
        figure = Figure(figsize=(9.0, 3.8), dpi=dpi)
        FigureCanvasAgg(figure)
        self._ax, self._loss_ax = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
        self._xlim, self._ylim = _limits(self.X)
        self._grid = 70
        ax = self._ax
        cmap, norm = ListedColormap(_BAND_COLORS), BoundaryNorm(_BANDS, len(_BAND_COLORS))
        self._img = ax.imshow(np.zeros((self._grid, self._grid)), origin="lower", extent=(*self._xlim, *self._ylim),
                              cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
        ax.scatter(self.X[:, 0], self.X[:, 1], c=[_POINT_COLORS[k] for k in self.y], s=9, lw=0)
        ax.set(xticks=[], yticks=[])
        self._line = self._loss_ax.plot([], [], lw=2)[0]
        self._loss_ax.set(yscale="log", xlabel="epoch", ylabel="training loss")
        self._loss_ax.yaxis.set_minor_formatter(NullFormatter())
        figure.tight_layout()
        figure.subplots_adjust(top=0.9)  # room for the title each update writes
        self.history: nn.History | None = None
        self.seconds = 0.0
        super().__init__("Noisy moons, live", sliders, figure, initial)
        self.image.layout.width = "720px"

    def draw(self, values: dict) -> nn.History:
        """Retrain with ``values`` (the sliders') and redraw; returns the run."""
        start = time.perf_counter()
        name = values["optimizer"]
        # AdaDelta has no η: it trains with its race setting, and the η slider does nothing
        kwargs = {"lr": values["lr"]} if knob(name) == "lr" else dict(self.moons.settings[name])
        net = self.moons.net(hidden=values["hidden"])
        hist = nn.train(optimizers.ALL[name](**kwargs), net, self.X, self.y, epochs=values["epochs"],
                        batch_size=values["batch_size"], seed=self.moons.shuffle_seed)
        self.history, self.net = hist, net
        self.train_seconds = time.perf_counter() - start
        self._img.set_data(_probability_grid(net, hist.theta[None], self._xlim, self._ylim, self._grid)[0])
        color = color_for(name)
        self._ax.set_title(label(name, kwargs, compact=True), color=color, fontweight="bold")
        self._line.set_data(np.arange(len(hist.loss_per_epoch)), hist.loss_per_epoch)
        self._line.set_color(color)
        self._loss_ax.set_xlim(0, max(1, values["epochs"]))
        finite = hist.loss_per_epoch[np.isfinite(hist.loss_per_epoch)]
        self._loss_ax.set_ylim(max(1e-4, 0.8 * finite.min()), 1.2 * finite.max())
        self.image.value = png(self._figure)
        train_acc = net.accuracy(hist.theta, self.X, self.y)
        if hist.diverged:
            self.status.value = f"<span style='color:#c00'><b>diverged</b> in epoch {hist.diverged_at}</span>"
        elif hist.blew_up:
            self.status.value = (f"<span style='color:#c00'><b>blew up</b> after epoch {hist.blew_up_at}: loss "
                                 f"{hist.loss_per_epoch[0]:.3g} → {hist.loss_per_epoch[-1]:.3g}, more than "
                                 f"{nn.BLOW_UP_FACTOR:g}× its lowest</span>")
        else:
            self.status.value = (f"after {hist.epochs} epochs: loss {hist.loss_per_epoch[-1]:.3g}, "
                                 f"{100 * train_acc:.0f} % of training points, "
                                 f"{100 * net.accuracy(hist.theta, self.X_test, self.y_test):.0f} % of 1,000 new "
                                 f"points right")
        self.seconds = time.perf_counter() - start
        return hist


def explore(moons: Moons = MOONS, initial: dict | None = None) -> MoonsExplorer:
    """The live noisy-moons widget; ``widget.update(optimizer=..., lr=..., batch_size=..., hidden=...)``
    moves its sliders and retrains. A value a slider cannot show (``hidden=2.5``, ``epochs=10**6``,
    ``lr="0.1"``) is refused, not rounded or clamped."""
    return MoonsExplorer(moons, initial=initial)
