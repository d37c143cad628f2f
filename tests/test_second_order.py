"""Newton, BFGS and L-BFGS: steps by hand, torch.optim.LBFGS and SciPy, batches, the skip rule, bad input."""

import json
from fractions import Fraction as F
from pathlib import Path

import numpy as np
import pytest

from kai_lib import optimizers, run, surfaces
from kai_lib.optimizers import BFGS, LBFGS, SECOND_ORDER, Newton
from kai_lib.studies import second_order

# J = ½θᵀAθ with A = diag(1, 2): every quantity of the first two steps is a small fraction.
A_DIAG = np.array([1.0, 2.0])


def grad_quadratic(theta):
    return A_DIAG * theta


def fractions(values):
    return np.array([float(v) for v in values])


# --- steps worked out by hand ------------------------------------------------------------------

def test_quasi_newton_first_two_steps_by_hand():
    # θ0 = (1, 1), g0 = (1, 2), ‖g0‖₁ = 3: the first step is α0 = min(1, 1/3)·η = 1/3 along -g0
    #   θ1 = (2/3, 1/3), g1 = (2/3, 2/3)
    #   s = (-1/3, -2/3), y = (-1/3, -4/3), sᵀy = 1/9 + 8/9 = 1 (ρ = 1), yᵀy = 17/9, γ = 9/17
    # L-BFGS two-loop on g1: α = ρ sᵀg1 = -2/3, q = g1 - α y = (4/9, -2/9), r = γq = (4/17, -2/17),
    #   β = ρ yᵀr = 4/51, r += s(α - β) = s·(-38/51): r = (74/153, 58/153)
    #   θ2 = θ1 - r = (28/153, -7/153)
    # BFGS with H0 = γI and one update gives the same matrix-vector product.
    theta1 = fractions([F(2, 3), F(1, 3)])
    theta2 = fractions([F(28, 153), F(-7, 153)])
    for opt in (LBFGS(lr=1.0, history=3), BFGS(lr=1.0)):
        t1 = opt.step(np.array([1.0, 1.0]), grad_quadratic)
        t2 = opt.step(t1, grad_quadratic)
        np.testing.assert_allclose(t1, theta1, rtol=0, atol=1e-15)
        np.testing.assert_allclose(t2, theta2, rtol=0, atol=1e-15)
    lbfgs = LBFGS(lr=1.0, history=3)
    lbfgs.step(lbfgs.step(np.array([1.0, 1.0]), grad_quadratic), grad_quadratic)
    np.testing.assert_allclose(lbfgs.gamma, [9 / 17], atol=1e-15)
    np.testing.assert_allclose(lbfgs.rho[-1], [1.0], atol=1e-15)
    # BFGS's matrix after the update: H1 = (I - s yᵀ) (9/17) I (I - y sᵀ) + s sᵀ, worked out:
    bfgs = BFGS(lr=1.0)
    bfgs.step(bfgs.step(np.array([1.0, 1.0]), grad_quadratic), grad_quadratic)
    s, y = np.array([-1, -2]) / 3, np.array([-1, -4]) / 3
    a = np.eye(2) - np.outer(s, y)
    np.testing.assert_allclose(bfgs.H, a @ (9 / 17 * np.eye(2)) @ a.T + np.outer(s, s), atol=1e-15)
    np.testing.assert_allclose(bfgs.H @ y, s, atol=1e-15)  # the secant equation H₁y = s


def test_damped_newton_step_by_hand():
    # saddle J = x² - y², H = diag(2, -2); λ = 3: (H + 3I) = diag(5, 1); at (1, 1) g = (2, -2)
    # Δ = (2/5, -2), θ ← (1 - 2/5, 1 + 2) = (3/5, 3): downhill along y, no longer to the saddle
    opt = Newton(hessian_fn=surfaces.SADDLE.hessian, lr=1.0, damping=3.0)
    np.testing.assert_allclose(opt.step(np.array([1.0, 1.0]), surfaces.SADDLE.grad), [0.6, 3.0], atol=1e-15)
    # undamped, the step goes to the saddle (0, 0), where the gradient is zero
    plain = Newton(hessian_fn=surfaces.SADDLE.hessian)
    np.testing.assert_allclose(plain.step(np.array([1.0, 1.0]), surfaces.SADDLE.grad), [0.0, 0.0], atol=1e-15)


# --- convergence ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_newton_solves_a_quadratic_in_one_step(seed):
    rng = np.random.default_rng(seed)
    n = 2 + seed
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = q @ np.diag(rng.uniform(0.1, 10, n)) @ q.T
    b = rng.normal(size=n)
    theta = Newton(hessian_fn=lambda th: A).step(rng.normal(size=n), lambda th: A @ th - b)
    np.testing.assert_allclose(theta, np.linalg.solve(A, b), rtol=1e-10, atol=1e-12)


def test_newton_on_the_ravine_in_one_step_and_on_beale_to_the_saddle():
    traj = run(Newton(hessian_fn=surfaces.RAVINE.hessian), surfaces.RAVINE, steps=1)
    np.testing.assert_allclose(traj.final, [0.0, 0.0], atol=1e-15)
    beale = run(Newton(hessian_fn=surfaces.BEALE.hessian), surfaces.BEALE, steps=20)
    np.testing.assert_allclose(beale.final, [0.0, 1.0], atol=1e-10)          # the saddle
    assert np.linalg.eigvalsh(surfaces.BEALE.hessian(beale.final)).min() < 0
    damped = run(Newton(hessian_fn=surfaces.BEALE.hessian, damping=60.0), surfaces.BEALE, steps=2000)
    np.testing.assert_allclose(damped.final, [3.0, 0.5], atol=1e-4)          # the minimum, slowly


@pytest.mark.parametrize("make", [lambda s: BFGS(loss_fn=s), lambda s: LBFGS(loss_fn=s), lambda s: BFGS(),
                                  lambda s: LBFGS()], ids=["BFGS-ls", "LBFGS-ls", "BFGS", "LBFGS"])
@pytest.mark.parametrize("name", ["rosenbrock", "beale"])
def test_quasi_newton_converges(make, name):
    s = surfaces.ALL[name]
    traj = run(make(s), s, steps=500)
    np.testing.assert_allclose(traj.final, s.minima[0], atol=1e-6)


def test_bfgs_matrix_approaches_the_true_inverse_hessian():
    s = surfaces.ROSENBROCK
    opt = BFGS(loss_fn=s)
    traj = run(opt, s, start=[-1.2, 1.0], steps=60)
    np.testing.assert_allclose(traj.final, [1.0, 1.0], atol=1e-10)
    true_inverse = np.linalg.inv(s.hessian(s.minima[0]))
    assert np.abs(opt.H - true_inverse).max() / np.abs(true_inverse).max() < 2e-3
    # and on a quadratic, with the fixed step
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    quad = BFGS()
    theta = np.array([1.0, 1.0])
    for _ in range(10):
        theta = quad.step(theta, lambda th: A @ th)
    np.testing.assert_allclose(quad.H, np.linalg.inv(A), atol=1e-3)


# --- against torch.optim.LBFGS (committed reference, no torch needed) -----------------------------

REFERENCE = json.loads((Path(__file__).parent / "reference" / "torch_reference.json").read_text())["lbfgs"]


def case_id(c):
    return f"{c['problem']}-lr{c['kai_lib_kwargs']['lr']}-m{c['kai_lib_kwargs']['history']}"


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=case_id)
def test_lbfgs_same_trajectory_as_torch(case):
    s = surfaces.ALL[case["problem"]]
    opt = LBFGS(**case["kai_lib_kwargs"])
    theta = np.array(case["start"], dtype=float)
    path = [theta]
    for _ in range(REFERENCE["steps"]):
        theta = opt.step(theta, s.grad)
        path.append(theta)
    ours, ref = np.array(path), np.array(case["path"])
    assert ours.shape == ref.shape == (REFERENCE["steps"] + 1, 2)
    k = case["agree_steps"]
    np.testing.assert_allclose(ours[: k + 1], ref[: k + 1], rtol=0, atol=1e-9)
    assert np.linalg.norm(ref[k] - ref[0]) > 0.1  # the runs go somewhere
    if k < REFERENCE["steps"]:  # a chaotic case: both still end at the minimum
        np.testing.assert_allclose(ours[-1], s.minima[0], atol=1e-6)
        np.testing.assert_allclose(ref[-1], s.minima[0], atol=1e-6)


def test_the_torch_reference_covers_both_surfaces_and_a_wrapping_history():
    assert {c["problem"] for c in REFERENCE["cases"]} == {"beale", "rosenbrock"}
    assert any(c["kai_lib_kwargs"]["history"] < 5 for c in REFERENCE["cases"])  # the history fills and wraps
    assert sum(c["agree_steps"] == REFERENCE["steps"] for c in REFERENCE["cases"]) >= 5


# --- against SciPy ------------------------------------------------------------------------------------

@pytest.mark.parametrize("ours_cls, method", [(BFGS, "BFGS"), (LBFGS, "L-BFGS-B")])
def test_same_minimiser_as_scipy_and_counts_side_by_side(ours_cls, method):
    s = surfaces.ROSENBROCK
    ours = second_order.minimise(ours_cls(loss_fn=s), s, [-1.2, 1.0])
    theirs = second_order.scipy_minimise(method, s, [-1.2, 1.0])
    assert ours.converged and theirs.converged
    np.testing.assert_allclose(ours.x, [1.0, 1.0], atol=1e-5)
    np.testing.assert_allclose(theirs.x, [1.0, 1.0], atol=1e-5)
    np.testing.assert_allclose(ours.x, theirs.x, atol=1e-5)
    # scipy's path is recorded through its callback: one point per iteration
    assert len(theirs.path) == theirs.iterations + 1
    np.testing.assert_array_equal(theirs.path[0], [-1.2, 1.0])
    # the same order of work: tens of iterations, tens of evaluations (measured: 38/39/45 vs 32/39/39)
    assert 20 <= ours.iterations <= 60 and 20 <= theirs.iterations <= 60
    assert ours.grad_evals == ours.iterations + 1
    assert 0.5 < ours.loss_evals / theirs.loss_evals < 2


def test_scipy_second_order_methods_run_beside_ours():
    s = surfaces.ROSENBROCK
    for method in ("Newton-CG", "trust-exact"):
        result = second_order.scipy_minimise(method, s, [-1.2, 1.0])
        assert result.converged
        np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-4)


# --- batches, the skip rule, state ------------------------------------------------------------------

STARTS = np.array([[1.0, 1.5], [-1.0, -1.0], [2.0, 0.0], [0.5, -0.5], [-2.0, 2.0]])


@pytest.mark.parametrize("make", [
    lambda: BFGS(), lambda: LBFGS(history=3), lambda: BFGS(loss_fn=surfaces.BEALE),
    lambda: LBFGS(loss_fn=surfaces.BEALE), lambda: Newton(hessian_fn=surfaces.BEALE.hessian, damping=10.0)],
    ids=["BFGS", "LBFGS", "BFGS-ls", "LBFGS-ls", "Newton"])
def test_a_batch_moves_like_single_points(make):
    batch = run(make(), surfaces.BEALE, start=STARTS, steps=30)
    for i, start in enumerate(STARTS):
        single = run(make(), surfaces.BEALE, start=start, steps=30)
        np.testing.assert_allclose(batch.path[:, i], single.path, rtol=1e-12, atol=1e-12)


def test_flat_parameter_vectors_work():
    rng = np.random.default_rng(0)
    P = 50
    q, _ = np.linalg.qr(rng.normal(size=(P, P)))
    A = q @ np.diag(np.linspace(0.5, 5, P)) @ q.T
    b = rng.normal(size=P)
    loss = lambda th: 0.5 * th @ A @ th - b @ th  # noqa: E731
    theta = np.zeros(P)
    opt = LBFGS(history=5, loss_fn=loss)
    for _ in range(100):
        theta = opt.step(theta, lambda th: A @ th - b)
    np.testing.assert_allclose(theta, np.linalg.solve(A, b), atol=1e-8)
    assert opt.S.shape == (5, P)


def test_pairs_with_small_curvature_are_skipped_per_point():
    # point 0 on a convex bowl (sᵀy = |s|² > 0), point 1 on a concave one (sᵀy = -|s|² < 0),
    # point 2 on a bowl so flat that sᵀy = 1e-12 |s|² is below the 1e-10 threshold
    curvature = np.array([[1.0], [-1.0], [1e-12]])
    grad = lambda th: curvature * th  # noqa: E731
    for opt in (BFGS(lr=0.5), LBFGS(lr=0.5, history=4)):
        theta = np.ones((3, 2))
        for _ in range(6):
            theta = opt.step(theta, grad)
        np.testing.assert_array_equal(opt.pairs, [5, 0, 0])
        np.testing.assert_array_equal(opt.skipped, [0, 5, 5])
    # a point whose pairs are all skipped takes (first-step-scaled, then η-sized) gradient steps
    lbfgs = LBFGS(lr=0.5)
    theta = np.array([[1.0, 1.0]])
    expected = theta - 0.5 * 0.5 * (-theta)        # first step: min(1, 1/‖g‖₁) = 1/2
    theta = lbfgs.step(theta, lambda th: -th)
    np.testing.assert_allclose(theta, expected, atol=1e-15)
    theta2 = lbfgs.step(theta, lambda th: -th)
    np.testing.assert_allclose(theta2, theta + 0.5 * theta, atol=1e-15)
    assert np.all(lbfgs.rho == 0) and np.all(lbfgs.gamma == 1)


def test_history_keeps_the_last_m_pairs():
    opt = LBFGS(history=2)
    theta = np.array([1.0, 1.5])
    steps = []
    for _ in range(5):
        new = opt.step(theta, surfaces.BEALE.grad)
        steps.append(new - theta)
        theta = new
    opt.step(theta, surfaces.BEALE.grad)
    np.testing.assert_allclose(opt.S, np.array(steps[-2:]), atol=1e-15)  # oldest first


def test_reset_forgets_everything():
    s = surfaces.BEALE
    for opt in (BFGS(loss_fn=s), LBFGS(loss_fn=s)):
        first = run(opt, s, steps=10).path
        assert opt.t == 10 and opt.loss_evals > 0
        opt.reset()
        assert opt.t == 0 and opt.loss_evals == 0 and opt.pairs is None and opt.theta_prev is None
        np.testing.assert_array_equal(run(opt, s, steps=10).path, first)


def test_run_counts_gradient_and_loss_evaluations():
    s = surfaces.ROSENBROCK
    opt = LBFGS(loss_fn=s)
    traj = run(opt, s, steps=25)
    assert traj.grad_evals == 25                       # one gradient per step, the line search uses J only
    assert opt.loss_evals >= 25 + 1                    # J at the start, then at least one trial per step
    counted = []
    opt2 = LBFGS(loss_fn=lambda th: counted.append(1) or s(th))
    run(opt2, s, steps=25)
    assert opt2.loss_evals == len(counted) == opt.loss_evals


def test_step_returns_a_new_array():
    theta = np.array([1.0, 1.5])
    for opt in (BFGS(), LBFGS(), Newton(hessian_fn=surfaces.BEALE.hessian)):
        before = theta.copy()
        out = opt.step(theta, surfaces.BEALE.grad)
        assert out is not theta
        np.testing.assert_array_equal(theta, before)


# --- singular Hessians, wrong shapes, bad hyperparameters -----------------------------------------------

def test_singular_hessian_is_a_reported_divergence_not_an_error():
    singular = Newton(hessian_fn=lambda th: np.zeros(th.shape + (2,)))
    out = singular.step(np.array([1.0, 1.0]), lambda th: th)
    assert np.all(np.isnan(out))
    traj = run(Newton(hessian_fn=lambda th: np.zeros(th.shape + (2,))), surfaces.RAVINE, steps=5)
    assert traj.diverged and traj.diverged_at == 1 and traj.steps == 0
    # in a batch only the singular point is flagged: H = diag(x, 1) is singular where x = 0
    hessian = lambda th: np.stack([np.stack([th[..., 0], 0 * th[..., 0]], -1),  # noqa: E731
                                   np.stack([0 * th[..., 0], 1 + 0 * th[..., 0]], -1)], -2)
    batch = run(Newton(hessian_fn=hessian), surfaces.RAVINE, start=[[0.0, 1.0], [2.0, 1.0]], steps=3)
    np.testing.assert_array_equal(batch.diverged, [True, False])
    # damping makes it solvable
    damped = run(Newton(hessian_fn=lambda th: np.zeros(th.shape + (2,)), damping=10.0), surfaces.RAVINE, steps=5)
    assert not damped.diverged


def test_hessian_of_the_wrong_shape_is_a_clear_error():
    for bad in (lambda th: np.eye(3), lambda th: np.ones(2), lambda th: np.eye(2)):
        with pytest.raises(ValueError, match=r"hessian_fn must return shape .*\(3, 2, 2\).*got"):
            Newton(hessian_fn=bad).step(np.ones((3, 2)), lambda th: th)
    with pytest.raises(TypeError, match="hessian_fn must be a function"):
        Newton(hessian_fn=np.eye(2))


@pytest.mark.parametrize("make, name", [
    (lambda: LBFGS(history=0), "history"), (lambda: LBFGS(history=-3), "history"),
    (lambda: LBFGS(history=2.5), "history"), (lambda: LBFGS(history=True), "history"),
    (lambda: Newton(hessian_fn=np.linalg.inv, damping=-1.0), "damping"),
    (lambda: Newton(hessian_fn=np.linalg.inv, damping=float("nan")), "damping"),
    (lambda: Newton(hessian_fn=np.linalg.inv, lr=0.0), "lr"), (lambda: BFGS(lr=-1.0), "lr"),
    (lambda: LBFGS(lr=float("inf")), "lr")])
def test_bad_hyperparameters_name_the_argument(make, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        make()


def test_loss_fn_must_be_callable_and_theta_a_vector():
    with pytest.raises(TypeError, match="loss_fn"):
        BFGS(loss_fn=3.0)
    with pytest.raises(ValueError, match="scalar"):
        LBFGS().step(np.float64(1.0), lambda th: th)


def test_second_order_is_its_own_registry():
    assert SECOND_ORDER == {"Newton": Newton, "BFGS": BFGS, "L-BFGS": LBFGS}
    assert not set(SECOND_ORDER.values()) & set(optimizers.ALL.values())
    assert {"Newton", "BFGS", "LBFGS", "SECOND_ORDER"} <= set(optimizers.__all__)
    assert BFGS().hyperparameters() == {"lr": 1.0} and LBFGS().hyperparameters() == {"lr": 1.0, "history": 10}
    assert Newton(hessian_fn=np.linalg.inv).hyperparameters() == {"lr": 1.0, "damping": 0.0}


# --- the sliders ------------------------------------------------------------------------------------------

def test_second_order_sliders_at_their_extremes():
    import matplotlib

    matplotlib.use("Agg")
    from kai_lib.studies.second_order_widgets import METHODS, explore_second_order

    w = explore_second_order("beale", method="Newton", steps=30)
    assert set(w.sliders) == {"method", "lr", "history", "damping", "line_search", "steps", "x0", "y0", "surface"}
    assert w.trajectory.final.round(6).tolist() == [0.0, 1.0]          # plain Newton: Beale's saddle
    assert w.image.value[:4] == b"\x89PNG"
    for method in METHODS:
        w.sliders["method"].value = method
        for name in ("lr", "history", "damping", "steps", "x0", "y0"):
            slider = w.sliders[name]
            low, high = ((slider.base**slider.min, slider.base**slider.max)
                         if type(slider).__name__ == "FloatLogSlider" else (slider.min, slider.max))
            for value in (low, high):
                traj = w.update(**{name: value})
                assert traj.path.shape[-1] == 2 and w.image.value[:4] == b"\x89PNG"
        for flag in (False, True):
            w.update(line_search=flag)
    w.sliders["surface"].value = "long_valley"
    traj = w.update(method="Newton", damping=0.0, lr=1.0, x0=-4.0, y0=1.5)
    assert traj.diverged and "diverged" in w.status.value           # the floor's curvature vanishes
    traj = w.update(method="L-BFGS", line_search=True)
    assert not traj.diverged and "curvature pairs kept" in w.status.value
    with pytest.raises(TypeError, match="no slider named"):
        w.update(gamma=0.9)
    with pytest.raises(ValueError, match="method must be one of"):
        explore_second_order("beale", method="Adam")


def test_second_order_sliders_take_initial_values_and_refuse_what_they_cannot_show():
    import matplotlib

    matplotlib.use("Agg")
    from kai_lib.studies.second_order_widgets import explore_second_order

    w = explore_second_order("beale", method="Newton", initial={"damping": 60.0, "method": "BFGS", "history": 5})
    assert (w.sliders["damping"].value, w.sliders["method"].value, w.sliders["history"].value) == (60.0, "BFGS", 5)
    for bad, message in (({"damping": 500.0}, r"initial\['damping'\] must be in \[0, 100\]"),
                         ({"method": "Adam"}, r"initial\['method'\] must be one of"),
                         ({"line_search": "no"}, r"initial\['line_search'\] must be True or False")):
        with pytest.raises(ValueError, match=message):
            explore_second_order("beale", initial=bad)


# --- kai_lib.studies.second_order: the race, the cost measurement and its fits --------------------------------------

def test_race_quasi_newton_arrives_first_and_counts_agree_with_a_rerun():
    for name, r in second_order.RACES.items():
        entries = second_order.race(name)
        assert list(entries) == ["BFGS", "L-BFGS", "Adam", "Momentum"]
        quasi = max(entries[n].arrived for n in ("BFGS", "L-BFGS"))
        assert 0 < quasi <= 40
        for first_order in ("Adam", "Momentum"):
            assert entries[first_order].arrived == -1 or entries[first_order].arrived > 2 * quasi
        for opt_name, e in entries.items():
            steps = e.arrived if e.arrived >= 0 else r.steps
            opt = second_order.make_optimizer(opt_name, r.surface, **r.settings[opt_name])
            rerun = run(opt, r.surface, start=np.array(r.start), steps=steps)
            assert e.grad_evals == rerun.grad_evals == steps
            assert e.loss_evals == getattr(opt, "loss_evals", 0)
            assert e.seconds > 0


def test_fit_and_extrapolation_of_a_power_law():
    sizes = np.array([100, 1000, 2000, 4000])
    np.testing.assert_allclose(second_order.fit_power(sizes, 3e-11 * sizes**3.0, 3), 3e-11, rtol=1e-12)
    assert second_order.fitted_power(sizes, 2e-9 * sizes**2.0) == pytest.approx(2.0)
    assert second_order.extrapolate(3e-11, 3, 1e8) == pytest.approx(3e13)
    with pytest.raises(ValueError, match="smallest"):
        second_order.fit_power([10, 20], [1.0, 2.0], 3)
    assert second_order.mlp_parameter_count([64, 32, 10]) == 64 * 32 + 32 + 32 * 10 + 10 == 2410
    assert second_order.lbfgs_memory_bytes(1000, history=10, bytes_per_float=8) == (20 * 1000 + 10) * 8
    assert second_order.format_bytes(8 * 2410**2) == "46.46 MB"
    assert second_order.format_bytes(8e16) == "80,000 TB"


def test_hessian_cost_measures_what_it_says():
    cost = second_order.hessian_cost(sizes=(50, 200), repeats=1)
    np.testing.assert_array_equal(cost.matrix_bytes, [8 * 50**2, 8 * 200**2])
    assert np.all(cost.form_seconds > 0) and np.all(cost.solve_seconds > 0)
    theta = np.random.default_rng(0).normal(size=6)
    H = second_order.softmax_hessian(theta)
    # against finite differences of the gradient of log Σ exp θ + ½λ|θ|²
    grad = lambda th: np.exp(th) / np.exp(th).sum() + 1e-3 * th  # noqa: E731
    numeric = np.array([(grad(theta + 1e-6 * e) - grad(theta - 1e-6 * e)) / 2e-6 for e in np.eye(6)])
    np.testing.assert_allclose(H, numeric, atol=1e-8)
    assert np.linalg.eigvalsh(H).min() > 0
