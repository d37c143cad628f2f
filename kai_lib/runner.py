"""Run an optimizer on a surface and keep what it did: one runner, one data shape.

>>> from kai_lib import optimizers, surfaces, run
>>> traj = run(optimizers.Adam(lr=0.1), surfaces.BEALE, steps=100)
>>> traj.path.shape, traj.diverged
((101, 2), False)

Plots and animations take :class:`Trajectory` objects and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import checks, schedules
from .optimizers import Optimizer
from .surfaces import Surface
from .surfaces import get as get_surface

__all__ = ["Trajectory", "run", "MAX_STEPS", "MAX_POINT_STEPS"]

#: The most steps one run may take: a ceiling on work, so that a typo (one zero too
#: many) cannot hang the kernel. 100,000 steps of one point take 10–60 s (measured
#: on a shared, loaded machine; 10**7 steps, which the ceiling refuses, took 25 min).
MAX_STEPS = 100_000
#: The most steps × start points one run may take (200 × 200 start points × 500 steps,
#: a basin map, is 20 million; 5 million took 5 s on a loaded machine, and 25 million
#: recorded at every step hold about 600 MB).
MAX_POINT_STEPS = 25_000_000


@dataclass(frozen=True, eq=False)
class Trajectory:
    """What a run did.

    Attributes:
        path: ``(steps_taken + 1, ..., 2)`` points, the start included; finite only.
            A thinned run (``run(..., record_every=k)``) keeps only the rows of the steps
            in :attr:`recorded_steps`: row ``i`` is step ``recorded_steps[i]``.
        loss: ``(steps_taken + 1, ...)`` the surface's value along ``path`` (the same
            rows as ``path``).
        diverged: ``bool`` for one start point, a ``(...)`` array of flags for a batch.
            A point that diverged stays at its last finite position.
        diverged_at: the step at which each point left the finite world (``-1`` if it
            did not); same shape as ``diverged``.
        grad_evals: how many times the optimizer called the gradient.
        surface: the surface it ran on.
    """

    path: np.ndarray
    loss: np.ndarray
    diverged: bool | np.ndarray
    diverged_at: int | np.ndarray
    grad_evals: int
    surface: Surface
    #: The step of each row of ``path`` when the run was thinned; ``None``: every step.
    _recorded_steps: np.ndarray | None = field(default=None, repr=False)

    @property
    def recorded_steps(self) -> np.ndarray:
        """The step index of each row of ``path`` and ``loss``: ``0, 1, 2, ...`` for a full
        run; ``0, k, 2k, ...`` and the last step for ``run(..., record_every=k)``."""
        if self._recorded_steps is None:
            return np.arange(len(self.path))
        return self._recorded_steps

    @property
    def steps(self) -> int:
        """Steps taken (the last recorded step); fewer than asked if every point diverged."""
        if self._recorded_steps is None:
            return len(self.path) - 1
        return int(self._recorded_steps[-1])

    @property
    def final(self) -> np.ndarray:
        """The last point(s)."""
        return self.path[-1]

    def __repr__(self) -> str:
        return (
            f"<Trajectory on {self.surface.name}: {self.steps} steps, "
            f"final loss {np.round(self.loss[-1], 6)}, diverged {self.diverged}>"
        )


def run(
    optimizer: Optimizer,
    surface: Surface | str,
    start=None,
    steps: int = 200,
    grad_fn=None,
    schedule=None,
    record_every: int = 1,
) -> Trajectory:
    """Run ``optimizer`` on ``surface`` from ``start`` for ``steps`` steps.

    Args:
        optimizer: any :mod:`kai_lib.optimizers` instance; it is ``reset()`` first, and its
            current hyperparameters are checked (:meth:`~kai_lib.optimizers.Optimizer.check`).
        surface: a :class:`~kai_lib.surfaces.Surface` or its name.
        start: one point ``(2,)`` or a batch ``(..., 2)``; default ``surface.start``.
        steps: how many steps (an int >= 0), at most :data:`MAX_STEPS` (100,000), and
            ``steps`` × the number of start points at most :data:`MAX_POINT_STEPS`
            (25 million): a ceiling on work, so a typo cannot hang the kernel.
        grad_fn: the gradient the optimizer sees (default ``surface.grad``): pass a noisy
            or mini-batch gradient to run stochastic gradient descent on the surface.
            It must return an array shaped like its argument.
        schedule: a :mod:`kai_lib.schedules` callable ``t -> lr_t``, or ``None`` (a constant
            ``lr``). Before step ``t = 1, 2, …`` the optimizer's ``lr`` is set to
            ``schedule(t)``, as ``torch.optim.lr_scheduler`` sets ``param_group["lr"]``, so
            ``step()`` stays the slide's rule; afterwards (even if the run raised) the
            optimizer's ``lr`` is what it was (:func:`kai_lib.schedules.applied`, shared
            with ``nn.train``). An optimizer without ``lr`` (AdaDelta) refuses a schedule,
            and so does the run at the first step where the schedule's value is not a
            finite number >= 0 (``ValueError``); a decay that underflows to 0 steps with
            η = 0, as ``torch.optim`` does.
        record_every: keep the rows of steps ``0, k, 2k, ...`` and always the last step
            taken (an int >= 1; default 1, every step). ``record_every=steps`` keeps the
            start and the end only: what a basin map of 200×200 start points needs, in
            two rows instead of ``steps + 1``. The kept rows are exactly the full run's
            rows at those steps, and ``diverged`` / ``diverged_at`` are exact whatever is
            kept (every step is still checked); see :attr:`Trajectory.recorded_steps`.

    Returns:
        A :class:`Trajectory`. Divergence is an outcome, not an error: a point whose
        next position or loss is not finite (an overflow, or a ``grad_fn`` that answered
        NaN) is frozen at its last finite position and flagged; the run ends early once
        every point has diverged. A start point is finite, but its loss may overflow
        (``[1e200, 1e200]`` on Beale): that point counts as diverged at step 0, its loss
        is recorded as the ``inf`` it is, and it does not move. No warning is printed.

    Each step computes what it must and no more: the optimizer's step, the loss at the
    new points (a point whose coordinates are finite but whose loss overflowed has left
    the finite world too) and one sum of both, which is finite only if every number in
    it is. Only on a step where that sum is not finite (or once a point is frozen) does
    the loop look at each point, flag and freeze. Rows are written into arrays allocated
    once, so no list of steps is kept and copied.
    """
    surface = get_surface(surface)
    start = surface.start if start is None else start
    theta, steps, record_every = _checked(optimizer, start, steps, grad_fn, record_every)
    optimizer.reset()
    with np.errstate(all="ignore"):  # a far-away start's loss may overflow: diverged at step 0, not a warning
        track = _Track(theta, surface(theta), steps, record_every)
    counted = _Counted(surface.grad if grad_fn is None else grad_fn)
    with np.errstate(all="ignore"), schedules.applied(optimizer, schedule) as set_lr:
        for k in range(1, track.steps + 1):
            set_lr(k)
            new = optimizer.step(track.theta, counted)
            if not track.take(k, new, surface(new)):
                break   # every point has left the finite world
    return track.trajectory(counted.calls, surface)


def _checked(optimizer, start, steps, grad_fn, record_every) -> tuple[np.ndarray, int, int]:
    """``run``'s arguments checked, and its ceilings: ``(theta, steps, record_every)``."""
    checks.instance("optimizer", optimizer, Optimizer, "a kai_lib optimizer instance")
    optimizer.check()
    steps = checks.count("steps", steps, 0, MAX_STEPS, "kai_lib.runner.MAX_STEPS, a ceiling on the work of one run")
    if grad_fn is not None:
        checks.function("grad_fn", grad_fn, "a function theta -> gradient, shaped like theta")
    record_every = checks.integer("record_every", record_every, low=1)
    theta = checks.points("start", start)
    points = int(np.prod(theta.shape[:-1]))
    if steps * points > MAX_POINT_STEPS:
        checks.fail("steps × start points", f"at most {MAX_POINT_STEPS:,} (kai_lib.runner.MAX_POINT_STEPS, a "
                    "ceiling on the work of one run); take fewer steps or fewer start points",
                    got=f"{steps:,} steps × {points:,} start points")
    return theta, steps, record_every


class _Counted:
    """A gradient that counts its calls."""

    def __init__(self, gradient):
        self.gradient, self.calls = gradient, 0

    def __call__(self, point):
        self.calls += 1
        return self.gradient(point)


class _Track:
    """The bookkeeping of one run: the current points, which are still finite, and the kept rows.

    Only the kept rows are stored (steps 0, k, 2k, ... and the last step taken), in arrays
    allocated once. A step's loss and points are summed once: a finite sum means every
    number is finite, and only otherwise (or once a point is frozen) are points looked at
    one by one, flagged and frozen at their last finite position.
    """

    def __init__(self, theta: np.ndarray, start_loss, steps: int, record_every: int):
        self.theta, self.current_loss, self.every = theta, start_loss, record_every
        self.alive = np.array(np.isfinite(start_loss), dtype=bool)
        self.diverged_at = np.where(self.alive, -1, 0)
        self.steps = steps if self.alive.any() else 0
        self.all_alive = bool(self.alive.all())
        rows = self.steps // record_every + 1 + (self.steps % record_every > 0)
        self.path = np.empty((rows, *theta.shape))
        self.loss = np.empty((rows, *theta.shape[:-1]))
        self.recorded = np.zeros(rows, dtype=int)
        self.kept, self.taken = 0, 0
        self._keep(0)

    def _keep(self, k: int) -> None:
        self.path[self.kept], self.loss[self.kept], self.recorded[self.kept] = self.theta, self.current_loss, k
        self.kept += 1

    def take(self, k: int, new: np.ndarray, new_loss) -> bool:
        """Step ``k`` to ``new``: flag and freeze what left the finite world; ``False`` once nothing is left."""
        # A NaN or an infinity anywhere makes the sum non-finite (a finite sum that
        # overflows only sends the step to the exact per-point check).
        if not (self.all_alive and np.isfinite(new_loss.sum() + new.sum())):
            ok = np.isfinite(new_loss) & np.isfinite(new).all(axis=-1)
            self.diverged_at[self.alive & ~ok] = k
            self.alive &= ok
            if not self.alive.any():
                return False
            self.all_alive = bool(self.alive.all())
            new = np.where(self.alive[..., None], new, self.theta)
            new_loss = np.where(self.alive, new_loss, self.current_loss)
        self.theta, self.current_loss, self.taken = new, new_loss, k
        if k % self.every == 0:
            self._keep(k)
        return True

    def trajectory(self, grad_evals: int, surface: Surface) -> Trajectory:
        if self.taken % self.every:  # the last step taken, when it is not a multiple of record_every
            self._keep(self.taken)
        path, loss, recorded = self.path, self.loss, self.recorded
        if self.kept < len(path):  # every point diverged before the end
            path, loss, recorded = path[:self.kept].copy(), loss[:self.kept].copy(), recorded[:self.kept].copy()
        thinned = None if self.every == 1 else recorded
        diverged = ~self.alive
        if diverged.shape == ():
            return Trajectory(path, loss, bool(diverged), int(self.diverged_at), grad_evals, surface, thinned)
        return Trajectory(path, loss, diverged, self.diverged_at, grad_evals, surface, thinned)
