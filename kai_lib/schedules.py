r"""Learning-rate schedules: a step number :math:`t` in, a learning rate :math:`\eta_t` out.

Each schedule is a small function that checks its arguments and returns a callable
``t -> lr_t`` for the steps ``t = 1, 2, …`` of a run. ``run(opt, surface, schedule=...)``
(and ``nn.train(..., schedule=...)``) set the optimizer's ``lr`` to ``schedule(t)``
*between* steps, as ``torch.optim.lr_scheduler`` sets ``param_group["lr"]``, so every
``step()`` stays the slide's rule, line for line.

>>> from kai_lib import schedules
>>> eta = schedules.step_decay(0.1, every=2, factor=0.5)
>>> [eta(t) for t in range(1, 6)]
[0.1, 0.1, 0.05, 0.05, 0.025]

**The step counter, against torch's.** Here ``t`` counts the optimizer's steps from 1:
``schedule(t)`` is the learning rate used *by* step ``t``. A ``torch.optim.lr_scheduler``
counts from 0: its ``last_epoch`` is 0 after construction, the value the first
``optimizer.step()`` uses, and each ``scheduler.step()`` adds one. Stepping the scheduler
after every ``optimizer.step()``, torch's step ``t`` therefore runs at ``last_epoch = t - 1``,
and every formula below is torch's closed form with ``last_epoch = t - 1``; the tests
check each one against the torch class to 1e-12 (``tests/reference/``).

Introduced in notebooks ``02-sgd-minibatch`` (the noise floor), ``03-momentum`` (where
the learning rate sits), ``05-adagrad`` (Adagrad's built-in decay) and ``09-comparison``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import contextmanager

from . import checks

__all__ = [
    "Schedule",
    "constant",
    "step_decay",
    "exponential",
    "inverse_sqrt",
    "inverse_time",
    "cosine",
    "warmup",
]


# --- argument checks: kai_lib.checks, in this module's words ----------------------

def _check_lr(name: str, value) -> float:
    return checks.number(name, value, low=0, low_open=True)


def _check_factor(name: str, value) -> float:
    """A decay factor: in (0, 1] (1 is no decay; 0 would stop the run)."""
    return checks.number(name, value, low=0, high=1, low_open=True)


def _check_steps(name: str, value) -> int:
    return checks.integer(name, value, low=1)


# --- the callable ------------------------------------------------------------------

class Schedule:
    """A learning rate per step: ``schedule(t)`` for ``t = 1, 2, …``.

    What the functions below return. It checks ``t`` and shows its settings in its
    ``repr`` (used as a plot label). Any callable ``t -> lr`` works where a schedule
    is expected; this class only adds the checks and the name.
    """

    def __init__(self, rule: Callable[[int], float], name: str):
        self._rule = rule
        self.name = name

    def __call__(self, t: int) -> float:
        return float(self._rule(checks.integer("t", t, low=1)))

    def __repr__(self) -> str:
        return self.name


# --- the schedules -----------------------------------------------------------------

def constant(lr: float) -> Schedule:
    r"""The same learning rate at every step.

    .. math:: \eta_t = \eta

    Args:
        lr: :math:`\eta`, a finite number > 0.

    Matches ``torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1.0)`` (or no scheduler).

    >>> eta = constant(0.1)
    >>> eta(1), eta(1000)
    (0.1, 0.1)
    """
    lr = _check_lr("lr", lr)
    return Schedule(lambda t: lr, f"constant({lr:g})")


def step_decay(lr: float, every: int, factor: float) -> Schedule:
    r"""Multiply the learning rate by ``factor`` every ``every`` steps.

    .. math::
        \eta_t = \eta \cdot f^{\lfloor (t-1)/k \rfloor} =
        \begin{cases}
          \eta, & 1 \le t \le k \\
          f\,\eta, & k < t \le 2k \\
          f^2\eta, & 2k < t \le 3k \\
          \dots
        \end{cases}

    where :math:`k` is ``every`` and :math:`f` is ``factor``: the first drop is at step
    :math:`k + 1`.

    Args:
        lr: :math:`\eta`, the learning rate of the first ``every`` steps (finite, > 0).
        every: :math:`k`, the steps between drops (an integer >= 1).
        factor: :math:`f`, in (0, 1].

    Matches ``torch.optim.lr_scheduler.StepLR(opt, step_size=every, gamma=factor)``.

    >>> eta = step_decay(1.0, every=100, factor=0.1)
    >>> eta(100), eta(101), eta(201)
    (1.0, 0.1, 0.010000000000000002)
    """
    lr = _check_lr("lr", lr)
    every = _check_steps("every", every)
    factor = _check_factor("factor", factor)
    return Schedule(lambda t: lr * factor ** ((t - 1) // every),
                    f"step_decay({lr:g}, every={every}, factor={factor:g})")


def exponential(lr: float, factor: float) -> Schedule:
    r"""Multiply the learning rate by ``factor`` after every step.

    .. math:: \eta_t = \eta \cdot f^{\,t-1}

    Args:
        lr: :math:`\eta = \eta_1` (finite, > 0).
        factor: :math:`f`, in (0, 1].

    Matches ``torch.optim.lr_scheduler.ExponentialLR(opt, gamma=factor)``.

    >>> eta = exponential(1.0, factor=0.5)
    >>> [eta(t) for t in (1, 2, 3)]
    [1.0, 0.5, 0.25]
    """
    lr = _check_lr("lr", lr)
    factor = _check_factor("factor", factor)
    return Schedule(lambda t: lr * factor ** (t - 1), f"exponential({lr:g}, factor={factor:g})")


def inverse_sqrt(lr: float) -> Schedule:
    r"""Decay like :math:`1/\sqrt t`: the rate Adagrad's step falls at under a constant gradient.

    .. math:: \eta_t = \frac{\eta}{\sqrt{t}}

    Args:
        lr: :math:`\eta = \eta_1` (finite, > 0).

    Matches ``torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / math.sqrt(epoch + 1))``
    (torch has no class of its own for it).

    >>> eta = inverse_sqrt(1.0)
    >>> [eta(t) for t in (1, 4, 100)]
    [1.0, 0.5, 0.1]
    """
    lr = _check_lr("lr", lr)
    return Schedule(lambda t: lr / math.sqrt(t), f"inverse_sqrt({lr:g})")


def inverse_time(lr: float, decay: float = 1.0) -> Schedule:
    r"""Decay like :math:`1/t`: the classic Robbins-Monro rate for stochastic gradients.

    .. math:: \eta_t = \frac{\eta}{1 + d\,(t - 1)}

    With the default :math:`d = 1` this is :math:`\eta / t`; a smaller :math:`d` waits
    longer before the decay sets in (about :math:`1/d` steps). The sums
    :math:`\sum_t \eta_t = \infty` and :math:`\sum_t \eta_t^2 < \infty` are the
    Robbins-Monro conditions under which SGD's noise dies out and it still gets anywhere.

    Args:
        lr: :math:`\eta = \eta_1` (finite, > 0).
        decay: :math:`d` (finite, > 0; default 1.0).

    Matches ``torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (1 + decay * epoch))``,
    Keras' ``InverseTimeDecay(lr, decay_steps=1, decay_rate=decay)`` and the ``lr_decay``
    argument of ``torch.optim.Adagrad``.

    >>> eta = inverse_time(1.0)
    >>> [eta(t) for t in (1, 2, 4)]
    [1.0, 0.5, 0.25]
    >>> inverse_time(1.0, decay=0.01)(101)
    0.5
    """
    lr = _check_lr("lr", lr)
    decay = _check_lr("decay", decay)
    return Schedule(lambda t: lr / (1 + decay * (t - 1)), f"inverse_time({lr:g}, decay={decay:g})")


def cosine(lr: float, total: int, final: float = 0.0) -> Schedule:
    r"""Cosine annealing from ``lr`` down to ``final`` over ``total`` steps.

    .. math::
        \eta_t =
        \begin{cases}
          \eta_{\min} + \tfrac12(\eta - \eta_{\min})\left(1 + \cos\frac{\pi (t-1)}{T}\right),
            & 1 \le t \le T + 1 \\
          \eta_{\min}, & t > T + 1
        \end{cases}

    where :math:`T` is ``total`` and :math:`\eta_{\min}` is ``final``. The first step
    uses :math:`\eta`, step :math:`T` uses
    :math:`\eta_{\min} + \tfrac12(\eta - \eta_{\min})(1 - \cos\frac{\pi}{T})`, still
    above :math:`\eta_{\min}`; :math:`\eta_{\min}` itself is reached at step :math:`T + 1`.
    So a run of ``steps = total`` never uses ``final``: with the default ``final = 0``
    that is the only length it can take, since a run refuses a zero learning rate.

    Args:
        lr: :math:`\eta`, the first step's learning rate (finite, > 0).
        total: :math:`T`, the steps of the decay (an integer >= 1); usually the run's length.
        final: :math:`\eta_{\min}` (default 0), in [0, lr].

    Matches ``torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total, eta_min=final)``
    for every step up to :math:`T + 1`. Past it torch's cosine climbs back up (its
    period is :math:`2T`); here it stays at :math:`\eta_{\min}`.

    Reference: Loshchilov & Hutter (2017), "SGDR: Stochastic Gradient Descent with Warm
    Restarts", https://arxiv.org/abs/1608.03983.

    >>> eta = cosine(1.0, total=4)
    >>> [round(eta(t), 4) for t in range(1, 6)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    lr = _check_lr("lr", lr)
    total = _check_steps("total", total)
    final = checks.number("final", final, low=0, high=lr)

    def rule(t: int) -> float:
        progress = min(t - 1, total) / total
        return final + 0.5 * (lr - final) * (1 + math.cos(math.pi * progress))

    return Schedule(rule, f"cosine({lr:g}, total={total}, final={final:g})")


def warmup(schedule: Callable[[int], float], steps: int) -> Schedule:
    r"""A linear warm-up of ``steps`` steps in front of any schedule.

    .. math::
        \eta_t =
        \begin{cases}
          \frac{t}{w}\, s(1), & 1 \le t \le w \\
          s(t - w), & t > w
        \end{cases}

    where :math:`s` is ``schedule`` and :math:`w` is ``steps``: the learning rate climbs
    in :math:`w` equal steps up to the schedule's first value, then the schedule runs from
    its own step 1. So ``warmup(cosine(lr, total=n - w), w)`` fills a run of ``n`` steps.

    Args:
        schedule: any callable ``t -> lr`` (a schedule of this module).
        steps: :math:`w`, the warm-up steps (an integer >= 1).

    Matches ``torch.optim.lr_scheduler.SequentialLR(opt, [LinearLR(opt, start_factor=1/w,
    end_factor=1.0, total_iters=w - 1), after], milestones=[w])``, where ``after`` is the
    schedule's torch class: ``LinearLR`` gives the factors :math:`1/w, 2/w, \dots, 1` at
    epochs :math:`0 \dots w-1`, and ``SequentialLR`` starts ``after`` at its epoch 0 at
    epoch :math:`w`.

    >>> eta = warmup(constant(1.0), steps=4)
    >>> [eta(t) for t in range(1, 7)]
    [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """
    checks.function("schedule", schedule, "a callable t -> lr (a kai_lib.schedules schedule)")
    steps = _check_steps("steps", steps)
    peak = checks.number("schedule", schedule(1), low=0, low_open=True)  # its first value

    def rule(t: int) -> float:
        return t / steps * peak if t <= steps else schedule(t - steps)

    return Schedule(rule, f"warmup({schedule!r}, steps={steps})")


# --- what the two loops that apply a schedule share (run and nn.train; not schedules) -----

def check_for(optimizer, schedule) -> None:
    """Refuse ``schedule`` for ``optimizer`` unless it is a callable and the optimizer has an ``lr``.

    A non-callable is a :class:`kai_lib.checks.WrongType` (a ``TypeError`` and a
    ``ValueError``); an optimizer without a learning rate (AdaDelta) a ``ValueError``.
    """
    checks.function("schedule", schedule, "a callable t -> lr_t (see kai_lib.schedules) or None")
    names = optimizer.hyperparameters()
    if "lr" not in names:
        checks.fail("schedule", f"None for {type(optimizer).__name__}, which has no learning rate lr (its "
                    f"hyperparameters: {', '.join(names)})", schedule)


def lr_at(schedule: Callable[[int], float], t: int) -> float:
    """``schedule(t)`` as a float, refused with a ``ValueError`` naming the step unless finite and >= 0.

    0 is allowed: a decay that underflows (``exponential(0.001, factor=0.5)`` after about
    1,060 steps) steps with η = 0, as ``torch.optim`` does, rather than failing after the work.
    """
    return checks.number(f"schedule({t})", schedule(t), low=0)


@contextmanager
def applied(optimizer, schedule):
    """Apply ``schedule`` to ``optimizer`` between steps: the one mechanism of ``run`` and ``nn.train``.

    Yields ``set_lr(t)``, which sets ``optimizer.lr = schedule(t)`` and returns it, as
    ``torch.optim.lr_scheduler`` sets ``param_group["lr"]``; on exit (even after an error)
    ``optimizer.lr`` is what it was on entry, the value the learner set. Without a schedule
    (``None``) ``set_lr(t)`` leaves ``lr`` alone and returns ``None``.

    >>> from kai_lib.optimizers import SGD
    >>> opt = SGD(lr=0.01)
    >>> with applied(opt, step_decay(0.1, every=1, factor=0.5)) as set_lr:
    ...     [set_lr(t) for t in (1, 2, 3)], opt.lr
    ([0.1, 0.05, 0.025], 0.025)
    >>> opt.lr
    0.01
    """
    if schedule is None:
        yield lambda t: None
        return
    check_for(optimizer, schedule)
    before = optimizer.lr

    def set_lr(t: int) -> float:
        optimizer.lr = lr_at(schedule, t)
        return optimizer.lr

    try:
        yield set_lr
    finally:
        optimizer.lr = before
