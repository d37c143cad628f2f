r"""Second-order methods, measured: the races, the library comparisons and the cost of a Hessian.

The settings and measurements of notebook ``11-second-order``, in one place:

- :data:`RACES` and :func:`race`: BFGS and L-BFGS (with Armijo backtracking) against Adam
  and Momentum on Rosenbrock's function, Beale's function and the long valley;
- :func:`minimise` runs one of our optimizers until the gradient is small, counting
  gradient and loss evaluations as SciPy counts them; :func:`scipy_minimise` runs
  ``scipy.optimize.minimize`` and records its path through ``callback``;
- :func:`hessian_cost` times forming and solving an n×n Hessian system on this machine,
  :func:`fit_power` fits :math:`c\,n^p` to it and :func:`extrapolate` carries the fit to a
  network's parameter count.

>>> from kai_lib import optimizers, second_order, surfaces
>>> ours = second_order.minimise(optimizers.BFGS(loss_fn=surfaces.ROSENBROCK), surfaces.ROSENBROCK, [-1.2, 1.0])
>>> ours.converged, ours.x.round(6).tolist()
(True, [1.0, 1.0])
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import checks, optimizers, surfaces
from ..runner import MAX_STEPS, Trajectory, run

#: The largest n whose n×n Newton system :func:`hessian_cost` times: 8,000² floats are 512 MB.
MAX_HESSIAN_N = 8_000

__all__ = [
    "Minimisation",
    "minimise",
    "scipy_minimise",
    "SecondOrderRace",
    "RACES",
    "RaceEntry",
    "race",
    "make_optimizer",
    "HessianCost",
    "hessian_cost",
    "fit_power",
    "extrapolate",
    "lbfgs_memory_bytes",
    "mlp_parameter_count",
    "format_bytes",
    "softmax_hessian",
    "fitted_power",
]


# --- minimise until converged, counting evaluations -------------------------------------------

@dataclass(frozen=True)
class Minimisation:
    """One minimisation, ours or SciPy's, counted the same way.

    Attributes:
        method: a label.
        path: ``(iterations + 1, n)`` iterates, the start included.
        iterations: steps taken.
        grad_evals: distinct points at which the gradient was computed (the start included).
        loss_evals: calls of the loss.
        seconds: wall time.
        converged: the gradient got below ``gtol`` (max norm) within the budget.
    """

    method: str
    path: np.ndarray
    iterations: int
    grad_evals: int
    loss_evals: int
    seconds: float
    converged: bool

    @property
    def x(self) -> np.ndarray:
        """The last iterate."""
        return self.path[-1]


def minimise(optimizer: optimizers.Optimizer, surface: surfaces.Surface | str, start, gtol: float = 1e-5,
             max_steps: int = 2000, label: str | None = None) -> Minimisation:
    """Run ``optimizer`` from ``start`` until :math:`\\max_i |\\partial_i J| \\le` ``gtol`` (SciPy's test).

    Counted as SciPy counts: ``grad_evals`` is the steps taken plus one, the gradient at the
    last iterate that passed the test; ``loss_evals`` is the optimizer's own count (its line
    search), 0 without one. The steps are taken by :func:`kai_lib.run`: with budgets 50, 100,
    200, … (up to ``max_steps``) until one passes the test, then again up to the first step
    that passes it, timed and counted.
    """
    surface = surfaces.get(surface)
    start = checks.points("start", start)
    if start.shape != (2,):   # a batch would share one iteration count between different runs
        checks.fail("start", "one point (x, y): minimise reports one run's counts", got=f"shape {start.shape}")
    gtol = checks.number("gtol", gtol, low=0, low_open=True)
    max_steps = checks.count("max_steps", max_steps, 1, MAX_STEPS, "kai_lib.runner.MAX_STEPS, a ceiling on the "
                             "work of one run")
    budget = min(50, max_steps)
    while True:
        full = run(optimizer, surface, start=start, steps=budget)
        small = np.max(np.abs(surface.grad(full.path)), axis=-1) <= gtol
        if small.any() or budget >= max_steps or full.steps < budget:
            break
        budget = min(2 * budget, max_steps)
    converged = bool(small.any())
    steps = int(np.argmax(small)) if converged else full.steps
    begin = time.perf_counter()
    traj = run(optimizer, surface, start=start, steps=steps)
    seconds = time.perf_counter() - begin
    return Minimisation(label or type(optimizer).__name__, traj.path, traj.steps, traj.grad_evals + 1,
                        getattr(optimizer, "loss_evals", 0), seconds, converged)


def scipy_minimise(method: str, surface: surfaces.Surface | str, start, gtol: float = 1e-5) -> Minimisation:
    """``scipy.optimize.minimize(J, start, jac=∇J, method=method)``, its path recorded by ``callback``.

    ``"Newton-CG"`` and ``"trust-exact"`` get the surface's Hessian too. ``grad_evals`` and
    ``loss_evals`` are SciPy's own ``njev`` and ``nfev``.
    """
    from scipy.optimize import minimize

    surface = surfaces.get(surface)
    x0 = np.array(start, dtype=float)
    path = [x0]
    extra = {"hess": lambda x: surface.hessian(x)} if method in ("Newton-CG", "trust-exact") else {}
    options = {"gtol": gtol} if method in ("BFGS", "L-BFGS-B", "trust-exact") else {}

    def record(intermediate_result):
        path.append(np.array(intermediate_result.x, dtype=float))

    begin = time.perf_counter()
    result = minimize(surface, x0, jac=surface.grad, method=method, callback=record, options=options, **extra)
    seconds = time.perf_counter() - begin
    return Minimisation(f"scipy {method}", np.array(path), int(result.nit), int(result.get("njev", 0)),
                        int(result.nfev), seconds, bool(result.success))


# --- the race -----------------------------------------------------------------------------------

#: Classes the race settings may name: the first-order ones and the second-order ones.
_CLASSES: dict[str, type[optimizers.Optimizer]] = {**optimizers.ALL, **optimizers.SECOND_ORDER}


def make_optimizer(name: str, surface: surfaces.Surface, line_search: bool = True,
                   **kwargs) -> optimizers.Optimizer:
    """An optimizer by name; a second-order one gets what it needs from ``surface``.

    ``"Newton"`` gets ``hessian_fn=surface.hessian``; ``"BFGS"`` and ``"L-BFGS"`` get
    ``loss_fn=surface`` when ``line_search`` (Armijo backtracking).
    """
    if name not in _CLASSES:
        checks.unknown("name", name, _CLASSES, "second-order race optimizer")
    if name == "Newton":
        return optimizers.Newton(hessian_fn=surface.hessian, **kwargs)
    if name in ("BFGS", "L-BFGS") and line_search:
        return _CLASSES[name](loss_fn=surface, **kwargs)
    return _CLASSES[name](**kwargs)


@dataclass(frozen=True)
class SecondOrderRace:
    """BFGS and L-BFGS against two first-order methods on one surface.

    Attributes:
        surface, start, steps: where, from where, how long.
        settings: optimizer name → keyword hyperparameters (BFGS and L-BFGS race with
            Armijo backtracking on the surface's loss).
        why: how the first-order learning rates were picked.
        tol: the loss that counts as arrived.
    """

    surface: surfaces.Surface
    start: tuple[float, float]
    steps: int
    settings: dict[str, dict[str, float]]
    why: str
    tol: float = 1e-6


_QUASI_NEWTON = {"BFGS": {"lr": 1.0}, "L-BFGS": {"lr": 1.0, "history": 10}}

RACES: dict[str, SecondOrderRace] = {
    "rosenbrock": SecondOrderRace(
        surface=surfaces.ROSENBROCK, start=(-1.2, 1.0), steps=500,
        settings={**_QUASI_NEWTON, "Adam": {"lr": 0.5}, "Momentum": {"lr": 0.002}},
        why="From the classic start (−1.2, 1). Adam and Momentum: the η of the grids 0.01 … 0.5 "
            "and 1e-4 … 0.1 with the lowest J after 500 steps (Momentum diverges from η = 0.005).",
    ),
    "beale": SecondOrderRace(
        surface=surfaces.BEALE, start=(1.0, 1.5), steps=300,
        settings={**_QUASI_NEWTON, "Adam": {"lr": 0.5}, "Momentum": {"lr": 0.005}},
        why="The Beale race's start. Adam and Momentum: the η of the same grids with the lowest J "
            "after 300 steps (Momentum diverges from η = 0.01).",
    ),
    "long_valley": SecondOrderRace(
        surface=surfaces.LONG_VALLEY, start=(-4.0, 1.5), steps=200,
        settings={**_QUASI_NEWTON, "Adam": {"lr": 0.2}, "Momentum": {"lr": 0.1}},
        why="The long valley race's start. Adam and Momentum: the η of the same grids with the "
            "lowest J after 200 steps.",
    ),
}


@dataclass(frozen=True)
class RaceEntry:
    """One racer: its trajectory and how much it cost to get to ``tol``.

    Attributes:
        trajectory: the whole run (``race.steps`` steps).
        arrived: the first step with J below the race's ``tol`` (-1: never).
        grad_evals, loss_evals: evaluations until then (or over the whole run).
        seconds: wall time until then (or of the whole run).
    """

    trajectory: Trajectory
    arrived: int
    grad_evals: int
    loss_evals: int
    seconds: float = field(compare=False)


def race(name: str) -> dict[str, RaceEntry]:
    """Run the race called ``name`` (a key of :data:`RACES`): ``{optimizer: RaceEntry}``.

    Each racer runs once; the gradient and the loss it sees are wrapped so that the
    evaluations and the time up to its arrival can be read off afterwards.
    """
    if name not in RACES:
        checks.unknown("name", name, RACES, "race")
    r = RACES[name]
    entries = {}
    for opt_name, kwargs in r.settings.items():
        grad_times: list[float] = []           # when each gradient was asked for (one per step)
        loss_calls: list[int] = []             # how many gradients had been asked for at each loss call

        def grad(theta, grad_times=grad_times):
            grad_times.append(time.perf_counter())
            return r.surface.grad(theta)

        def loss(theta, grad_times=grad_times, loss_calls=loss_calls):
            loss_calls.append(len(grad_times))
            return r.surface(theta)

        opt = make_optimizer(opt_name, r.surface, **kwargs)
        if getattr(opt, "loss_fn", None) is not None:
            opt.loss_fn = loss
        begin = time.perf_counter()
        traj = run(opt, r.surface, start=np.array(r.start), steps=r.steps, grad_fn=grad)
        end = time.perf_counter()
        below = np.flatnonzero(traj.loss < r.tol)
        arrived = int(below[0]) if below.size else -1
        steps = arrived if arrived >= 0 else traj.steps
        seconds = (grad_times[steps] if steps < len(grad_times) else end) - begin
        entries[opt_name] = RaceEntry(traj, arrived, steps, sum(c <= steps for c in loss_calls), seconds)
    return entries


# --- the cost of a Hessian ---------------------------------------------------------------------------

@dataclass(frozen=True)
class HessianCost:
    """Measured cost of one Newton step's linear algebra, per size n.

    Attributes:
        sizes: the n's.
        form_seconds: time to compute the n² entries of the Hessian into an allocated array.
        solve_seconds: time of ``np.linalg.solve(H, g)`` (LU, about ⅔n³ operations; best of ``repeats``).
        matrix_bytes: the Hessian's size in memory (float64), ``8 n²``.
    """

    sizes: np.ndarray
    form_seconds: np.ndarray
    solve_seconds: np.ndarray
    matrix_bytes: np.ndarray


def softmax_hessian(theta: np.ndarray, weight_decay: float = 1e-3, out: np.ndarray | None = None) -> np.ndarray:
    r"""The Hessian of :math:`J(\theta) = \log \sum_i e^{\theta_i} + \tfrac{\lambda}{2}\lVert\theta\rVert^2`.

    :math:`H = \mathrm{diag}(p) - p p^\top + \lambda I` with :math:`p = \mathrm{softmax}(\theta)`:
    dense, symmetric positive definite, written in :math:`O(n^2)`; the curvature of the
    softmax at the heart of a classifier's loss. ``out``: an ``(n, n)`` array to write it into.
    """
    p = np.exp(theta - theta.max())
    p /= p.sum()
    H = np.multiply.outer(-p, p, out=out)
    H[np.diag_indices_from(H)] += p + weight_decay
    return H


def hessian_cost(sizes=(100, 250, 500, 1000, 2000, 4000), repeats: int = 3, seed: int = 0,
                 blas_threads: int | None = 1) -> HessianCost:
    """Time forming (:func:`softmax_hessian`) and solving an n×n Newton system for each n.

    Timings are wall-clock on this machine, noisy on a shared one: each is the best of
    ``repeats``, except the solves beyond n = 2000, long enough to time once.
    BLAS runs on ``blas_threads`` threads (default one: on a busy machine a second thread
    mostly waits for a core and makes the times erratic; ``None`` leaves BLAS as configured).
    """
    why = "kai_lib.studies.second_order.MAX_HESSIAN_N: an n×n matrix of floats, a ceiling on memory"
    sizes = [checks.count("sizes", n, 1, MAX_HESSIAN_N, why) for n in np.atleast_1d(np.asarray(sizes, dtype=object))]
    repeats = checks.count("repeats", repeats, 1, 100, "a ceiling on the time of a measurement")
    seed = checks.seed("seed", seed)
    if blas_threads is not None:
        blas_threads = checks.integer("blas_threads", blas_threads, low=1)
    if blas_threads is None:
        return _hessian_cost(sizes, repeats, seed)
    from threadpoolctl import threadpool_limits  # ships with scikit-learn

    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return _hessian_cost(sizes, repeats, seed)


def _hessian_cost(sizes, repeats: int, seed: int) -> HessianCost:
    rng = np.random.default_rng(seed)
    form, solve, nbytes = [], [], []
    for n in sizes:
        theta = rng.normal(size=n)
        g = rng.normal(size=n)
        best_form = best_solve = np.inf
        H = np.empty((n, n))
        H.fill(0.0)              # allocated and touched first: the timing is the n² entries, not the page faults
        for _ in range(repeats):
            begin = time.perf_counter()
            softmax_hessian(theta, out=H)
            best_form = min(best_form, time.perf_counter() - begin)
        for _ in range(repeats if n <= 2000 else 1):
            begin = time.perf_counter()
            np.linalg.solve(H, g)
            best_solve = min(best_solve, time.perf_counter() - begin)
        form.append(best_form)
        solve.append(best_solve)
        nbytes.append(H.nbytes)
    return HessianCost(np.array(sizes), np.array(form), np.array(solve), np.array(nbytes))


def fit_power(sizes, seconds, power: float, smallest: int = 1000) -> float:
    r"""The c of :math:`t \approx c\, n^{p}` for a fixed power p, fitted on the sizes >= ``smallest``.

    Least squares on :math:`\log t - p \log n` (the geometric mean of :math:`t / n^p`): the small
    sizes are left out because fixed overheads, not the :math:`n^p` work, dominate them.
    """
    sizes, seconds = np.asarray(sizes, dtype=float), np.asarray(seconds, dtype=float)
    keep = sizes >= smallest
    if not keep.any():
        checks.fail("sizes", f"at least one size >= smallest = {smallest} to fit on", sizes.tolist(), verb="hold")
    return float(np.exp(np.mean(np.log(seconds[keep]) - power * np.log(sizes[keep]))))


def fitted_power(sizes, seconds, smallest: int = 1000) -> float:
    """The slope of log t against log n on the sizes >= ``smallest``: the measured power."""
    sizes, seconds = np.asarray(sizes, dtype=float), np.asarray(seconds, dtype=float)
    keep = sizes >= smallest
    return float(np.polyfit(np.log(sizes[keep]), np.log(seconds[keep]), 1)[0])


def extrapolate(coefficient: float, power: float, n: float) -> float:
    """:math:`c\\, n^p`: the fit carried to ``n``."""
    return float(coefficient * float(n) ** power)


def lbfgs_memory_bytes(n: int, history: int = 10, bytes_per_float: int = 8) -> int:
    """L-BFGS's memory: m pairs :math:`(s_i, y_i)` of n numbers each, plus m numbers ρ: :math:`O(mn)`."""
    n, history = checks.integer("n", n, low=1), checks.integer("history", history, low=1)
    bytes_per_float = checks.choice("bytes_per_float", bytes_per_float, (2, 4, 8, 16))
    return int((2 * history * n + history) * bytes_per_float)


def mlp_parameter_count(layer_sizes) -> int:
    """Weights and biases of a fully connected network: :math:`\\sum_l (n_l n_{l+1} + n_{l+1})`.

    >>> mlp_parameter_count([64, 32, 10])     # notebook 10's digits network
    2410
    """
    sizes = list(layer_sizes)
    return int(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False)))


def format_bytes(n_bytes: float) -> str:
    """``46.46 MB``, ``16 GB``, ``80,000 TB``: bytes in decimal units, terabytes the largest.

    >>> format_bytes(8 * 2410**2), format_bytes(8 * 10**16)
    ('46.46 MB', '80,000 TB')
    """
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= size:
            return f"{n_bytes / size:,.4g} {unit}" if n_bytes / size < 1e4 else f"{n_bytes / size:,.0f} {unit}"
    return f"{n_bytes:.0f} B"
