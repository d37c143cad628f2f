"""The optimizers: first steps worked out by hand, convergence, state, shapes and bad input."""

import inspect
import math

import numpy as np
import pytest

from kai_lib import optimizers, run, surfaces
from kai_lib.optimizers import ALL

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
def test_converges_on_a_parabola(name):
    traj = run(ALL[name](**CONVERGENCE[name][0]), PARABOLA, steps=3000)
    assert not traj.diverged
    assert np.linalg.norm(traj.final) < 1e-2, traj.final


@pytest.mark.parametrize("name", list(ALL))
def test_converges_on_rosenbrock(name):
    _, kwargs, budget = CONVERGENCE[name]
    traj = run(ALL[name](**kwargs), surfaces.ROSENBROCK, steps=budget)
    assert not traj.diverged
    assert np.linalg.norm(traj.final - [1.0, 1.0]) < 1e-2, traj.final
    assert traj.loss[-1] < 1e-3 * traj.loss[0]


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
def test_a_batch_of_1000_points_gives_the_rows_of_1000_single_runs(name):
    rng = np.random.default_rng(7)
    starts = rng.uniform(-2, 2, size=(1000, 2))
    kwargs = {} if name == "AdaDelta" else {"lr": 1e-3}
    steps = 10
    batch = run(ALL[name](**kwargs), surfaces.HIMMELBLAU, start=starts, steps=steps)
    assert batch.path.shape == (steps + 1, 1000, 2)
    opt = ALL[name](**kwargs)
    for i in range(1000):
        opt.reset()
        theta = starts[i]
        for k in range(1, steps + 1):
            theta = opt.step(theta, surfaces.HIMMELBLAU.grad)
            np.testing.assert_array_equal(batch.path[k, i], theta)


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
