"""kai_lib.schedules: each schedule against torch.optim.lr_scheduler, and run(schedule=).

The torch values are committed in tests/reference/torch_reference.json (written by
tests/reference/make_torch_reference.py, PyTorch 2.13); these tests need no torch.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from kai_lib import optimizers, plot_paths, run, schedules, surfaces
from kai_lib.pictures.plotting import plot_schedule

REFERENCE = json.loads((Path(__file__).parent / "reference" / "torch_reference.json").read_text())


def kai_schedule(case):
    schedule = getattr(schedules, case["schedule"])(**case["args"])
    return schedules.warmup(schedule, case["warmup"]) if "warmup" in case else schedule


# --- against torch -----------------------------------------------------------------

def test_every_schedule_has_a_torch_reference():
    covered = {c["schedule"] for c in REFERENCE["schedules"]}
    assert covered == set(schedules.__all__) - {"Schedule", "warmup"}
    assert any("warmup" in c for c in REFERENCE["schedules"])


@pytest.mark.parametrize("case", REFERENCE["schedules"], ids=lambda c: c["torch"].split(".")[-1][:60])
def test_same_learning_rates_as_torch(case):
    schedule = kai_schedule(case)
    ours = np.array([schedule(t) for t in range(1, case["steps"] + 1)])
    ref = np.array(case["lr"])
    assert ours.shape == ref.shape == (case["steps"],)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    if case["schedule"] != "constant":
        assert ref[-1] < 0.5 * ref.max()  # the reference really decays: the test could fail


# --- worked out by hand ------------------------------------------------------------

def test_values_by_hand():
    assert schedules.constant(0.3)(7) == 0.3
    drop = schedules.step_decay(0.1, every=3, factor=0.5)
    assert [drop(t) for t in range(1, 8)] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    assert schedules.exponential(2.0, factor=0.5)(4) == 0.25
    assert schedules.inverse_sqrt(0.3)(9) == pytest.approx(0.1, abs=1e-15)
    assert schedules.inverse_time(0.3)(3) == pytest.approx(0.1, abs=1e-15)
    assert schedules.inverse_time(1.0, decay=0.1)(11) == pytest.approx(0.5, abs=1e-15)
    cos = schedules.cosine(1.0, total=2, final=0.2)
    assert [cos(t) for t in (1, 2, 3, 4)] == pytest.approx([1.0, 0.6, 0.2, 0.2], abs=1e-15)
    # a run of steps == total never reaches final, so the default final=0 can fill a run
    assert schedules.cosine(0.1, total=300)(300) > 0


def test_warmup_composes_with_any_schedule():
    for inner in (schedules.constant(0.2), schedules.step_decay(0.2, every=4, factor=0.1),
                  schedules.cosine(0.2, total=10), schedules.inverse_sqrt(0.2)):
        eta = schedules.warmup(inner, steps=5)
        assert [eta(t) for t in range(1, 6)] == pytest.approx([0.04, 0.08, 0.12, 0.16, 0.2], abs=1e-15)
        assert [eta(t) for t in range(6, 20)] == [inner(t) for t in range(1, 15)]
    twice = schedules.warmup(schedules.warmup(schedules.constant(1.0), 2), 2)
    assert [twice(t) for t in range(1, 6)] == [0.25, 0.5, 0.5, 1.0, 1.0]
    assert "warmup(cosine(0.1, total=10" in repr(schedules.warmup(schedules.cosine(0.1, total=10), 3))


def test_decays_are_monotone_and_positive():
    for eta in (schedules.step_decay(1.0, 5, 0.3), schedules.exponential(1.0, 0.9), schedules.inverse_sqrt(1.0),
                schedules.inverse_time(1.0, 0.5), schedules.cosine(1.0, 50, final=0.01)):
        values = np.array([eta(t) for t in range(1, 60)])
        assert np.all(values > 0) and np.all(np.diff(values) <= 0)


# --- bad input ---------------------------------------------------------------------

BAD = [
    (lambda: schedules.constant(-0.1), "lr"),
    (lambda: schedules.constant(0.0), "lr"),
    (lambda: schedules.constant(float("nan")), "lr"),
    (lambda: schedules.constant(float("inf")), "lr"),
    (lambda: schedules.step_decay(0.1, every=0, factor=0.5), "every"),
    (lambda: schedules.step_decay(0.1, every=2.5, factor=0.5), "every"),
    (lambda: schedules.step_decay(0.1, every=True, factor=0.5), "every"),
    (lambda: schedules.step_decay(0.1, every=10, factor=0.0), "factor"),
    (lambda: schedules.step_decay(0.1, every=10, factor=1.5), "factor"),
    (lambda: schedules.step_decay(-1.0, every=10, factor=0.5), "lr"),
    (lambda: schedules.exponential(0.1, factor=-0.5), "factor"),
    (lambda: schedules.exponential(0.1, factor=float("nan")), "factor"),
    (lambda: schedules.inverse_sqrt(float("-inf")), "lr"),
    (lambda: schedules.inverse_time(0.1, decay=0.0), "decay"),
    (lambda: schedules.inverse_time(0.1, decay=-1.0), "decay"),
    (lambda: schedules.cosine(0.1, total=0), "total"),
    (lambda: schedules.cosine(0.1, total=100, final=0.2), "final"),
    (lambda: schedules.cosine(0.1, total=100, final=-0.01), "final"),
    (lambda: schedules.cosine(float("nan"), total=100), "lr"),
    (lambda: schedules.warmup(schedules.constant(0.1), steps=0), "steps"),
    (lambda: schedules.warmup(lambda t: -1.0, steps=5), "schedule"),
    (lambda: schedules.constant(0.1)(0), "t"),
    (lambda: schedules.constant(0.1)(1.5), "t"),
]


@pytest.mark.parametrize("make, name", BAD, ids=[f"{name}-{i}" for i, (_, name) in enumerate(BAD)])
def test_bad_input_names_the_argument(make, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        make()


def test_warmup_of_a_non_callable_is_a_type_error():
    with pytest.raises(TypeError, match="schedule must be a callable"):
        schedules.warmup(0.1, steps=5)


# --- run(schedule=) ------------------------------------------------------------------

class SpySGD(optimizers.SGD):
    """SGD that writes down the lr each step ran with."""

    def reset(self):
        super().reset()
        self.seen = []

    def step(self, theta, grad_fn):
        self.seen.append(self.lr)
        return super().step(theta, grad_fn)


def test_run_sets_lr_before_each_step_and_restores_it():
    opt = SpySGD(lr=0.05)
    eta = schedules.step_decay(0.1, every=3, factor=0.5)
    traj = run(opt, surfaces.RAVINE, steps=8, schedule=eta)
    assert opt.seen == [eta(t) for t in range(1, 9)]
    assert traj.steps == 8
    assert opt.lr == 0.05 and opt.hyperparameters() == {"lr": 0.05}


def test_run_with_a_schedule_matches_a_hand_written_loop():
    eta = schedules.warmup(schedules.cosine(0.3, total=40), steps=10)
    starts = np.array([[-5.0, -2.0], [-3.0, 1.5], [1.0, -1.0]])
    for make in (lambda: optimizers.Adam(lr=0.3), lambda: optimizers.Momentum(lr=0.01, gamma=0.8),
                 lambda: optimizers.RMSProp(lr=0.01)):
        traj = run(make(), surfaces.RAVINE, start=starts, steps=50, schedule=eta)
        assert not traj.diverged.any()
        opt, theta, path = make(), starts, [starts]
        for t in range(1, 51):
            opt.lr = eta(t)
            theta = opt.step(theta, surfaces.RAVINE.grad)
            path.append(theta)
        np.testing.assert_allclose(traj.path, np.array(path), rtol=0, atol=0)


def test_a_constant_schedule_changes_nothing():
    plain = run(optimizers.Adagrad(lr=0.4), surfaces.BEALE, steps=100)
    scheduled = run(optimizers.Adagrad(lr=1.0), surfaces.BEALE, steps=100, schedule=schedules.constant(0.4))
    np.testing.assert_array_equal(plain.path, scheduled.path)


def test_schedule_on_adadelta_is_refused():
    with pytest.raises(ValueError, match="schedule must be None for AdaDelta, which has no learning rate lr"):
        run(optimizers.AdaDelta(), surfaces.BEALE, steps=10, schedule=schedules.constant(0.1))


def test_schedule_must_be_callable():
    with pytest.raises(TypeError, match="schedule must be a callable"):
        run(optimizers.SGD(), surfaces.BEALE, steps=10, schedule=0.1)


@pytest.mark.parametrize("bad, step", [(float("nan"), 5), (float("inf"), 5), (-0.1, 5), (True, 5)])
def test_a_bad_value_at_some_step_names_schedule_and_step(bad, step):
    opt = SpySGD(lr=0.02)
    with pytest.raises(ValueError, match=rf"^schedule\({step}\) must be a finite number >= 0, got"):
        run(opt, surfaces.BEALE, steps=10, schedule=lambda t: 0.01 if t < step else bad)
    assert opt.seen == [0.01] * (step - 1)  # steps 1 … step-1 ran with the schedule
    assert opt.lr == 0.02                   # and the lr came back even though the run raised


def test_cosine_past_its_total_reaches_zero_and_the_run_stands_still_there():
    # torch steps with lr 0 too: a schedule that reaches 0 is legitimate, not an error after the work
    traj = run(optimizers.SGD(), surfaces.BEALE, steps=30, schedule=schedules.cosine(0.01, total=20))
    assert traj.steps == 30 and not traj.diverged
    np.testing.assert_array_equal(traj.path[21:], np.broadcast_to(traj.path[21], traj.path[21:].shape))


def test_a_decay_that_underflows_completes_with_lr_zero():
    """Family 8: exponential(0.001, 0.5) underflows to 0 near step 1,067; the run completes."""
    eta = schedules.exponential(0.001, factor=0.5)
    assert eta(1200) == 0.0
    opt = optimizers.SGD(lr=0.02)
    traj = run(opt, "beale", steps=1200, schedule=eta)
    assert traj.steps == 1200 and not traj.diverged and opt.lr == 0.02


def test_hyperparameters_restored_when_the_schedule_itself_raises():
    opt = optimizers.Adam(lr=0.07, beta1=0.8)

    def broken(t):
        if t == 3:
            raise RuntimeError("boom")
        return 0.5

    with pytest.raises(RuntimeError):
        run(opt, surfaces.BEALE, steps=10, schedule=broken)
    assert (opt.lr, opt.beta1, opt.beta2, opt.eps) == (0.07, 0.8, 0.999, 1e-8)


def test_schedule_stops_cleanly_at_divergence():
    # SGD on Beale diverges at lr 0.1; the schedule keeps growing lr, the run still just stops
    traj = run(optimizers.SGD(lr=0.01), surfaces.BEALE, steps=200, schedule=lambda t: 0.01 * t)
    assert traj.diverged and 0 < traj.diverged_at <= 200


# --- the slide's Momentum against PyTorch's, under a step decay ------------------------

CASE = REFERENCE["momentum_step_decay"]
SURFACE = surfaces.get(CASE["surface"])
DROP = schedules.step_decay(CASE["lr"], every=CASE["every"], factor=CASE["factor"])


def both_forms():
    slide = run(optimizers.Momentum(lr=CASE["lr"], gamma=CASE["gamma"]), SURFACE, steps=CASE["steps"], schedule=DROP)
    torch_form = run(optimizers.TorchMomentum(lr=CASE["lr"], gamma=CASE["gamma"]), SURFACE, steps=CASE["steps"],
                     schedule=DROP)
    return slide.path, torch_form.path


def test_torch_form_matches_torch_sgd_momentum_under_steplr():
    assert CASE["lr_per_step"] == pytest.approx([DROP(t) for t in range(1, CASE["steps"] + 1)], abs=1e-15)
    _, torch_form = both_forms()
    np.testing.assert_allclose(torch_form, np.array(CASE["path"]), rtol=0, atol=1e-12)


def test_the_two_forms_agree_before_the_drop_and_part_after():
    slide, torch_form = both_forms()
    gap = np.linalg.norm(slide - torch_form, axis=-1)
    every = CASE["every"]
    assert gap[: every + 1].max() < 1e-12          # points 0 … every: the same run
    assert gap[every + 1] > 1e-3                   # the first step at the new lr already differs
    assert gap[every + 1:].max() > 0.05            # and by a visible amount (the ravine is ~5 across)
    # just after the drop the slide's v still carries the old lr: its step is the larger one
    step_slide = np.linalg.norm(slide[every + 1] - slide[every])
    step_torch = np.linalg.norm(torch_form[every + 1] - torch_form[every])
    assert step_slide > step_torch


def test_torch_form_equals_the_slide_form_at_constant_lr():
    a = run(optimizers.Momentum(lr=0.1, gamma=0.9), SURFACE, steps=100).path
    b = run(optimizers.TorchMomentum(lr=0.1, gamma=0.9), SURFACE, steps=100).path
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_torch_momentum_state_and_checks():
    opt = optimizers.TorchMomentum(lr=0.1, gamma=0.5)
    theta = opt.step(np.array([1.0, -2.0]), lambda th: 2 * th)
    np.testing.assert_allclose(opt.buf, [2.0, -4.0])
    np.testing.assert_allclose(theta, [0.8, -1.6])
    opt.reset()
    assert opt.buf is None
    with pytest.raises(ValueError, match="^gamma"):
        optimizers.TorchMomentum(gamma=1.0)
    with pytest.raises(ValueError, match="^lr"):
        optimizers.TorchMomentum(lr=-1.0)


# --- the panel -----------------------------------------------------------------------

def test_plot_schedule_draws_eta_t_beside_the_paths():
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2)
    eta = schedules.step_decay(0.1, every=50, factor=0.5)
    plot_paths(SURFACE, {"Momentum": run(optimizers.Momentum(lr=0.1), SURFACE, steps=100, schedule=eta)}, ax=ax1)
    lines = plot_schedule({"Momentum": eta, "cosine": schedules.cosine(0.1, total=100)}, 100, ax=ax2)
    x, y = lines["Momentum"].get_data()
    assert x[0] == 0 and x[-1] == 100 and len(y) == 101
    assert y[0] == y[49] == 0.1 and y[50] == 0.05            # eta_t drawn from t - 1 to t
    assert lines["Momentum"].get_color() != lines["cosine"].get_color()
    assert ax2.get_ylabel().startswith("learning rate")
    single = plot_schedule(schedules.inverse_sqrt(1.0), 10, log=True)
    assert list(single) == [""] and single[""].axes.get_yscale() == "log"
    with pytest.raises(ValueError, match="^steps"):
        plot_schedule(eta, 0)
    with pytest.raises(TypeError, match="^schedules"):
        plot_schedule({"x": 0.1}, 10)
    plt.close("all")


def test_every_schedule_has_its_formula_and_torch_class_in_the_docstring():
    for name in set(schedules.__all__) - {"Schedule"}:
        doc = getattr(schedules, name).__doc__
        assert ".. math::" in doc and "torch.optim.lr_scheduler" in doc and ">>>" in doc, name
    assert math.isclose(schedules.cosine(1.0, total=4)(3), 0.5)


# --- nn.train(schedule=) ---------------------------------------------------------------

def test_nn_train_honours_a_schedule_from_kai_lib_schedules():
    from kai_lib import data, nn

    X, y = data.moons(n=64, noise=0.2, seed=0)
    net = nn.MLP([2, 8, 2], activation="tanh", seed=0)
    eta = schedules.warmup(schedules.cosine(0.5, total=8), steps=4)   # 4 steps per epoch, 3 epochs
    spy = SpySGD(lr=0.05)
    hist = nn.train(spy, net, X, y, epochs=3, batch_size=16, seed=0, schedule=eta)
    expected = [eta(t) for t in range(1, 13)]
    assert spy.seen == expected
    np.testing.assert_array_equal(hist.lr_per_step, expected)
    assert spy.lr == 0.05 and spy.hyperparameters() == {"lr": 0.05}
    # a constant schedule is the plain run; a decaying one is a different run
    plain = nn.train(optimizers.SGD(lr=0.3), net, X, y, epochs=3, batch_size=16, seed=0)
    same = nn.train(optimizers.SGD(lr=1.0), net, X, y, epochs=3, batch_size=16, seed=0,
                    schedule=schedules.constant(0.3))
    np.testing.assert_array_equal(plain.loss_per_step, same.loss_per_step)
    decayed = nn.train(optimizers.SGD(lr=0.3), net, X, y, epochs=3, batch_size=16, seed=0,
                       schedule=schedules.step_decay(0.3, every=4, factor=0.1))
    np.testing.assert_array_equal(decayed.loss_per_step[:5], plain.loss_per_step[:5])  # step 5 runs at 0.03
    assert not np.allclose(decayed.loss_per_step[5:], plain.loss_per_step[5:])
    with pytest.raises(ValueError, match="schedule must be None for AdaDelta"):
        nn.train(optimizers.AdaDelta(), net, X, y, epochs=1, schedule=schedules.constant(0.1))
    past_its_end = nn.train(optimizers.SGD(), net, X, y, epochs=3, batch_size=16,
                            schedule=schedules.cosine(0.1, total=5))   # lr 0 after step 6: trains on, standing still
    assert past_its_end.epochs == 3 and past_its_end.lr_per_step[-1] == 0.0


def test_the_docstring_examples_run():
    import doctest

    assert doctest.testmod(schedules, raise_on_error=False).failed == 0
    assert doctest.testmod(schedules).attempted >= 8


def test_the_fair_sweep_takes_a_schedule():
    from kai_lib.studies import comparison
    from kai_lib.studies.races import RACES

    cos = comparison.sweep("beale", ["RMSProp"], steps=30, schedule=lambda lr, steps: schedules.cosine(lr, total=steps))
    starts = comparison.start_points()["beale"]
    for lr, sc in zip(comparison.LRS, cos.scores["RMSProp"], strict=True):
        traj = run(optimizers.RMSProp(lr=lr), RACES["beale"].surface, start=starts, steps=30,
                   schedule=schedules.cosine(lr, total=30))
        assert comparison.score("beale", traj)[0] == sc
    flat = comparison.sweep("beale", ["RMSProp"], steps=30, schedule=lambda lr, steps: schedules.constant(lr))
    plain = comparison.sweep("beale", ["RMSProp"], steps=30)
    np.testing.assert_array_equal(flat.scores["RMSProp"], plain.scores["RMSProp"])
    assert not np.array_equal(cos.scores["RMSProp"], plain.scores["RMSProp"])
