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

from . import checks, schedules
from .optimizers import Optimizer

try:  # ships with scikit-learn (requirements.txt); without it BLAS keeps its own threads
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover
    ThreadpoolController = None

__all__ = ["MLP", "History", "train", "BLOW_UP_FACTOR", "MAX_STEPS", "MAX_ROWS_SEEN", "MAX_PARAMS"]

ACTIVATIONS = ("tanh", "relu")


def _check_sizes(sizes) -> list[int]:
    """The layer widths: at least two integers >= 1, the last (the classes) >= 2."""
    allowed = "a list of at least two integers >= 1 (the last >= 2)"
    if not isinstance(sizes, (list, tuple, np.ndarray)) or np.ndim(np.asarray(sizes, dtype=object)) != 1:
        checks.fail("sizes", allowed, sizes, wrong_type=True)
    if len(sizes) < 2:
        checks.fail("sizes", allowed, sizes)
    try:
        out = [checks.integer("sizes", s, low=1) for s in sizes]   # a bool, a float, a string: refused
    except ValueError:
        checks.fail("sizes", allowed, sizes, wrong_type=True)
    if out[-1] < 2:
        checks.fail("sizes", allowed, sizes)
    return out


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
        self.sizes = _check_sizes(sizes)
        self.activation = checks.choice("activation", activation, ACTIVATIONS)
        self.seed = checks.seed("seed", seed)
        # (start, stop, shape) of each W_l and b_l inside theta
        self._slices: list[tuple[slice, tuple[int, int], slice]] = []
        start = 0
        for n_in, n_out in itertools.pairwise(self.sizes):
            w = slice(start, start + n_in * n_out)
            b = slice(w.stop, w.stop + n_out)
            self._slices.append((w, (n_in, n_out), b))
            start = b.stop
        self.n_params = start
        if self.n_params > MAX_PARAMS:
            checks.fail("sizes", f"a network of at most {MAX_PARAMS:,} parameters (kai_lib.nn.MAX_PARAMS, a ceiling "
                        f"on memory), got {self.n_params:,} parameters", sizes)

    def __repr__(self) -> str:
        return f"MLP({self.sizes}, activation={self.activation!r}, seed={self.seed})  # {self.n_params} parameters"

    @property
    def n_classes(self) -> int:
        return self.sizes[-1]

    def init(self, seed: int | None = None) -> np.ndarray:
        """A fresh θ of shape ``(P,)``: Glorot-uniform (tanh) or He-normal (ReLU) weights, zero biases.

        The same seed (default: the network's) always gives the same θ.
        """
        rng = np.random.default_rng(self.seed if seed is None else checks.seed("seed", seed))
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

    def _check_theta(self, theta, name: str = "theta") -> np.ndarray:
        theta = checks.real_array(name, theta)
        if theta.shape != (self.n_params,):
            checks.fail(name, f"shape ({self.n_params},), one number per parameter", theta, verb="have")
        if not np.all(np.isfinite(theta)):
            checks.fail(name, "finite", theta)
        return theta

    def _check_X(self, X, name: str = "X") -> np.ndarray:
        X = checks.real_array(name, X)   # strings are refused, not parsed as numbers
        if X.ndim != 2 or X.shape[1] != self.sizes[0] or X.shape[0] < 1:
            checks.fail(name, f"shape (n, {self.sizes[0]}) with n >= 1", X, verb="have")
        if not np.all(np.isfinite(X)):
            checks.fail(name, "finite", X)
        return X

    def _check_y(self, y, n: int, name: str = "y") -> np.ndarray:
        y = np.asarray(y)
        if y.shape != (n,):
            checks.fail(name, f"shape ({n},), one label per row of X", y, verb="have")
        if not np.issubdtype(y.dtype, np.integer):
            if not (np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y))):
                checks.fail(name, "integer class labels", y, wrong_type=True, verb="hold")
        if n and (y.min() < 0 or y.max() >= self.n_classes):
            checks.fail(name, f"labels in [0, {self.n_classes - 1}]", y, verb="hold")
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
        theta, X = self._check_theta(theta), self._check_X(X)
        with np.errstate(all="ignore"):
            return self._forward(theta, X)[-1]

    def predict_proba(self, theta, X) -> np.ndarray:
        """softmax(z_L), shape ``(n, classes)``."""
        z = self.logits(theta, X)
        with np.errstate(all="ignore"):
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
        with np.errstate(all="ignore"):   # a far θ overflows to an infinite loss, quietly
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

#: A run *blew up* when its training loss after an epoch exceeds this many times the lowest
#: so far (fastai's learning-rate finder stops at 4 × the best smoothed loss).
BLOW_UP_FACTOR = 4.0
#: The most optimizer steps one ``train`` may take (epochs × mini-batches per epoch), as
#: ``kai_lib.runner.MAX_STEPS`` for a run on a surface: a typo cannot hang the kernel.
MAX_STEPS = 100_000
#: The most rows one ``train`` may push through the network (epochs × training rows): 10
#: million rows of the digits network take about a minute on a loaded 2-core machine.
MAX_ROWS_SEEN = 10_000_000
#: The most parameters an :class:`MLP` may have: θ is 80 MB at 10 million, and an
#: optimizer keeps up to three more vectors of that size.
MAX_PARAMS = 10_000_000


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
        diverged: whether a loss or a parameter stopped being finite (left the finite world).
        diverged_at: the epoch (1, 2, ...) in which it did, ``-1`` if it did not.
        blew_up: whether the training loss blew up: after some epoch it was more than
            :data:`BLOW_UP_FACTOR` (4) times the lowest so far *and* above the untrained
            network's loss (see :func:`train`). A run that diverged has blown up too.
        blew_up_at: the epoch after which it did, ``-1`` if it did not.
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
    blew_up: bool = False
    blew_up_at: int = -1

    @property
    def epochs(self) -> int:
        """Epochs completed (fewer than asked if it diverged or blew up)."""
        return len(self.loss_per_epoch) - 1

    def __repr__(self) -> str:
        acc = "" if self.test_accuracy is None else f", test accuracy {self.test_accuracy[-1]:.3f}"
        outcome = (f"diverged in epoch {self.diverged_at}" if self.diverged else
                   f"blew up after epoch {self.blew_up_at}" if self.blew_up else "diverged False, blew up False")
        return (f"<History: {self.epochs} epochs, {len(self.loss_per_step)} steps, final loss "
                f"{self.loss_per_epoch[-1]:.4g}{acc}, {self.seconds[-1]:.2f} s, {outcome}>")


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
        optimizer: any :mod:`kai_lib.optimizers` instance, unchanged; it is reset first and
            its current hyperparameters checked.
        net: the :class:`MLP`.
        X_train, y_train: ``(n, sizes[0])`` inputs, ``(n,)`` labels.
        epochs: passes over the training set (an integer >= 1); epochs × mini-batches per
            epoch at most :data:`MAX_STEPS` (100,000) and epochs × n at most
            :data:`MAX_ROWS_SEEN` (10 million): ceilings on work, so a typo cannot hang the kernel.
        batch_size: rows per step, in ``[1, n]``; ``n`` is full-batch gradient descent,
            ``1`` single-sample SGD.
        seed: the seed of the shuffling (the initialisation is the network's own seed).
        X_test, y_test: a test set, both or neither.
        schedule: a callable ``t -> lr_t`` (t = 1, 2, … over steps, e.g. from
            :mod:`kai_lib.schedules`). It sets ``optimizer.lr`` *between* steps, as
            ``torch.optim.lr_scheduler`` sets ``param_group["lr"]``; ``step()`` stays the
            slide's rule and ``optimizer.lr`` is put back afterwards
            (:func:`kai_lib.schedules.applied`, shared with ``run``). An optimizer without
            ``lr`` (AdaDelta) refuses one.
        theta: the start θ (default ``net.init()``), finite.
        keep_theta: also keep θ after every epoch (for pictures of the training).

    Returns:
        A :class:`History`. Divergence and blowing up are outcomes, not errors, and each
        stops the training where it happens (there is nothing left to learn from the
        epochs after; no warning is printed):

        - **diverged**: a loss or a parameter stopped being finite. The epoch is recorded in
          ``diverged_at`` and the last finite θ kept.
        - **blew up**: after epoch k the loss on the whole training set is more than
          :data:`BLOW_UP_FACTOR` = 4 times the lowest so far *and* above the untrained
          network's loss. The first half is fastai's learning-rate finder's rule (it stops
          at 4 × the best smoothed loss; our per-epoch loss on the whole training set needs
          no smoothing). The second half keeps a well-trained network's wobble at a tiny
          loss (0.001 → 0.005) from being called a blow-up: a run blew up when it is worse
          than not training at all. Keras' ``TerminateOnNaN`` only catches the non-finite,
          and a tanh network's cross-entropy grows only linearly in |θ|, so a run at η =
          10⁶ stays finite for ever; Lightning's ``divergence_threshold`` is an absolute
          loss, which depends on the data. The epoch's loss and accuracy are recorded, then
          training stops: ``blew_up``, ``blew_up_at = k``, ``theta`` is θ after epoch k.

    Raises:
        ValueError: for bad data shapes or labels, ``epochs < 1``, a ``batch_size`` outside
            ``[1, n]``, a run over a ceiling, a schedule on an optimizer without ``lr``, or
            a schedule value that is not a finite number >= 0.
    """
    X_train, y_train, X_test, y_test = _checked_data(net, X_train, y_train, X_test, y_test)
    _check_training(optimizer, len(X_train), epochs, batch_size, seed, keep_theta)
    theta = net.init() if theta is None else net._check_theta(theta).copy()
    batches = _Batches(X_train, y_train, batch_size, seed)
    log = _Log(net, X_train, y_train, X_test, y_test, epochs * batches.per_epoch, schedule, keep_theta)
    optimizer.reset()
    with np.errstate(all="ignore"), _one_blas_thread(), schedules.applied(optimizer, schedule) as set_lr:
        log.epoch(theta, 0.0)
        for _ in range(epochs):
            clock = time.perf_counter()
            for Xb, yb in batches.shuffled():
                lr = set_lr(log.t + 1)
                batch = _Batch(net, Xb, yb)
                new = optimizer.step(theta, batch.grad)
                if not log.step(batch.loss, lr, new):
                    break   # not finite: stop here, keep the last finite θ
                theta = new
            if not log.epoch(theta, time.perf_counter() - clock):
                break       # diverged or blew up
    return log.history(theta)


def _checked_data(net, X_train, y_train, X_test, y_test):
    """The training and test sets checked against ``net`` (the test set: both or neither)."""
    checks.instance("net", net, MLP, "a kai_lib.nn.MLP")
    X_train = net._check_X(X_train, "X_train")
    y_train = net._check_y(y_train, len(X_train), "y_train")
    if (X_test is None) != (y_test is None):
        checks.fail("X_test and y_test", "given together (both or neither)",
                    got="X_test only" if y_test is None else "y_test only")
    if X_test is not None:
        X_test = net._check_X(X_test, "X_test")
        y_test = net._check_y(y_test, len(X_test), "y_test")
    return X_train, y_train, X_test, y_test


def _check_training(optimizer, n: int, epochs, batch_size, seed, keep_theta) -> None:
    """The loop's own arguments, and its two ceilings (steps, rows pushed through the network)."""
    checks.instance("optimizer", optimizer, Optimizer, "a kai_lib optimizer instance")
    optimizer.check()
    epochs = checks.integer("epochs", epochs, low=1)
    batch_size = checks.integer("batch_size", batch_size, low=1, high=n)
    checks.seed("seed", seed)
    checks.boolean("keep_theta", keep_theta)
    steps = epochs * -(-n // batch_size)
    if steps > MAX_STEPS:
        checks.fail("epochs", f"at most {MAX_STEPS // -(-n // batch_size):,} at batch_size {batch_size} (epochs × "
                    f"{-(-n // batch_size):,} mini-batches at most kai_lib.nn.MAX_STEPS = {MAX_STEPS:,}, a ceiling "
                    "on the work of one run)", epochs)
    if epochs * n > MAX_ROWS_SEEN:
        checks.fail("epochs", f"at most {MAX_ROWS_SEEN // n:,} for {n:,} training rows (epochs × rows at most "
                    f"kai_lib.nn.MAX_ROWS_SEEN = {MAX_ROWS_SEEN:,}, a ceiling on the work of one run)", epochs)


class _Batches:
    """The training set, shuffled afresh each epoch (from ``seed``) and cut into mini-batches."""

    def __init__(self, X: np.ndarray, y: np.ndarray, batch_size: int, seed: int):
        self.X, self.y, self.size = X, y, batch_size
        self.rng = np.random.default_rng(seed)
        self.starts = range(0, len(X), batch_size)
        self.per_epoch = len(self.starts)
        self.X_shuffled, self.y_shuffled = np.empty_like(X), np.empty_like(y)  # written in place each epoch

    def shuffled(self):
        order = self.rng.permutation(len(self.X))
        np.take(self.X, order, axis=0, out=self.X_shuffled)
        np.take(self.y, order, out=self.y_shuffled)
        for start in self.starts:
            yield self.X_shuffled[start:start + self.size], self.y_shuffled[start:start + self.size]


class _Batch:
    """One mini-batch's ``grad(θ)``; it keeps the loss at the θ it was called at."""

    def __init__(self, net: MLP, X: np.ndarray, y: np.ndarray):
        self.net, self.X, self.y, self.loss = net, X, y, math.nan

    def grad(self, theta: np.ndarray) -> np.ndarray:
        self.loss, grad = self.net._loss_and_grad(theta, self.X, self.y)
        return grad


class _Log:
    """What ``train`` records, and its two stopping rules: diverged (not finite) and blew up."""

    def __init__(self, net, X_train, y_train, X_test, y_test, max_steps: int, schedule, keep_theta: bool):
        self.net, self.X_train, self.y_train, self.X_test, self.y_test = net, X_train, y_train, X_test, y_test
        self.loss_per_step = np.empty(max_steps)
        self.lr_per_step = None if schedule is None else np.empty(max_steps)
        self.loss_per_epoch, self.test_accuracy, self.seconds, self.thetas = [], [], [], [] if keep_theta else None
        self.t, self.epochs, self.diverged_at, self.blew_up_at = 0, 0, -1, -1
        self.finite_steps = True

    def step(self, batch_loss: float, lr, new: np.ndarray) -> bool:
        """Record step t + 1; ``False`` if its loss or its θ is not finite."""
        if not math.isfinite(batch_loss):
            self.finite_steps = False
            return False
        self.loss_per_step[self.t] = batch_loss   # finite: the step was taken from a finite point
        if self.lr_per_step is not None:
            self.lr_per_step[self.t] = lr
        self.t += 1
        self.finite_steps = bool(np.isfinite(new).all())
        return self.finite_steps

    def epoch(self, theta: np.ndarray, seconds: float) -> bool:
        """Record the end of an epoch (the start, epoch 0, first); ``False`` if training must stop."""
        loss = _cross_entropy(self.net._forward(theta, self.X_train)[-1], self.y_train)[0]
        if not (self.finite_steps and math.isfinite(loss)):  # finite steps, yet the whole set may overflow
            self.diverged_at = self.epochs + 1
            return False
        self.epochs = len(self.loss_per_epoch)
        self.loss_per_epoch.append(loss)
        if self.X_test is not None:
            predicted = np.argmax(self.net._forward(theta, self.X_test)[-1], axis=1)
            self.test_accuracy.append(float(np.mean(predicted == self.y_test)))
        self.seconds.append((self.seconds[-1] if self.seconds else 0.0) + seconds)
        if self.thetas is not None:
            self.thetas.append(theta.copy())
        if loss > BLOW_UP_FACTOR * min(self.loss_per_epoch) and loss > self.loss_per_epoch[0]:
            self.blew_up_at = self.epochs
            return False
        return True

    def history(self, theta: np.ndarray) -> History:
        diverged = self.diverged_at > 0
        return History(
            loss_per_step=self.loss_per_step[:self.t].copy(),
            loss_per_epoch=np.array(self.loss_per_epoch),
            test_accuracy=None if self.X_test is None else np.array(self.test_accuracy),
            seconds=np.array(self.seconds),
            diverged=diverged,
            diverged_at=self.diverged_at,
            theta=theta,
            lr_per_step=None if self.lr_per_step is None else self.lr_per_step[:self.t].copy(),
            theta_per_epoch=None if self.thetas is None else np.array(self.thetas),
            blew_up=diverged or self.blew_up_at > 0,
            blew_up_at=self.diverged_at if diverged else self.blew_up_at,
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

