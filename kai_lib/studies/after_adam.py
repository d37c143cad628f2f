r"""After Adam: the settings and measurements of notebook ``12-after-adam``, in one place.

The optimizers themselves live in :mod:`kai_lib.optimizers` (:data:`~kai_lib.optimizers.AFTER_ADAM`);
this module holds what notebook 12 does with them:

- :data:`RACES` and :func:`race`: the slides' three races (:data:`kai_lib.studies.races.RACES`:
  the long valley, Beale's function, the saddle point) rerun with the new optimizers beside
  Adam, in the same :class:`~kai_lib.studies.races.Race` shape, at tuned learning rates;
- :func:`trace`: run an optimizer and record its state after every step (Prodigy's ``d``,
  Schedule-Free's ``x`` and ``z``), the data of the per-idea pictures;
- :func:`lattice_offsets`: how far Lion's iterates lie from the lattice
  :math:`\theta_0 + \eta\,\mathbb{Z}^2` its sign steps live on;
- :func:`scaled`: a surface measured in a smaller unit (Prodigy's :math:`d_t` finds the scale);
- :data:`ROTATED_RAVINE`: notebook 03's ravine turned by 45°, where a diagonal
  preconditioner (Adagrad) cannot see the valley and a full matrix (Shampoo) can;
- :func:`update_singular_values`: the singular values of one step of a matrix optimizer
  (Muon's orthogonalised momentum against Adam's and SGD's);
- :func:`agreement`: how far our classes follow the reference implementations' stored trajectories;
- :func:`state_size`: the numbers an optimizer keeps, counted on a network's blocks, for the
  memory table; :func:`step_seconds`: one step's wall time on a network's parameters.

>>> from kai_lib.studies import after_adam
>>> sorted(after_adam.RACES)
['beale', 'long_valley', 'saddle']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from .. import checks, optimizers, surfaces
from ..runner import Trajectory, run
from . import races

__all__ = ["NAMES", "GRID", "WITHIN", "RACES", "tuned_lr", "race", "label", "make", "trace", "lattice_offsets",
           "scaled", "ROTATED_RAVINE", "update_singular_values", "reference_problem", "agreement", "state_size",
           "step_seconds"]

#: The optimizers notebook 12 introduces, in the notebook's order (the keys of ``AFTER_ADAM``).
NAMES: tuple[str, ...] = ("Lion", "RAdam", "Schedule-Free SGD", "Schedule-Free AdamW", "Prodigy", "Shampoo",
                          "Adafactor", "Muon")


def make(name: str, **kwargs) -> optimizers.Optimizer:
    """An optimizer of the slides' family or after it by its display name (``"Muon"``, ``"Adam"``), with ``kwargs``."""
    return optimizers.get(name)(**kwargs)


#: Legend labels as the slides' races write them: ``label("Lion", {"lr": 0.1})`` → ``'Lion  η=0.1'``.
label = races.label


# --- the three races, after Adam ----------------------------------------------------------------

#: The learning rates each new optimizer tries on the long valley and on Beale's function.
GRID: tuple[float, ...] = (0.003, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0)
#: "Arrived": the race ends within this distance of the surface's minimum.
WITHIN = 0.1
#: Muon's weight decay pulls θ towards 0, which is a regulariser on a network and only a bias
#: on a surface (Beale's minimum is at (3, 0.5)): off in the races.
_MUON = {"weight_decay": 0.0}


def _after(name: str, settings: dict[str, dict[str, float]], caption: str, why: str, gif: str) -> races.Race:
    """The slides' race ``name`` (surface, steps, view, pace) with new racers, caption and file."""
    slide = races.RACES[name]
    return replace(slide, settings=settings, title=slide.title.replace("Gradient Descent Optimization Algorithms",
                                                                       "After Adam"),
                   caption=caption, why=why, gif=gif, gif_3d="")


_TUNED_WHY = (
    "Adam keeps the slides' race setting. Each new optimizer takes the smallest η of :data:`GRID` that ends "
    "the race within :data:`WITHIN` = 0.1 of the minimum, or, if none does, the η that ends closest "
    "(:func:`tuned_lr` recomputes it; a test checks it). Prodigy keeps its default η = 1: not tuning it is its point."
)

#: The slides' three races with the new optimizers beside Adam (Adam at the slides' own setting).
RACES: dict[str, races.Race] = {
    "long_valley": _after(
        "long_valley",
        settings={"Adam": {"lr": 0.05}, "Lion": {"lr": 0.2}, "RAdam": {"lr": 0.3},
                  "Schedule-Free SGD": {"lr": 2.0}, "Schedule-Free AdamW": {"lr": 0.3}, "Prodigy": {"lr": 1.0},
                  "Shampoo": {"lr": 0.3}, "Adafactor": {"lr": 1.0}, "Muon": {"lr": 0.2, **_MUON}},
        caption="",
        why=_TUNED_WHY,
        gif="after_adam_long_valley.gif",
    ),
    "beale": _after(
        "beale",
        settings={"Adam": {"lr": 0.1}, "Lion": {"lr": 0.1}, "RAdam": {"lr": 0.003},
                  "Schedule-Free SGD": {"lr": 0.01}, "Schedule-Free AdamW": {"lr": 0.1}, "Prodigy": {"lr": 1.0},
                  "Shampoo": {"lr": 1.0}, "Adafactor": {"lr": 0.03}, "Muon": {"lr": 0.03, **_MUON}},
        caption=(
            "Each at its tuned η, Prodigy untuned. Adam, Schedule-Free SGD and AdamW, Shampoo, Adafactor and "
            "Muon end within 0.1 of the minimum (3, 0.5). Lion's steps are ±η in each coordinate: its path runs"
            " on a lattice, and at the end it hops back and forth between two lattice points 0.14 and 0.2 from "
            "the minimum instead of settling. Prodigy swings out past y = −2 while its step size d grows from "
            "1e-6, then comes back. RAdam is caught both ways: its first five steps are plain momentum steps on"
            " a gradient of size 99, which throw it off the map from η = 0.03 up, and after them its rectifier,"
            " a warm-up of about 2000 steps, keeps the steps small for the whole race: at its best η = 0.003 it"
            " ends 2 away, near the start."
        ),
        why=_TUNED_WHY,
        gif="after_adam_beale.gif",
    ),
    "saddle": _after(
        "saddle",
        settings={"Adam": {"lr": 0.02}, "Lion": {"lr": 0.02}, "RAdam": {"lr": 0.02},
                  "Schedule-Free SGD": {"lr": 0.02}, "Schedule-Free AdamW": {"lr": 0.02}, "Prodigy": {"lr": 1.0},
                  "Shampoo": {"lr": 0.02}, "Adafactor": {"lr": 0.02}, "Muon": {"lr": 0.02, **_MUON}},
        caption="",
        why=(
            "As in the slides' saddle race, one η = 0.02 for every optimizer that has one, so the race is fair: "
            "the saddle has no minimum to tune for, and a larger η only escapes faster. Prodigy keeps its "
            "default η = 1."
        ),
        gif="after_adam_saddle.gif",
    ),
}


def tuned_lr(race_name: str, optimizer: str, grid: Sequence[float] = GRID, within: float = WITHIN) -> float:
    """The η :data:`RACES` gives ``optimizer`` in the race ``race_name``: the smallest of ``grid`` that
    ends the race within ``within`` of the minimum, else the one that ends closest (a diverged run
    counts as infinitely far). Its other settings are the race's."""
    r = RACES[race_name]
    if not len(r.surface.minima):
        checks.fail("race_name", "a race whose surface has a minimum", race_name)
    kwargs = {k: v for k, v in r.settings[optimizer].items() if k != "lr"}
    distances = []
    for lr in grid:
        t = run(make(optimizer, lr=lr, **kwargs), r.surface, steps=r.steps)
        distances.append(np.inf if t.diverged else float(np.linalg.norm(t.path[-1] - r.surface.minima[0])))
        if distances[-1] <= within:
            return float(lr)
    return float(grid[int(np.argmin(distances))])


def race(name: str) -> dict[str, Trajectory]:
    """Run the race :data:`RACES` ``[name]``: ``{optimizer name: Trajectory}``, Adam first.

    Raises:
        KeyError: for an unknown race, listing the known ones.
    """
    if name not in RACES:
        checks.unknown("name", name, RACES, "race")
    return races.run_race(RACES[name])


# --- the per-idea pictures' data -----------------------------------------------------------------

def trace(optimizer: optimizers.Optimizer, surface: surfaces.Surface, attrs: Sequence[str], steps: int,
          start=None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run ``optimizer`` on ``surface`` for ``steps`` steps and record its state after each.

    Returns ``(path, state)``: the points ``step()`` returned, ``(steps + 1, 2)`` with the start,
    and for each name in ``attrs`` the attribute's value after steps 1, 2, …, stacked
    (``(steps, ...)``). The optimizer is reset first.

    >>> from kai_lib import optimizers, surfaces
    >>> path, state = trace(optimizers.Momentum(lr=0.1), surfaces.RAVINE, ["v"], steps=3)
    >>> path.shape, state["v"].shape
    ((4, 2), (3, 2))
    """
    steps = checks.integer("steps", steps, low=1)
    optimizer.reset()
    theta = np.array(surface.start if start is None else start, dtype=float)
    path, state = [theta], {a: [] for a in attrs}
    for _ in range(steps):
        theta = optimizer.step(theta, surface.grad)
        path.append(theta)
        for a in attrs:
            state[a].append(np.array(getattr(optimizer, a), dtype=float))
    return np.array(path), {a: np.array(v) for a, v in state.items()}


def lattice_offsets(path: np.ndarray, lr: float) -> np.ndarray:
    r"""How far each point of ``path`` lies from the lattice :math:`\theta_0 + \eta\,\mathbb{Z}^2`, in units of η.

    Lion (without weight decay) steps by :math:`\pm\eta` in every coordinate, so every iterate
    lies on that lattice: the offsets are zero up to rounding.

    >>> bool(lattice_offsets(np.array([[0.5, 0.5], [0.6, 0.4], [0.7, 0.5]]), 0.1).max() < 1e-9)
    True
    """
    units = (np.asarray(path, dtype=float) - path[0]) / lr
    return np.abs(units - np.round(units))


def scaled(surface: surfaces.Surface, scale: float) -> surfaces.Surface:
    r"""``surface`` measured in a unit ``scale`` times smaller: :math:`J_c(\theta) = J(\theta / c)`.

    Its start and minima are ``scale`` times farther from the origin; its gradient is
    :math:`\nabla J(\theta/c)/c`. The same problem, so a method that finds its own scale
    (Prodigy) should take the same path, ``scale`` times larger.

    >>> from kai_lib import surfaces
    >>> big = scaled(surfaces.RAVINE, 10.0)
    >>> big.start.tolist(), float(big(big.start)) == float(surfaces.RAVINE(surfaces.RAVINE.start))
    ([-50.0, -20.0], True)
    """
    c = checks.number("scale", scale, low=0, low_open=True)
    return surfaces.Surface(
        name=f"{surface.name}_x{c:g}", title=f"{surface.title} ×{c:g}", formula=surface.formula,
        value_fn=lambda x, y: surface.value_fn(x / c, y / c),
        grad_fn=lambda x, y: tuple(g / c for g in surface.grad_fn(x / c, y / c)),
        hessian_fn=lambda x, y: tuple(h / c**2 for h in surface.hessian_fn(x / c, y / c)),
        minima=np.asarray(surface.minima) * c, xlim=(surface.xlim[0] * c, surface.xlim[1] * c),
        ylim=(surface.ylim[0] * c, surface.ylim[1] * c), start=np.asarray(surface.start) * c,
        log_levels=surface.log_levels, description=f"{surface.title} in a unit {c:g} times smaller.")


def _quadratic(name: str, title: str, hessian: np.ndarray, start, xlim, ylim, description: str) -> surfaces.Surface:
    """The quadratic J = ½ θᵀ A θ for a symmetric 2×2 ``hessian`` A, as a :class:`~kai_lib.surfaces.Surface`."""
    (a, b), (_, c) = np.asarray(hessian, dtype=float)
    return surfaces.Surface(
        name=name, title=title, formula=rf"\tfrac12\,({a:.3g} x^2 + {2 * b:.3g} xy + {c:.3g} y^2)",
        value_fn=lambda x, y: 0.5 * (a * x**2 + 2 * b * x * y + c * y**2),
        grad_fn=lambda x, y: (a * x + b * y, b * x + c * y),
        hessian_fn=lambda x, y: (a + 0 * x, b + 0 * x, c + 0 * y),
        minima=[[0.0, 0.0]], xlim=xlim, ylim=ylim, start=start, description=description)


def _rotated_ravine_hessian() -> np.ndarray:
    # notebook 03's ravine J = 0.1 x² + 2 y² (Hessian diag(0.2, 4)), its axes turned by 45°
    c = s = np.sqrt(0.5)
    rotation = np.array([[c, -s], [s, c]])
    return rotation @ np.diag([0.2, 4.0]) @ rotation.T


#: Notebook 03's ravine (curvatures 0.2 and 4) turned by 45°: the valley runs along the diagonal
#: y = x, so its Hessian is not diagonal and a per-coordinate step size (Adagrad's G) sees the
#: same curvature in x and in y. Full-matrix Adagrad (Shampoo on one vector block) sees the valley.
ROTATED_RAVINE = _quadratic(
    "rotated_ravine", "Ravine turned by 45°", _rotated_ravine_hessian(), start=[-4.0, -2.0],
    xlim=(-4.5, 1.5), ylim=(-3.0, 3.0),
    description="Curvature 0.2 along the valley y = x and 4 across it; the axes see 2.1 each.")


def update_singular_values(optimizer: optimizers.Optimizer, gradient: np.ndarray) -> np.ndarray:
    """The singular values of the first step an optimizer takes from θ = 0 on a matrix ``gradient``.

    The step ``Δ = step(0, g) - 0`` is reshaped to the gradient's shape; its singular values,
    largest first, say how the update treats the gradient's directions: SGD keeps the
    gradient's spread, Muon (which orthogonalises) flattens it to nearly equal values.
    """
    g = np.asarray(gradient, dtype=float)
    if g.ndim != 2:
        checks.fail("gradient", "a matrix", got=f"shape {g.shape}")
    optimizer.reset()
    delta = optimizer.step(np.zeros(g.size), lambda th: g.ravel())
    return np.linalg.svd(delta.reshape(g.shape), compute_uv=False)


# --- the reference implementations ----------------------------------------------------------------

def reference_problem(reference: dict, problem: str) -> Callable[[np.ndarray], np.ndarray]:
    """The gradient of a problem of ``tests/reference/after_adam_reference.json`` (``reference``, read):
    ``"beale"``, ``"quadratic"`` (½θᵀAθ − bᵀθ) or ``"matrix"`` (least squares ‖XW + 1bᵀ − Y‖²/(2n) for
    θ = [W row-major, b]), built from the numbers stored in the file."""
    if problem == "beale":
        return surfaces.BEALE.grad
    if problem == "quadratic":
        A, b = np.array(reference["quadratic"]["A"]), np.array(reference["quadratic"]["b"])
        return lambda theta: A @ theta - b
    if problem == "matrix":
        X, Y = np.array(reference["matrix"]["X"]), np.array(reference["matrix"]["Y"])
        m, n = X.shape[1], Y.shape[1]

        def grad(theta):
            W, bias = theta[: m * n].reshape(m, n), theta[m * n:]
            residual = X @ W + bias - Y
            return np.concatenate([(X.T @ residual).ravel(), residual.sum(axis=0)]) / len(X)

        return grad
    checks.unknown("problem", problem, ("beale", "quadratic", "matrix"), "reference problem")


def agreement(reference: dict, case: dict, tol: float = 1e-12) -> tuple[int, float]:
    """Replay one reference ``case`` with our class: ``(steps, gap)``, the number of steps over which
    our path stays within ``tol`` of the reference's (all of them if it never leaves), and the largest
    difference over those steps."""
    kwargs = dict(case["kai_lib_kwargs"])
    if case.get("shapes") is not None:
        kwargs["shapes"] = [tuple(s) for s in case["shapes"]]
    opt, grad = make(case["optimizer"], **kwargs), reference_problem(reference, case["problem"])
    theta = np.array(case["start"], dtype=float)
    path = [theta] + [theta := opt.step(theta, grad) for _ in range(len(case["path"]) - 1)]
    diff = np.abs(np.array(path) - np.array(case["path"])).reshape(len(path), -1).max(axis=1)
    beyond = np.flatnonzero(diff > tol)
    steps = int(beyond[0]) - 1 if len(beyond) else len(diff) - 1
    return steps, float(diff[: steps + 1].max())


# --- memory and time on a network ----------------------------------------------------------------

def _matrix_kwargs(name: str, shapes) -> dict:
    return {"shapes": shapes} if name in ("Shampoo", "Adafactor", "Muon") else {}


def state_size(name: str, shapes: Sequence[tuple[int, ...]], **kwargs) -> int:
    """How many numbers the optimizer ``name`` keeps after one step on parameters of ``shapes``.

    Measured, not read from a table: the optimizer takes one step on a θ made of blocks of
    ``shapes`` (matrix methods are told the shapes), then every array among its attributes is
    counted (``numpy`` arrays, and lists or tuples of them). θ itself and the gradient are not
    counted: every optimizer needs those.
    """
    sizes = [int(np.prod(s)) for s in shapes]
    theta = np.linspace(-1.0, 1.0, sum(sizes))
    grad = np.cos(np.arange(sum(sizes), dtype=float))
    opt = make(name, **_matrix_kwargs(name, shapes), **kwargs)
    opt.step(theta, lambda th: grad)
    return _count(vars(opt))


def _count(value) -> int:
    if isinstance(value, optimizers.Optimizer):  # Muon's optimizer for the vector blocks keeps its own state
        return _count(vars(value))
    if isinstance(value, np.ndarray):
        return int(value.size) if value.ndim else 0
    if isinstance(value, dict):
        return sum(_count(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_count(v) for v in value)
    return 0


def step_seconds(name: str, shapes: Sequence[tuple[int, ...]], steps: int = 50, **kwargs) -> float:
    """The median wall time of one ``step()`` of ``name`` on parameters of ``shapes``, in seconds.

    The gradient is fixed (no network is evaluated), so only the optimizer's own work is timed.
    """
    steps = checks.integer("steps", steps, low=1)
    sizes = [int(np.prod(s)) for s in shapes]
    rng = np.random.default_rng(0)
    theta, grad = rng.normal(size=sum(sizes)), rng.normal(size=sum(sizes))
    grad_fn: Callable[[np.ndarray], np.ndarray] = lambda th: grad  # noqa: E731
    opt = make(name, **_matrix_kwargs(name, shapes), **kwargs)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        theta = opt.step(theta, grad_fn)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))
