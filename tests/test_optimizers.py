"""The optimizers: first steps worked out by hand, convergence, state, shapes and bad input."""

import inspect
import math

import numpy as np
import pytest

from kai_lib import checks, optimizers, run, surfaces
from kai_lib.optimizers import ALL

pytestmark = pytest.mark.filterwarnings("error")  # every warning fails a test here (-W error)

THETA0 = np.array([1.0, -2.0])


def grad_sq(theta):
    """∇ of J(θ) = ‖θ‖²."""
    return 2 * theta


def two_steps(opt):
    t1 = opt.step(THETA0, grad_sq)
    t2 = opt.step(t1, grad_sq)
    return t1, t2


# --- first two steps, by hand, on J = ‖θ‖² from θ0 = (1, -2): g0 = (2, -4) ------------------

def test_sgd_by_hand():
    t1, t2 = two_steps(optimizers.SGD(lr=0.1))
    # θ1 = θ0 - 0.1·2θ0 = 0.8 θ0; θ2 = 0.8 θ1
    np.testing.assert_allclose(t1, [0.8, -1.6], rtol=0, atol=1e-15)
    np.testing.assert_allclose(t2, [0.64, -1.28], rtol=0, atol=1e-15)


def test_momentum_by_hand():
    opt = optimizers.Momentum(lr=0.1, gamma=0.9)
    t1, t2 = two_steps(opt)
    # v1 = 0.1·(2, -4) = (0.2, -0.4);  θ1 = (0.8, -1.6)
    # v2 = 0.9·(0.2, -0.4) + 0.1·(1.6, -3.2) = (0.34, -0.68);  θ2 = (0.46, -0.92)
    np.testing.assert_allclose(t1, [0.8, -1.6], atol=1e-15)
    np.testing.assert_allclose(t2, [0.46, -0.92], atol=1e-15)
    np.testing.assert_allclose(opt.v, [0.34, -0.68], atol=1e-15)


def test_nag_by_hand_and_gradient_at_look_ahead():
    opt = optimizers.NAG(lr=0.1, gamma=0.9)
    seen = []

    def grad(theta):
        seen.append(theta.copy())
        return 2 * theta

    t1 = opt.step(THETA0, grad)
    t2 = opt.step(t1, grad)
    # step 1: v0 = 0, so the look-ahead is θ0; v1 = (0.2, -0.4), θ1 = (0.8, -1.6)
    # step 2: look-ahead θ1 - 0.9 v1 = (0.62, -1.24); v2 = 0.9 v1 + 0.1·(1.24, -2.48) = (0.304, -0.608)
    np.testing.assert_allclose(seen[1], [0.62, -1.24], atol=1e-15)
    np.testing.assert_allclose(t1, [0.8, -1.6], atol=1e-15)
    np.testing.assert_allclose(t2, [0.496, -0.992], atol=1e-15)
    assert len(seen) == 2  # one gradient per step


def test_adagrad_by_hand():
    t1, t2 = two_steps(optimizers.Adagrad(lr=0.5, eps=0.0))
    # G1 = (4, 16); θ1 = θ0 - 0.5·(2/2, -4/4) = (0.5, -1.5)
    # g1 = (1, -3); G2 = (5, 25); θ2 = (0.5 - 0.5/√5, -1.5 + 0.5·3/5)
    np.testing.assert_allclose(t1, [0.5, -1.5], atol=1e-15)
    np.testing.assert_allclose(t2, [0.5 - 0.5 / math.sqrt(5), -1.2], atol=1e-15)


def test_rmsprop_by_hand():
    t1, t2 = two_steps(optimizers.RMSProp(lr=0.1, gamma=0.9, eps=0.0))
    # G1 = 0.1·(4, 16) = (0.4, 1.6); step = 0.1·(2/√0.4, -4/√1.6) = ±0.1·√10: first step η/√(1-γ)
    a = 1 - 0.1 * math.sqrt(10)
    b = -2 + 0.1 * math.sqrt(10)
    np.testing.assert_allclose(t1, [a, b], atol=1e-15)
    # G2 = 0.9·G1 + 0.1·(2a, 2b)²
    G2 = np.array([0.9 * 0.4 + 0.1 * (2 * a) ** 2, 0.9 * 1.6 + 0.1 * (2 * b) ** 2])
    np.testing.assert_allclose(t2, [a, b] - 0.1 * np.array([2 * a, 2 * b]) / np.sqrt(G2), atol=1e-15)


def test_adadelta_by_hand():
    opt = optimizers.AdaDelta(gamma=0.9, eps=1e-6)
    t1, t2 = two_steps(opt)
    # G1 = (0.4, 1.6); s0 = 0 so Δ1 = √1e-6/√(G1+1e-6)·g0 ≈ ±1e-3·√10, whatever the gradient's size
    d1 = 1e-3 / np.sqrt(np.array([0.4, 1.6]) + 1e-6) * np.array([2.0, -4.0])
    np.testing.assert_allclose(t1, THETA0 - d1, atol=1e-15)
    np.testing.assert_allclose(np.abs(d1), 1e-3 * math.sqrt(10), rtol=1e-5)
    s1 = 0.1 * d1**2
    G2 = 0.9 * np.array([0.4, 1.6]) + 0.1 * (2 * t1) ** 2
    d2 = np.sqrt(s1 + 1e-6) / np.sqrt(G2 + 1e-6) * 2 * t1
    np.testing.assert_allclose(t2, t1 - d2, atol=1e-15)
    np.testing.assert_allclose(opt.s, 0.9 * s1 + 0.1 * d2**2, atol=1e-20)


def adam_by_hand():
    # t=1: m1 = 0.1 g0, v1 = 0.001 g0², m̂ = g0, v̂ = g0²: θ1 = θ0 - 0.1·sign(g0) = (0.9, -1.9)
    # t=2: g1 = (1.8, -3.8); m2 = (0.36, -0.74); v2 = 0.999·(0.004, 0.016) + 0.001·(3.24, 14.44)
    m2 = np.array([0.36, -0.74])
    v2 = np.array([0.999 * 0.004 + 0.00324, 0.999 * 0.016 + 0.01444])
    t2 = np.array([0.9, -1.9]) - 0.1 * (m2 / 0.19) / np.sqrt(v2 / (1 - 0.999**2))
    return np.array([0.9, -1.9]), t2


def test_adam_by_hand():
    opt = optimizers.Adam(lr=0.1, eps=0.0)
    t1, t2 = two_steps(opt)
    e1, e2 = adam_by_hand()
    np.testing.assert_allclose(t1, e1, atol=1e-15)
    np.testing.assert_allclose(t2, e2, atol=1e-14)
    assert opt.t == 2


def test_amsgrad_by_hand_equals_adam_while_v_grows_then_keeps_the_max():
    opt = optimizers.AMSGrad(lr=0.1, eps=0.0)
    t1, t2 = two_steps(opt)
    e1, e2 = adam_by_hand()  # v2 > v1 here, so the max is v2 and AMSGrad = Adam
    np.testing.assert_allclose(t1, e1, atol=1e-15)
    np.testing.assert_allclose(t2, e2, atol=1e-14)
    # a tiny gradient now: v shrinks, v_max does not
    opt.step(t2, lambda th: 1e-3 * np.ones(2))
    assert np.all(opt.v_max > opt.v)


def test_adamw_by_hand():
    t1 = optimizers.AdamW(lr=0.1, weight_decay=0.5, eps=0.0).step(THETA0, grad_sq)
    # gradient at θ0; θ0 decays by (1 - 0.1·0.5) = 0.95; then Adam's first step -0.1·sign(g0)
    np.testing.assert_allclose(t1, 0.95 * THETA0 - 0.1 * np.sign(grad_sq(THETA0)), atol=1e-15)


def test_adamax_by_hand():
    t1, t2 = two_steps(optimizers.AdaMax(lr=0.1, eps=0.0))
    # t=1: m1 = (0.2, -0.4), u1 = (2, 4): θ1 = θ0 - 0.1/0.1·(0.1, -0.1) = (0.9, -1.9)
    # t=2: m2 = (0.36, -0.74), u2 = max(0.999·(2, 4), (1.8, 3.8)) = (1.998, 3.996)
    np.testing.assert_allclose(t1, [0.9, -1.9], atol=1e-15)
    np.testing.assert_allclose(t2, [0.9 - 0.1 / 0.19 * 0.36 / 1.998, -1.9 + 0.1 / 0.19 * 0.74 / 3.996], atol=1e-15)


def test_nadam_first_step_by_hand():
    t1 = optimizers.Nadam(lr=0.1, eps=0.0).step(THETA0, grad_sq)
    mu1 = 0.9 * (1 - 0.5 * 0.96**0.004)
    mu2 = 0.9 * (1 - 0.5 * 0.96**0.008)
    # v̂1 = g0², m1 = 0.1 g0: the step is 0.1·sign(g0)·(1 + 0.1·mu2/(1 - mu1·mu2))
    np.testing.assert_allclose(t1, THETA0 - 0.1 * np.sign([2, -4]) * (1 + 0.1 * mu2 / (1 - mu1 * mu2)), atol=1e-15)


# --- convergence ----------------------------------------------------------------------

PARABOLA = surfaces.Surface(
    name="parabola", title="parabola", formula="x^2 + y^2",
    value_fn=lambda x, y: x**2 + y**2, grad_fn=lambda x, y: (2 * x, 2 * y),
    hessian_fn=lambda x, y: (2 + 0 * x, 0 * x, 2 + 0 * y),
    minima=[[0.0, 0.0]], xlim=(-4, 4), ylim=(-4, 4), start=[3.0, -2.0],
)

# name -> (kwargs on the parabola, kwargs on Rosenbrock, Rosenbrock step budget)
CONVERGENCE = {
    "SGD": ({"lr": 0.1}, {"lr": 1e-3}, 15_000),
    "Momentum": ({"lr": 0.05}, {"lr": 1e-3}, 2_000),
    "NAG": ({"lr": 0.05}, {"lr": 1e-3}, 2_000),
    "Adagrad": ({"lr": 0.5}, {"lr": 0.5}, 12_000),
    "RMSProp": ({"lr": 0.01}, {"lr": 1e-3}, 8_000),
    # AdaDelta has no lr: ε sets its step scale; with the default 1e-6 it wanders on
    # Rosenbrock's valley floor instead of settling (notebook 07 shows it).
    "AdaDelta": ({}, {"eps": 1e-10}, 25_000),
    "Adam": ({"lr": 0.05}, {"lr": 0.01}, 4_000),
    "AdaMax": ({"lr": 0.05}, {"lr": 0.01}, 6_000),
    "Nadam": ({"lr": 0.05}, {"lr": 0.01}, 4_000),
    "AMSGrad": ({"lr": 0.05}, {"lr": 0.01}, 8_000),
    "AdamW": ({"lr": 0.05, "weight_decay": 0.0}, {"lr": 0.01, "weight_decay": 0.0}, 4_000),
}


def test_every_optimizer_has_a_convergence_case():
    assert set(CONVERGENCE) == set(ALL)


@pytest.mark.parametrize("name", list(ALL))
def test_converges_on_a_parabola(name, assert_converges):
    assert_converges(ALL[name](**CONVERGENCE[name][0]), PARABOLA, steps=3000)


@pytest.mark.parametrize("name", list(ALL))
def test_converges_on_rosenbrock(name, assert_converges):
    _, kwargs, budget = CONVERGENCE[name]
    assert_converges(ALL[name](**kwargs), surfaces.ROSENBROCK, steps=budget)


# --- the contract ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(ALL))
def test_step_returns_a_new_array_and_leaves_theta_alone(name):
    opt = ALL[name]()
    theta = np.array([[1.0, -2.0], [0.5, 0.25]])
    before = theta.copy()
    out = opt.step(theta, grad_sq)
    assert out is not theta and not np.shares_memory(out, theta)
    np.testing.assert_array_equal(theta, before)
    assert out.shape == theta.shape


@pytest.mark.parametrize("name", list(ALL))
def test_reset_returns_to_the_state_before_the_first_step(name):
    opt, fresh = ALL[name](), ALL[name]()
    for state in opt.state_names:  # arrays None until the first step, the counter at 0
        assert getattr(opt, state) == {"t": 0, "mu_product": 1.0}.get(state)
    first = opt.step(THETA0, grad_sq)
    opt.step(first, grad_sq)
    opt.reset()
    for state in opt.state_names:
        assert getattr(opt, state) == getattr(fresh, state)
    np.testing.assert_array_equal(opt.step(THETA0, grad_sq), first)


def test_state_is_named_as_on_the_slides():
    expected = {
        "SGD": (), "Momentum": ("v",), "NAG": ("v",), "Adagrad": ("G",), "RMSProp": ("G",),
        "AdaDelta": ("G", "s"), "Adam": ("m", "v", "t"),
    }
    for name, state in expected.items():
        assert ALL[name].state_names == state


def test_defaults_are_the_slides():
    assert optimizers.Momentum().gamma == optimizers.NAG().gamma == 0.9
    adam = optimizers.Adam()
    assert (adam.beta1, adam.beta2, adam.eps) == (0.9, 0.999, 1e-8)
    assert optimizers.AdaDelta().eps == 1e-6
    assert "lr" not in inspect.signature(optimizers.AdaDelta).parameters
    for name in ("Adagrad", "RMSProp", "AdaDelta", "Adam", "Nadam", "AMSGrad", "AdamW"):
        assert ALL[name]().eps_inside_sqrt is True


@pytest.mark.parametrize("name", list(ALL))
def test_a_batch_of_1000_points_gives_the_rows_of_1000_single_runs(name, assert_batch_is_single_runs):
    kwargs = {} if name == "AdaDelta" else {"lr": 1e-3}
    assert_batch_is_single_runs(lambda: ALL[name](**kwargs), n=1000)


@pytest.mark.parametrize("name", ["Adagrad", "RMSProp", "Adam", "Nadam", "AMSGrad", "AdamW"])
def test_eps_inside_sqrt_false_moves_eps_out_of_the_root(name):
    eps = 1e-2  # large, so the two forms differ visibly
    inside = ALL[name](eps=eps)
    outside = ALL[name](eps=eps, eps_inside_sqrt=False)
    a, b = inside.step(THETA0, grad_sq), outside.step(THETA0, grad_sq)
    assert np.abs(a - b).max() > 1e-6
    # same state after the step: only the denominator differs
    for state in inside.state_names:
        np.testing.assert_array_equal(getattr(inside, state), getattr(outside, state))
    # and with eps = 0 the two forms are the same rule
    np.testing.assert_array_equal(
        ALL[name](eps=0.0).step(THETA0, grad_sq), ALL[name](eps=0.0, eps_inside_sqrt=False).step(THETA0, grad_sq)
    )


def test_eps_inside_sqrt_changes_exactly_the_denominator():
    g = grad_sq(THETA0)
    G = g**2
    inside = optimizers.Adagrad(lr=0.1, eps=0.5).step(THETA0, grad_sq)
    outside = optimizers.Adagrad(lr=0.1, eps=0.5, eps_inside_sqrt=False).step(THETA0, grad_sq)
    np.testing.assert_allclose(inside, THETA0 - 0.1 * g / np.sqrt(G + 0.5), atol=1e-15)
    np.testing.assert_allclose(outside, THETA0 - 0.1 * g / (np.sqrt(G) + 0.5), atol=1e-15)


def test_all_maps_display_names_to_classes():
    assert list(ALL)[:7] == list(optimizers.SLIDES)
    assert set(ALL) == {"SGD", "Momentum", "NAG", "Adagrad", "RMSProp", "AdaDelta", "Adam",
                        "AdaMax", "Nadam", "AMSGrad", "AdamW"}
    assert optimizers.get("adam") is optimizers.Adam
    with pytest.raises(KeyError, match="known: SGD, Momentum"):
        optimizers.get("Adamm")


# --- bad input --------------------------------------------------------------------------------

def lr_classes():
    return [cls for name, cls in ALL.items() if name != "AdaDelta"]


@pytest.mark.parametrize("cls", lr_classes())
@pytest.mark.parametrize("lr", [0, -0.1, float("inf"), float("nan")])
def test_bad_lr(cls, lr):
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0"):
        cls(lr=lr)


@pytest.mark.parametrize("cls,arg", [(optimizers.Momentum, "gamma"), (optimizers.NAG, "gamma"),
                                     (optimizers.RMSProp, "gamma"), (optimizers.AdaDelta, "gamma"),
                                     (optimizers.Adam, "beta1"), (optimizers.Adam, "beta2"),
                                     (optimizers.Nadam, "beta1"), (optimizers.AdamW, "beta2"),
                                     (optimizers.AdaMax, "beta2"), (optimizers.AMSGrad, "beta1")])
@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5, float("nan")])
def test_bad_decay(cls, arg, value):
    with pytest.raises(ValueError, match=rf"{arg} must be in \[0, 1\)"):
        cls(**{arg: value})


@pytest.mark.parametrize("name", ["Adagrad", "RMSProp", "AdaDelta", "Adam", "AdaMax", "Nadam", "AMSGrad", "AdamW"])
def test_bad_eps(name):
    with pytest.raises(ValueError, match=r"eps must be a finite number >= 0"):
        ALL[name](eps=-1e-8)


def test_bad_weight_decay_and_momentum_decay():
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=-1)
    with pytest.raises(ValueError, match="momentum_decay"):
        optimizers.Nadam(momentum_decay=-1)


def test_unknown_keyword_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="momentum"):
        optimizers.SGD(momentum=0.9)
    with pytest.raises(TypeError, match="lr"):
        optimizers.AdaDelta(lr=1.0)


def test_docstrings_carry_the_maths_an_example_and_a_reference():
    for name, cls in ALL.items():
        doc = cls.__doc__
        assert ".. math::" in doc and r"\leftarrow" in doc or r"\theta_{t+1}" in doc, name
        assert ">>> opt = " in doc, name
        assert "Reference:" in doc, name
        assert "notebook" in doc, name


# --- ε = 0: the maths' own reading, no gradient, no step ------------------------------------------

WITH_EPS = [name for name, cls in ALL.items() if "eps" in inspect.signature(cls).parameters]
WITH_ROOT = [name for name in WITH_EPS if "eps_inside_sqrt" in inspect.signature(ALL[name]).parameters]


def test_every_optimizer_with_an_eps_is_covered():
    assert set(WITH_EPS) == {"Adagrad", "RMSProp", "AdaDelta", "Adam", "AdaMax", "Nadam", "AMSGrad", "AdamW"}


def eps_zero_variants():
    for name in WITH_EPS:
        yield name, {"eps": 0.0}
        if name in WITH_ROOT:
            yield name, {"eps": 0.0, "eps_inside_sqrt": False}


EPS_ZERO = list(eps_zero_variants())
EPS_IDS = [f"{n}-{'outside' if 'eps_inside_sqrt' in kw else 'inside'}" for n, kw in EPS_ZERO]


@pytest.mark.parametrize("name,kwargs", EPS_ZERO, ids=EPS_IDS)
def test_eps_zero_on_a_valley_floor_is_not_a_divergence(name, kwargs):
    # the issue's own case: ravine, start on the floor y = 0, where ∂J/∂y is exactly 0
    traj = run(ALL[name](**kwargs), "ravine", start=[-5.0, 0.0], steps=50)
    assert not traj.diverged and traj.diverged_at == -1 and traj.steps == 50
    assert np.all(traj.path[:, 1] == 0.0)  # no gradient in y, no step in y
    assert np.all(np.isfinite(traj.loss))
    if name == "AdaDelta":  # s stays 0: with ε = 0 AdaDelta never moves (its first step is √ε/√(1-γ) = 0)
        assert np.all(traj.path == [-5.0, 0.0])
    else:
        assert traj.final[0] > -5.0 + 1e-3  # down the valley towards x = 0


@pytest.mark.parametrize("name,kwargs", EPS_ZERO, ids=EPS_IDS)
def test_eps_zero_at_a_minimum_stays_there(name, kwargs):
    for s in (surfaces.BEALE, surfaces.RAVINE, surfaces.HIMMELBLAU):
        minimum = s.minima[0]
        assert np.all(s.grad(minimum) == 0.0)
        traj = run(ALL[name](**kwargs), s, start=minimum, steps=20)
        assert not traj.diverged and traj.steps == 20 and np.isfinite(traj.loss).all()
        if name == "AdamW":  # its weight decay pulls θ towards 0 even at J's minimum: without it, it stays
            traj = run(ALL[name](**kwargs, weight_decay=0.0), s, start=minimum, steps=20)
        assert np.all(traj.path == minimum) and np.all(traj.loss == s(minimum))


@pytest.mark.parametrize("name,kwargs", EPS_ZERO, ids=EPS_IDS)
def test_eps_zero_with_a_zero_gradient_coordinate_off_the_floor(name, kwargs):
    # on the saddle x² − y², along y = 0 the y-gradient is 0; a batch mixes it with moving points
    start = np.array([[1.0, 0.0], [0.0, 0.0], [0.5, 0.3]])
    traj = run(ALL[name](**kwargs), "saddle", start=start, steps=15)
    assert not traj.diverged.any()
    assert np.all(traj.path[:, 0, 1] == 0.0) and np.all(traj.path[:, 1] == 0.0)
    # a point with a gradient in every coordinate moves as with a tiny ε
    tiny = run(ALL[name](**{**kwargs, "eps": 1e-300}), "saddle", start=start, steps=15)
    np.testing.assert_allclose(traj.path, tiny.path, rtol=1e-9, atol=0)


@pytest.mark.parametrize("name", ["Adagrad", "RMSProp", "Adam", "AdaMax", "Nadam", "AMSGrad"])
def test_eps_zero_first_step_by_hand(name):
    # from zero state with ε = 0, each coordinate with a gradient takes the rule's exact first step
    opt = ALL[name](lr=0.1, eps=0.0)
    theta = opt.step(np.array([1.0, 0.0, -2.0]), lambda th: np.array([4.0, 0.0, -0.5]))
    expected_size = {"Adagrad": 0.1, "RMSProp": 0.1 / np.sqrt(1 - 0.9), "Adam": 0.1, "AdaMax": 0.1,
                     "AMSGrad": 0.1}.get(name)
    if name == "Nadam":  # (1-μ₁)/(1-μ₁) g/|g| + μ₂ m₁/(1-μ₁μ₂)/|g|, worked out from the rule
        mu1, mu2 = 0.9 * (1 - 0.5 * 0.96**0.004), 0.9 * (1 - 0.5 * 0.96**0.008)
        expected_size = 0.1 * (1 + mu2 * 0.1 / (1 - mu1 * mu2))
    np.testing.assert_allclose(theta, [1.0 - expected_size, 0.0, -2.0 + expected_size], rtol=1e-12)


def test_the_shared_division_reads_only_zero_over_zero_as_zero():
    num = np.array([0.0, 0.0, 1.0, -1.0, 6.0, np.nan, 0.0])
    den = np.array([0.0, 2.0, 0.0, 0.0, 3.0, 1.0, np.nan])
    with np.errstate(all="ignore"):  # as inside every step
        out = optimizers.Optimizer._divide(num, den)
    np.testing.assert_array_equal(out, [0.0, 0.0, np.inf, -np.inf, 2.0, np.nan, np.nan])


def test_the_docstrings_say_how_eps_zero_differs_from_torch():
    assert "0/0 = NaN" in optimizers.__doc__
    for name in WITH_EPS:
        doc = inspect.getdoc(ALL[name]) if name not in ("AMSGrad", "AdamW") else inspect.getdoc(optimizers.Adam)
        assert "eps=0" in doc and "NaN" in doc, name


# --- a step that overflows ------------------------------------------------------------------------

def test_a_step_that_overflows_returns_inf_quietly():
    opt = optimizers.SGD(lr=1e300)
    theta = opt.step(np.array([1e300, 1.0]), lambda th: th)
    assert np.isinf(theta[0]) and theta[1] == 1.0 - 1e300
    assert np.all(np.isnan(optimizers.Adam().step([np.inf, 1.0], lambda th: th * 0 + np.inf)[:1]))


# --- a step happens wholly or not at all ----------------------------------------------------------

class Flaky:
    """A gradient that raises on its ``fail_at``-th call, the right gradient otherwise."""

    def __init__(self, grad, fail_at, error=RuntimeError):
        self.grad, self.fail_at, self.error, self.calls = grad, fail_at, error, 0

    def __call__(self, theta):
        self.calls += 1
        if self.calls == self.fail_at:
            raise self.error("the gradient failed")
        return self.grad(theta)


def state_of(opt):
    return {name: getattr(opt, name) for name in opt.state_names}


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("fail_at", [1, 4])
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failed_step_leaves_the_state_as_it_was(name, fail_at, error):
    grad = surfaces.BEALE.grad
    opt, fresh = ALL[name](), ALL[name]()
    flaky = Flaky(grad, fail_at, error)
    theta = fresh_theta = np.array([1.0, 1.5])
    for _ in range(fail_at - 1):
        theta = opt.step(theta, flaky)
        fresh_theta = fresh.step(fresh_theta, grad)
    before = state_of(opt)
    with pytest.raises(error, match="the gradient failed"):
        opt.step(theta, flaky)
    after = state_of(opt)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] is before[key], key  # the very same objects: nothing was touched
    if fail_at == 1:
        assert all(v is None or v in (0, 1.0) for v in after.values())  # as constructed
    for _ in range(5):  # and the next steps are a fresh optimizer's
        theta, fresh_theta = opt.step(theta, flaky), fresh.step(fresh_theta, grad)
        np.testing.assert_array_equal(theta, fresh_theta)
    for key, value in state_of(opt).items():
        np.testing.assert_array_equal(value, state_of(fresh)[key])


def test_a_wrong_shape_from_grad_fn_names_it_and_leaves_the_state():
    opt = optimizers.Adam()
    opt.step(np.ones(2), lambda th: th)
    before = state_of(opt)
    with pytest.raises(ValueError, match=r"grad_fn must return the gradient, shaped like its argument \(2,\), "
                                         r"got shape \(3,\)"):
        opt.step(np.ones(2), lambda th: np.ones(3))
    assert state_of(opt) == before and opt.t == 1
    with pytest.raises(checks.WrongType, match=r"grad_fn must return an array of real numbers shaped like its "
                                               r"argument \(2,\), got 'a' \(a str\)"):
        opt.step(np.ones(2), lambda th: "a")
    with pytest.raises(checks.WrongType, match="grad_fn must be a function, got 5"):
        opt.step(np.ones(2), 5)
    with pytest.raises(ValueError, match=r"shaped like its argument \(4, 2\), got shape \(2,\)"):
        run(optimizers.SGD(), "beale", start=np.zeros((4, 2)), grad_fn=lambda th: np.ones(2))
    with pytest.raises(checks.WrongType, match="theta must be an array of real numbers, got 'x'"):
        opt.step("x", lambda th: th)


def test_the_step_mechanism_covers_any_subclass_and_restores_containers():
    class Remembering(optimizers.Optimizer):
        """An optimizer whose state is a list it appends to in place."""

        state_names = ("seen",)

        def __init__(self):
            self._hyper = {}
            self.reset()

        def reset(self):
            self.seen = []

        def step(self, theta, grad_fn):
            theta = self._as_array(theta)
            self.seen.append(theta)
            return theta - 0.1 * grad_fn(theta)

    opt = Remembering()
    opt.step(np.ones(2), lambda th: th)
    with pytest.raises(RuntimeError):
        opt.step(np.ones(2), Flaky(lambda th: th, 1))
    assert len(opt.seen) == 1
    assert "self.seen.append(theta)" in inspect.getsource(Remembering.step)  # the source shown is the step's own


def test_the_source_the_notebooks_show_is_the_step_itself():
    source = inspect.getsource(optimizers.Adam.step)
    assert source.lstrip().startswith("def step(self, theta, grad_fn):") and "self.t += 1" in source
    assert inspect.signature(optimizers.Adam.step).parameters.keys() == {"self", "theta", "grad_fn"}


# --- arguments taken strictly ---------------------------------------------------------------------

@pytest.mark.parametrize("name", WITH_ROOT)
@pytest.mark.parametrize("value", ["False", "True", 0, 1, None, np.array([True, False])])
def test_eps_inside_sqrt_is_a_strict_bool(name, value):
    with pytest.raises(checks.WrongType, match="eps_inside_sqrt must be True or False, got "):
        ALL[name](eps_inside_sqrt=value)


@pytest.mark.parametrize("name", WITH_ROOT)
def test_eps_inside_sqrt_takes_numpy_bools(name):
    assert ALL[name](eps_inside_sqrt=np.bool_(False)).eps_inside_sqrt is False


@pytest.mark.parametrize("cls,kwargs,arg", [
    (optimizers.SGD, {"lr": True}, "lr"), (optimizers.Momentum, {"gamma": False}, "gamma"),
    (optimizers.Adam, {"beta2": True}, "beta2"), (optimizers.Adagrad, {"eps": False}, "eps"),
    (optimizers.AdamW, {"weight_decay": True}, "weight_decay"),
    (optimizers.Nadam, {"momentum_decay": False}, "momentum_decay"),
    (optimizers.SGD, {"lr": "0.1"}, "lr"), (optimizers.SGD, {"lr": [0.1]}, "lr"),
    (optimizers.SGD, {"lr": np.array([0.1])}, "lr"), (optimizers.SGD, {"lr": 0.1 + 0j}, "lr"),
])
def test_bools_strings_and_arrays_are_not_numbers(cls, kwargs, arg):
    with pytest.raises(checks.WrongType, match=f"{arg} must be "):
        cls(**kwargs)


def test_numpy_numbers_are_numbers():
    opt = optimizers.Adam(lr=np.array(0.1), beta1=np.float32(0.5), beta2=np.array(0.9), eps=np.int64(0))
    assert opt.hyperparameters() == {"lr": 0.1, "beta1": 0.5, "beta2": 0.9, "eps": 0.0}
    assert all(type(v) is float for v in opt.hyperparameters().values())
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got 10000000000"):
        optimizers.SGD(lr=10**400)
