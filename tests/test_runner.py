"""run(): trajectories, divergence as an outcome, batches, bad input."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from kai_lib import checks, explore, optimizers, run, runner, surfaces
from kai_lib.optimizers import ALL

pytestmark = pytest.mark.filterwarnings("error")  # every warning fails a test here (-W error)

NAMES = list(surfaces.ALL)


def test_a_run_keeps_the_start_and_every_step():
    s = surfaces.BEALE
    traj = run(optimizers.Adam(lr=0.1), s, steps=50)
    assert traj.path.shape == (51, 2)
    np.testing.assert_array_equal(traj.path[0], s.start)
    np.testing.assert_array_equal(traj.loss, s(traj.path))
    assert traj.diverged is False and traj.diverged_at == -1
    assert traj.steps == 50 and traj.grad_evals == 50
    assert traj.surface is s


def test_start_defaults_to_the_surface_start_and_names_work():
    a = run(optimizers.SGD(lr=0.01), "ravine", steps=3)
    b = run(optimizers.SGD(lr=0.01), surfaces.RAVINE, start=surfaces.RAVINE.start, steps=3)
    np.testing.assert_array_equal(a.path, b.path)


def test_run_resets_the_optimizer_so_it_can_be_reused():
    opt = optimizers.Momentum(lr=0.01)
    a = run(opt, surfaces.BEALE, steps=30)
    b = run(opt, surfaces.BEALE, steps=30)
    np.testing.assert_array_equal(a.path, b.path)


def run_quietly(opt, surface, steps):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any numpy RuntimeWarning fails the test
        return run(opt, surface, steps=steps)


def assert_diverged_cleanly(traj, steps):
    assert traj.diverged is True
    assert 0 < traj.diverged_at <= steps
    assert len(traj.path) == traj.diverged_at  # it stopped at the last finite point
    assert np.all(np.isfinite(traj.path)) and np.all(np.isfinite(traj.loss))


@pytest.mark.parametrize("name", ["SGD", "Momentum", "NAG"])
@pytest.mark.parametrize("surface", NAMES)
def test_lr_times_1000_diverges_cleanly(name, surface):
    opt = ALL[name](lr=ALL[name]().lr * 1000)
    assert_diverged_cleanly(run_quietly(opt, surface, 5000), 5000)


# The adaptive methods divide the gradient by its own running size, so a step is at
# most about lr·(this factor) per coordinate whatever the gradient: lr × 1000 makes
# them bounce, not blow up.
STEP_BOUND = {"Adagrad": 1.0, "RMSProp": 1 / np.sqrt(1 - 0.9), "Adam": 3.2, "AdaMax": 1.01,
              "Nadam": 10.0, "AMSGrad": 3.2, "AdamW": 3.2}


@pytest.mark.parametrize("name", list(STEP_BOUND))
@pytest.mark.parametrize("surface", NAMES)
def test_adaptive_steps_are_bounded_so_lr_times_1000_does_not_blow_up(name, surface):
    lr = ALL[name]().lr * 1000
    traj = run_quietly(ALL[name](lr=lr), surface, 2000)
    assert traj.diverged is False
    assert np.abs(np.diff(traj.path, axis=0)).max() <= STEP_BOUND[name] * lr * (1 + 1e-9)


@pytest.mark.parametrize("name", [n for n in ALL if n != "AdaDelta"])
@pytest.mark.parametrize("surface", NAMES)
def test_an_overflowing_step_diverges_cleanly(name, surface):
    assert_diverged_cleanly(run_quietly(ALL[name](lr=1e300), surface, 50), 50)


def test_a_diverging_point_freezes_while_the_others_go_on():
    starts = np.array([[0.5, 0.5], [4.0, 4.0], [1.0, -1.0]])
    traj = run(optimizers.SGD(lr=0.01), surfaces.BEALE, start=starts, steps=100)
    assert traj.diverged.tolist() == [False, True, False]
    k = traj.diverged_at[1]
    assert 0 < k < 100 and traj.diverged_at[0] == traj.diverged_at[2] == -1
    assert traj.path.shape == (101, 3, 2)
    frozen = traj.path[k - 1:, 1]
    assert np.all(frozen == frozen[0])          # stays at its last finite position
    assert np.all(np.isfinite(traj.path)) and np.all(np.isfinite(traj.loss))
    single = run(optimizers.SGD(lr=0.01), surfaces.BEALE, start=starts[2], steps=100)
    np.testing.assert_array_equal(traj.path[:, 2], single.path)


def test_batch_of_any_leading_shape():
    starts = np.random.default_rng(0).uniform(-1, 1, size=(3, 4, 2))
    traj = run(optimizers.RMSProp(lr=0.01), surfaces.HIMMELBLAU, start=starts, steps=10)
    assert traj.path.shape == (11, 3, 4, 2)
    assert traj.loss.shape == (11, 3, 4)
    assert traj.diverged.shape == (3, 4)


@pytest.mark.parametrize("start,match", [
    ([1.0, np.nan], "start must be finite"),
    ([1.0, np.inf], "start must be finite"),
    ([1.0, 2.0, 3.0], r"start must have shape \(2,\) or \(\.\.\., 2\)"),
    (np.zeros((5, 3)), "start must have shape"),
    (1.0, "start must have shape"),
    ("here", "start must be an array of numbers"),
])
def test_bad_start(start, match):
    with pytest.raises(ValueError, match=match):
        run(optimizers.SGD(), surfaces.BEALE, start=start, steps=5)


@pytest.mark.parametrize("steps", [-1, 2.5, "10", True])
def test_bad_steps(steps):
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        run(optimizers.SGD(), surfaces.BEALE, steps=steps)


def test_unknown_surface_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="known: beale"):
        run(optimizers.SGD(), "nope")


def test_zero_steps_is_just_the_start():
    traj = run(optimizers.SGD(), surfaces.BEALE, steps=0)
    assert traj.path.shape == (1, 2) and traj.steps == 0


def test_a_custom_gradient_replaces_the_surface_gradient():
    rng = np.random.default_rng(0)
    noisy = run(optimizers.SGD(lr=0.1), surfaces.RAVINE, steps=5,
                grad_fn=lambda th: surfaces.RAVINE.grad(th) + rng.normal(size=2))
    plain = run(optimizers.SGD(lr=0.1), surfaces.RAVINE, steps=5)
    assert noisy.grad_evals == 5
    assert not np.allclose(noisy.path[1:], plain.path[1:])
    np.testing.assert_array_equal(noisy.loss, surfaces.RAVINE(noisy.path))  # loss is still the surface's


# --- record_every: a thinned run keeps exactly the full run's rows ---------------------------

def assert_thinned_matches(full, thin, k):
    steps = full.steps
    expected = sorted({*range(0, steps + 1, k), steps})
    np.testing.assert_array_equal(thin.recorded_steps, expected)
    np.testing.assert_array_equal(thin.path, full.path[expected])   # exactly, not approximately
    np.testing.assert_array_equal(thin.loss, full.loss[expected])
    np.testing.assert_array_equal(thin.diverged, full.diverged)
    np.testing.assert_array_equal(thin.diverged_at, full.diverged_at)
    assert thin.steps == full.steps and thin.grad_evals == full.grad_evals
    np.testing.assert_array_equal(thin.final, full.final)


@pytest.mark.parametrize("name", ["SGD", "Momentum", "NAG", "Adagrad", "RMSProp", "AdaDelta", "Adam"])
@pytest.mark.parametrize("k", [1, 2, 7, 50, 99, 100, 101, 1000])
def test_record_every_keeps_exactly_the_full_rows_and_flags(name, k):
    # A batch on Beale's function where SGD-like steps send some starts off the map.
    starts = np.array([[0.5, 0.5], [4.0, 4.0], [1.0, -1.0], [-4.4, 4.4], [3.0, 0.6]])
    kwargs = {} if name == "AdaDelta" else {"lr": 0.01}
    full = run(ALL[name](**kwargs), surfaces.BEALE, start=starts, steps=100)
    thin = run(ALL[name](**kwargs), surfaces.BEALE, start=starts, steps=100, record_every=k)
    assert_thinned_matches(full, thin, k)


def test_points_that_diverge_between_two_recorded_steps_are_flagged_at_the_exact_step():
    starts = np.array([[0.5, 0.5], [4.0, 4.0], [1.0, -1.0], [-4.4, 4.4]])
    full = run(optimizers.SGD(lr=0.01), surfaces.BEALE, start=starts, steps=100)
    k = 7
    between = full.diverged & (full.diverged_at % k != 0)
    assert between.sum() >= 1, full.diverged_at          # the case this test is about
    thin = run(optimizers.SGD(lr=0.01), surfaces.BEALE, start=starts, steps=100, record_every=k)
    assert_thinned_matches(full, thin, k)
    assert thin.path.shape == (len(range(0, 101, k)) + 1, 4, 2)


def test_a_single_point_that_diverges_keeps_its_last_finite_step():
    opt = lambda: optimizers.SGD(lr=10.0)  # noqa: E731
    full = run(opt(), surfaces.RAVINE, steps=5000)
    assert full.diverged and full.diverged_at % 10 != 0
    thin = run(opt(), surfaces.RAVINE, steps=5000, record_every=10)
    assert_thinned_matches(full, thin, 10)
    assert thin.recorded_steps[-1] == full.diverged_at - 1 == thin.steps
    assert np.all(np.isfinite(thin.path)) and np.all(np.isfinite(thin.loss))


def test_record_every_steps_keeps_the_start_and_the_end():
    grid = np.random.default_rng(1).uniform(-5, 5, size=(30, 40, 2))
    thin = run(optimizers.Adam(lr=0.05), surfaces.HIMMELBLAU, start=grid, steps=500, record_every=500)
    assert thin.path.shape == (2, 30, 40, 2) and thin.loss.shape == (2, 30, 40)
    np.testing.assert_array_equal(thin.recorded_steps, [0, 500])
    np.testing.assert_array_equal(thin.path[0], grid)
    full = run(optimizers.Adam(lr=0.05), surfaces.HIMMELBLAU, start=grid, steps=500)
    np.testing.assert_array_equal(thin.path[-1], full.path[-1])
    assert thin.steps == 500 and "500 steps" in repr(thin)


def test_a_full_run_records_every_step():
    traj = run(optimizers.SGD(lr=0.01), surfaces.BEALE, steps=20)
    np.testing.assert_array_equal(traj.recorded_steps, np.arange(21))
    zero = run(optimizers.SGD(lr=0.01), surfaces.BEALE, steps=0, record_every=5)
    np.testing.assert_array_equal(zero.recorded_steps, [0])
    assert zero.path.shape == (1, 2) and zero.steps == 0


def test_a_loss_that_overflows_at_a_finite_point_is_divergence_at_that_step():
    # On the saddle, SGD with η = 1 triples y each step: y = 2.7e154 at step 3 is a finite
    # number, but J = x² − y² overflows there (y² > 1.8e308). The loss is checked at every
    # step, recorded or not, so both runs flag step 3.
    start = [[1.0, 1e153], [1.0, 1.0]]
    full = run(optimizers.SGD(lr=1.0), surfaces.SADDLE, start=start, steps=10)
    thin = run(optimizers.SGD(lr=1.0), surfaces.SADDLE, start=start, steps=10, record_every=4)
    assert full.diverged_at.tolist() == [3, -1]
    y3 = np.float64(2.7e154)
    with np.errstate(over="ignore"):
        assert np.isfinite(y3) and not np.isfinite(y3**2)
    assert_thinned_matches(full, thin, 4)


@pytest.mark.parametrize("k", [0, -1, 2.5, "3", True, None])
def test_bad_record_every(k):
    with pytest.raises(ValueError, match=r"record_every must be an integer >= 1, got"):
        run(optimizers.SGD(), surfaces.BEALE, steps=5, record_every=k)


def test_record_every_with_a_schedule_keeps_the_scheduled_rows():
    from kai_lib import schedules

    starts = np.array([[0.5, 0.5], [4.0, 4.0], [1.0, -1.0]])
    sched = schedules.cosine(0.01, total=100)
    full = run(optimizers.Momentum(lr=0.01), surfaces.BEALE, start=starts, steps=100, schedule=sched)
    thin = run(optimizers.Momentum(lr=0.01), surfaces.BEALE, start=starts, steps=100, schedule=sched, record_every=9)
    assert_thinned_matches(full, thin, 9)


def test_record_every_with_a_start_whose_loss_overflows():
    starts = np.array([[1e200, 1e200], [0.5, 0.5], [4.0, 4.0]])
    full = run(optimizers.SGD(lr=0.01), surfaces.BEALE, start=starts, steps=60)
    thin = run(optimizers.SGD(lr=0.01), surfaces.BEALE, start=starts, steps=60, record_every=25)
    assert full.diverged_at[0] == 0 and np.isinf(full.loss[0, 0])
    assert_thinned_matches(full, thin, 25)


def test_first_below_is_the_first_step_under_the_tolerance():
    traj = run(optimizers.SGD(lr=0.45), surfaces.RAVINE, steps=150)
    first = traj.first_below(1e-3)
    assert traj.loss[first] < 1e-3 and np.all(traj.loss[:first] >= 1e-3)
    settled = traj.first_below(1e-3, for_good=True)
    assert np.all(traj.loss[settled:] < 1e-3) and traj.loss[settled - 1] >= 1e-3 and settled >= first
    assert traj.first_below(1e-30) == -1 and traj.first_below(1e-30, for_good=True) == -1
    assert traj.first_below(traj.loss[0] + 1.0) == 0
    floor = traj.first_below(1e-3, floor=-1.0)  # J − (−1) < 1e-3 never holds for J ≥ 0
    assert floor == -1
    batch = run(optimizers.SGD(lr=0.45), surfaces.RAVINE, start=np.array([[-4.0, -2.0], [1.0, 1.0]]), steps=150)
    each = [run(optimizers.SGD(lr=0.45), surfaces.RAVINE, start=p, steps=150).first_below(1e-3) for p in batch.path[0]]
    assert batch.first_below(1e-3).tolist() == each
    thinned = run(optimizers.SGD(lr=0.45), surfaces.RAVINE, steps=150, record_every=10)
    assert thinned.first_below(1e-3) == 10 * int(np.ceil(first / 10))  # in the run's steps, not rows


# --- no warning for a finite start, however far ---------------------------------------------------

FAR = [[1e200, 1e200], [-1e308, 1e308], [1e154, -3.0], [0.0, 1e300]]


@pytest.mark.parametrize("name", list(ALL))
def test_a_far_start_is_quiet_and_honest_on_every_surface(name):
    for s in surfaces.ALL.values():
        for start in FAR:
            traj = run(ALL[name](lr=0.1) if name != "AdaDelta" else ALL[name](), s, start=start, steps=5)
            assert np.all(np.isfinite(traj.path)) and traj.path[0].tolist() == start
            if not np.isfinite(traj.loss[0]):
                # the start's loss overflows: diverged at step 0, the inf recorded as it is
                assert traj.diverged and traj.diverged_at == 0 and traj.steps == 0 and traj.grad_evals == 0
            assert traj.diverged == (traj.diverged_at >= 0)


def test_the_issue_start_on_beale():
    traj = run(optimizers.Adam(lr=0.1), "beale", start=[1e200, 1e200], steps=50)
    assert traj.diverged and traj.diverged_at == 0 and traj.steps == 0
    assert traj.loss.tolist() == [np.inf] and traj.path.tolist() == [[1e200, 1e200]]
    batch = run(optimizers.Adam(lr=0.1), "beale", start=[[1e200, 1e200], [1.0, 1.0]], steps=50)
    assert batch.diverged.tolist() == [True, False] and batch.diverged_at.tolist() == [0, -1]
    assert batch.steps == 50 and np.all(batch.path[:, 0] == [1e200, 1e200]) and np.isinf(batch.loss[-1, 0])
    assert np.isfinite(batch.loss[:, 1]).all()


# --- a ceiling on the work of one run -------------------------------------------------------------

def test_too_many_steps_is_refused_with_the_ceiling_in_the_message():
    with pytest.raises(ValueError, match=r"steps must be at most 100,000 \(kai_lib.runner.MAX_STEPS"):
        run(optimizers.SGD(), "beale", steps=10**7)
    with pytest.raises(ValueError, match=r"steps must be at most 100,000"):
        explore(optimizers.SGD, "ravine", steps=10**6)
    with pytest.raises(ValueError, match=r"steps must be at most 100,000"):
        explore(optimizers.SGD, "ravine", steps=10).update(steps=10**6)


def test_steps_times_start_points_has_a_ceiling_that_admits_a_basin_map(monkeypatch):
    assert 200 * 200 * 500 <= runner.MAX_POINT_STEPS  # the documented promise: a 200 × 200 basin map
    with pytest.raises(ValueError, match=r"steps × start points must be at most 25,000,000 .* "
                                         r"got 500 steps × 90,000 start points"):
        run(optimizers.SGD(), "beale", start=np.zeros((300, 300, 2)), steps=500)
    monkeypatch.setattr(runner, "MAX_POINT_STEPS", 1000)  # the check sits exactly at the ceiling
    assert run(optimizers.SGD(), "beale", start=np.zeros((10, 2)), steps=100).steps == 100
    with pytest.raises(ValueError, match="steps × start points must be at most 1,000"):
        run(optimizers.SGD(), "beale", start=np.zeros((10, 2)), steps=101)


def test_the_ceiling_is_in_the_docs():
    assert "MAX_STEPS" in runner.run.__doc__ and "MAX_POINT_STEPS" in runner.run.__doc__
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "100,000" in readme and "25 million" in readme


# --- arguments taken strictly, and a gradient that fails ------------------------------------------

def test_run_takes_its_arguments_strictly():
    for start in ([True, False], [1 + 1j, 0], ["1", "2"], [1, None], [[1, 2], [3]]):
        with pytest.raises(checks.WrongType, match=r"start must be an array of numbers of shape \(\.\.\., 2\)"):
            run(optimizers.SGD(), "beale", start=start, steps=2)
    with pytest.raises(checks.WrongType, match="grad_fn must be a function"):
        run(optimizers.SGD(), "beale", grad_fn="surface.grad")
    with pytest.raises(checks.WrongType, match="surface must be a Surface or one of the names beale"):
        run(optimizers.SGD(), ["beale"])
    with pytest.raises(TypeError, match="optimizer must be a kai_lib optimizer instance"):
        run(optimizers.SGD, "beale")


def test_a_grad_fn_that_answers_nan_mid_run_is_a_divergence_at_that_step():
    calls = {"n": 0}

    def grad(th):
        calls["n"] += 1
        return surfaces.BEALE.grad(th) * (np.nan if calls["n"] == 7 else 1.0)

    traj = run(optimizers.Adam(lr=0.01), "beale", steps=20, grad_fn=grad)
    assert traj.diverged and traj.diverged_at == 7 and traj.steps == 6 and np.isfinite(traj.path).all()
