r"""A small multilayer perceptron in numpy, as a function of one flat vector θ.

The optimizers of :mod:`kai_lib.optimizers` take ``theta`` of any shape and a
``grad_fn(theta)``; every rule is element-wise. A network whose weights and biases are
all slices of one long vector θ of shape ``(P,)`` is therefore trained by the
*unchanged* optimizer classes, exactly as they move a point on a 2-D surface:

>>> from kai_lib import data, nn, optimizers
>>> X_train, X_test, y_train, y_test = data.digits()
>>> net = nn.MLP([64, 32, 10], activation="tanh", seed=0)
>>> theta = net.init()                       # shape (P,), P = 64·32 + 32 + 32·10 + 10 = 2410
>>> loss, grad = net.loss_and_grad(theta, X_train, y_train)
>>> hist = nn.train(optimizers.Adam(lr=0.003), net, X_train, y_train, epochs=20, batch_size=32,
...                 seed=0, X_test=X_test, y_test=y_test)

The network, for layers :math:`l = 1 \dots L` with weights :math:`W_l` (fan-in × fan-out)
and biases :math:`b_l`:

.. math::
    a_0 = X, \qquad z_l = a_{l-1} W_l + b_l, \qquad a_l = \sigma(z_l)\ (l < L), \qquad
    p = \mathrm{softmax}(z_L)

    J(\theta) = -\frac{1}{n} \sum_i \log p_{i, y_i}

and backpropagation, the chain rule from the loss back to every slice of θ:

.. math::
    \delta_L = \frac{1}{n}(p - Y), \qquad
    \nabla_{W_l} J = a_{l-1}^\top \delta_l, \qquad \nabla_{b_l} J = \textstyle\sum_i \delta_{l,i}, \qquad
    \delta_{l-1} = (\delta_l W_l^\top) \odot \sigma'(z_{l-1})

with :math:`Y` the one-hot labels, :math:`\sigma' = 1 - a^2` for tanh and
:math:`[z > 0]` for ReLU.

Initialisation, from the network's seed: **Glorot (Xavier) uniform** for tanh,
:math:`W \sim U(-\sqrt{6/(n_\text{in}+n_\text{out})}, +\sqrt{\cdot})` (Glorot & Bengio
2010), and **He (Kaiming) normal** for ReLU, :math:`W \sim N(0, 2/n_\text{in})` (He et al.
2015); biases start at zero.

How it differs from PyTorch: ``torch.nn.Linear`` stores ``W`` as (out × in) and
initialises both ``W`` and ``b`` from :math:`U(-1/\sqrt{n_\text{in}}, 1/\sqrt{n_\text{in}})`
(``kaiming_uniform_`` with ``a=√5``), a smaller spread than Glorot's for these sizes;
``torch.nn.CrossEntropyLoss`` also takes the logits :math:`z_L`, applying the
log-softmax itself, as :meth:`MLP.loss_and_grad` does. Introduced in notebook
``10-neural-network``.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import schedules
from .optimizers import Optimizer

try:  # ships with scikit-learn (requirements.txt); without it BLAS keeps its own threads
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover
    ThreadpoolController = None

__all__ = ["MLP", "History", "train"]

ACTIVATIONS = ("tanh", "relu")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class MLP:
    r"""A multilayer perceptron whose parameters are one flat vector θ.

    Args:
        sizes: the widths of the layers, inputs first and classes last, e.g.
            ``[64, 32, 10]``: 64 inputs, one hidden layer of 32, 10 classes. At least two
            entries, each an integer >= 1 (the last >= 2).
        activation: ``"tanh"`` (Glorot-uniform initialisation) or ``"relu"`` (He-normal).
        seed: the seed of :meth:`init`.

    θ holds, layer after layer, ``W_l`` (row-major, fan-in × fan-out) then ``b_l``;
    :meth:`unflatten` returns views of θ in that layout.

    >>> net = MLP([2, 8, 2], activation="relu", seed=1)
    >>> net.n_params
    42
    """

    def __init__(self, sizes: Sequence[int], activation: str = "tanh", seed: int = 0):
        sizes = list(sizes) if isinstance(sizes, (list, tuple, np.ndarray)) else sizes
        if not (isinstance(sizes, list) and len(sizes) >= 2 and all(_is_int(s) and s >= 1 for s in sizes)
                and sizes[-1] >= 2):
            raise ValueError(f"sizes must be a list of at least two integers >= 1 (the last >= 2), got {sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        if not _is_int(seed):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self.sizes = [int(s) for s in sizes]
        self.activation = activation
        self.seed = int(seed)
        # (start, stop, shape) of each W_l and b_l inside theta
        self._slices: list[tuple[slice, tuple[int, int], slice]] = []
        start = 0
        for n_in, n_out in itertools.pairwise(self.sizes):
            w = slice(start, start + n_in * n_out)
            b = slice(w.stop, w.stop + n_out)
            self._slices.append((w, (n_in, n_out), b))
            start = b.stop
        self.n_params = start

    def __repr__(self) -> str:
        return f"MLP({self.sizes}, activation={self.activation!r}, seed={self.seed})  # {self.n_params} parameters"

    @property
    def n_classes(self) -> int:
        return self.sizes[-1]

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        """The shapes of θ's consecutive blocks, ``[(n_in, n_out), (n_out,), ...]``: W_1, b_1, W_2, b_2, ...

        What the matrix optimizers (``optimizers.Shampoo``, ``Adafactor``, ``Muon``) take as ``shapes``.

        >>> MLP([64, 32, 10]).shapes
        [(64, 32), (32,), (32, 10), (10,)]
        """
        return [blocks for _, shape, _ in self._slices for blocks in (shape, (shape[1],))]

    def init(self, seed: int | None = None) -> np.ndarray:
        """A fresh θ of shape ``(P,)``: Glorot-uniform (tanh) or He-normal (ReLU) weights, zero biases.

        The same seed (default: the network's) always gives the same θ.
        """
        rng = np.random.default_rng(self.seed if seed is None else seed)
        theta = np.zeros(self.n_params)
        for W, _ in self.unflatten(theta):
            n_in, n_out = W.shape
            if self.activation == "tanh":
                limit = math.sqrt(6.0 / (n_in + n_out))
                W[...] = rng.uniform(-limit, limit, size=W.shape)
            else:
                W[...] = rng.normal(0.0, math.sqrt(2.0 / n_in), size=W.shape)
        return theta

    def unflatten(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """``[(W_1, b_1), ..., (W_L, b_L)]`` as views of ``theta`` (writing them writes θ)."""
        return [(theta[w].reshape(shape), theta[b]) for w, shape, b in self._slices]

    # --- checks -------------------------------------------------------------------------

    def _check_theta(self, theta) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have shape ({self.n_params},), got shape {theta.shape}")
        return theta

    def _check_X(self, X, name: str = "X") -> np.ndarray:
        try:
            X = np.asarray(X, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an array of numbers of shape (n, {self.sizes[0]})") from None
        if X.ndim != 2 or X.shape[1] != self.sizes[0] or X.shape[0] < 1:
            raise ValueError(f"{name} must have shape (n, {self.sizes[0]}) with n >= 1, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{name} must be finite")
        return X

    def _check_y(self, y, n: int, name: str = "y") -> np.ndarray:
        y = np.asarray(y)
        if y.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), one label per row of X, got shape {y.shape}")
        if not np.issubdtype(y.dtype, np.integer):
            if not (np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y))):
                raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
        if n and (y.min() < 0 or y.max() >= self.n_classes):
            raise ValueError(f"{name} must hold labels in [0, {self.n_classes - 1}], got labels "
                             f"from {y.min()} to {y.max()}")
        return y.astype(np.intp)

    # --- the maths ----------------------------------------------------------------------

    def _sigma(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z, out=z) if self.activation == "tanh" else np.maximum(z, 0.0, out=z)

    def _forward(self, theta: np.ndarray, X: np.ndarray) -> list[np.ndarray]:
        """Activations ``[a_0 = X, a_1, ..., a_{L-1}, z_L]``: one matrix product per layer."""
        layers = self.unflatten(theta)
        acts = [X]
        for W, b in layers[:-1]:
            acts.append(self._sigma(acts[-1] @ W + b))
        W, b = layers[-1]
        acts.append(acts[-1] @ W + b)
        return acts

    def logits(self, theta, X) -> np.ndarray:
        """:math:`z_L`, shape ``(n, classes)``."""
        return self._forward(self._check_theta(theta), self._check_X(X))[-1]

    def predict_proba(self, theta, X) -> np.ndarray:
        """softmax(z_L), shape ``(n, classes)``."""
        z = self.logits(theta, X)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def predict(self, theta, X) -> np.ndarray:
        """The most probable class of each row of ``X``, shape ``(n,)``."""
        return np.argmax(self.logits(theta, X), axis=1)

    def accuracy(self, theta, X, y) -> float:
        """The fraction of rows of ``X`` whose predicted class is ``y``."""
        X = self._check_X(X)
        y = self._check_y(y, len(X))
        return float(np.mean(self.predict(theta, X) == y))

    def loss(self, theta, X, y) -> float:
        """The mean softmax cross-entropy :math:`J(\\theta)` over ``(X, y)``."""
        theta, X = self._check_theta(theta), self._check_X(X)
        y = self._check_y(y, len(X))
        with np.errstate(all="ignore"):
            return _cross_entropy(self._forward(theta, X)[-1], y)[0]

    def loss_and_grad(self, theta, X, y) -> tuple[float, np.ndarray]:
        r"""The mean softmax cross-entropy and its gradient :math:`\nabla_\theta J`, shape ``(P,)``.

        Args:
            theta: ``(P,)``.
            X: ``(n, sizes[0])`` inputs.
            y: ``(n,)`` integer labels in ``[0, sizes[-1])``.
        """
        theta, X = self._check_theta(theta), self._check_X(X)
        y = self._check_y(y, len(X))
        return self._loss_and_grad(theta, X, y)

    def _loss_and_grad(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Backpropagation, unchecked (``train`` checks its data once)."""
        acts = self._forward(theta, X)
        loss, delta = _cross_entropy(acts[-1], y)             # delta = dJ/dz_L = (p - Y) / n
        grad = np.empty(self.n_params)
        grads = self.unflatten(grad)
        layers = self.unflatten(theta)
        for l in range(len(layers) - 1, -1, -1):
            gW, gb = grads[l]
            np.matmul(acts[l].T, delta, out=gW)                # dJ/dW_l = a_{l-1}^T delta_l
            np.sum(delta, axis=0, out=gb)                      # dJ/db_l = sum_i delta_l
            if l:
                delta = delta @ layers[l][0].T                 # dJ/da_{l-1}
                a = acts[l]
                delta *= (1.0 - a * a) if self.activation == "tanh" else (a > 0)   # times sigma'(z_{l-1})
        return loss, grad


def _cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean of −log softmax(z)[y] (through log-sum-exp), and its gradient (softmax − onehot)/n."""
    n = len(y)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    total = p.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = float(np.mean(np.log(total[:, 0]) - z[rows, y]))
    p /= total
    p[rows, y] -= 1.0
    p /= n
    return loss, p


# --- training -------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class History:
    """What a training run did.

    Attributes:
        loss_per_step: ``(steps,)`` the mini-batch loss the optimizer saw at each step
            (where its ``grad_fn`` was called: NAG's look-ahead point).
        loss_per_epoch: ``(epochs_done + 1,)`` the loss on the whole training set after
            each epoch, the untrained network's first.
        test_accuracy: ``(epochs_done + 1,)`` accuracy on the test set after each epoch
            (``None`` without a test set).
        seconds: ``(epochs_done + 1,)`` cumulative wall time of the training steps at the
            end of each epoch (0 first); the per-epoch evaluation is not counted.
        diverged: whether a loss or a parameter stopped being finite.
        diverged_at: the epoch (1, 2, ...) in which it did, ``-1`` if it did not.
        theta: the last finite θ.
        lr_per_step: ``(steps,)`` the learning rate of each step, if a schedule set it.
        theta_per_epoch: ``(epochs_done + 1, P)`` θ after each epoch, if asked for.
    """

    loss_per_step: np.ndarray
    loss_per_epoch: np.ndarray
    test_accuracy: np.ndarray | None
    seconds: np.ndarray
    diverged: bool
    diverged_at: int
    theta: np.ndarray
    lr_per_step: np.ndarray | None = None
    theta_per_epoch: np.ndarray | None = None

    @property
    def epochs(self) -> int:
        """Epochs completed (fewer than asked if it diverged)."""
        return len(self.loss_per_epoch) - 1

    def __repr__(self) -> str:
        acc = "" if self.test_accuracy is None else f", test accuracy {self.test_accuracy[-1]:.3f}"
        return (f"<History: {self.epochs} epochs, {len(self.loss_per_step)} steps, final loss "
                f"{self.loss_per_epoch[-1]:.4g}{acc}, {self.seconds[-1]:.2f} s, diverged {self.diverged}>")


def train(
    optimizer: Optimizer,
    net: MLP,
    X_train,
    y_train,
    epochs: int = 20,
    batch_size: int = 32,
    seed: int = 0,
    X_test=None,
    y_test=None,
    schedule: Callable[[int], float] | None = None,
    theta=None,
    keep_theta: bool = False,
) -> History:
    r"""Train ``net`` with ``optimizer`` on shuffled mini-batches: the slide's SGD loop.

    .. code-block:: text

        θ ← θ₀ (net.init() unless given); optimizer.reset()
        for epoch = 1 … epochs:
            shuffle the training set (from seed)
            for each mini-batch B (the last one may be smaller):
                t ← t + 1; optimizer.lr ← schedule(t) if a schedule is given
                θ ← optimizer.step(θ, grad_fn)    with grad_fn(θ) = ∇_θ J_B(θ)
            record the training loss and the test accuracy

    Args:
        optimizer: any :mod:`kai_lib.optimizers` instance, unchanged; it is reset first.
        net: the :class:`MLP`.
        X_train, y_train: ``(n, sizes[0])`` inputs, ``(n,)`` labels.
        epochs: passes over the training set (an integer >= 1).
        batch_size: rows per step, in ``[1, n]``; ``n`` is full-batch gradient descent,
            ``1`` single-sample SGD.
        seed: the seed of the shuffling (the initialisation is the network's own seed).
        X_test, y_test: a test set, both or neither.
        schedule: a callable ``t -> lr_t`` (t = 1, 2, … over steps, e.g. from
            :mod:`kai_lib.schedules`). It sets ``optimizer.lr`` *between* steps, as
            ``torch.optim.lr_scheduler`` sets ``param_group["lr"]``; ``step()`` stays the
            slide's rule and the optimizer's hyperparameters are restored afterwards.
            An optimizer without ``lr`` (AdaDelta) refuses one.
        theta: the start θ (default ``net.init()``).
        keep_theta: also keep θ after every epoch (for pictures of the training).

    Returns:
        A :class:`History`. Divergence is an outcome, not an error: when a loss or a
        parameter stops being finite, training stops there, ``diverged`` is set with the
        epoch, and the last finite θ is kept. No warning is printed.

    Raises:
        ValueError: for bad data shapes or labels, ``epochs < 1``, a ``batch_size`` outside
            ``[1, n]``, a schedule on an optimizer without ``lr``, or a schedule value
            that is not a finite number > 0.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a kai_lib optimizer instance, got {optimizer!r}")
    if not isinstance(net, MLP):
        raise TypeError(f"net must be a kai_lib.nn.MLP, got {net!r}")
    X_train = net._check_X(X_train, "X_train")
    n = len(X_train)
    y_train = net._check_y(y_train, n, "y_train")
    if not (_is_int(epochs) and epochs >= 1):
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    if not (_is_int(batch_size) and 1 <= batch_size <= n):
        raise ValueError(f"batch_size must be an integer in [1, {n}] (the training set's size), got {batch_size!r}")
    if not _is_int(seed):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test must be given together (both or neither)")
    if X_test is not None:
        X_test = net._check_X(X_test, "X_test")
        y_test = net._check_y(y_test, len(X_test), "y_test")
    if schedule is not None:
        schedules.check_for(optimizer, schedule)
    theta = net.init() if theta is None else net._check_theta(theta).copy()

    rng = np.random.default_rng(seed)
    starts = range(0, n, batch_size)
    steps_per_epoch = len(starts)
    loss_per_step = np.empty(epochs * steps_per_epoch)
    lr_per_step = None if schedule is None else np.empty(epochs * steps_per_epoch)
    loss_per_epoch, test_accuracy, seconds = [], [], [0.0]
    thetas = [theta.copy()] if keep_theta else None
    Xb_all, yb_all = np.empty_like(X_train), np.empty_like(y_train)  # this epoch's shuffled copy
    batch_loss = 0.0
    diverged_at, t = -1, 0   # t: steps taken so far

    def evaluate(th):
        loss_per_epoch.append(_cross_entropy(net._forward(th, X_train)[-1], y_train)[0])
        if X_test is not None:
            test_accuracy.append(float(np.mean(np.argmax(net._forward(th, X_test)[-1], axis=1) == y_test)))

    def run_epoch() -> bool:
        """One pass over the shuffled training set; False as soon as something is not finite."""
        nonlocal theta, t
        order = rng.permutation(n)
        np.take(X_train, order, axis=0, out=Xb_all)
        np.take(y_train, order, out=yb_all)
        for start in starts:
            Xb, yb = Xb_all[start:start + batch_size], yb_all[start:start + batch_size]

            def grad_fn(th, Xb=Xb, yb=yb):
                nonlocal batch_loss
                batch_loss, grad = net._loss_and_grad(th, Xb, yb)
                return grad

            if schedule is not None:
                optimizer.lr = lr_per_step[t] = schedules.lr_at(schedule, t + 1)
            new = optimizer.step(theta, grad_fn)
            if not math.isfinite(batch_loss):
                return False
            loss_per_step[t] = batch_loss   # finite: the step was taken from a finite point
            t += 1
            if not np.isfinite(new).all():
                return False
            theta = new
        return True

    original = optimizer.hyperparameters()
    optimizer.reset()
    try:
        with np.errstate(all="ignore"), _one_blas_thread():
            evaluate(theta)
            for epoch in range(1, epochs + 1):
                clock = time.perf_counter()
                finished = run_epoch()
                elapsed = time.perf_counter() - clock
                if finished:
                    evaluate(theta)
                    finished = math.isfinite(loss_per_epoch[-1])  # finite steps, but the whole set overflows
                    if not finished:
                        loss_per_epoch.pop()
                        if X_test is not None:
                            test_accuracy.pop()
                if not finished:
                    diverged_at = epoch
                    break
                seconds.append(seconds[-1] + elapsed)
                if keep_theta:
                    thetas.append(theta.copy())
    finally:
        for name, value in original.items():  # a schedule changed lr; put every hyperparameter back
            setattr(optimizer, name, value)

    return History(
        loss_per_step=loss_per_step[:t].copy(),
        loss_per_epoch=np.array(loss_per_epoch),
        test_accuracy=None if X_test is None else np.array(test_accuracy),
        seconds=np.array(seconds),
        diverged=diverged_at > 0,
        diverged_at=diverged_at,
        theta=theta,
        lr_per_step=None if lr_per_step is None else lr_per_step[:t].copy(),
        theta_per_epoch=None if thetas is None else np.array(thetas),
    )


_BLAS: list = []


def _one_blas_thread():
    """BLAS on one thread while training: these matrices are small, and on a busy machine a
    second BLAS thread mostly waits for a core (2–3× slower on 2 shared cores)."""
    if ThreadpoolController is None:  # pragma: no cover
        return contextlib.nullcontext()
    if not _BLAS:
        _BLAS.append(ThreadpoolController())  # finding the libraries costs ~1 ms: once
    return _BLAS[0].limit(limits=1, user_api="blas")

