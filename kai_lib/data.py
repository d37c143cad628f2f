"""Small datasets made with a fixed seed, for the notebooks that need data.

Nothing is downloaded: every dataset is generated here, the same on every machine.

- :func:`make_regression`: a line fit, y ≈ w·x + b, so the parameters θ = (w, b) are
  2-D and the loss surface can be drawn (notebook ``02-sgd-minibatch``).
- :func:`make_sparse_features`: a linear model over binary features whose frequencies
  fall off like word frequencies (Zipf), a few common and most rare, as in word2vec /
  GloVe training (notebook ``05-adagrad``).
- :func:`digits`: scikit-learn's bundled handwritten digits (read from the wheel, not
  downloaded), standardised, a fixed train/test split (notebook ``10-neural-network``).
- :func:`moons`: two interleaved half-moons with noise, Radford's "noisy moons"
  (scikit-learn's ``make_moons``, from a seed).

Only the loader and ``make_moons`` come from scikit-learn; the learning is kai_lib's.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import checks
from .surfaces import Surface

__all__ = ["Regression", "make_regression", "SparseFeatures", "make_sparse_features", "digits", "moons",
           "reference", "MAX_ROWS", "REFERENCE"]

#: The committed reference values (``tests/reference/*.json``) that the tests and notebooks 03, 11
#: and 12 compare kai_lib with, beside the scripts that wrote them from PyTorch and the reference packages.
REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "reference"

#: The most values a generated dataset may hold (rows, or rows × features): about 80 MB.
MAX_ROWS = 10_000_000


@dataclass(frozen=True, eq=False)
class Regression:
    """``n`` points (x, y) with y = w·x + b + noise; θ = (w, b).

    The loss is the mean squared error J(θ) = mean((w·x + b − y)²) / 2 over the whole
    set (batch) or over a mini-batch of indices.
    """

    x: np.ndarray
    y: np.ndarray
    theta_true: np.ndarray

    @property
    def n(self) -> int:
        return len(self.x)

    def loss(self, theta, idx=None) -> np.ndarray:
        """J(θ) over the points ``idx`` (all if ``None``); θ of shape ``(..., 2)``."""
        x, y = (self.x, self.y) if idx is None else (self.x[idx], self.y[idx])
        theta = np.asarray(theta, dtype=float)
        residual = theta[..., :1] * x + theta[..., 1:] - y
        return 0.5 * np.mean(residual**2, axis=-1)

    def grad(self, theta, idx=None) -> np.ndarray:
        """∇J(θ) over the points ``idx`` (all if ``None``); shape ``(..., 2)``."""
        x, y = (self.x, self.y) if idx is None else (self.x[idx], self.y[idx])
        theta = np.asarray(theta, dtype=float)
        residual = theta[..., :1] * x + theta[..., 1:] - y
        return np.stack([np.mean(residual * x, axis=-1), np.mean(residual, axis=-1)], axis=-1)

    def minimiser(self) -> np.ndarray:
        """The least-squares θ, in closed form."""
        A = np.stack([self.x, np.ones_like(self.x)], axis=1)
        return np.linalg.lstsq(A, self.y, rcond=None)[0]

    def minibatch_grad_fn(self, batch_size: int, seed: int = 0) -> Callable[[np.ndarray], np.ndarray]:
        """A ``grad_fn`` that walks through shuffled mini-batches, epoch after epoch.

        ``batch_size = n`` is batch gradient descent, ``1`` is single-sample SGD.
        """
        batch_size = checks.integer("batch_size", batch_size, low=1, high=self.n)
        rng = np.random.default_rng(checks.integer("seed", seed, low=0))
        order, pos = rng.permutation(self.n), 0

        def grad_fn(theta):
            nonlocal order, pos
            if pos + batch_size > self.n:
                order, pos = rng.permutation(self.n), 0
            idx = order[pos:pos + batch_size]
            pos += batch_size
            return self.grad(theta, idx)

        return grad_fn

    def surface(self) -> Surface:
        """The full-batch loss as a :class:`~kai_lib.surfaces.Surface`, for contour plots.

        J(w, b) is a quadratic whose coefficients are five averages of the data, so a
        contour grid costs no more than on any other surface.
        """
        w, b = self.minimiser()
        mx, my = float(np.mean(self.x)), float(np.mean(self.y))
        mxx, mxy, myy = float(np.mean(self.x**2)), float(np.mean(self.x * self.y)), float(np.mean(self.y**2))

        def value(w_, b_):
            return 0.5 * (w_**2 * mxx + 2 * w_ * b_ * mx + b_**2 - 2 * w_ * mxy - 2 * b_ * my + myy)

        return Surface(
            name="regression",
            title="Mean squared error of a line fit",
            formula=r"\tfrac{1}{2n}\sum_i (w x_i + b - y_i)^2",
            value_fn=value,
            grad_fn=lambda w_, b_: (w_ * mxx + b_ * mx - mxy, w_ * mx + b_ - my),
            hessian_fn=lambda w_, b_: (mxx + 0 * w_, mx + 0 * w_, 1.0 + 0 * b_),
            minima=[[w, b]],
            xlim=(w - 4.0, w + 4.0),
            ylim=(b - 4.0, b + 4.0),
            start=[w - 3.5, b + 3.0],
            log_levels=True,
            description="J(w, b) of the dataset from kai_lib.data.make_regression.",
        )


def make_regression(n: int = 1000, w: float = 2.0, b: float = -1.0, noise: float = 0.5, seed: int = 0) -> Regression:
    """``n`` points x ~ N(0, 1), y = w·x + b + N(0, noise²), from ``seed``."""
    n = checks.count("n", n, 2, MAX_ROWS, "kai_lib.data.MAX_ROWS, a ceiling on memory")
    w, b = checks.number("w", w), checks.number("b", b)
    noise = checks.number("noise", noise, low=0)
    rng = np.random.default_rng(checks.seed("seed", seed))
    x = rng.normal(size=n)
    y = w * x + b + noise * rng.normal(size=n)
    return Regression(x=x, y=y, theta_true=np.array([w, b], dtype=float))


@dataclass(frozen=True, eq=False)
class SparseFeatures:
    """Binary features X (n × d) with Zipf-like frequencies, y = X·w_true + noise.

    Feature ``j`` is present in about ``frequency[j]`` of the rows: feature 0 in most,
    the last ones in a handful, as common and rare words are.
    """

    X: np.ndarray
    y: np.ndarray
    w_true: np.ndarray
    frequency: np.ndarray

    def loss(self, w, idx=None) -> float:
        X, y = (self.X, self.y) if idx is None else (self.X[idx], self.y[idx])
        return float(0.5 * np.mean((X @ w - y) ** 2))

    def grad(self, w, idx=None) -> np.ndarray:
        """∇ of the mean squared error; zero for features absent from the rows ``idx``."""
        X, y = (self.X, self.y) if idx is None else (self.X[idx], self.y[idx])
        return X.T @ (X @ w - y) / len(y)


def make_sparse_features(n: int = 2000, d: int = 40, exponent: float = 1.1, noise: float = 0.1,
                         seed: int = 0) -> SparseFeatures:
    """``n`` rows of ``d`` binary features; feature j appears with probability ∝ 1/(j+1)^exponent."""
    n = checks.integer("n", n, low=1)
    d = checks.integer("d", d, low=2)
    if n * d > MAX_ROWS:
        checks.fail("n × d", f"at most {MAX_ROWS:,} (kai_lib.data.MAX_ROWS, a ceiling on memory)", got=f"{n:,} × {d:,}")
    exponent = checks.number("exponent", exponent, low=0, high=10)
    noise = checks.number("noise", noise, low=0)
    rng = np.random.default_rng(checks.seed("seed", seed))
    frequency = 0.9 / np.arange(1, d + 1) ** exponent
    X = (rng.random((n, d)) < frequency).astype(float)
    w_true = rng.normal(size=d)
    y = X @ w_true + noise * rng.normal(size=n)
    return SparseFeatures(X=X, y=y, w_true=w_true, frequency=X.mean(axis=0))


@functools.lru_cache(maxsize=1)
def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # imported here: only the two network datasets need it

    bunch = load_digits()
    X, y = bunch.data.astype(float), bunch.target.astype(np.intp)
    X.flags.writeable = y.flags.writeable = False
    return X, y


def digits(test_size: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 1,797 handwritten digits (8 × 8 grey levels 0–16, ten classes), standardised and split.

    ``X_train, X_test, y_train, y_test = digits()``: a seeded permutation puts
    ``round(test_size · 1797)`` images (359 by default) in the test set and the other
    1,438 in the training set. Each of the 64 pixels is standardised with the *training*
    set's mean and standard deviation (pixels that never vary there, such as the left
    column's corners, are only centred), so the test set tells nothing to the scaling.

    The images ship inside scikit-learn's wheel (``sklearn.datasets.load_digits``, the
    UCI "Optical Recognition of Handwritten Digits" test set); nothing is downloaded.
    """
    X, y = _load_digits()
    # at least one image on each side: an empty split is refused, not returned as NaN pixels
    lowest, highest = 0.5 / len(X), 1 - 1.5 / len(X)
    test_size = checks.number("test_size", test_size)
    if not lowest < test_size <= highest:
        checks.fail("test_size", f"a fraction in (0, 1) that leaves at least one of the {len(X):,} images on each "
                    f"side: in ({lowest:.2g}, {highest:.4g}]", test_size)
    order = np.random.default_rng(checks.seed("seed", seed)).permutation(len(X))
    n_test = int(round(test_size * len(X)))
    test, train = order[:n_test], order[n_test:]
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (X[train] - mean) / std, (X[test] - mean) / std, y[train].copy(), y[test].copy()


def moons(n: int = 200, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``X, y = moons()``: ``n`` points on two interleaved half-circles, plus Gaussian noise.

    Class 0 lies on the upper arc (centre (0, 0), radius 1), class 1 on the lower arc
    (centre (1, 0.5)); ``noise`` is the standard deviation added to both coordinates.
    ``X`` has shape ``(n, 2)`` (roughly x ∈ [−1.5, 2.5], y ∈ [−1, 1.5]), ``y`` shape ``(n,)``.
    scikit-learn's ``make_moons(n_samples=n, noise=noise, random_state=seed)``.
    """
    n = checks.count("n", n, 2, MAX_ROWS, "kai_lib.data.MAX_ROWS, a ceiling on memory")
    noise = checks.number("noise", noise, low=0)
    seed = checks.seed("seed", seed)
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return X.astype(float), y.astype(np.intp)


def reference(name: str) -> dict:
    """The committed reference values ``tests/reference/<name>.json``: ``"torch_reference"`` (PyTorch's
    optimizers) or ``"after_adam_reference"`` (the reference packages of notebook 12's optimizers).

    kai_lib never needs torch or those packages: their values were computed once and committed.
    The file is found from the package's own folder, so a notebook reads it from ``notebooks/`` and
    from ``notebooks/ko/`` alike.

    >>> "lbfgs" in reference("torch_reference")
    True
    """
    checks.choice("name", name, sorted(p.stem for p in REFERENCE.glob("*.json")))
    return json.loads((REFERENCE / f"{name}.json").read_text())
