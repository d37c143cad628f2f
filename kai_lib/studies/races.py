r"""The three racing animations of the slides, and the settings that make them.

The slide deck shows Alec Radford's three animations (2014) of the slides' optimizers
racing on a 2-D surface. His captions say, in short:

- **Long valley**: the methods that do not scale their steps by the gradient struggle
  to break the symmetry: SGD gets almost nowhere, Momentum and NAG oscillate across
  the valley until they build up velocity along it; the methods that scale their step
  size (Adagrad, AdaDelta, RMSProp) break the symmetry quickly and descend at once.
- **Beale's function**: because of the large initial gradient the velocity methods
  (Momentum, NAG) shoot off and bounce around, and Adagrad almost goes unstable for
  the same reason; RMSProp and AdaDelta move like an accelerated SGD and handle the
  large gradients with more stability.
- **Saddle point**: SGD lingers on the ridge, the others escape down the y direction.

Radford never published his learning rates, nor the long valley's formula. The
settings below are ours, every one of them in :data:`RACES` and nowhere else, chosen
so each picture shows what its caption says; ``tests/test_figures.py`` checks each
claim as a number on the trajectories. AdaDelta has no learning rate: its speed is
set by ε (its first step is :math:`\sqrt{\epsilon / (1-\gamma)}`), so it races with
Zeiler's ρ = γ = 0.95 and ε = 5e-4 (first step 0.1) rather than the slow-starting
default ε = 1e-6 (first step 3e-3).

>>> from kai_lib.studies import races
>>> trajs = races.race("saddle")          # {"SGD": Trajectory, "Momentum": ..., ...}
>>> sorted(races.RACES)
['beale', 'long_valley', 'saddle']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import optimizers, surfaces
from ..pictures.labels import label
from ..runner import Trajectory, run
from .basins import BasinMap, basin_map

__all__ = ["Racers", "make_optimizer", "Race", "RACES", "race", "run_race", "label", "Basins", "BASINS", "basins"]

def make_optimizer(name: str, surface: surfaces.Surface | None, line_search: bool = True,
                   **kwargs) -> optimizers.Optimizer:
    """An optimizer by name; a second-order one gets what it needs from ``surface``.

    ``"Newton"`` gets ``hessian_fn=surface.hessian``; ``"BFGS"`` and ``"L-BFGS"`` get
    ``loss_fn=surface`` when ``line_search`` (Armijo backtracking).
    """
    cls = optimizers.get(name)  # an UnknownName listing the known names
    if cls is optimizers.Newton:
        return optimizers.Newton(hessian_fn=surface.hessian, **kwargs)
    if cls in (optimizers.BFGS, optimizers.LBFGS) and line_search:
        return cls(loss_fn=surface, **kwargs)
    return cls(**kwargs)


class Racers:
    """What the settings of every study share (:class:`Race`, :class:`Basins`,
    :class:`~kai_lib.studies.second_order.SecondOrderRace`, :class:`~kai_lib.studies.moons.Moons`):
    ``settings`` maps an optimizer's name to its keyword hyperparameters, in the order they
    are run and shown; :meth:`optimizer` builds one, :meth:`label` names it in a legend.
    """

    settings: dict[str, dict[str, float]]

    def optimizer(self, name: str) -> optimizers.Optimizer:
        """A fresh optimizer ``name`` with its settings (a second-order one fitted to the surface, if any)."""
        return make_optimizer(name, getattr(self, "surface", None), **self.settings[name])

    def label(self, name: str, compact: bool = False) -> str:
        """The legend label of optimizer ``name`` with its settings (:func:`~kai_lib.pictures.labels.label`)."""
        return label(name, self.settings[name], compact=compact)


#: AdaDelta in every race: Zeiler's ρ = γ = 0.95, and ε = 5e-4 so that its first step is
#: √(ε/(1−γ)) = 0.1. With the default ε = 1e-6 its steps start at 3e-3 and grow only
#: like √(ε(1−γ)t): it barely leaves the start of the long valley in 200 steps.
_ADADELTA = {"gamma": 0.95, "eps": 5e-4}


@dataclass(frozen=True)
class Race(Racers):
    """One racing animation: a surface, a run length and one setting per optimizer.

    Attributes:
        surface: where they race.
        steps: how many steps every optimizer takes.
        settings: optimizer name (a key of :data:`kai_lib.optimizers.ALL` or ``AFTER_ADAM``) → its
            keyword hyperparameters; the race runs them in this order.
        title: the animation's title, as on the slide.
        caption: what the picture shows (Radford's caption, in our numbers).
        why: why these hyperparameters.
        start: the start point, if not ``surface.start``.
        frames: how many frames the GIF shows.
        pace: frame ``i`` of ``F`` shows step ``steps·(i/(F−1))**pace``: 1 spreads the
            frames evenly, more shows the first steps (where the action is) slowly.
        xlim, ylim: the view, if not the surface's.
        legend_loc: where the legend sits, clear of the paths.
        landmarks: ``(text, (x, y))`` points to mark and name (the saddle point).
        gif: the file name ``python -m kai_lib.figures`` writes.
        elev, azim: the fixed camera of the 3-D animation, in degrees
            (``Axes3D.view_init``), chosen so the paths run towards the viewer.
        gif_3d: the 3-D animation's file name (none if empty).
    """

    surface: surfaces.Surface
    steps: int
    settings: dict[str, dict[str, float]]
    title: str
    caption: str
    why: str
    start: tuple[float, float] | None = None
    frames: int = 80
    pace: float = 1.0
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    legend_loc: str = "lower right"
    landmarks: tuple[tuple[str, tuple[float, float]], ...] = ()
    gif: str = ""
    elev: float = 30.0
    azim: float = -60.0
    gif_3d: str = ""


RACES: dict[str, Race] = {
    "long_valley": Race(
        surface=surfaces.LONG_VALLEY,
        steps=200,
        settings={
            "SGD": {"lr": 0.1},
            "Momentum": {"lr": 0.08},
            "NAG": {"lr": 0.08},
            "Adagrad": {"lr": 0.3},
            "RMSProp": {"lr": 0.04},
            "AdaDelta": dict(_ADADELTA),
            "Adam": {"lr": 0.05},
        },
        title="Gradient Descent Optimization Algorithms at Long Valley",
        caption=(
            "SGD gets almost nowhere; Momentum and NAG swing across the valley before they "
            "build up speed along it; Adagrad, AdaDelta, RMSProp and Adam turn down the "
            "valley at once."
        ),
        why=(
            "Across the valley J = y² (curvature 2, so SGD is stable only for η < 1); along "
            "the floor the slope is at most 0.05, so any stable SGD step moves at most 0.05·η "
            "along it. η = 0.1 settles the wall in ~20 steps. Momentum and NAG share η = 0.08 "
            "(γ = 0.9): fast enough to get near the far end once their velocity builds up. "
            "The adaptive methods move about η per step along the floor whatever its slope "
            "(Adagrad η/√t); their η is picked so each gets within 0.5 of the minimum (4, 0) "
            "in the 200 steps."
        ),
        gif="long_valley.gif",
        # From above the start's wall, looking down the valley towards its minimum at the
        # far right: the swing across the valley and the run along its floor both show.
        elev=35.0,
        azim=-70.0,
        gif_3d="long_valley_3d.gif",
    ),
    "beale": Race(
        surface=surfaces.BEALE,
        steps=300,
        settings={
            "SGD": {"lr": 0.01},
            "Momentum": {"lr": 0.005},
            "NAG": {"lr": 0.005},
            "Adagrad": {"lr": 2.0},
            "RMSProp": {"lr": 0.03},
            "AdaDelta": dict(_ADADELTA),
            "Adam": {"lr": 0.1},
        },
        title="Gradient Descent Optimization Algorithms at Beale's Function",
        caption=(
            "The gradient at the start is huge (|∇J| ≈ 99): Momentum and NAG shoot off past "
            "y = −1 and bounce around before they settle; Adagrad's first step throws it away "
            "from the minimum; RMSProp and AdaDelta take small steady steps downhill, like an "
            "accelerated SGD, and arrive before SGD does."
        ),
        why=(
            "SGD diverges here from η = 0.04: η = 0.01 is the slides' value. Momentum and NAG "
            "diverge from η = 0.008; η = 0.005 keeps them on the map. Adagrad's first step is "
            "η·sign(g) in each coordinate and the huge first gradient stays in G for good, "
            "so it needs a large η to move later; η = 2 reaches the minimum fastest of "
            "η ∈ {0.5, 1, 2, 3} and still jumps 2.8 at step 1. RMSProp's η = 0.03 and "
            "Adam's η = 0.1 reach the minimum within the 300 steps."
        ),
        pace=2.0,
        xlim=(-1.25, 4.0),
        ylim=(-2.1, 1.9),
        gif="beale.gif",
    ),
    "saddle": Race(
        surface=surfaces.SADDLE,
        steps=120,
        settings={
            "SGD": {"lr": 0.02},
            "Momentum": {"lr": 0.02},
            "NAG": {"lr": 0.02},
            "Adagrad": {"lr": 0.1},
            "RMSProp": {"lr": 0.02},
            "AdaDelta": dict(_ADADELTA),
            "Adam": {"lr": 0.02},
        },
        title="Gradient Descent Optimization Algorithms at Saddle Point",
        caption=(
            "Started a hair off the ridge (y = 0.001), SGD slides down to the saddle and "
            "lingers there; the others escape down the y direction, Momentum and NAG after "
            "swinging past x = 0."
        ),
        why=(
            "One η = 0.02 for SGD, Momentum, NAG, RMSProp and Adam, so the race is fair: "
            "SGD's y grows by the factor 1 + 2η per step from 0.001, while the adaptive "
            "methods rescale the tiny y-gradient to an η-sized step and Momentum builds up "
            "velocity. Adagrad's sum G only grows, so it gets a larger η = 0.1."
        ),
        pace=1.5,
        landmarks=(("saddle point", (0.0, 0.0)),),
        gif="saddle_point.gif",
        # From the +x, +y side: the ridge (y = 0) runs across the picture and the escape
        # down the y direction comes towards the viewer, as in Radford's animation.
        elev=30.0,
        azim=40.0,
        gif_3d="saddle_point_3d.gif",
    ),
}


def run_race(r: Race) -> dict[str, Trajectory]:
    """Run every optimizer of the race ``r`` from its start: ``{optimizer name: Trajectory}``, in its order."""
    start = None if r.start is None else np.asarray(r.start, dtype=float)
    return {opt_name: run(r.optimizer(opt_name), r.surface, start=start, steps=r.steps) for opt_name in r.settings}


def race(name: str) -> dict[str, Trajectory]:
    """Run the race called ``name``: ``{optimizer name: Trajectory}``, in the slides' order.

    Raises:
        KeyError: for an unknown race, listing the known ones.
    """
    if name not in RACES:
        raise KeyError(f"unknown race {name!r}; known: {', '.join(RACES)}")
    return run_race(RACES[name])


# --- basins of attraction ---------------------------------------------------------------------

@dataclass(frozen=True)
class Basins(Racers):
    """A basin map of every slide optimizer (:mod:`kai_lib.studies.basins`), at one race's settings.

    Attributes:
        surface: where the starts lie (an ``n``×``n`` grid over its view).
        race: the key of :data:`RACES` whose ``settings`` (learning rates) every
            optimizer uses here.
        why: why that race's settings suit this surface.
        steps, n, tol: the budget, the grid and the distance that counts as arrived.
        png: the file name ``python -m kai_lib.figures`` writes.
    """

    surface: surfaces.Surface
    race: str
    why: str
    steps: int = 500
    n: int = 200
    tol: float = 1e-3
    png: str = ""

    @property
    def settings(self) -> dict[str, dict[str, float]]:
        """Optimizer name → hyperparameters: the race's, unchanged."""
        return RACES[self.race].settings


#: The basin maps of the figures and notebooks 03 and 09. Their learning rates are not
#: new: each map borrows the settings of the race whose surface it resembles.
BASINS: dict[str, Basins] = {
    "himmelblau": Basins(
        surface=surfaces.HIMMELBLAU,
        race="beale",
        why=(
            "Himmelblau's walls are as steep as Beale's (|∇J| ≈ 400 at the view's corners; "
            "curvature up to 134 at the minimum (−3.78, −3.28), so SGD is stable there only "
            "for η < 2/134 = 0.015): Beale's race settings (SGD η = 0.01, Momentum and NAG "
            "η = 0.005) keep every start on the map, while the long valley's (SGD η = 0.1) "
            "diverge from every one."
        ),
        png="basins_himmelblau.png",
    ),
    "local_minima": Basins(
        surface=surfaces.LOCAL_MINIMA,
        race="long_valley",
        why=(
            "A gentle surface like the long valley (curvature at most 2.5 at the minima, "
            "|∇J| ≤ 5 over the view): the long valley's race settings (SGD η = 0.1, "
            "Momentum and NAG η = 0.08) are stable everywhere on it, and 500 steps are "
            "enough for every start to arrive somewhere."
        ),
        png="basins_local_minima.png",
    ),
}


def basins(name: str, n: int | None = None, steps: int | None = None) -> dict[str, BasinMap]:
    """The basin maps :data:`BASINS` ``[name]`` describes: ``{optimizer name: BasinMap}``.

    ``n`` and ``steps`` override the grid and the budget (a coarse, quick map).

    Raises:
        KeyError: for an unknown name, listing the known ones.
    """
    if name not in BASINS:
        raise KeyError(f"unknown basin map {name!r}; known: {', '.join(BASINS)}")
    b = BASINS[name]
    return {
        opt_name: basin_map(b.optimizer(opt_name), b.surface, n=b.n if n is None else n,
                            steps=b.steps if steps is None else steps, tol=b.tol, label=b.label(opt_name))
        for opt_name in b.settings
    }
