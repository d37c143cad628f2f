r"""The optimizers of the slide deck, each written as the slide writes it.

Every optimizer is one small class. ``step(theta, grad_fn)`` is the slide's update
rule, one line of code per line of maths, and returns a *new* array; the state the
rule keeps (``v``, ``G``, ``s``, ``m``, ``t``) is named as on the slides, created on
the first step (its shape comes from ``theta``) and cleared by ``reset()``.

Every rule is element-wise, so ``theta`` may have any shape: a single point ``(2,)``
or a batch of start points ``(n, 2)`` that all move at once.

>>> import numpy as np
>>> from kai_lib import optimizers
>>> opt = optimizers.Momentum(lr=0.1)
>>> opt.step(np.array([1.0, 2.0]), lambda th: 2 * th)   # J = |theta|^2
array([0.8, 1.6])

The slides write :math:`\sqrt{G + \epsilon}`; the papers and ``torch.optim`` write
:math:`\sqrt{G} + \epsilon`. Every optimizer that divides by a root takes
``eps_inside_sqrt`` (default ``True``, the slides' form). The difference only shows
while ``G`` is tiny, i.e. in the first steps from a near-zero gradient.

ε may be 0. Then a coordinate whose gradients have all been exactly 0 divides 0 by 0;
the maths' own reading is *no gradient, no step*, and that is what every optimizer
here does: one shared division, :meth:`Optimizer._divide`, reads 0/0 as 0. So a run
that starts at a minimum, or slides along a valley floor, stays put in the flat
coordinate instead of being reported as diverged. (``torch.optim`` computes 0/0 = NaN
there.)

Every ``step`` happens wholly or not at all: if ``grad_fn`` raises (or returns
something that is not a gradient of ``theta``'s shape), the optimizer's state is left
as it was, and no floating-point warning is printed; a step that overflows returns
``inf``/``nan``, which :func:`kai_lib.run` reports as divergence.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections import deque
from collections.abc import Callable

import numpy as np

from . import checks

GradFn = Callable[[np.ndarray], np.ndarray]

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "TorchMomentum",
    "NAG",
    "Adagrad",
    "RMSProp",
    "AdaDelta",
    "Adam",
    "AdaMax",
    "Nadam",
    "AMSGrad",
    "AdamW",
    "ALL",
    "get",
]


# --- argument checks ---------------------------------------------------------------

def _check_lr(lr: float) -> float:
    return checks.number("lr", lr, low=0, low_open=True)


def _check_unit(name: str, value: float) -> float:
    """gamma, beta1, beta2: a decay rate in [0, 1)."""
    return checks.number(name, value, low=0, high=1, high_open=True)


def _check_nonnegative(name: str, value: float) -> float:
    return checks.number(name, value, low=0)


def _checked_gradient(grad_fn: GradFn) -> GradFn:
    """``grad_fn``, whose answer is checked to be a gradient: real numbers shaped like its argument."""

    def gradient(point):
        g = grad_fn(point)
        try:
            arr = np.asarray(g)
        except (TypeError, ValueError):
            arr = np.asarray(None)
        if arr.dtype.kind not in "iuf":
            checks.fail("grad_fn", f"an array of real numbers shaped like its argument {np.shape(point)}",
                        g, wrong_type=True, verb="return")
        if arr.shape != np.shape(point):
            checks.fail("grad_fn", f"the gradient, shaped like its argument {np.shape(point)}", verb="return",
                        got=f"shape {arr.shape}")
        return np.asarray(arr, dtype=float)

    return gradient


def _whole_step(step):
    """A subclass's ``step``, made to happen wholly or not at all, quietly, with its gradient checked.

    The state (every attribute of the optimizer) is saved by reference before the step and
    put back if anything raises, ``KeyboardInterrupt`` included: the steps here replace
    their state arrays rather than write into them, and lists, dicts and deques in the
    state are copied, so the saved state is the state before the step.
    """

    @functools.wraps(step)
    def whole_step(self, theta, grad_fn):
        checks.function("grad_fn", grad_fn)
        saved = {k: copy.copy(v) if isinstance(v, (list, dict, set, deque)) else v for k, v in vars(self).items()}
        try:
            with np.errstate(all="ignore"):  # an overflow is an outcome (inf/nan), not a warning
                return step(self, theta, _checked_gradient(grad_fn))
        except BaseException:
            vars(self).clear()
            vars(self).update(saved)
            raise

    return whole_step


# --- the base class ----------------------------------------------------------------

class Optimizer:
    """Base class: argument checks, ``reset()``, the root and the division the adaptive methods share.

    A subclass lists its state in ``state_names`` (the slide's letters) and writes
    ``step``. The hyperparameters a subclass takes are its ``__init__`` keywords with a
    number as default (``lr``, ``gamma``, ``eps``, ``history``; not the switch
    ``eps_inside_sqrt`` nor a function such as ``loss_fn``), stored as attributes of the
    same names: ``hyperparameters()`` and ``repr`` read those attributes, so they always
    show the values the next ``step`` will use.

    **Assignment is not checked** (``opt.lr = -1`` is accepted, as ``torch.optim``'s
    ``param_group["lr"] = -1`` is): attributes are plain attributes, which is what lets a
    schedule set ``lr`` between steps. A value is checked where it is used: the
    constructor checks what it is given, and :func:`kai_lib.run` and
    :func:`kai_lib.nn.train` call :meth:`check` before their first step, which runs the
    constructor's own checks on the current attributes, so ``opt.lr = -1; run(opt, ...)``
    is a ``ValueError`` naming ``lr`` before any work.

    Every subclass's ``step`` is run by the base class (``__init_subclass__`` wraps it,
    and ``inspect.getsource`` still shows the subclass's own code) so that, for every
    optimizer alike:

    - a step happens wholly or not at all: if ``grad_fn`` raises, the state is as it was;
    - ``grad_fn``'s answer must be real numbers of the shape of its argument, or a
      ``ValueError`` / ``TypeError`` naming ``grad_fn`` says what came back;
    - no floating-point warning is printed: an overflowing step returns ``inf``/``nan``.
    """

    state_names: tuple[str, ...] = ()
    eps_inside_sqrt: bool = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _whole_step(cls.__dict__["step"])

    def __new__(cls, *args, **kwargs):
        """Refuse a keyword the class does not take in the class's own name (``NAG(foo=1)``
        names NAG, not the parent whose constructor NAG inherits), as a ``ValueError``."""
        try:
            inspect.signature(cls.__init__).bind(None, *args, **kwargs)
        except TypeError as error:
            allowed = ", ".join(cls._keywords()) or "no arguments"
            checks.fail(f"{cls.__name__}()", f"called with its keywords, {allowed}", wrong_type=True, verb="be",
                        got=f"a call it refuses: {error}")
        return super().__new__(cls)

    @classmethod
    def _keywords(cls) -> tuple[str, ...]:
        """The constructor's keywords, in order."""
        return tuple(list(inspect.signature(cls.__init__).parameters)[1:])

    @classmethod
    def _hyperparameter_names(cls) -> tuple[str, ...]:
        """The constructor's keywords whose default is a number (not a bool)."""
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        return tuple(p.name for p in params
                     if isinstance(p.default, (int, float)) and not isinstance(p.default, bool))

    def reset(self) -> None:
        """Forget everything: back to the state before the first step."""
        for name in self.state_names:
            setattr(self, name, 0 if name == "t" else None)

    def hyperparameters(self) -> dict[str, float]:
        """The hyperparameters and their *current* values, e.g. ``{'lr': 0.01, 'gamma': 0.9}``.

        >>> opt = Momentum(lr=0.01)
        >>> opt.lr = 0.5
        >>> opt.hyperparameters(), opt
        ({'lr': 0.5, 'gamma': 0.9}, Momentum(lr=0.5, gamma=0.9))
        """
        return {name: getattr(self, name) for name in self._hyperparameter_names()}

    def check(self) -> None:
        """Run the constructor's checks on the current attributes (a ``ValueError`` naming the first bad one).

        >>> opt = SGD(lr=0.1)
        >>> opt.lr = -1
        >>> opt.check()
        Traceback (most recent call last):
        ...
        ValueError: lr must be a finite number > 0, got -1
        """
        type(self)(**{name: getattr(self, name) for name in self._keywords()})

    def _root(self, x: np.ndarray) -> np.ndarray:
        r"""The denominator's root: :math:`\sqrt{x + \epsilon}` (slides) or :math:`\sqrt{x} + \epsilon`."""
        if self.eps_inside_sqrt:
            return np.sqrt(x + self.eps)
        return np.sqrt(x) + self.eps

    @staticmethod
    def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        r"""``numerator / denominator`` element-wise, reading 0/0 as 0: no gradient, no step.

        Only with :math:`\epsilon = 0` can a denominator be 0, and only in a coordinate
        whose gradients have all been exactly 0, where the numerator is 0 too: the
        step there is 0, as the maths says. ``torch.optim`` gives NaN there.
        """
        if np.all(denominator):  # the usual case, ε > 0: a plain division
            return numerator / denominator
        out = np.zeros(np.broadcast_shapes(np.shape(numerator), np.shape(denominator)))
        return np.divide(numerator, denominator, out=out, where=(numerator != 0) | (denominator != 0))

    def step(self, theta: np.ndarray, grad_fn: GradFn) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    @staticmethod
    def _as_array(theta) -> np.ndarray:
        return checks.real_array("theta", theta)  # a copy: theta itself is never modified


# --- the slides ----------------------------------------------------------------------

class SGD(Optimizer):
    r"""Gradient descent: a step against the gradient.

    .. math:: \theta \leftarrow \theta - \eta \nabla_\theta J(\theta)

    Args:
        lr: the learning rate :math:`\eta` (default 0.01; the slides: "usually 0.01 ~ 0.001").

    Whether this is *batch* gradient descent or *stochastic* (mini-batch) gradient
    descent depends only on what ``grad_fn`` computes the gradient from (notebook
    ``02-sgd-minibatch``). Same as ``torch.optim.SGD(params, lr)``.

    >>> opt = SGD(lr=0.1)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.8, -1.6])

    Reference: Robbins & Monro (1951), "A Stochastic Approximation Method".
    Introduced in notebook ``01-gradient-descent``.
    """

    def __init__(self, lr: float = 0.01):
        self.lr = _check_lr(lr)
        self.reset()

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        return theta - self.lr * grad_fn(theta)


class Momentum(Optimizer):
    r"""SGD with momentum: the step remembers the steps before it ('관성', inertia).

    .. math::
        v_t &= \gamma v_{t-1} + \eta \nabla_\theta J(\theta) \\
        \theta &\leftarrow \theta - v_t

    Unrolled, :math:`v_t = \eta g_t + \gamma \eta g_{t-1} + \gamma^2 \eta g_{t-2} + \dots`:
    a gradient's weight after k steps is :math:`\gamma^k` (0.9²² ≈ 0.0985).

    Args:
        lr: :math:`\eta` (default 0.01).
        gamma: the momentum term :math:`\gamma` (default 0.9).

    State: ``v`` (one float per parameter, so memory doubles).

    Note:
        ``torch.optim.SGD(params, lr, momentum=gamma)`` keeps ``buf = gamma*buf + g`` and
        steps ``lr * buf``: the same iterates, with ``v = lr * buf``. They differ only
        if ``lr`` changes during training (a schedule): torch's ``v`` is rescaled
        at once, the slide's keeps the old ``lr`` inside it.

    >>> opt = Momentum(lr=0.1, gamma=0.9)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.8, -1.6])

    Reference: Polyak (1964); Rumelhart, Hinton & Williams (1986).
    Introduced in notebook ``03-momentum``.
    """

    state_names = ("v",)

    def __init__(self, lr: float = 0.01, gamma: float = 0.9):
        self.lr = _check_lr(lr)
        self.gamma = _check_unit("gamma", gamma)
        self.reset()

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.v is None:
            self.v = np.zeros_like(theta)
        self.v = self.gamma * self.v + self.lr * grad_fn(theta)
        return theta - self.v


class TorchMomentum(Momentum):
    r"""Momentum as ``torch.optim.SGD(momentum=gamma)`` writes it: :math:`\eta` outside the velocity.

    .. math::
        b_t &= \gamma b_{t-1} + \nabla_\theta J(\theta) \\
        \theta &\leftarrow \theta - \eta_t b_t

    Not one of the slides' optimizers (it is not in :data:`ALL`): it is here to show where
    the slide's :class:`Momentum` and PyTorch's part ways. With a constant :math:`\eta`
    the two are the same method, :math:`v_t = \eta b_t`. Under a schedule they are not:
    the slide's :math:`v_t = \gamma v_{t-1} + \eta_t g_t` keeps every past gradient at
    the :math:`\eta` it came in with, torch's step :math:`\eta_t b_t` rescales the whole
    memory at once. After a drop :math:`\eta \to f\eta` torch's step shrinks by
    :math:`f` immediately, the slide's only as the old velocity decays (like
    :math:`\gamma^k`).

    Args:
        lr: :math:`\eta` (default 0.01).
        gamma: torch's ``momentum`` :math:`\gamma` (default 0.9).

    State: ``buf``, torch's ``momentum_buffer`` (:math:`b`).

    Note:
        torch starts the buffer at the first gradient, ``buf = g_1``; from ``buf = 0``
        the first update gives the same. ``dampening`` and ``nesterov`` are left at
        torch's defaults (0, ``False``).

    >>> opt = TorchMomentum(lr=0.1, gamma=0.9)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.8, -1.6])

    Introduced in notebook ``03-momentum`` (key point: a schedule).
    """

    state_names = ("buf",)  # the constructor is Momentum's: the same lr and gamma

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.buf is None:
            self.buf = np.zeros_like(theta)
        self.buf = self.gamma * self.buf + grad_fn(theta)
        return theta - self.lr * self.buf


class NAG(Momentum):
    r"""Nesterov accelerated gradient: take the momentum step first, then look.

    .. math::
        v_t &= \gamma v_{t-1} + \eta \nabla_\theta J(\theta - \gamma v_{t-1}) \\
        \theta &\leftarrow \theta - v_t

    ``grad_fn`` is called once per step, at the look-ahead point
    :math:`\theta - \gamma v_{t-1}`, exactly as on the slide.

    Args:
        lr: :math:`\eta` (default 0.01).
        gamma: :math:`\gamma` (default 0.9).

    State: ``v``.

    Note:
        ``torch.optim.SGD(params, lr, momentum=gamma, nesterov=True)`` is the same
        method rewritten (Sutskever et al. 2013; Bengio et al. 2012) so that its
        parameter *is* the look-ahead point :math:`\theta' = \theta - \gamma v`:
        its iterates equal ours mapped through :math:`\theta - \gamma v`, and both
        evaluate one gradient per step.

    >>> opt = NAG(lr=0.1, gamma=0.9)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.8, -1.6])

    Reference: Nesterov (1983), "A method for solving the convex programming problem
    with convergence rate O(1/k²)"; Sutskever et al. (2013), ICML.
    Introduced in notebook ``04-nag``.
    """

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.v is None:
            self.v = np.zeros_like(theta)
        self.v = self.gamma * self.v + self.lr * grad_fn(theta - self.gamma * self.v)
        return theta - self.v


class Adagrad(Optimizer):
    r"""Adagrad: a step size per parameter, smaller for those that have moved a lot.

    .. math::
        G_t &= G_{t-1} + (\nabla_\theta J(\theta_t))^2 \\
        \theta_{t+1} &= \theta_t - \frac{\eta}{\sqrt{G_t + \epsilon}} \cdot \nabla_\theta J(\theta_t)

    Squares, roots and the product are element-wise. With a constant gradient the
    effective step :math:`\eta / \sqrt{G_t + \epsilon}` falls like :math:`1/\sqrt{t}`:
    no schedule needed, but a long run stalls.

    Args:
        lr: :math:`\eta` (default 0.01).
        eps: :math:`\epsilon` (default 1e-8; the slides: 1e-4 ~ 1e-8).
            ``eps=0`` is allowed: a coordinate whose gradients have all been exactly 0
            does not move (0/0 read as 0; ``torch.optim`` gives NaN there).
        eps_inside_sqrt: ``True`` (default) for the slide's :math:`\sqrt{G+\epsilon}`,
            ``False`` for :math:`\sqrt{G}+\epsilon` as in the paper and ``torch.optim``.

    State: ``G``, the running sum of squared gradients.

    Note:
        ``torch.optim.Adagrad(params, lr, eps=eps)`` uses :math:`\sqrt{G}+\epsilon`
        with ``eps=1e-10``; with ``eps_inside_sqrt=False`` the iterates are the same.

    >>> opt = Adagrad(lr=0.5)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.5, -1.5])

    Reference: Duchi, Hazan & Singer (2011), JMLR 12, "Adaptive Subgradient Methods
    for Online Learning and Stochastic Optimization".
    Introduced in notebook ``05-adagrad``.
    """

    state_names = ("G",)

    def __init__(self, lr: float = 0.01, eps: float = 1e-8, eps_inside_sqrt: bool = True):
        self.lr = _check_lr(lr)
        self.eps = _check_nonnegative("eps", eps)
        self.eps_inside_sqrt = checks.boolean("eps_inside_sqrt", eps_inside_sqrt)
        self.reset()

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.G is None:
            self.G = np.zeros_like(theta)
        g = grad_fn(theta)
        self.G = self.G + g**2
        return theta - self.lr * self._divide(g, self._root(self.G))


class RMSProp(Optimizer):
    r"""RMSProp: Adagrad with an exponential average of squared gradients instead of a sum.

    .. math::
        G_t &= \gamma G_{t-1} + (1 - \gamma)(\nabla_\theta J(\theta_t))^2 \\
        \theta_{t+1} &= \theta_t - \frac{\eta}{\sqrt{G_t + \epsilon}} \cdot \nabla_\theta J(\theta_t)

    ``G`` stays bounded (no stall), and the relative scale between parameters is
    kept. From ``G = 0`` the first step is :math:`\eta / \sqrt{1-\gamma}` per
    coordinate: 3.16 η at γ = 0.9.

    Args:
        lr: :math:`\eta` (default 0.001).
        gamma: the decay :math:`\gamma` (default 0.9, Hinton's lecture).
        eps: :math:`\epsilon` (default 1e-8).
            ``eps=0`` is allowed: a coordinate whose gradients have all been exactly 0
            does not move (0/0 read as 0; ``torch.optim`` gives NaN there).
        eps_inside_sqrt: ``True`` (default, the slides) or ``False`` (``torch.optim``).

    State: ``G``.

    Note:
        ``torch.optim.RMSprop(params, lr, alpha=gamma, eps=eps)`` uses
        :math:`\sqrt{G}+\epsilon` and defaults to ``alpha=0.99, eps=1e-8``; with
        ``eps_inside_sqrt=False`` and the same γ the iterates are the same.

    >>> opt = RMSProp(lr=0.01)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.96837722, -1.96837722])

    Reference: Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning",
    lecture 6e (2012).
    Introduced in notebook ``06-rmsprop``.
    """

    state_names = ("G",)

    def __init__(
        self,
        lr: float = 0.001,
        gamma: float = 0.9,
        eps: float = 1e-8,
        eps_inside_sqrt: bool = True,
    ):
        self.lr = _check_lr(lr)
        self.gamma = _check_unit("gamma", gamma)
        self.eps = _check_nonnegative("eps", eps)
        self.eps_inside_sqrt = checks.boolean("eps_inside_sqrt", eps_inside_sqrt)
        self.reset()

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.G is None:
            self.G = np.zeros_like(theta)
        g = grad_fn(theta)
        self.G = self.gamma * self.G + (1 - self.gamma) * g**2
        return theta - self.lr * self._divide(g, self._root(self.G))


class AdaDelta(Optimizer):
    r"""AdaDelta: RMSProp whose step is measured in the units of :math:`\theta`; no learning rate.

    .. math::
        G &= \gamma G + (1 - \gamma)(\nabla_\theta J(\theta_t))^2 \\
        \Delta_\theta &= \frac{\sqrt{s + \epsilon}}{\sqrt{G + \epsilon}} \cdot \nabla_\theta J(\theta_t) \\
        \theta &\leftarrow \theta - \Delta_\theta \\
        s &= \gamma s + (1 - \gamma)\Delta_\theta^2

    :math:`\sqrt{s+\epsilon}` (the RMS of past steps) has the units of θ, so the
    step does too, as in Newton's method. From ``s = 0`` the first step is
    :math:`\sqrt{\epsilon}/\sqrt{1-\gamma}` whatever the gradient (3.2e-3 with the
    defaults): ε sets how fast it starts.

    Args:
        gamma: the decay :math:`\gamma` (default 0.9; the paper uses ρ = 0.95).
        eps: :math:`\epsilon` (default 1e-6). With ``eps=0`` AdaDelta never moves: ``s``
            stays 0, so every step is 0 (0/0 read as 0; ``torch.optim.Adadelta`` gives
            NaN where the gradient is 0).
        eps_inside_sqrt: ``True`` (default; the slides, the paper and ``torch.optim``
            all put ε inside both roots). ``False`` gives :math:`\sqrt{s}+\epsilon`
            and :math:`\sqrt{G}+\epsilon`, under which the first step is ε-sized.

    State: ``G`` (squared gradients) and ``s`` (squared steps).

    Note:
        There is no ``lr``. ``torch.optim.Adadelta(params, lr=1.0, rho=gamma, eps=eps)``
        multiplies the step by ``lr`` (default 1.0): at ``lr=1`` it is this rule.

    >>> opt = AdaDelta()
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.99683773, -1.99683772])

    Reference: Zeiler (2012), "ADADELTA: An Adaptive Learning Rate Method",
    https://arxiv.org/abs/1212.5701.
    Introduced in notebook ``07-adadelta``.
    """

    state_names = ("G", "s")

    def __init__(self, gamma: float = 0.9, eps: float = 1e-6, eps_inside_sqrt: bool = True):
        self.gamma = _check_unit("gamma", gamma)
        self.eps = _check_nonnegative("eps", eps)
        self.eps_inside_sqrt = checks.boolean("eps_inside_sqrt", eps_inside_sqrt)
        self.reset()

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.G is None:
            self.G = np.zeros_like(theta)
            self.s = np.zeros_like(theta)
        g = grad_fn(theta)
        self.G = self.gamma * self.G + (1 - self.gamma) * g**2
        delta = self._divide(self._root(self.s), self._root(self.G)) * g
        theta = theta - delta
        self.s = self.gamma * self.s + (1 - self.gamma) * delta**2
        return theta


class Adam(Optimizer):
    r"""Adam: Momentum's average of gradients plus RMSProp's average of their squares.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) \nabla_\theta J(\theta) \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) (\nabla_\theta J(\theta))^2 \\
        \hat m_t &= \frac{m_t}{1 - \beta_1^t}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^t} \\
        \theta &\leftarrow \theta - \frac{\eta}{\sqrt{\hat v_t + \epsilon}} \hat m_t

    ``m`` and ``v`` start at zero, so early on they are biased towards zero; dividing
    by :math:`1-\beta^t` removes that. The first step is then :math:`\eta\,\mathrm{sign}(g)`
    per coordinate (for ε → 0).

    Args:
        lr: :math:`\eta` (default 0.001).
        beta1, beta2: the decays (defaults 0.9, 0.999).
        eps: :math:`\epsilon` (default 1e-8).
            ``eps=0`` is allowed: a coordinate whose gradients have all been exactly 0
            does not move (0/0 read as 0; ``torch.optim`` gives NaN there).
        eps_inside_sqrt: ``True`` (default, the slides) or ``False`` for the paper's and
            ``torch.optim.Adam``'s :math:`\sqrt{\hat v_t}+\epsilon`.

    State: ``m``, ``v`` and the step counter ``t``.

    Note:
        With ε = 1e-8 the two placements differ only where :math:`\hat v_t` is below
        about 1e-8, i.e. for gradients smaller than 1e-4.

    >>> opt = Adam(lr=0.1)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.9, -1.9])

    Reference: Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization",
    https://arxiv.org/abs/1412.6980.
    Introduced in notebook ``08-adam``.
    """

    state_names = ("m", "v", "t")

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        eps_inside_sqrt: bool = True,
    ):
        self.lr = _check_lr(lr)
        self.beta1 = _check_unit("beta1", beta1)
        self.beta2 = _check_unit("beta2", beta2)
        self.eps = _check_nonnegative("eps", eps)
        self.eps_inside_sqrt = checks.boolean("eps_inside_sqrt", eps_inside_sqrt)
        self.reset()

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.m is None:
            self.m = np.zeros_like(theta)
            self.v = np.zeros_like(theta)
        self.t += 1
        g = grad_fn(theta)
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g**2
        m_hat = self.m / (1 - self.beta1**self.t)
        v_hat = self.v / (1 - self.beta2**self.t)
        return theta - self.lr * self._divide(m_hat, self._root(v_hat))


# --- beyond the slides: the Adam family as torch.optim writes it -----------------------

class AdaMax(Adam):
    r"""AdaMax: Adam with the infinity norm in place of the root of squares.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        u_t &= \max(\beta_2 u_{t-1},\ |g_t| + \epsilon) \\
        \theta &\leftarrow \theta - \frac{\eta}{1 - \beta_1^t} \frac{m_t}{u_t}

    Args:
        lr: :math:`\eta` (default 0.002, the paper's).
        beta1, beta2: defaults 0.9, 0.999.
        eps: :math:`\epsilon` (default 1e-8).
            ``eps=0`` is allowed: a coordinate whose gradients have all been exactly 0
            does not move (0/0 read as 0; ``torch.optim`` gives NaN there).

    State: ``m``, ``u`` and ``t``. No root, so no ``eps_inside_sqrt``.

    Note:
        As ``torch.optim.Adamax``: ε is added to :math:`|g_t|` inside the max; the paper
        (Algorithm 2) has no ε at all and divides by :math:`u_t` directly.

    >>> opt = AdaMax(lr=0.1)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.9, -1.9])

    Reference: Kingma & Ba (2015), section 7.1, https://arxiv.org/abs/1412.6980.
    Introduced in notebook ``08-adam``.
    """

    state_names = ("m", "u", "t")

    def __init__(self, lr: float = 0.002, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps)

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.m is None:
            self.m = np.zeros_like(theta)
            self.u = np.zeros_like(theta)
        self.t += 1
        g = grad_fn(theta)
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.u = np.maximum(self.beta2 * self.u, np.abs(g) + self.eps)
        return theta - self.lr / (1 - self.beta1**self.t) * self._divide(self.m, self.u)


class Nadam(Adam):
    r"""Nadam: Adam with Nesterov momentum, in ``torch.optim.NAdam``'s form.

    .. math::
        \mu_t &= \beta_1 \left(1 - \tfrac12\, 0.96^{t\,\psi}\right), \qquad
        \textstyle\prod_t = \prod_{i \le t} \mu_i \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \qquad
        \hat v_t = \frac{v_t}{1 - \beta_2^t} \\
        \theta &\leftarrow \theta - \frac{\eta}{\sqrt{\hat v_t + \epsilon}}
            \left( \frac{(1 - \mu_t)\, g_t}{1 - \prod_t}
                 + \frac{\mu_{t+1}\, m_t}{1 - \prod_t \mu_{t+1}} \right)

    Args:
        lr: :math:`\eta` (default 0.002).
        beta1, beta2: defaults 0.9, 0.999.
        eps: default 1e-8.
            ``eps=0`` is allowed: a coordinate whose gradients have all been exactly 0
            does not move (0/0 read as 0; ``torch.optim`` gives NaN there).
        momentum_decay: :math:`\psi` (default 0.004), the warm-up of :math:`\mu_t`.
        eps_inside_sqrt: ``True`` (default) or ``False`` (``torch.optim.NAdam``).

    State: ``m``, ``v``, ``t`` and ``mu_product`` (:math:`\prod_t`).

    Note:
        Dozat's paper uses a constant :math:`\mu = \beta_1`; the schedule
        :math:`\mu_t` (Sutskever-style warm-up) is ``torch.optim.NAdam``'s and Keras'.
        With ``momentum_decay=0`` it becomes :math:`\mu_t = \beta_1/2` for all t,
        *not* the paper's form: the schedule is part of this variant.

    >>> opt = Nadam(lr=0.1)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.89435482, -1.89435482])

    Reference: Dozat (2016), "Incorporating Nesterov Momentum into Adam", ICLR workshop.
    Introduced in notebook ``08-adam``.
    """

    state_names = ("m", "v", "t", "mu_product")

    def __init__(
        self,
        lr: float = 0.002,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        momentum_decay: float = 4e-3,
        eps_inside_sqrt: bool = True,
    ):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, eps_inside_sqrt=eps_inside_sqrt)
        self.momentum_decay = _check_nonnegative("momentum_decay", momentum_decay)

    def reset(self) -> None:
        super().reset()
        self.mu_product = 1.0

    def _mu(self, t: int) -> float:
        return self.beta1 * (1 - 0.5 * 0.96 ** (t * self.momentum_decay))

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.m is None:
            self.m = np.zeros_like(theta)
            self.v = np.zeros_like(theta)
        self.t += 1
        g = grad_fn(theta)
        mu, mu_next = self._mu(self.t), self._mu(self.t + 1)
        self.mu_product *= mu
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g**2
        v_hat = self.v / (1 - self.beta2**self.t)
        direction = (1 - mu) * g / (1 - self.mu_product) + mu_next * self.m / (1 - self.mu_product * mu_next)
        return theta - self.lr * self._divide(direction, self._root(v_hat))


class AMSGrad(Adam):
    r"""AMSGrad: Adam whose denominator never shrinks.

    .. math::
        v^{\max}_t &= \max(v^{\max}_{t-1}, v_t) \\
        \theta &\leftarrow \theta - \frac{\eta}{\sqrt{v^{\max}_t / (1 - \beta_2^t) + \epsilon}} \hat m_t

    with :math:`m_t, v_t, \hat m_t` as in :class:`Adam`.

    Args: as :class:`Adam` (defaults lr=0.001, 0.9, 0.999, 1e-8).

    State: ``m``, ``v``, ``v_max`` and ``t``.

    Note:
        As ``torch.optim.Adam(amsgrad=True)``: the max is taken over the *raw* ``v``
        and the bias correction applied after it. Reddi et al.'s Algorithm 2 has no
        bias correction and keeps the max of :math:`v_t` itself.

    >>> opt = AMSGrad(lr=0.1)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.9, -1.9])

    Reference: Reddi, Kale & Kumar (2018), "On the Convergence of Adam and Beyond",
    https://arxiv.org/abs/1904.09237.
    Introduced in notebook ``08-adam``.
    """

    state_names = ("m", "v", "v_max", "t")

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.m is None:
            self.m = np.zeros_like(theta)
            self.v = np.zeros_like(theta)
            self.v_max = np.zeros_like(theta)
        self.t += 1
        g = grad_fn(theta)
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g**2
        self.v_max = np.maximum(self.v_max, self.v)
        m_hat = self.m / (1 - self.beta1**self.t)
        v_hat = self.v_max / (1 - self.beta2**self.t)
        return theta - self.lr * self._divide(m_hat, self._root(v_hat))


class AdamW(Adam):
    r"""AdamW: Adam plus weight decay applied to θ directly, not through the gradient.

    .. math::
        \theta &\leftarrow \theta - \eta \lambda \theta \\
        \theta &\leftarrow \theta - \frac{\eta}{\sqrt{\hat v_t + \epsilon}} \hat m_t

    with :math:`m_t, v_t, \hat m_t, \hat v_t` as in :class:`Adam`.

    Args: as :class:`Adam`, plus ``weight_decay`` :math:`\lambda` (default 0.01).

    State: ``m``, ``v``, ``t``.

    Note:
        As ``torch.optim.AdamW``: the decay is multiplied by the learning rate, θ ← θ − ηλθ.
        Loshchilov & Hutter's Algorithm 2 multiplies it by the schedule multiplier
        :math:`\eta_t` only (1 without a schedule), not by the learning rate α:
        θ ← θ − η_t λ θ. The two decay alike when the paper's λ is torch's λ times the
        learning rate: torch's default λ = 0.01 at lr = 1e-3 is the paper's λ = 1e-5.

    >>> opt = AdamW(lr=0.1, weight_decay=0.01)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    >>> theta
    array([ 0.899, -1.898])

    Reference: Loshchilov & Hutter (2019), "Decoupled Weight Decay Regularization",
    https://arxiv.org/abs/1711.05101.
    Introduced in notebook ``08-adam``.
    """

    def __init__(
        self,
        lr: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        eps_inside_sqrt: bool = True,
    ):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, eps=eps, eps_inside_sqrt=eps_inside_sqrt)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        g = grad_fn(theta)  # the gradient at theta, before the decay moves it
        theta = theta - self.lr * self.weight_decay * theta
        return super().step(theta, lambda _: g)


#: Display name -> class, in the slides' order, then the Adam family.
ALL: dict[str, type[Optimizer]] = {
    "SGD": SGD,
    "Momentum": Momentum,
    "NAG": NAG,
    "Adagrad": Adagrad,
    "RMSProp": RMSProp,
    "AdaDelta": AdaDelta,
    "Adam": Adam,
    "AdaMax": AdaMax,
    "Nadam": Nadam,
    "AMSGrad": AMSGrad,
    "AdamW": AdamW,
}

#: The seven optimizers of the slides.
SLIDES: tuple[str, ...] = ("SGD", "Momentum", "NAG", "Adagrad", "RMSProp", "AdaDelta", "Adam")


def get(name: str) -> type[Optimizer]:
    """The optimizer class called ``name``, any case: a key of :data:`ALL`, :data:`SECOND_ORDER`
    (notebook 11) or :data:`AFTER_ADAM` (notebook 12)."""
    known = {**ALL, **SECOND_ORDER, **AFTER_ADAM}
    for key, cls in known.items():
        if key.lower() == str(name).lower():
            return cls
    checks.unknown("name", name, known, "optimizer")


# --- second order: Newton, BFGS, L-BFGS ----------------------------------------------------
#
# These work on a point's whole vector at once, so ``theta`` is read as ``(..., n)``: a batch
# of points of n coordinates (the surfaces: ``(..., 2)``) or one long vector ``(P,)`` (a
# network's parameters). Matrices and curvature histories are kept per point.

#: A curvature pair with sᵀy at or below this is skipped, as ``torch.optim.LBFGS`` does.
CURVATURE_THRESHOLD = 1e-10
#: The most curvature pairs L-BFGS may keep: its memory is 2 × history copies of θ (torch's
#: default is 100, SciPy's 10), and ``history=10**6`` would allocate before the first step.
MAX_HISTORY = 10_000

HessianFn = Callable[[np.ndarray], np.ndarray]
LossFn = Callable[[np.ndarray], np.ndarray]


def _inner(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """aᵀb per point, over the last axis: ``(..., n), (..., n) -> (..., 1)``."""
    return (a * b).sum(axis=-1, keepdims=True)


def _outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """abᵀ per point: ``(..., n), (..., n) -> (..., n, n)``."""
    return a[..., :, None] * b[..., None, :]


def _check_vector(theta: np.ndarray, who: str) -> np.ndarray:
    if theta.ndim == 0:
        checks.fail("theta", f"shape (n,) or (..., n) for {who}", verb="have", got="a scalar")
    return theta


def _solve_per_point(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """x with H x = g for every point; NaN for a point whose H is singular (no Newton step exists)."""
    try:
        return np.linalg.solve(H, g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        x = np.full_like(g, np.nan)
        for index in np.ndindex(g.shape[:-1]):
            try:
                x[index] = np.linalg.solve(H[index], g[index])
            except np.linalg.LinAlgError:
                pass  # singular: the point's step stays NaN, and run() reports it as diverged
        return x


class Newton(Optimizer):
    r"""Newton's method: jump to the minimum of the quadratic that fits J at θ.

    The second-order Taylor expansion
    :math:`J(\theta + \Delta) \approx J(\theta) + \nabla J^\top \Delta + \tfrac12 \Delta^\top H \Delta`
    is smallest where its gradient :math:`\nabla J + H \Delta` is zero, so

    .. math::
        (H(\theta) + \lambda I)\, \Delta &= \nabla_\theta J(\theta) \qquad \text{(solved, never inverted)} \\
        \theta &\leftarrow \theta - \eta\, \Delta

    Args:
        hessian_fn: ``theta (..., n) -> (..., n, n)``, e.g. ``surface.hessian``.
        lr: :math:`\eta` (default 1.0: the full Newton step).
        damping: :math:`\lambda \ge 0` (default 0.0), Levenberg's fix: :math:`H + \lambda I` is
            positive definite once λ exceeds minus the smallest eigenvalue of H, and the step
            then goes downhill; a large λ turns it into a gradient step of length η/λ.

    On a quadratic with positive definite H one step with η = 1 lands on the minimum. Where H
    is not positive definite the step goes to wherever the gradient vanishes: a saddle or a
    maximum (notebook ``11-second-order``: Beale's saddle at (0, 1)).

    Singular H: where :math:`H + \lambda I` cannot be solved, the step of that point is NaN,
    which :func:`kai_lib.run` reports as a divergence of that point (the others go on); no
    exception. A ``hessian_fn`` returning the wrong shape is a bug and raises ``ValueError``.

    Note:
        ``torch.optim`` has no Newton optimizer (a full Hessian is out of reach for networks);
        ``scipy.optimize.minimize(method="Newton-CG")`` solves the same system by conjugate
        gradients, with a line search, and ``method="trust-exact"`` handles an indefinite H
        with a trust region instead of a fixed λ.

    >>> opt = Newton(hessian_fn=lambda th: np.diag([2.0, 8.0]))   # J = x² + 4y²
    >>> opt.step(np.array([1.0, 1.0]), lambda th: np.array([2, 8]) * th)
    array([0., 0.])

    Reference: Nocedal & Wright, *Numerical Optimization* (2nd ed., 2006), section 3.3
    (Newton's method) and 3.4 (Hessian modification); Levenberg (1944).
    Introduced in notebook ``11-second-order``.
    """

    def __init__(self, hessian_fn: HessianFn, lr: float = 1.0, damping: float = 0.0):
        checks.function("hessian_fn", hessian_fn, "a function theta (..., n) -> (..., n, n)")
        self.hessian_fn = hessian_fn
        self.lr = _check_lr(lr)
        self.damping = _check_nonnegative("damping", damping)
        self.reset()

    def _hessian(self, theta: np.ndarray) -> np.ndarray:
        H = np.asarray(self.hessian_fn(theta), dtype=float)
        expected = theta.shape + theta.shape[-1:]
        if H.shape != expected:
            checks.fail("hessian_fn", f"shape (..., n, n) = {expected} for theta of shape {theta.shape}",
                        verb="return", got=f"shape {H.shape}")
        return H

    def step(self, theta, grad_fn):
        theta = _check_vector(self._as_array(theta), "Newton")
        g = grad_fn(theta)
        H = self._hessian(theta) + self.damping * np.eye(theta.shape[-1])
        delta = _solve_per_point(H, g)
        return theta - self.lr * delta


class _QuasiNewton(Optimizer):
    r"""What BFGS and L-BFGS share: the first step, the optional line search, the counters.

    The step length :math:`\alpha_k` is η, except on the first step, which has no curvature
    yet: :math:`\alpha_0 = \eta \min(1, 1/\lVert\nabla J\rVert_1)` (as ``torch.optim.LBFGS``),
    so that a huge first gradient cannot throw the point away. With a ``loss_fn``, α is then
    halved until Armijo's condition :math:`J(\theta + \alpha p) \le J(\theta) + c_1 \alpha
    \nabla J^\top p` holds (:math:`c_1 = 10^{-4}`), per point; a point for which 50 halvings do
    not suffice does not move.
    """

    c1 = 1e-4
    shrink = 0.5
    max_halvings = 50

    def _init_common(self, lr: float, loss_fn: LossFn | None) -> None:
        self.lr = _check_lr(lr)
        if loss_fn is not None:
            checks.function("loss_fn", loss_fn, "None or a function theta (..., n) -> (...)")
        self.loss_fn = loss_fn

    def reset(self) -> None:
        super().reset()
        self.pairs = None        # per point: how many curvature pairs were accepted
        self.skipped = None      # per point: how many had sᵀy <= 1e-10 and were skipped
        self.loss_evals = 0      # calls of loss_fn (the line search)
        self._last = None        # (theta, J(theta)) of the point returned last, to reuse J

    def _count_pairs(self, accept: np.ndarray) -> None:
        accept = accept[..., 0]
        if self.pairs is None:
            self.pairs = np.zeros(accept.shape, dtype=int)
            self.skipped = np.zeros(accept.shape, dtype=int)
        self.pairs = self.pairs + accept
        self.skipped = self.skipped + ~accept

    def _loss(self, theta: np.ndarray) -> np.ndarray:
        """``loss_fn(theta)``, checked: one real number per point (``theta.shape[:-1]``)."""
        self.loss_evals += 1
        J = checks.real_array("loss_fn", self.loss_fn(theta))   # None or a string: refused, naming loss_fn
        if J.shape != theta.shape[:-1]:
            checks.fail("loss_fn", f"one number per point, shape {theta.shape[:-1]}", verb="return",
                        got=f"shape {J.shape}")
        return J[..., None]

    def _step_length(self, theta: np.ndarray, g: np.ndarray, p: np.ndarray) -> np.ndarray:
        """α per point, ``(..., 1)``: η (the first step scaled down), then Armijo backtracking."""
        with np.errstate(divide="ignore"):
            first = np.minimum(1.0, 1.0 / np.sum(np.abs(g), axis=-1, keepdims=True))
        alpha = self.lr * (first if self.t == 1 else np.ones(theta.shape[:-1] + (1,)))
        if self.loss_fn is None:
            return alpha
        if self._last is not None and np.array_equal(self._last[0], theta):
            J0 = self._last[1]
        else:
            J0 = self._loss(theta)
        # a loss that is not finite where we stand: no decrease can be measured, the run has left the
        # finite world (NaN steps, which run() reports as divergence), rather than standing still for ever
        alpha = np.where(np.isfinite(J0), alpha, np.nan)
        slope = _inner(g, p)
        accepted = ~np.isfinite(J0)   # nothing to search there: the NaN step stands
        J = J0
        with np.errstate(all="ignore"):
            for _ in range(self.max_halvings):
                J_try = self._loss(theta + alpha * p)
                ok = ~accepted & (J_try <= J0 + self.c1 * alpha * slope)
                J = np.where(ok, J_try, J)
                accepted |= ok
                if accepted.all():
                    break
                alpha = np.where(accepted, alpha, self.shrink * alpha)
        alpha = np.where(accepted, alpha, 0.0)   # no decrease found: stay put
        self._last = (theta + alpha * p, J)
        return alpha


class BFGS(_QuasiNewton):
    r"""BFGS: Newton's step with an approximation of :math:`H^{-1}` built from gradients alone.

    With :math:`s_k = \theta_{k+1} - \theta_k`, :math:`y_k = \nabla J_{k+1} - \nabla J_k` and
    :math:`\rho_k = 1 / s_k^\top y_k`:

    .. math::
        p_k &= -H_k \nabla_\theta J(\theta_k) \\
        \theta_{k+1} &= \theta_k + \alpha_k p_k \\
        H_{k+1} &= (I - \rho_k s_k y_k^\top)\, H_k\, (I - \rho_k y_k s_k^\top) + \rho_k s_k s_k^\top

    :math:`H_{k+1}` is the matrix nearest :math:`H_k` that satisfies the secant equation
    :math:`H_{k+1} y_k = s_k` (a finite-difference Hessian along the last step). The code
    multiplies the product out, :math:`H - \rho(s h^\top + h s^\top) + (\rho^2 y^\top h + \rho)\, s s^\top`
    with :math:`h = H y`: :math:`O(n^2)` work per step instead of the product's :math:`O(n^3)`. It starts as
    :math:`H_0 = I`, rescaled to :math:`(s^\top y / y^\top y) I` just before the first update
    (Nocedal & Wright eq. 6.20). A pair with :math:`s^\top y \le 10^{-10}` would break positive
    definiteness and is skipped (``H`` is kept), per point. The step length α: see below.

    Args:
        lr: η, the step length (default 1.0, the quasi-Newton step).
        loss_fn: ``theta -> J(theta)`` (e.g. the surface). Given, the step is shortened by
            Armijo backtracking; without it the step is fixed (the default).

    State: ``H`` (one n×n matrix per point: n² numbers), ``theta_prev``, ``g_prev``, the step
    counter ``t``; ``pairs`` / ``skipped`` count accepted and skipped curvature pairs per point
    and ``loss_evals`` the calls of ``loss_fn``.

    Note:
        ``scipy.optimize.minimize(method="BFGS")`` uses the same update (as the matrix product,
        :math:`O(n^3)`) with :math:`H_0 = I` unscaled and a Wolfe line search (so each trial
        costs a gradient too); ours uses gradients only at accepted points. ``torch.optim`` has
        no full BFGS.

    >>> opt = BFGS(lr=1.0)
    >>> theta = opt.step(np.array([1.0, 1.0]), lambda th: np.array([2, 8]) * th)
    >>> theta
    array([0.8, 0.2])

    Reference: Nocedal & Wright, *Numerical Optimization* (2nd ed., 2006), Algorithm 6.1 and
    eq. (6.17); Broyden, Fletcher, Goldfarb, Shanno (1970).
    Introduced in notebook ``11-second-order``.
    """

    state_names = ("H", "theta_prev", "g_prev", "t")

    def __init__(self, lr: float = 1.0, loss_fn: LossFn | None = None):
        self._init_common(lr, loss_fn)
        self.reset()

    def step(self, theta, grad_fn):
        theta = _check_vector(self._as_array(theta), "BFGS")
        g = grad_fn(theta)
        self.t += 1
        n = theta.shape[-1]
        I = np.eye(n)
        if self.H is None:                                   # k = 0: no curvature yet, H₀ = I
            self.H = np.broadcast_to(I, theta.shape + (n,)).copy()
        else:
            s, y = theta - self.theta_prev, g - self.g_prev
            sy = _inner(s, y)
            accept = sy > CURVATURE_THRESHOLD
            first = accept & (self.pairs == 0)[..., None] if self.pairs is not None else accept
            with np.errstate(all="ignore"):
                rho = np.where(accept, 1.0 / sy, 0.0)[..., None]          # (..., 1, 1), as the matrices
                # before a point's first update: H₀ = (sᵀy / yᵀy) I, the curvature seen along s
                self.H = np.where(first[..., None], (sy / _inner(y, y))[..., None] * I, self.H)
                # (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ, multiplied out (H is symmetric): O(n²), not O(n³)
                Hy = (self.H @ y[..., None])[..., 0]
                H_new = (self.H - (rho * _outer(s, Hy) + rho * _outer(Hy, s))
                         + (rho**2 * _inner(y, Hy)[..., None] + rho) * _outer(s, s))
            self.H = np.where(accept[..., None], H_new, self.H)
            self._count_pairs(accept)
        p = -(self.H @ g[..., None])[..., 0]
        self.theta_prev, self.g_prev = theta, g
        return theta + self._step_length(theta, g, p) * p


class LBFGS(_QuasiNewton):
    r"""L-BFGS: BFGS's step from the last m curvature pairs, without ever forming a matrix.

    :math:`H_k \nabla J` is computed by the two-loop recursion over the stored pairs
    :math:`(s_i, y_i)`, :math:`\rho_i = 1 / s_i^\top y_i` (Nocedal & Wright, Algorithm 7.4):

    .. math::
        &q \leftarrow \nabla_\theta J(\theta_k) \\
        &\textbf{for } i = k-1, \dots, k-m: \quad \alpha_i \leftarrow \rho_i s_i^\top q, \quad
            q \leftarrow q - \alpha_i y_i \\
        &r \leftarrow \gamma_k q, \qquad \gamma_k = \frac{s_{k-1}^\top y_{k-1}}{y_{k-1}^\top y_{k-1}} \\
        &\textbf{for } i = k-m, \dots, k-1: \quad \beta \leftarrow \rho_i y_i^\top r, \quad
            r \leftarrow r + s_i (\alpha_i - \beta) \\
        &\theta_{k+1} = \theta_k - \alpha_k r

    Memory: 2m vectors of n numbers, :math:`O(mn)`, against BFGS's :math:`n^2`. A new pair
    with :math:`s^\top y \le 10^{-10}` is skipped (the history and γ are kept), per point.

    Args:
        lr: η, the step length (default 1.0).
        history: m, how many pairs to keep (default 10, as SciPy; torch's default is 100).
        loss_fn: ``theta -> J(theta)``; given, Armijo backtracking shortens the step.

    State: ``S``, ``Y`` (the last m steps and gradient changes, oldest first, zero-padded:
    ``(m, ..., n)``), ``rho`` ``(m, ..., 1)``, ``gamma``, ``theta_prev``, ``g_prev``, ``t``;
    ``pairs``, ``skipped``, ``loss_evals`` as in :class:`BFGS`.

    Note:
        Without ``loss_fn`` this is ``torch.optim.LBFGS(params, lr, history_size=m,
        line_search_fn=None)`` called with ``max_iter=1`` per step (and no stopping
        tolerances): the same first step, skip rule and γ, the same iterates to 1e-9
        (``tests/test_second_order.py``). torch's ``line_search_fn="strong_wolfe"`` and
        SciPy's ``L-BFGS-B`` search for Wolfe points instead of our Armijo backtracking.

    >>> opt = LBFGS(lr=1.0, history=5)
    >>> theta = opt.step(np.array([1.0, 1.0]), lambda th: np.array([2, 8]) * th)
    >>> theta
    array([0.8, 0.2])

    Reference: Nocedal (1980), "Updating quasi-Newton matrices with limited storage",
    Math. Comp. 35; Liu & Nocedal (1989); Nocedal & Wright (2006), Algorithms 7.4 and 7.5.
    Introduced in notebook ``11-second-order``.
    """

    state_names = ("S", "Y", "rho", "gamma", "theta_prev", "g_prev", "t")

    def __init__(self, lr: float = 1.0, history: int = 10, loss_fn: LossFn | None = None):
        self._init_common(lr, loss_fn)
        self.history = checks.count("history", history, 1, MAX_HISTORY, "kai_lib.optimizers.MAX_HISTORY, the "
                                    "pairs kept: 2 × history copies of θ")
        self.reset()

    def step(self, theta, grad_fn):
        theta = _check_vector(self._as_array(theta), "LBFGS")
        g = grad_fn(theta)
        self.t += 1
        if self.S is None:                                   # k = 0: no pairs, γ = 1
            self.S = np.zeros((self.history,) + theta.shape)
            self.Y = np.zeros((self.history,) + theta.shape)
            self.rho = np.zeros((self.history,) + theta.shape[:-1] + (1,))
            self.gamma = np.ones(theta.shape[:-1] + (1,))
        else:                                                # store the newest pair, drop the oldest
            s, y = theta - self.theta_prev, g - self.g_prev
            sy = _inner(s, y)
            accept = sy > CURVATURE_THRESHOLD
            with np.errstate(all="ignore"):
                self.S = np.where(accept, np.concatenate([self.S[1:], s[None]]), self.S)
                self.Y = np.where(accept, np.concatenate([self.Y[1:], y[None]]), self.Y)
                self.rho = np.where(accept, np.concatenate([self.rho[1:], 1.0 / sy[None]]), self.rho)
                self.gamma = np.where(accept, sy / _inner(y, y), self.gamma)
            self._count_pairs(accept)

        q = g
        alpha = np.zeros_like(self.rho)
        for i in reversed(range(self.history)):              # newest to oldest
            alpha[i] = _inner(self.S[i], q) * self.rho[i]
            q = q - alpha[i] * self.Y[i]
        r = self.gamma * q
        for i in range(self.history):                        # oldest to newest
            beta = _inner(self.Y[i], r) * self.rho[i]
            r = r + (alpha[i] - beta) * self.S[i]

        p = -r
        self.theta_prev, self.g_prev = theta, g
        return theta + self._step_length(theta, g, p) * p


#: The second-order methods, name -> class. Not in :data:`ALL`: Newton needs a ``hessian_fn``.
SECOND_ORDER: dict[str, type[Optimizer]] = {"Newton": Newton, "BFGS": BFGS, "L-BFGS": LBFGS}

__all__ += ["Newton", "BFGS", "LBFGS", "SECOND_ORDER", "CURVATURE_THRESHOLD"]


# --- after Adam: Lion, RAdam, Schedule-Free, Prodigy, Shampoo, Adafactor, Muon ------------------
#
# What the deck's closing question became. Each class follows its paper's rule line for line and,
# where the reference implementation differs from the paper, the reference (the variant that
# tests/test_after_adam.py checks against tests/reference/after_adam_reference.json); the
# docstring says where. Lion, RAdam and Schedule-Free are element-wise: theta may be a batch of
# points. Prodigy's d and the matrix methods' blocks work per point over the last axis of theta,
# (..., P), so a batch (n, 2) of start points moves as n separate runs.

#: The shapes of the blocks of a flat theta: ``[(64, 32), (32,), (32, 10), (10,)]``.
Shapes = list[tuple[int, ...]]


def _check_shapes(shapes) -> Shapes | None:
    """``None`` (one vector block) or a non-empty sequence of shapes ``(m, n)`` or ``(n,)`` of integers >= 1."""
    if shapes is None:
        return None
    allowed = "None or a non-empty list of block shapes (m, n) or (n,) of integers >= 1, e.g. MLP(...).shapes"
    try:
        blocks = [tuple(s) for s in shapes]
    except TypeError:
        checks.fail("shapes", allowed, shapes, wrong_type=True)
    for s in blocks:
        if not (1 <= len(s) <= 2 and all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 1
                                          for k in s)):
            checks.fail("shapes", allowed, shapes)
    if not blocks:
        checks.fail("shapes", allowed, shapes)
    return [tuple(int(k) for k in s) for s in blocks]


def _blocks(theta: np.ndarray, shapes: Shapes | None) -> list[tuple[slice, tuple[int, ...]]]:
    """``(slice of the last axis, block shape)`` for each block of ``theta`` ``(..., P)``."""
    if theta.ndim == 0:
        checks.fail("theta", "a vector (P,) or a batch of vectors (..., P)", got="a scalar")
    P = theta.shape[-1]
    if shapes is None:
        return [(slice(0, P), (P,))]
    out, start = [], 0
    for s in shapes:
        size = int(np.prod(s))
        out.append((slice(start, start + size), s))
        start += size
    if start != P:
        checks.fail("shapes", "theta's last axis", shapes, verb="cover",
                    got=f"blocks {shapes} that hold {start} numbers for a last axis of {P}")
    return out


def _block(x: np.ndarray, where: slice, shape: tuple[int, ...]) -> np.ndarray:
    """The block of ``x`` ``(..., P)`` at ``where``, shaped ``(..., *shape)``."""
    return x[..., where].reshape(x.shape[:-1] + shape)


def _flat(blocks: list[np.ndarray], lead: tuple[int, ...]) -> np.ndarray:
    """The blocks ``(..., *shape)`` joined back into one ``(..., P)``."""
    return np.concatenate([b.reshape(lead + (-1,)) for b in blocks], axis=-1)


def _rms(x: np.ndarray, ndim: int) -> np.ndarray:
    """The root mean square over the last ``ndim`` axes, kept as size-1 axes (one number per point)."""
    axes = tuple(range(-ndim, 0))
    return np.sqrt(np.mean(x**2, axis=axes, keepdims=True))


class Lion(Optimizer):
    r"""Lion: keep only the momentum and step with its sign (found by a program search).

    .. math::
        c_t &= \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        \theta_t &= \theta_{t-1} - \eta \left(\mathrm{sign}(c_t) + \lambda\, \theta_{t-1}\right) \\
        m_t &= \beta_2 m_{t-1} + (1 - \beta_2)\, g_t

    Every coordinate moves by exactly ±η (plus the decay) each step: Adam's first step,
    :math:`\eta\,\mathrm{sign}(g)`, made the rule. The step's direction interpolates with
    :math:`\beta_1`, the memory with the slower :math:`\beta_2`. One state array, ``m``: half of
    Adam's. sign(0) = 0: a coordinate with no gradient and no momentum does not move.

    Args:
        lr: :math:`\eta` (default 1e-4, lion-pytorch's; the paper advises 3-10× smaller than AdamW's).
        beta1: the interpolation :math:`\beta_1` (default 0.9).
        beta2: the momentum's decay :math:`\beta_2` (default 0.99).
        weight_decay: :math:`\lambda` (default 0.0), decoupled as in AdamW: θ ← θ(1 − ηλ).

    State: ``m``, the momentum.

    Note:
        The paper (Algorithm 2), lion-pytorch 0.2.5 (``lion_pytorch.Lion``) and this class are the
        same rule; lion-pytorch applies the decay first, ``θ ← θ(1 − ηλ) − η sign(c)``, which is
        the paper's line multiplied out. Its ``decoupled_weight_decay`` option is not here.

    >>> opt = Lion(lr=0.1)
    >>> opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    array([ 0.9, -1.9])

    Reference: Chen et al. (2023), "Symbolic Discovery of Optimization Algorithms",
    https://arxiv.org/abs/2302.06675. Introduced in notebook ``12-after-adam``.
    """

    state_names = ("m",)

    def __init__(self, lr: float = 1e-4, beta1: float = 0.9, beta2: float = 0.99, weight_decay: float = 0.0):
        self.lr = _check_lr(lr)
        self.beta1 = _check_unit("beta1", beta1)
        self.beta2 = _check_unit("beta2", beta2)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self._hyper = {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "weight_decay": self.weight_decay}
        self.reset()

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.m is None:
            self.m = np.zeros_like(theta)
        g = grad_fn(theta)
        c = self.beta1 * self.m + (1 - self.beta1) * g
        theta = theta - self.lr * (np.sign(c) + self.weight_decay * theta)
        self.m = self.beta2 * self.m + (1 - self.beta2) * g
        return theta


class RAdam(Optimizer):
    r"""RAdam: Adam whose adaptive step is switched on only once its variance is tractable.

    .. math::
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,
        \qquad \hat m_t = \frac{m_t}{1 - \beta_1^t} \\
        \rho_\infty &= \frac{2}{1 - \beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} \\
        \text{if } \rho_t > 5:&\quad
        l_t = \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon}, \quad
        r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}},
        \quad \theta \leftarrow \theta - \eta\, r_t\, \hat m_t\, l_t \\
        \text{else:}&\quad \theta \leftarrow \theta - \eta\, \hat m_t \qquad \text{(momentum SGD)}

    :math:`\rho_t` is the length of the simple moving average that :math:`v_t` approximates. In
    the first steps it is too short for :math:`1/\sqrt{v_t}` to have a finite variance, so RAdam
    takes plain (bias-corrected) momentum steps; afterwards the rectifier :math:`r_t` (rising
    towards 1) scales Adam's step down by as much as its variance is too large: a warm-up
    derived rather than tuned. With β₂ = 0.999 the adaptive step starts at t = 6.

    Args:
        lr: :math:`\eta` (default 1e-3).
        beta1, beta2: defaults 0.9, 0.999.
        eps: :math:`\epsilon` (default 1e-8), added to :math:`\sqrt{v_t}` as torch does.

    State: ``m``, ``v``, ``t``.

    Note:
        As ``torch.optim.RAdam`` (2.13): the threshold is ρ_t > 5 and ε is added to
        :math:`\sqrt{v_t}` before the bias correction. The paper's Algorithm 2 switches at
        ρ_t > 4 and has no ε, :math:`l_t = \sqrt{(1 - \beta_2^t)/v_t}`; its official code
        uses 5 too. torch's ``weight_decay`` and ``decoupled_weight_decay`` are not here.

    >>> opt = RAdam(lr=0.1)
    >>> opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    array([ 0.8, -1.6])

    Reference: Liu et al. (2020), "On the Variance of the Adaptive Learning Rate and Beyond",
    ICLR, https://arxiv.org/abs/1908.03265. Introduced in notebook ``12-after-adam``.
    """

    state_names = ("m", "v", "t")

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr = _check_lr(lr)
        self.beta1 = _check_unit("beta1", beta1)
        self.beta2 = _check_unit("beta2", beta2)
        self.eps = _check_nonnegative("eps", eps)
        self._hyper = {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}
        self.reset()

    def rectifier(self, t: int) -> float:
        r""":math:`r_t`, or 0 where :math:`\rho_t \le 5` (a momentum step, no adaptive step)."""
        rho_inf = 2 / (1 - self.beta2) - 1
        rho_t = rho_inf - 2 * t * self.beta2**t / (1 - self.beta2**t)
        if rho_t <= 5:
            return 0.0
        return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        if self.m is None:
            self.m = np.zeros_like(theta)
            self.v = np.zeros_like(theta)
        self.t += 1
        g = grad_fn(theta)
        self.m = self.beta1 * self.m + (1 - self.beta1) * g
        self.v = self.beta2 * self.v + (1 - self.beta2) * g**2
        m_hat = self.m / (1 - self.beta1**self.t)
        r_t = self.rectifier(self.t)
        if r_t == 0:
            return theta - self.lr * m_hat
        l_t = self._divide(np.sqrt(1 - self.beta2**self.t), np.sqrt(self.v) + self.eps)
        return theta - m_hat * self.lr * l_t * r_t  # torch's order of the products


class _ScheduleFree(Optimizer):
    r"""What Schedule-Free SGD and AdamW share: the averaging weights and the warm-up.

    :math:`c_{t+1} = w_t / \sum_{i \le t} w_i` with :math:`w_t = (t+1)^r\, \gamma_{\max}^{p}`
    (``r``, ``weight_lr_power`` = p, :math:`\gamma_{\max}` the largest learning rate so far);
    with no warm-up :math:`\gamma_{\max}` is constant and :math:`c_{t+1} = 1/(t+1)` at r = 0:
    x is the plain average of the z's.
    """

    def _init_common(self, lr: float, weight_decay: float, warmup_steps: int, r: float,
                     weight_lr_power: float) -> None:
        self.lr = _check_lr(lr)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self.warmup_steps = checks.integer("warmup_steps", warmup_steps, low=0)
        self.r = _check_nonnegative("r", r)
        self.weight_lr_power = _check_nonnegative("weight_lr_power", weight_lr_power)

    def reset(self) -> None:
        super().reset()
        self.weight_sum = 0.0
        self.lr_max = -1.0

    def _lr_and_weight(self) -> tuple[float, float]:
        """This step's learning rate :math:`\\gamma_t` and averaging weight :math:`c_{t+1}`; counts the step."""
        k = self.t
        lr = self.lr * ((k + 1) / self.warmup_steps if k < self.warmup_steps else 1.0)
        self.lr_max = max(lr, self.lr_max)
        weight = (k + 1) ** self.r * self.lr_max**self.weight_lr_power
        self.weight_sum = self.weight_sum + weight
        c = weight / self.weight_sum if self.weight_sum else 0.0
        self.t = k + 1
        return lr, c


class ScheduleFreeSGD(_ScheduleFree):
    r"""Schedule-Free SGD: no schedule and no stopping time; the running average is the answer.

    Three sequences: z takes plain SGD steps, x is the average of the z's, and the gradient is
    taken at y, between them:

    .. math::
        y_t &= (1 - \beta)\, z_t + \beta\, x_t \\
        z_{t+1} &= z_t - \gamma\, \nabla J(y_t) \\
        x_{t+1} &= (1 - c_{t+1})\, x_t + c_{t+1}\, z_{t+1}, \qquad c_{t+1} = \frac{1}{t+1}

    (the weights :math:`c` with warm-up and ``r``: :class:`_ScheduleFree`). β = 0 is
    Polyak-Ruppert averaging (gradient at z), β = 1 primal averaging (gradient at x); in between
    it matches the best schedules without knowing when training stops.

    **step() returns the gradient point y** (the next :math:`y_{t+1}`), as the reference keeps y
    in the model's parameters while training. **The averaged point x**, the one to evaluate
    and report, is the attribute ``x`` (and z is ``z``). All three start at the first θ.

    Args:
        lr: :math:`\gamma` (default 1.0, the reference's).
        momentum: β (default 0.9), in (0, 1).
        weight_decay: λ (default 0.0), added to the gradient at y: :math:`\nabla J(y) + \lambda y`.
        warmup_steps: a linear warm-up of γ over this many steps (default 0).
        r: the averaging weights' power of t (default 0.0).
        weight_lr_power: the averaging weights' power of :math:`\gamma_{\max}` (default 2.0).

    State: ``x``, ``z``, ``t``, ``weight_sum``, ``lr_max``.

    Note:
        As ``schedulefree.SGDScheduleFreeReference`` (1.4.1), the paper's Algorithm 1 with its
        warm-up and weighting. ``schedulefree.SGDScheduleFree`` keeps only two of the three
        arrays and switches between y and x with ``train()``/``eval()``: the same iterates.

    >>> opt = ScheduleFreeSGD(lr=0.1)
    >>> opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)      # z = 0.8θ, x = z, y = x
    array([ 0.8, -1.6])

    Reference: Defazio et al. (2024), "The Road Less Scheduled", NeurIPS,
    https://arxiv.org/abs/2405.15682. Introduced in notebook ``12-after-adam``.
    """

    state_names = ("x", "z", "t")

    def __init__(self, lr: float = 1.0, momentum: float = 0.9, weight_decay: float = 0.0, warmup_steps: int = 0,
                 r: float = 0.0, weight_lr_power: float = 2.0):
        self._init_common(lr, weight_decay, warmup_steps, r, weight_lr_power)
        self.momentum = checks.number("momentum", momentum, low=0, high=1, low_open=True, high_open=True)
        self._hyper = {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay,
                       "warmup_steps": self.warmup_steps, "r": self.r, "weight_lr_power": self.weight_lr_power}
        self.reset()

    def step(self, theta, grad_fn):
        y = self._as_array(theta)
        if self.z is None:
            self.z, self.x = y.copy(), y.copy()
        lr, c = self._lr_and_weight()
        g = grad_fn(y) + self.weight_decay * y
        self.z = self.z - lr * g
        self.x = (1 - c) * self.x + c * self.z
        return self.momentum * self.x + (1 - self.momentum) * self.z


class ScheduleFreeAdamW(_ScheduleFree):
    r"""Schedule-Free AdamW: Schedule-Free's three sequences, z stepping with Adam's denominator.

    .. math::
        y_t &= (1 - \beta_1)\, z_t + \beta_1 x_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2)\, g_t^2, \qquad g_t = \nabla J(y_t) \\
        z_{t+1} &= z_t - \gamma \lambda\, y_t - \gamma\, \frac{g_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} \\
        x_{t+1} &= (1 - c_{t+1})\, x_t + c_{t+1}\, z_{t+1}

    β₁ plays momentum's part through the interpolation y: there is no first-moment array, so the
    state is the same size as AdamW's (z and v; x is the averaged point).

    **step() returns the gradient point y**; **the averaged point x** is the attribute ``x``.

    Args:
        lr: γ (default 0.0025, the reference's).
        beta1: the interpolation β₁ (default 0.9).
        beta2: default 0.999.
        eps: ε (default 1e-8), added to the root.
        weight_decay: λ (default 0.0), decoupled, taken at y.
        warmup_steps, r, weight_lr_power: as :class:`ScheduleFreeSGD` (0, 0.0, 2.0).

    State: ``x``, ``z``, ``v``, ``t``, ``weight_sum``, ``lr_max``.

    Note:
        As ``schedulefree.AdamWScheduleFreeReference`` (1.4.1): the bias correction divides
        :math:`v_t`; the paper's Algorithm 1 instead puts :math:`\sqrt{1-\beta_2^t}` in the
        learning rate, so its averaging weights :math:`\gamma_t^2` grow during the first
        steps where the reference's do not (without warm-up :math:`c_{t+1} = 1/(t+1)`).

    >>> opt = ScheduleFreeAdamW(lr=0.1)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)

    Reference: Defazio et al. (2024), "The Road Less Scheduled", NeurIPS,
    https://arxiv.org/abs/2405.15682. Introduced in notebook ``12-after-adam``.
    """

    state_names = ("x", "z", "v", "t")

    def __init__(self, lr: float = 0.0025, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, warmup_steps: int = 0, r: float = 0.0, weight_lr_power: float = 2.0):
        self._init_common(lr, weight_decay, warmup_steps, r, weight_lr_power)
        self.beta1 = _check_unit("beta1", beta1)
        self.beta2 = _check_unit("beta2", beta2)
        self.eps = _check_nonnegative("eps", eps)
        self._hyper = {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                       "weight_decay": self.weight_decay, "warmup_steps": self.warmup_steps, "r": self.r,
                       "weight_lr_power": self.weight_lr_power}
        self.reset()

    def step(self, theta, grad_fn):
        y = self._as_array(theta)
        if self.z is None:
            self.z, self.x, self.v = y.copy(), y.copy(), np.zeros_like(y)
        lr, c = self._lr_and_weight()
        g = grad_fn(y)
        self.z = self.z - lr * self.weight_decay * y
        self.v = self.beta2 * self.v + (1 - self.beta2) * g**2
        self.z = self.z - lr * self._divide(g, np.sqrt(self.v / (1 - self.beta2**self.t)) + self.eps)
        self.x = (1 - c) * self.x + c * self.z
        return self.beta1 * self.x + (1 - self.beta1) * self.z


class Prodigy(Optimizer):
    r"""Prodigy: Adam that estimates its own step size d, the distance to the solution.

    With :math:`\eta_k = \eta\, d_k` (η = 1: no learning rate to tune) and
    :math:`\beta_3 = \sqrt{\beta_2}`:

    .. math::
        m_{k+1} &= \beta_1 m_k + (1 - \beta_1)\, d_k\, g_k, \qquad
        v_{k+1} = \beta_2 v_k + (1 - \beta_2)\, d_k^2\, g_k^2 \\
        r_{k+1} &= \beta_3 r_k + \frac{d_k}{d_0}\, \eta_k \langle g_k,\ x_0 - x_k \rangle, \qquad
        s_{k+1} = \beta_3 s_k + \frac{d_k}{d_0}\, \eta_k\, g_k \\
        \hat d_{k+1} &= \frac{r_{k+1}}{\lVert s_{k+1} \rVert_1}, \qquad
        d_{k+1} = \max(d_k, \hat d_{k+1}) \\
        x_{k+1} &= x_k - \eta_k \frac{m_{k+1}}{\sqrt{v_{k+1}} + d_{k+1}\, \epsilon}

    :math:`\langle g, x_0 - x \rangle` sums how far the gradients have pointed back towards the
    start: a lower bound of the distance :math:`\lVert x_0 - x_* \rVert` times the gradients'
    size, and :math:`\lVert s \rVert_1` divides the size out. d only grows, from the tiny
    :math:`d_0` to the right scale within tens of steps: AdaDelta's "no learning rate" with a
    guarantee. d is one number per point (the dot product runs over θ's last axis).

    Args:
        lr: η, a multiplier of d (default 1.0; leave it).
        beta1, beta2: defaults 0.9, 0.999.
        beta3: the decay of r and s (default ``None``: :math:`\sqrt{\beta_2}`).
        eps: ε (default 1e-8), multiplied by d in the denominator.
        d0: the first estimate :math:`d_0` (default 1e-6).
        d_coef: a multiplier of :math:`\hat d` (default 1.0).
        growth_rate: d may grow by at most this factor per step (default ``inf``).
        weight_decay: λ (default 0.0), decoupled: :math:`x \leftarrow x - \eta_k \lambda x`.

    State: ``m``, ``v``, ``s``, ``r`` (the numerator), ``x0``, ``d``, ``d_max``, ``t``.

    Note:
        As ``prodigyopt.Prodigy`` (1.1.2), with ``use_bias_correction=False`` and
        ``safeguard_warmup=False`` (its defaults; not offered here). The paper's Algorithm 3
        scales r and s by :math:`(1 - \beta_3)` and :math:`d_k^2` rather than
        :math:`d_k \eta_k / d_0`: the ratio :math:`\hat d` is the same. Where
        :math:`\lVert s \rVert_1 = 0` (only zero gradients so far) the reference skips the
        update of d and of x, and so does this class, per point.

    >>> opt = Prodigy()
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)

    Reference: Mishchenko & Defazio (2024), "Prodigy: An Expeditiously Adaptive Parameter-Free
    Learner", ICML, https://arxiv.org/abs/2306.06101. Introduced in notebook ``12-after-adam``.
    """

    state_names = ("m", "v", "s", "r", "x0", "d", "d_max", "t")

    def __init__(self, lr: float = 1.0, beta1: float = 0.9, beta2: float = 0.999, beta3: float | None = None,
                 eps: float = 1e-8, d0: float = 1e-6, d_coef: float = 1.0, growth_rate: float = float("inf"),
                 weight_decay: float = 0.0):
        self.lr = _check_lr(lr)
        self.beta1 = _check_unit("beta1", beta1)
        self.beta2 = _check_unit("beta2", beta2)
        self.beta3 = None if beta3 is None else _check_unit("beta3", beta3)
        self.eps = checks.number("eps", eps, low=0, low_open=True)
        self.d0 = checks.number("d0", d0, low=0, low_open=True)
        self.d_coef = checks.number("d_coef", d_coef, low=0, low_open=True)
        if not (isinstance(growth_rate, (int, float, np.floating, np.integer)) and growth_rate == float("inf")):
            growth_rate = checks.number("growth_rate", growth_rate, low=1)
        self.growth_rate = float(growth_rate)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self._hyper = {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "beta3": self.beta3,
                       "eps": self.eps, "d0": self.d0, "d_coef": self.d_coef, "growth_rate": self.growth_rate,
                       "weight_decay": self.weight_decay}
        self.reset()

    def step(self, theta, grad_fn):
        x = self._as_array(theta)
        if x.ndim == 0:
            checks.fail("theta", "a vector (P,) or a batch of vectors (..., P)", got="a scalar")
        lead = x.shape[:-1] + (1,)
        if self.m is None:
            self.m, self.v, self.s = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
            self.x0 = x.copy()
            self.r = np.zeros(lead)
            self.d, self.d_max = np.full(lead, self.d0), np.full(lead, self.d0)
        beta3 = np.sqrt(self.beta2) if self.beta3 is None else self.beta3
        g = grad_fn(x)
        self.t += 1
        d, dlr = self.d, self.d * self.lr
        r = beta3 * self.r + (d / self.d0) * dlr * np.sum(g * (self.x0 - x), axis=-1, keepdims=True)
        self.m = self.beta1 * self.m + d * (1 - self.beta1) * g
        self.v = self.beta2 * self.v + d * d * (1 - self.beta2) * g**2
        self.s = beta3 * self.s + (d / self.d0) * dlr * g
        s_norm = np.sum(np.abs(self.s), axis=-1, keepdims=True)
        moves = s_norm != 0                                   # the reference skips the step where ||s||₁ = 0
        d_hat = self.d_coef * self._divide(r, s_norm)
        d_new = np.where(d == self.d0, np.maximum(d, d_hat), d)
        d_max = np.maximum(self.d_max, d_hat)
        d_new = np.minimum(d_max, d_new * self.growth_rate)
        self.r = np.where(moves, r, self.r)
        self.d, self.d_max = np.where(moves, d_new, d), np.where(moves, d_max, self.d_max)
        x_new = x - self.weight_decay * dlr * x
        x_new = x_new - dlr * (self.m / (np.sqrt(self.v) + self.d * self.eps))
        return np.where(moves, x_new, x)


def _inverse_root(M: np.ndarray, p: int) -> np.ndarray:
    r""":math:`M^{-1/p}` of symmetric positive definite matrices ``(..., n, n)``: :math:`V \Lambda^{-1/p} V^\top`.

    Through the eigendecomposition (``eigh``), which for such a matrix is its SVD (the
    reference's way) at half the cost.
    """
    w, V = np.linalg.eigh(M)
    return (V * w[..., None, :] ** (-1.0 / p)) @ np.swapaxes(V, -1, -2)


class Shampoo(Optimizer):
    r"""Shampoo: Adagrad's full matrix :math:`\sum g g^\top`, Kronecker-factored for a matrix.

    For each matrix block :math:`G_t` (m × n) of the gradient:

    .. math::
        L_t &= L_{t-1} + G_t G_t^\top, \qquad R_t = R_{t-1} + G_t^\top G_t
            \qquad (L_0 = \epsilon I_m,\ R_0 = \epsilon I_n) \\
        W_{t+1} &= W_t - \eta\, L_t^{-1/4}\, G_t\, R_t^{-1/4}

    :math:`L \otimes R` stands in for full-matrix Adagrad's mn × mn matrix at the cost of an
    m × m and an n × n one. **On a vector block** (a 2-D surface, a bias) the rule is
    Shampoo's order-1 case, :math:`L_t = L_{t-1} + g_t g_t^\top`,
    :math:`\theta \leftarrow \theta - \eta L_t^{-1/2} g_t`: exactly full-matrix Adagrad, which sees
    a valley that is not aligned with the axes (diagonal Adagrad cannot).

    The inverse roots (an SVD each: :math:`O(m^3 + n^3)`, the expensive part) are recomputed
    every ``update_every`` steps and reused in between; as in the reference they start at
    zero, so with ``update_every = k`` the first k − 1 steps do not move.

    Args:
        lr: η (default 1e-3).
        eps: ε, the start :math:`L_0 = \epsilon I` (default 1e-6, the reference's ``matrix_eps``).
        update_every: how often the inverse roots are recomputed (default 1).
        shapes: the shapes of consecutive blocks of the flat θ, e.g. ``nn.MLP(...).shapes``;
            ``None`` (default): θ is one vector block.

    State: per block, ``L`` and ``R`` (``R`` is ``None`` for a vector block) and their inverse
    roots ``L_root``, ``R_root`` (lists, one entry per block); ``t``. A batch of points
    ``(n_points, P)`` keeps its matrices per point.

    Note:
        As ``pytorch_optimizer.Shampoo`` (4.1.0) with its defaults ``momentum=0`` and
        ``weight_decay=0`` (not offered here) and ``preconditioning_compute_steps`` =
        ``update_every``, :math:`(L^{-1/4} G) R^{-1/4}`; the reference takes the inverse roots
        through an SVD, this class through ``eigh`` (the same matrices, half the cost). The paper's
        Algorithm 2 is the same rule. Distributed Shampoo (the AlgoPerf entry) adds grafting,
        momentum, blocking and exponential averages instead of sums.

    >>> opt = Shampoo(lr=0.1)
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)

    Reference: Gupta, Koren & Singer (2018), "Shampoo: Preconditioned Stochastic Tensor
    Optimization", ICML, https://arxiv.org/abs/1802.09568. Introduced in notebook ``12-after-adam``.
    """

    state_names = ("L", "R", "L_root", "R_root", "t")

    def __init__(self, lr: float = 1e-3, eps: float = 1e-6, update_every: int = 1, shapes=None):
        self.lr = _check_lr(lr)
        self.eps = checks.number("eps", eps, low=0, low_open=True)
        self.update_every = checks.integer("update_every", update_every, low=1)
        self.shapes = _check_shapes(shapes)
        self._hyper = {"lr": self.lr, "eps": self.eps, "update_every": self.update_every}
        self.reset()

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        blocks = _blocks(theta, self.shapes)
        lead = theta.shape[:-1]
        if self.L is None:
            self.L = [self.eps * np.broadcast_to(np.eye(s[0]), lead + (s[0], s[0])) for _, s in blocks]
            self.R = [self.eps * np.broadcast_to(np.eye(s[1]), lead + (s[1], s[1])) if len(s) == 2 else None
                      for _, s in blocks]
            self.L_root = [np.zeros_like(L) for L in self.L]
            self.R_root = [None if R is None else np.zeros_like(R) for R in self.R]
        g = grad_fn(theta)
        self.t += 1
        recompute = self.t % self.update_every == 0
        L, R, L_root, R_root, updates = list(self.L), list(self.R), list(self.L_root), list(self.R_root), []
        for i, (where, shape) in enumerate(blocks):
            G = _block(g, where, shape)
            if len(shape) == 1:                                   # full-matrix Adagrad
                L[i] = L[i] + G[..., :, None] * G[..., None, :]
                if recompute:
                    L_root[i] = _inverse_root(L[i], 2)
                updates.append((G[..., None, :] @ L_root[i])[..., 0, :])
            else:                                                 # L^{-1/4} G R^{-1/4}
                L[i] = L[i] + G @ np.swapaxes(G, -1, -2)
                R[i] = R[i] + np.swapaxes(G, -1, -2) @ G
                if recompute:
                    L_root[i], R_root[i] = _inverse_root(L[i], 4), _inverse_root(R[i], 4)
                updates.append((L_root[i] @ G) @ R_root[i])
        self.L, self.R, self.L_root, self.R_root = L, R, L_root, R_root
        return theta - self.lr * _flat(updates, lead)


class Adafactor(Optimizer):
    r"""Adafactor: RMSProp's second moment of a matrix kept as a row and a column.

    For each matrix block :math:`G_t` (n × m) of the gradient, with
    :math:`\hat\beta_{2t} = 1 - t^{c}` (c = ``beta2_decay``):

    .. math::
        \rho_t &= \min(\eta, 1/\sqrt t), \qquad \alpha_t = \max(\epsilon_2, \mathrm{RMS}(W_{t-1}))\, \rho_t \\
        R_t &= \hat\beta_{2t} R_{t-1} + (1 - \hat\beta_{2t})\, \mathrm{mean}_{\text{row}}(G_t^2), \qquad
        C_t = \hat\beta_{2t} C_{t-1} + (1 - \hat\beta_{2t})\, \mathrm{mean}_{\text{column}}(G_t^2) \\
        \hat V_t &= R_t C_t / \mathrm{mean}(R_t), \qquad
        U_t = G_t / \sqrt{\max(\hat V_t, \epsilon_1^2)} \\
        \hat U_t &= U_t / \max(1, \mathrm{RMS}(U_t)/d), \qquad W_t = W_{t-1} - \alpha_t \hat U_t

    :math:`R_t C_t` is the rank-one matrix nearest (in I-divergence) to the full second moment:
    n + m numbers instead of n·m. The step is relative (:math:`\alpha_t` scales with the
    parameters' own RMS), the decay :math:`\hat\beta_{2t}` rises towards 1 (no bias correction
    needed), the update is clipped to RMS ≤ d, and there is no first moment. **On a vector
    block** (a 2-D surface, a bias) Adafactor keeps the unfactored
    :math:`V_t = \hat\beta_{2t} V_{t-1} + (1 - \hat\beta_{2t})\, g_t^2` in place of
    :math:`\hat V_t`.

    Args:
        lr: η, the cap of the relative step :math:`\rho_t` (default 1e-2).
        beta2_decay: c (default −0.8), ≤ 0.
        eps1: :math:`\epsilon_1` (default ``None``: the float's machine epsilon, 2.2e-16).
        eps2: :math:`\epsilon_2` (default 1e-3), the smallest parameter scale.
        d: the clipping threshold (default 1.0), ≥ 1.
        weight_decay: λ (default 0.0), decoupled: :math:`W \leftarrow W(1 - \eta\lambda)`.
        shapes: block shapes of the flat θ (``nn.MLP(...).shapes``); ``None``: one vector block.

    State: per block (lists), ``R`` and ``C`` for a matrix (shapes (…, n, 1) and (…, 1, m)),
    ``V`` for a vector (``None`` where not used); ``t``.

    Note:
        As ``torch.optim.Adafactor`` (2.13). The paper's Algorithms 4-5 add :math:`\epsilon_1`
        (1e-30) to :math:`G^2` and divide by the row sum rather than clamp and use means
        (the same :math:`\hat V` up to ε); its ``lr`` is the constant 1e-2 of
        :math:`\rho_t`. RMS(W) and the clipping run over each block, per point.

    >>> opt = Adafactor()
    >>> theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)

    Reference: Shazeer & Stern (2018), "Adafactor: Adaptive Learning Rates with Sublinear Memory
    Cost", ICML, https://arxiv.org/abs/1804.04235. Introduced in notebook ``12-after-adam``.
    """

    state_names = ("R", "C", "V", "t")

    def __init__(self, lr: float = 1e-2, beta2_decay: float = -0.8, eps1: float | None = None,
                 eps2: float = 1e-3, d: float = 1.0, weight_decay: float = 0.0, shapes=None):
        self.lr = _check_lr(lr)
        self.beta2_decay = checks.number("beta2_decay", beta2_decay, high=0)
        self.eps1 = float(np.finfo(float).eps) if eps1 is None else _check_nonnegative("eps1", eps1)
        self.eps2 = _check_nonnegative("eps2", eps2)
        self.d = checks.number("d", d, low=1)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self.shapes = _check_shapes(shapes)
        self._hyper = {"lr": self.lr, "beta2_decay": self.beta2_decay, "eps1": self.eps1, "eps2": self.eps2,
                       "d": self.d, "weight_decay": self.weight_decay}
        self.reset()

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        blocks = _blocks(theta, self.shapes)
        lead = theta.shape[:-1]
        if self.R is None:
            self.R = [np.zeros(lead + (s[0], 1)) if len(s) == 2 else None for _, s in blocks]
            self.C = [np.zeros(lead + (1, s[1])) if len(s) == 2 else None for _, s in blocks]
            self.V = [np.zeros(lead + s) if len(s) == 1 else None for _, s in blocks]
        g = grad_fn(theta)
        self.t += 1
        beta2_t = 1 - self.t**self.beta2_decay
        rho = min(self.lr, 1 / self.t**0.5)
        R, C, V, new = list(self.R), list(self.C), list(self.V), []
        for i, (where, shape) in enumerate(blocks):
            G, W = _block(g, where, shape), _block(theta, where, shape)
            alpha = np.maximum(self.eps2, _rms(W, len(shape))) * rho
            W = W * (1 - self.lr * self.weight_decay)
            if len(shape) == 2:
                R[i] = beta2_t * R[i] + (1 - beta2_t) * np.mean(G**2, axis=-1, keepdims=True)
                C[i] = beta2_t * C[i] + (1 - beta2_t) * np.mean(G**2, axis=-2, keepdims=True)
                V_hat = (R[i] @ C[i]) / np.maximum(np.mean(R[i], axis=-2, keepdims=True), self.eps1)
            else:
                V[i] = beta2_t * V[i] + (1 - beta2_t) * G**2
                V_hat = V[i]
            U = G / np.sqrt(np.maximum(V_hat, self.eps1**2))
            U_hat = U / np.maximum(1.0, _rms(U, len(shape)) / self.d)
            new.append(W - alpha * U_hat)
        self.R, self.C, self.V = R, C, V
        return _flat(new, lead)


#: Muon's quintic Newton–Schulz coefficients (a, b, c), as Jordan's and torch's.
MUON_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def newton_schulz(G: np.ndarray, steps: int = 5, coefficients=MUON_NS_COEFFICIENTS, eps: float = 1e-7) -> np.ndarray:
    r"""Muon's orthogonalisation of matrices ``(..., m, n)``: about :math:`UV^\top` of :math:`G = USV^\top`.

    :math:`X_0 = G / \max(\lVert G \rVert_F, \epsilon)` (all singular values ≤ 1), then ``steps``
    times :math:`A = XX^\top`, :math:`X \leftarrow aX + (bA + cA^2)X`: each singular value σ is
    mapped by :math:`p(\sigma) = a\sigma + b\sigma^3 + c\sigma^5`, which pushes every σ in (0, 1]
    into about [0.68, 1.2] (not exactly to 1: the coefficients trade accuracy for speed). Wide
    or square matrices are worked as given, tall ones transposed (the Gram matrix is the smaller).
    In float64 (torch 2.13 works in bfloat16).
    """
    a, b, c = coefficients
    X = np.asarray(G, dtype=float)
    tall = X.shape[-2] > X.shape[-1]
    if tall:
        X = np.swapaxes(X, -1, -2)
    X = X / np.maximum(np.linalg.norm(X, axis=(-2, -1), keepdims=True), eps)
    for _ in range(steps):
        A = X @ np.swapaxes(X, -1, -2)
        B = b * A + c * (A @ A)
        X = a * X + B @ X
    return np.swapaxes(X, -1, -2) if tall else X


class Muon(Optimizer):
    r"""Muon: momentum, orthogonalised by Newton–Schulz iterations, for each weight matrix.

    For each matrix block :math:`W` (A × B) with gradient :math:`G_t`:

    .. math::
        B_t &= \mu B_{t-1} + (1 - \mu)\, G_t \\
        M_t &= (1 - \mu)\, G_t + \mu B_t \quad \text{(Nesterov; } M_t = B_t \text{ without)} \\
        O_t &= \mathrm{NewtonSchulz}_5(M_t) \approx U V^\top \quad (M_t = U S V^\top) \\
        W_t &= W_{t-1}(1 - \eta\lambda) - \eta \sqrt{\max(1, A/B)}\; O_t

    Orthogonalising sets every singular value of the step to about 1: the directions that the
    momentum matrix barely uses get as much step as the dominant one, which is what a
    curvature-preconditioned step would do, with no matrix inverted (:func:`newton_schulz`:
    five iterations of two matrix products each). **On a vector block** (a 2-D surface, a bias)
    the block is a 1 × n matrix whose one singular value Newton–Schulz maps to a fixed number
    (0.70 with the default coefficients and five iterations): normalised momentum,
    :math:`\theta \leftarrow \theta - 0.70\,\eta\, M_t/\lVert M_t \rVert`.

    Args:
        lr: η (default 1e-3).
        weight_decay: λ (default 0.1), decoupled.
        momentum: μ (default 0.95).
        nesterov: default ``True``.
        ns_steps: Newton–Schulz iterations (default 5).
        eps: the norm's floor in Newton–Schulz (default 1e-7).
        shapes: block shapes of the flat θ (``nn.MLP(...).shapes``); ``None``: one vector block.
        vectors: an optimizer (e.g. ``AdamW(lr=1e-3)``) that steps the vector blocks (biases)
            instead, as the reference recommends for everything that is not a hidden weight
            matrix; default ``None``: Muon's own rule on them too. It is reset with this one.

    State: ``B`` (the momentum buffers, one per block, a list) and ``t``; ``vectors`` keeps its own.

    Note:
        As ``torch.optim.Muon`` (2.13, ``adjust_lr_fn=None``: the factor
        :math:`\sqrt{\max(1, A/B)}` from the block's own shape, rows over columns; ``nn.MLP``
        stores W fan-in × fan-out, transposed from ``torch.nn.Linear``'s weight), except that
        Newton–Schulz runs in float64 where torch runs it in bfloat16. Jordan's original writes
        :math:`B_t = \mu B_{t-1} + G_t` (a sum, not an average); after orthogonalisation only the
        direction counts, so the two differ only through the Nesterov mix and ε.

    >>> opt = Muon(lr=0.1, weight_decay=0.0)
    >>> theta = opt.step(np.array([3.0, 4.0]), lambda th: 2 * th)

    Reference: Jordan et al. (2024), "Muon: An optimizer for hidden layers in neural networks",
    https://kellerjordan.github.io/posts/muon/. Introduced in notebook ``12-after-adam``.
    """

    state_names = ("B", "t")

    def __init__(self, lr: float = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95, nesterov: bool = True,
                 ns_steps: int = 5, eps: float = 1e-7, shapes=None, vectors: Optimizer | None = None):
        self.lr = _check_lr(lr)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self.momentum = _check_unit("momentum", momentum)
        self.nesterov = checks.boolean("nesterov", nesterov)
        self.ns_steps = checks.integer("ns_steps", ns_steps, low=1, high=99)
        self.eps = checks.number("eps", eps, low=0, low_open=True)
        self.shapes = _check_shapes(shapes)
        if vectors is not None:
            checks.instance("vectors", vectors, Optimizer, "None or a kai_lib optimizer such as AdamW()")
        self.vectors = vectors
        self._hyper = {"lr": self.lr, "weight_decay": self.weight_decay, "momentum": self.momentum,
                       "nesterov": self.nesterov, "ns_steps": self.ns_steps, "eps": self.eps}
        self.reset()

    def reset(self) -> None:
        super().reset()
        if getattr(self, "vectors", None) is not None:
            self.vectors.reset()

    def step(self, theta, grad_fn):
        theta = self._as_array(theta)
        blocks = _blocks(theta, self.shapes)
        lead = theta.shape[:-1]
        if self.B is None:
            self.B = [np.zeros(lead + s) for _, s in blocks]
        g = grad_fn(theta)
        self.t += 1
        B, new = list(self.B), []
        for i, (where, shape) in enumerate(blocks):
            W, G = _block(theta, where, shape), _block(g, where, shape)
            if len(shape) == 1 and self.vectors is not None:
                new.append(None)                                   # stepped by `vectors` below
                continue
            B[i] = self.momentum * B[i] + (1 - self.momentum) * G
            M = (1 - self.momentum) * G + self.momentum * B[i] if self.nesterov else B[i]
            matrix = shape if len(shape) == 2 else (1,) + shape    # a vector is a 1 × n matrix
            O = newton_schulz(M.reshape(lead + matrix), self.ns_steps, eps=self.eps).reshape(M.shape)
            new.append(W * (1 - self.lr * self.weight_decay) - self.lr * np.sqrt(max(1, matrix[0] / matrix[1])) * O)
        rest = [i for i, n in enumerate(new) if n is None]        # the vector blocks, joined for `vectors`
        if rest:
            where = np.concatenate([np.arange(blocks[i][0].start, blocks[i][0].stop) for i in rest])
            stepped = self.vectors.step(theta[..., where], lambda _: g[..., where])
            sizes = np.cumsum([blocks[i][1][0] for i in rest])[:-1]
            for i, part in zip(rest, np.split(stepped, sizes, axis=-1), strict=True):
                new[i] = part
        self.B = B
        return _flat(new, lead)


#: The optimizers after Adam (notebook 12), display name -> class. Not in :data:`ALL`, which
#: stays the slides' and Adam's family.
AFTER_ADAM: dict[str, type[Optimizer]] = {
    "Lion": Lion,
    "RAdam": RAdam,
    "Schedule-Free SGD": ScheduleFreeSGD,
    "Schedule-Free AdamW": ScheduleFreeAdamW,
    "Prodigy": Prodigy,
    "Shampoo": Shampoo,
    "Adafactor": Adafactor,
    "Muon": Muon,
}

__all__ += ["Lion", "RAdam", "ScheduleFreeSGD", "ScheduleFreeAdamW", "Prodigy", "Shampoo", "Adafactor", "Muon",
            "newton_schulz", "MUON_NS_COEFFICIENTS", "AFTER_ADAM"]
