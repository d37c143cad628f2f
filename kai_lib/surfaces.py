r"""Two-dimensional loss surfaces to watch the optimizers on.

A :class:`Surface` is a function of a point ``xy`` of shape ``(..., 2)`` with its
analytic gradient and Hessian (vectorised the same way), its global minimisers, the
view that shows them and a start point chosen so the slides' pictures come out.

>>> from kai_lib import surfaces
>>> s = surfaces.BEALE
>>> float(s(s.minima[0])), s.grad(s.minima[0])
(0.0, array([0., 0.]))

``surfaces.ALL`` maps each name to its surface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import checks

Array = np.ndarray

__all__ = [
    "Surface",
    "BEALE",
    "LONG_VALLEY",
    "SADDLE",
    "ROSENBROCK",
    "HIMMELBLAU",
    "RAVINE",
    "LOCAL_MINIMA",
    "ALL",
    "get",
]


class _Names(dict):
    """A dict whose missing-key error lists the known names."""

    def __missing__(self, key):
        checks.unknown("surface", key, self, "surface")


@dataclass(frozen=True, eq=False)
class Surface:
    """A loss surface J(x, y) with everything needed to run and draw on it.

    Attributes:
        name: the key in :data:`ALL` (``"beale"``).
        title: how a figure names it (``"Beale's function"``).
        minima: ``(k, 2)`` global minimisers (``(0, 2)`` if unbounded below).
        xlim, ylim: the view that shows the minimisers and the start.
        start: default start point, shape ``(2,)``.
        log_levels: contour levels log-spaced (values span many decades).
        formula: the formula in LaTeX, for titles and notebooks.
    """

    name: str
    title: str
    formula: str
    value_fn: Callable[[Array, Array], Array] = field(repr=False)
    grad_fn: Callable[[Array, Array], tuple] = field(repr=False)
    hessian_fn: Callable[[Array, Array], tuple] = field(repr=False)
    minima: Array
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: Array
    log_levels: bool = False
    description: str = ""

    def __post_init__(self):
        for attr in ("minima", "start"):
            arr = np.array(getattr(self, attr), dtype=float)
            arr.flags.writeable = False
            object.__setattr__(self, attr, arr)

    # Far from the view a value, gradient or Hessian may overflow to inf (or be nan where
    # inf - inf meets): that is an answer, which the runner reports as a divergence, so it is
    # given quietly rather than with numpy's RuntimeWarnings (one place for all surfaces).

    def __call__(self, xy) -> Array:
        """J at ``xy`` of shape ``(..., 2)``; returns shape ``(...)`` (inf where it overflows, quietly)."""
        x, y = _split(xy)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.value_fn(x, y)

    def grad(self, xy) -> Array:
        """∇J at ``xy`` of shape ``(..., 2)``; returns shape ``(..., 2)``."""
        x, y = _split(xy)
        with np.errstate(over="ignore", invalid="ignore"):
            gx, gy = self.grad_fn(x, y)
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def hessian(self, xy) -> Array:
        """∇²J at ``xy`` of shape ``(..., 2)``; returns shape ``(..., 2, 2)``."""
        x, y = _split(xy)
        with np.errstate(over="ignore", invalid="ignore"):
            hxx, hxy, hyy = np.broadcast_arrays(*self.hessian_fn(x, y))
        return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)

    def grid(self, n: int = 200) -> tuple[Array, Array, Array]:
        """``X, Y, Z`` on an ``n``×``n`` grid over the view, for contour plots (n an integer in [2, 4000])."""
        n = checks.integer("n", n, low=2, high=4000)
        X, Y = np.meshgrid(np.linspace(*self.xlim, n), np.linspace(*self.ylim, n))
        return X, Y, self(np.stack([X, Y], axis=-1))

    def __repr__(self) -> str:
        return f"<Surface {self.name}: {self.title}>"


def _split(xy) -> tuple[Array, Array]:
    xy = checks.real_array("xy", xy)
    if xy.shape[-1:] != (2,):
        checks.fail("xy", "shape (..., 2)", xy, verb="have")
    return xy[..., 0], xy[..., 1]


# --- Beale ---------------------------------------------------------------------------
# J = sum_i r_i^2 with r_i = c_i - x + x y^i, i = 1, 2, 3.
_BEALE_C = (1.5, 2.25, 2.625)


def _beale_terms(x, y):
    """Yield r_i, ∂r_i/∂x, ∂r_i/∂y, ∂²r_i/∂x∂y, ∂²r_i/∂y² for i = 1, 2, 3."""
    for i, c in enumerate(_BEALE_C, start=1):
        yield (
            c - x + x * y**i,
            y**i - 1,
            i * x * y ** (i - 1),
            i * y ** (i - 1),
            i * (i - 1) * x * y ** max(i - 2, 0),
        )


def _beale(x, y):
    return sum(r**2 for r, *_ in _beale_terms(x, y))


def _beale_grad(x, y):
    terms = list(_beale_terms(x, y))
    return sum(2 * r * rx for r, rx, *_ in terms), sum(2 * r * ry for r, _, ry, *_ in terms)


def _beale_hessian(x, y):
    terms = list(_beale_terms(x, y))
    hxx = sum(2 * rx**2 for _, rx, *_ in terms)
    hxy = sum(2 * (rx * ry + r * rxy) for r, rx, ry, rxy, _ in terms)
    hyy = sum(2 * (ry**2 + r * ryy) for r, _, ry, _, ryy in terms)
    return hxx, hxy, hyy


BEALE = Surface(
    name="beale",
    title="Beale's function",
    formula=r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
    value_fn=_beale,
    grad_fn=_beale_grad,
    hessian_fn=_beale_hessian,
    minima=[[3.0, 0.5]],
    xlim=(-4.5, 4.5),
    ylim=(-4.5, 4.5),
    start=[1.0, 1.5],
    log_levels=True,
    description="Flat plateaus and steep walls; values span ten decades. Minimum J(3, 0.5) = 0.",
)


# --- Long valley (a reconstruction) -------------------------------------------------------
# Radford's "Long Valley" animation never published its function. This one has the
# properties its caption relies on: a valley 2·_VALLEY_WALL steeper across (y) than
# its floor ever is along (x), a floor that descends gently (slope at most
# _VALLEY_FLOOR) to a minimum near the end of the view, and a start high on the wall,
# where nearly all of the gradient points across the valley.
_VALLEY_WALL = 1.0      # J grows as _VALLEY_WALL * y^2 across the valley
_VALLEY_FLOOR = 0.05    # the floor's slope far from its minimum
_VALLEY_END = 4.0       # x of the floor's minimum


def _logcosh(z):
    a = np.abs(z)
    return a + np.log1p(np.exp(-2 * a)) - np.log(2.0)


def _long_valley(x, y):
    return _VALLEY_WALL * y**2 + _VALLEY_FLOOR * _logcosh(x - _VALLEY_END)


def _long_valley_grad(x, y):
    return _VALLEY_FLOOR * np.tanh(x - _VALLEY_END), 2 * _VALLEY_WALL * y


def _long_valley_hessian(x, y):
    return _VALLEY_FLOOR / np.cosh(x - _VALLEY_END) ** 2, np.zeros_like(x * y), 2 * _VALLEY_WALL + 0 * y


LONG_VALLEY = Surface(
    name="long_valley",
    title="Long valley",
    formula=r"y^2 + 0.05 \log\cosh(x - 4)",
    value_fn=_long_valley,
    grad_fn=_long_valley_grad,
    hessian_fn=_long_valley_hessian,
    minima=[[_VALLEY_END, 0.0]],
    xlim=(-5.0, 5.0),
    ylim=(-2.0, 2.0),
    start=[-4.0, 1.5],
    description=(
        "A reconstruction: no formula for Radford's 'Long Valley' animation was ever "
        "published. A narrow valley (steep walls, J = y² across) whose floor descends "
        "gently (slope ≤ 0.05) to its minimum at (4, 0); the start is on the valley wall, "
        "where the gradient points almost straight across the valley."
    ),
)


# --- Saddle ------------------------------------------------------------------------------
SADDLE = Surface(
    name="saddle",
    title="Saddle point",
    formula=r"x^2 - y^2",
    value_fn=lambda x, y: x**2 - y**2,
    grad_fn=lambda x, y: (2 * x, -2 * y),
    hessian_fn=lambda x, y: (2 + 0 * x, 0 * x, -2 + 0 * y),
    minima=np.zeros((0, 2)),
    xlim=(-1.5, 1.5),
    ylim=(-1.5, 1.5),
    start=[1.0, 1e-3],
    description=(
        "A saddle at the origin, unbounded below along y. The start sits on the ridge "
        "y = 0, a hair off it, so only a method that rescales the tiny y-gradient escapes fast."
    ),
)


# --- Rosenbrock ------------------------------------------------------------------------------
ROSENBROCK = Surface(
    name="rosenbrock",
    title="Rosenbrock's function",
    formula=r"(1 - x)^2 + 100 (y - x^2)^2",
    value_fn=lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    grad_fn=lambda x, y: (-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)),
    hessian_fn=lambda x, y: (2 - 400 * y + 1200 * x**2, -400 * x, 200 + 0 * x),
    minima=[[1.0, 1.0]],
    xlim=(-2.0, 2.0),
    ylim=(-1.0, 3.0),
    start=[-1.5, 2.0],
    log_levels=True,
    description="A curved banana-shaped valley; easy to find, hard to follow to (1, 1).",
)


# --- Himmelblau -------------------------------------------------------------------------------
def _himmelblau_grad(x, y):
    a, b = x**2 + y - 11, x + y**2 - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


def _himmelblau_hessian(x, y):
    a, b = x**2 + y - 11, x + y**2 - 7
    return 4 * a + 8 * x**2 + 2, 4 * x + 4 * y, 2 + 4 * b + 8 * y**2


HIMMELBLAU = Surface(
    name="himmelblau",
    title="Himmelblau's function",
    formula=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    value_fn=lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
    grad_fn=_himmelblau_grad,
    hessian_fn=_himmelblau_hessian,
    # Four global minima, J = 0; the last three refined by Newton's method.
    minima=[
        [3.0, 2.0],
        [-2.805118086952745, 3.131312518250573],
        [-3.779310253377747, -3.283185991286169],
        [3.5844283403304917, -1.8481265269644036],
    ],
    xlim=(-5.0, 5.0),
    ylim=(-5.0, 5.0),
    start=[0.0, 0.0],
    log_levels=True,
    description="Four equal minima: where a run ends depends on where it starts.",
)


# --- Ravine ---------------------------------------------------------------------------------------
RAVINE = Surface(
    name="ravine",
    title="Ravine",
    formula=r"0.1 x^2 + 2 y^2",
    value_fn=lambda x, y: 0.1 * x**2 + 2 * y**2,
    grad_fn=lambda x, y: (0.2 * x, 4 * y),
    hessian_fn=lambda x, y: (0.2 + 0 * x, 0 * x, 4 + 0 * y),
    minima=[[0.0, 0.0]],
    xlim=(-5.5, 1.5),
    ylim=(-2.5, 2.5),
    start=[-5.0, -2.0],
    description=(
        "An ill-conditioned quadratic (curvatures 0.2 and 4, condition number 20): plain SGD "
        "zig-zags across it; momentum with a γ suited to it (about 0.5 here) damps the zig-zag "
        "and speeds along the floor, while γ = 0.9 overshoots."
    ),
)


# --- Local minima -----------------------------------------------------------------------------------
# J(x, y) = q(x) + y^2 / 2 with q'(x) = k (x - a)(x - b)(x - c): a shallow local minimum
# at x = a, a low ridge at x = b, the global minimum at x = c; so the minimisers are
# exact by construction.
_LM_A, _LM_B, _LM_C, _LM_K = -1.5, -0.9, 2.0, 0.25
_LM_E1 = _LM_A + _LM_B + _LM_C
_LM_E2 = _LM_A * _LM_B + _LM_A * _LM_C + _LM_B * _LM_C
_LM_E3 = _LM_A * _LM_B * _LM_C


def _local_minima(x, y):
    # q = K (x⁴/4 − E1 x³/3 + E2 x²/2 − E3 x) in Horner's form: numpy's x**4 and x**3
    # call pow() per element, 15× slower than these products (basin maps run it 10⁷ times).
    q = _LM_K * x * (x * (x * (x / 4 - _LM_E1 / 3) + _LM_E2 / 2) - _LM_E3)
    return q + 0.5 * y**2


def _local_minima_grad(x, y):
    return _LM_K * (x - _LM_A) * (x - _LM_B) * (x - _LM_C), y


def _local_minima_hessian(x, y):
    hxx = _LM_K * (3 * x**2 - 2 * _LM_E1 * x + _LM_E2)
    return hxx, 0 * x * y, 1 + 0 * y


LOCAL_MINIMA = Surface(
    name="local_minima",
    title="A shallow local minimum",
    formula=r"\tfrac14\left(\tfrac{x^4}{4} + \tfrac{2}{15}x^3 - 1.725 x^2 - 2.7x\right) + \tfrac{y^2}{2}",
    value_fn=_local_minima,
    grad_fn=_local_minima_grad,
    hessian_fn=_local_minima_hessian,
    minima=[[_LM_C, 0.0]],
    xlim=(-3.5, 3.5),
    ylim=(-2.0, 2.0),
    start=[-3.2, 1.0],
    description=(
        "A shallow local minimum at (-1.5, 0) behind a low ridge at x = -0.9, beside "
        "the deep global minimum at (2, 0). Plain gradient descent from the left stops "
        "in the shallow one; momentum carries through."
    ),
)

#: Local (non-global) minimisers, for the notebooks and tests that need them.
LOCAL_MINIMA_SHALLOW = np.array([_LM_A, 0.0])


ALL: dict[str, Surface] = _Names(
    (s.name, s)
    for s in (BEALE, LONG_VALLEY, SADDLE, ROSENBROCK, HIMMELBLAU, RAVINE, LOCAL_MINIMA)
)


def get(name: str | Surface) -> Surface:
    """The surface called ``name`` (or ``name`` itself if it is a :class:`Surface`)."""
    if isinstance(name, Surface):
        return name
    if not isinstance(name, str):
        checks.fail("surface", f"a Surface or one of the names {', '.join(ALL)}", name, wrong_type=True)
    return ALL[name]
