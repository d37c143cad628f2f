"""Nothing breaks and nothing lies: bad input, edge cases and honest outcomes, family by family.

1. ε = 0: no gradient, no step (never a false "diverged");
2. the divergence ✕ shows even when the longest run is the diverged one;
3. no warning from any public entry point for a finite start, however far;
4. a documented ceiling on the work of one run;
5. sliders do what was asked (steps=1; initial values outside a range refused);
6. a step happens wholly or not at all;
7. arguments taken strictly (bools are not numbers, strings not booleans);
8. the command lines answer bad arguments with one line and status 2;
9. every plotting and animation argument checked up front;
and what else was found in each family.
"""

import errno
import inspect
import os
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from kai_lib import (  # noqa: E402
    animate,
    checks,
    data,
    explore,
    figures,
    optimizers,
    plot_contours,
    plot_paths,
    plot_surface_3d,
    run,
    runner,
    save_gif,
    show,
    surfaces,
)
from kai_lib.pictures.animation import TrajectoryAnimation, frame_steps  # noqa: E402
from kai_lib.tools import bench  # noqa: E402

ALL = optimizers.ALL
WITH_EPS = [name for name, cls in ALL.items() if "eps" in inspect.signature(cls).parameters]
WITH_ROOT = [name for name in WITH_EPS if "eps_inside_sqrt" in inspect.signature(ALL[name]).parameters]


@pytest.fixture(autouse=True)
def no_warnings_and_no_figures_left():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every test here runs under -W error
        yield
    plt.close("all")


def test_every_optimizer_with_an_eps_is_covered():
    assert set(WITH_EPS) == {"Adagrad", "RMSProp", "AdaDelta", "Adam", "AdaMax", "Nadam", "AMSGrad", "AdamW"}


# --- 1. eps = 0: the maths' own reading, no gradient, no step -------------------------------------

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


# --- 2. the divergence mark -----------------------------------------------------------------------

def red_pixels(image: Image.Image) -> int:
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3)
    return int(np.sum(np.all(rgb == [255, 0, 0], axis=1)))


def last_frame(anim: TrajectoryAnimation) -> Image.Image:
    return list(anim.render_frames())[-1]


def test_a_single_diverged_run_shows_its_mark_on_the_last_frame():
    traj = run(optimizers.SGD(lr=2.0), "ravine", steps=300)
    assert traj.diverged and traj.steps < 300
    anim = animate("ravine", traj, frames=12)
    assert anim.steps_shown[-1] == traj.steps
    (cross, last), = anim.crosses[""]
    assert last == traj.steps
    anim._init()
    anim._draw_frame_at(len(anim.steps_shown) - 2)
    assert not cross.get_visible()
    anim._draw_frame_at(len(anim.steps_shown) - 1)
    assert cross.get_visible()
    assert red_pixels(last_frame(anim)) > 30  # the red ✕ is drawn, not only flagged


def test_a_race_in_which_every_run_diverges_shows_every_mark():
    s = surfaces.RAVINE
    trajs = {"SGD, η = 2": run(optimizers.SGD(lr=2.0), s, steps=300),
             "SGD, η = 3": run(optimizers.SGD(lr=3.0), s, steps=300),
             "Momentum, η = 2": run(optimizers.Momentum(lr=2.0), s, steps=300)}
    assert all(t.diverged for t in trajs.values())
    anim = animate(s, trajs, frames=20)
    anim._init()
    anim._draw_frame_at(len(anim.steps_shown) - 1)
    for label, traj in trajs.items():
        (cross, last), = anim.crosses[label]
        assert last == traj.steps and cross.get_visible(), label
    frames = list(anim.render_frames())
    assert red_pixels(frames[-1]) > red_pixels(frames[0])


def test_a_diverged_point_of_a_batch_gets_its_mark_when_it_stops_not_when_the_batch_ends():
    s = surfaces.RAVINE
    traj = run(optimizers.SGD(lr=2.0), s, start=[[-5.0, 2.0], [-5.0, 0.0]], steps=300)
    # at η = 2 the steep y-direction (curvature 4 > 2/η) diverges; the point on the floor y = 0 does not
    assert traj.diverged.tolist() == [True, False] and traj.steps == 300
    stop = int(traj.diverged_at[0]) - 1
    anim = animate(s, {"SGD": traj}, frames=301)
    (cross, last), = anim.crosses["SGD"]
    assert last == stop < 300
    anim._init()
    anim._draw_frame_at(stop - 1)
    assert not cross.get_visible()
    anim._draw_frame_at(stop)
    assert cross.get_visible()


def test_a_run_diverged_at_step_0_is_marked_from_the_first_frame():
    traj = run(optimizers.Adam(), "beale", start=[1e200, 1e200], steps=10)
    anim = animate("beale", {"Adam": traj, "SGD": run(optimizers.SGD(), "beale", steps=10)})
    (cross, last), = anim.crosses["Adam"]
    assert last == 0
    anim._init()
    anim._draw_frame_at(0)
    assert cross.get_visible()
    x, y = cross.get_xydata()[0]
    assert (x, y) == (surfaces.BEALE.xlim[1], surfaces.BEALE.ylim[1])  # on the view's corner, where it is seen


# --- 3. no warning for a finite start, however far ------------------------------------------------

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


def test_far_starts_draw_animate_and_save_quietly(tmp_path):
    far = run(optimizers.SGD(lr=0.01), "beale", start=[[1e200, 1e200], [1.0, 1.0]], steps=30)
    lone = run(optimizers.Adam(), "beale", start=[-1e300, 1e300], steps=30)
    trajs = {"SGD": far, "Adam": lone}
    plot_paths("beale", trajs)
    plt.gcf().canvas.draw()
    plot_surface_3d("beale", trajs)
    plt.gcf().canvas.draw()
    plot_contours("beale", starts=[[1e300, -1e300], [0, 0]])
    plt.gcf().canvas.draw()
    path = save_gif(animate("beale", trajs, frames=5), tmp_path / "far.gif")
    assert path.read_bytes()[:6] == b"GIF89a"


def test_the_widget_driven_far_away_is_quiet():
    w = explore(optimizers.Adam, "beale", steps=20)
    traj = w.update(x0=1e200, y0=1e200)
    assert traj.diverged and traj.diverged_at == 0 and "diverged</b> at step 0" in w.status.value
    w.sliders["x0"].max = 1e300  # the sliders themselves, driven out there
    w.sliders["x0"].value = 1e300
    w.sliders["y0"].min = -1e300
    w.sliders["y0"].value = -1e300
    assert w.trajectory.diverged and w.image.value[:4] == b"\x89PNG"


def test_a_step_that_overflows_returns_inf_quietly():
    opt = optimizers.SGD(lr=1e300)
    theta = opt.step(np.array([1e300, 1.0]), lambda th: th)
    assert np.isinf(theta[0]) and theta[1] == 1.0 - 1e300
    assert np.all(np.isnan(optimizers.Adam().step([np.inf, 1.0], lambda th: th * 0 + np.inf)[:1]))


# --- 4. a ceiling on the work of one run ----------------------------------------------------------

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


# --- 5. sliders do what was asked ----------------------------------------------------------------

def test_explore_runs_one_step_when_asked_for_one():
    w = explore(optimizers.SGD, "ravine", steps=1)
    assert w.trajectory.steps == 1 and w.sliders["steps"].min == 1 and w.sliders["steps"].value == 1
    w.sliders["steps"].value = 7
    assert w.trajectory.steps == 7


def test_bench_with_five_steps_runs(capsys):
    assert bench.main(["--steps", "5"]) == 0
    assert "5-step run" in capsys.readouterr().out


def test_initial_values_outside_a_slider_range_are_refused_not_clamped():
    with pytest.raises(ValueError, match=r"initial\['lr'\] must be in \[0.0001, 1\] \(the lr slider's range; "
                                         r"pass lr=\(low, high\) to explore\(\) to widen it\), got 5.0"):
        explore(optimizers.SGD, "ravine", initial={"lr": 5.0})
    w = explore(optimizers.SGD, "ravine", lr=(1e-4, 10.0), initial={"lr": 5.0})  # widened: honoured exactly
    assert w.sliders["lr"].value == 5.0 and w.trajectory.diverged
    with pytest.raises(ValueError, match=r"initial\['x0'\] must be in \[-5.5, 1.5\] \(the x0 slider's range, "
                                         r"the surface's view\)"):
        explore(optimizers.SGD, "ravine", initial={"x0": 100.0})
    with pytest.raises(ValueError, match=r"initial\['gamma'\] must be in \[0, 0.99\]"):
        explore(optimizers.Momentum, "ravine", initial={"gamma": 0.999})
    with pytest.raises(checks.WrongType, match=r"initial\['eps_inside_sqrt'\] must be True or False, got 'no'"):
        explore(optimizers.Adam, "ravine", initial={"eps_inside_sqrt": "no"})
    with pytest.raises(checks.WrongType, match=r"initial\['lr'\] must be a finite number, got '0.1' \(a str\)"):
        explore(optimizers.Adam, "ravine", initial={"lr": "0.1"})


def test_slider_ranges_must_fit_the_optimizer():
    with pytest.raises(ValueError, match=r"gamma range \(0, 1.5\) reaches outside what Momentum accepts: "
                                         r"gamma must be in \[0, 1\), got 1.5"):
        explore(optimizers.Momentum, "ravine", gamma=(0, 1.5))
    with pytest.raises(ValueError, match=r"lr range must be \(low, high\) with 0 < low < high \(a log slider\)"):
        explore(optimizers.SGD, "ravine", lr=(0, 1))
    with pytest.raises(checks.WrongType, match=r"lr range must be \(low, high\)"):
        explore(optimizers.SGD, "ravine", lr=0.5)
    with pytest.raises(checks.WrongType, match=r"lr range's high must be a finite number, got '1' \(a str\)"):
        explore(optimizers.SGD, "ravine", lr=(0.1, "1"))


def test_update_checks_what_it_is_given():
    w = explore(optimizers.SGD, "ravine", steps=10)
    for values, match in (({"steps": 2.5}, "steps must be an integer >= 1, got 2.5"),
                          ({"steps": 0}, "steps must be an integer >= 1, got 0"),
                          ({"x0": "far"}, "x0 must be a finite number, got 'far'"),
                          ({"y0": np.nan}, "y0 must be a finite number, got nan"),
                          ({"lr": -1.0}, "lr must be a finite number > 0, got -1.0"),
                          ({"surface": "nope"}, "surface must be one of 'beale'")):
        with pytest.raises(ValueError, match=match):
            w.update(**values)
    assert w.trajectory.steps == 10  # nothing half-done


def test_explore_takes_a_surface_that_is_not_built_in():
    s = data.make_regression(n=200).surface()
    w = explore(optimizers.SGD, s, steps=20)
    assert w.trajectory.surface is s and "regression" in w.sliders["surface"].options
    w.sliders["surface"].value = "ravine"
    w.sliders["surface"].value = "regression"
    assert w.trajectory.surface is s


# --- 6. a step happens wholly or not at all --------------------------------------------------------

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


# --- 7. arguments taken strictly -------------------------------------------------------------------

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


# --- 8. the command lines -------------------------------------------------------------------------

def cli_error(main, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.out == ""
    last = captured.err.strip().splitlines()[-1]
    assert ": error: " in last
    return last


def test_figures_out_a_file_is_an_error_and_the_file_is_untouched(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("hello")
    last = cli_error(figures.main, ["--out", str(readme), "--only", "momentum_decay"], capsys)
    assert last.endswith(f"error: --out {str(readme)!r} is a file, not a folder")
    assert readme.read_text() == "hello"
    last = cli_error(figures.main, ["--out", str(readme / "sub"), "--only", "momentum_decay"], capsys)
    assert "cannot write there" in last


def test_figures_out_empty_writes_nowhere(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    last = cli_error(figures.main, ["--out", "", "--only", "momentum_decay"], capsys)
    assert "--out must name a folder, got an empty string" in last
    assert list(tmp_path.iterdir()) == []


def test_figures_out_on_a_read_only_file_system(tmp_path, capsys, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    last = cli_error(figures.main, ["--out", str(tmp_path / "out"), "--only", "momentum_decay"], capsys)
    assert last.endswith(f"cannot write there ({os.strerror(errno.EROFS)})")


def test_figures_a_write_that_fails_midway_is_one_line(tmp_path, capsys, monkeypatch):
    def full_disk(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setitem(figures.FIGURES, "momentum_decay", ("momentum_decay.png", full_disk))
    last = cli_error(figures.main, ["--out", str(tmp_path), "--only", "momentum_decay"], capsys)
    assert "cannot write" in last and "momentum_decay.png" in last and os.strerror(errno.ENOSPC) in last


@pytest.mark.parametrize("steps,match", [("0", "--steps must be an integer in [1, 100000], got 0"),
                                         ("-3", "got -3"), ("1000000", "got 1000000"),
                                         ("2.5", "invalid int value: '2.5'")])
def test_bench_bad_steps_is_one_line(steps, match, capsys):
    assert match in cli_error(bench.main, ["--steps", steps], capsys)


# --- 9. plotting and animation arguments ----------------------------------------------------------

@pytest.fixture(scope="module")
def traj():
    return run(optimizers.Adam(lr=0.1), "beale", steps=20)


BAD_PLOTS = [
    (lambda t: plot_paths("beale", {}), ValueError, "trajs must hold at least one trajectory"),
    (lambda t: plot_paths("beale", [t]), checks.WrongType, "trajs must be a trajectory or a mapping"),
    (lambda t: plot_paths("beale", {"a": "b"}), checks.WrongType, r"trajs\['a'\] must be a Trajectory"),
    (lambda t: plot_paths("beale", {1: t}), checks.WrongType, "trajs' labels must be strings"),
    (lambda t: plot_paths("beale", t, markers="yes"), checks.WrongType, "markers must be True or False"),
    (lambda t: plot_paths("beale", t, legend=None), checks.WrongType, "legend must be True or False"),
    (lambda t: plot_paths("beale", t, ax="left"), checks.WrongType, "ax must be a matplotlib Axes or None"),
    (lambda t: plot_paths("beale", t, levels=1), ValueError, r"levels must be an integer in \[2, 500\]"),
    (lambda t: plot_contours("beale", n=1), ValueError, r"n must be an integer in \[2, 2000\], got 1"),
    (lambda t: plot_contours("beale", n=10**6), ValueError, r"n must be an integer in \[2, 2000\]"),
    (lambda t: plot_contours("beale", n=50.0), checks.WrongType, "n must be an integer"),
    (lambda t: plot_contours("beale", levels=[3, 2, 1]), ValueError, "levels must be None, a number of levels"),
    (lambda t: plot_contours("beale", levels=[0, 1, 2]), ValueError, r"> 0 \(the levels are log-spaced here\)"),
    (lambda t: plot_contours("beale", levels="many"), checks.WrongType, "levels must be None"),
    (lambda t: plot_contours("beale", levels=[1.0]), ValueError, "at least 2 finite numbers"),
    (lambda t: plot_contours("beale", filled="no"), checks.WrongType, "filled must be True or False"),
    (lambda t: plot_contours("beale", starts=[1, 2, 3]), ValueError, r"starts must have shape \(2,\)"),
    (lambda t: plot_contours("beale", starts=[np.nan, 0]), ValueError, "starts must be finite"),
    (lambda t: plot_surface_3d("beale", n=0), ValueError, r"n must be an integer in \[2, 500\]"),
    (lambda t: plot_surface_3d("beale", {}), ValueError, "trajs must hold at least one trajectory"),
    (lambda t: plot_surface_3d("beale", ax=plt.subplots()[1]), checks.WrongType, "ax must be a 3-D axes"),
    (lambda t: animate("beale", t, pace=0), ValueError, "pace must be a finite number > 0, got 0"),
    (lambda t: animate("beale", t, pace=np.inf), ValueError, "pace must be a finite number > 0, got inf"),
    (lambda t: animate("beale", t, frames=2.5), checks.WrongType, r"frames must be an integer in \[1, 1000\]"),
    (lambda t: animate("beale", t, frames=0), ValueError, r"frames must be an integer in \[1, 1000\], got 0"),
    (lambda t: animate("beale", t, interval=-80), ValueError, r"interval must be in \[1, 60000\], got -80"),
    (lambda t: animate("beale", t, interval="fast"), checks.WrongType, "interval must be"),
    (lambda t: animate("beale", t, figsize=(0, 5)), ValueError, r"figsize must be a pair \(width, height\)"),
    (lambda t: animate("beale", t, figsize=7), checks.WrongType, "figsize must be a pair"),
    (lambda t: animate("beale", t, xlim=(3, 1)), ValueError, r"xlim must be a pair \(low, high\)"),
    (lambda t: animate("beale", t, ylim=(0, np.nan)), ValueError, "ylim must be a pair"),
    (lambda t: animate("beale", t, title=5), checks.WrongType, "title must be a str or None, got 5"),
    (lambda t: animate("beale", t, legend="no"), checks.WrongType, "legend must be True or False"),
    (lambda t: animate("beale", {}), ValueError, "trajs must hold at least one trajectory"),
    (lambda t: animate(3, t), checks.WrongType, "surface must be a Surface or one of the names"),
    (lambda t: save_gif("anim", "a.gif"), checks.WrongType, "anim must be a matplotlib FuncAnimation"),
    (lambda t: save_gif(animate("beale", t, frames=2), 5), checks.WrongType, "path must be a file name"),
    (lambda t: save_gif(animate("beale", t, frames=2), "a.gif", dpi=0), ValueError,
     r"dpi must be an integer in \[10, 600\], got 0"),
    (lambda t: save_gif(animate("beale", t, frames=2), "a.gif", dpi=72.5), checks.WrongType, "dpi must be"),
    (lambda t: save_gif(animate("beale", t, frames=2), "a.gif", fps=0), ValueError, r"fps must be in \(0, 100\]"),
    (lambda t: save_gif(animate("beale", t, frames=2), "a.gif", fps="x"), checks.WrongType, "fps must be"),
    (lambda t: show(animate("beale", t, frames=2), mode=""), ValueError, "mode must be 'jshtml' or 'gif'"),
    (lambda t: show(animate("beale", t, frames=2), dpi=-1), ValueError, "dpi must be an integer"),
    (lambda t: show(t), checks.WrongType, "anim must be a matplotlib FuncAnimation"),
]


@pytest.mark.parametrize("call,error,match", BAD_PLOTS, ids=[m for _, _, m in BAD_PLOTS])
def test_plot_arguments_are_checked_up_front(traj, call, error, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=match):
        call(traj)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_bad_animation_mode_in_the_environment_names_the_variable(traj, monkeypatch):
    monkeypatch.setenv("KAI_LIB_ANIMATION", "mp4")
    with pytest.raises(ValueError, match="KAI_LIB_ANIMATION must be 'jshtml' or 'gif', got 'mp4'"):
        show(animate("beale", traj, frames=2))


@pytest.mark.parametrize("n_steps,frames,pace", [(200, 60, 0.01), (200, 60, 1e-300), (200, 60, 50.0),
                                                 (59, 60, 0.3), (0, 5, 1.0), (1, 60, 3.0), (5, 6, 1e6)])
def test_frame_steps_never_show_a_step_past_the_end(n_steps, frames, pace):
    steps = frame_steps(n_steps, frames, pace)
    assert len(steps) == min(frames, n_steps + 1)
    assert steps[0] >= 0 and steps[-1] == n_steps and np.all(np.diff(steps) > 0)


def test_the_counter_never_passes_the_run():
    traj = run(optimizers.SGD(lr=0.01), "beale", steps=200)
    anim = animate("beale", traj, frames=60, pace=0.01)
    anim._init()
    for i in range(len(anim.steps_shown)):
        anim._draw_frame_at(i)
        shown, total = anim.counter.get_text().removeprefix("step ").split(" / ")
        assert int(shown) <= int(total) == 200


# --- and the rest of each family ------------------------------------------------------------------

def test_a_grad_fn_that_answers_nan_mid_run_is_a_divergence_at_that_step():
    calls = {"n": 0}

    def grad(th):
        calls["n"] += 1
        return surfaces.BEALE.grad(th) * (np.nan if calls["n"] == 7 else 1.0)

    traj = run(optimizers.Adam(lr=0.01), "beale", steps=20, grad_fn=grad)
    assert traj.diverged and traj.diverged_at == 7 and traj.steps == 6 and np.isfinite(traj.path).all()


def test_surface_grids_and_data_check_their_arguments():
    with pytest.raises(ValueError, match=r"n must be an integer in \[2, 4000\], got 1"):
        surfaces.BEALE.grid(1)
    for call, match in ((lambda: data.make_regression(n=True), "n must be an integer >= 2, got True"),
                        (lambda: data.make_regression(noise=np.nan), "noise must be a finite number >= 0"),
                        (lambda: data.make_regression(w="2"), "w must be a finite number"),
                        (lambda: data.make_regression(seed=-1), "seed must be an integer >= 0"),
                        (lambda: data.make_regression(n=10**9), "n must be at most 10,000,000"),
                        (lambda: data.make_sparse_features(n=10**6, d=100), r"n × d must be at most 10,000,000"),
                        (lambda: data.make_sparse_features(exponent=-1), r"exponent must be in \[0, 10\]"),
                        (lambda: data.make_sparse_features(d=2.0), "d must be an integer >= 2"),
                        (lambda: data.make_regression(n=50).minibatch_grad_fn(True),
                         r"batch_size must be an integer in \[1, 50\], got True")):
        with pytest.raises(ValueError, match=match):
            call()


def test_explore_checks_its_picture_arguments():
    with pytest.raises(ValueError, match=r"figsize must be a pair \(width, height\) of numbers in \(0, 30\]"):
        explore(optimizers.SGD, "ravine", figsize=(1e6, 1))
    with pytest.raises(ValueError, match=r"dpi must be an integer in \[10, 300\]"):
        explore(optimizers.SGD, "ravine", dpi=5000)
    with pytest.raises(checks.WrongType, match="initial must be a dict"):
        explore(optimizers.SGD, "ravine", initial=[("lr", 0.1)])
