"""The explanatory pictures: they draw the library's own steps, return their artists, never show."""


import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.artist import Artist

from kai_lib import optimizers, run, surfaces
from kai_lib.pictures import diagrams

RAVINE = surfaces.RAVINE
THETA, V = np.array([-4.8, -0.4]), np.array([-0.2, -1.6])  # one Momentum step (η 0.2, γ 0.9) from (−5, −2)


pytestmark = pytest.mark.usefixtures("no_show_and_close")  # tests/conftest.py


def test_lookahead_points_are_worked_out_by_hand():
    p = diagrams.lookahead_points(THETA, V, lr=0.2, gamma=0.9)
    # look-ahead θ − γv = (−4.8 + 0.18, −0.4 + 1.44); ∇J = (0.2x, 4y)
    np.testing.assert_allclose(p["lookahead"], [-4.62, 1.04])
    np.testing.assert_allclose(p["Momentum"], [-4.62 - 0.2 * 0.2 * -4.8, 1.04 - 0.2 * 4 * -0.4])  # (−4.428, 1.36)
    np.testing.assert_allclose(p["NAG"], [-4.62 - 0.2 * 0.2 * -4.62, 1.04 - 0.2 * 4 * 1.04])      # (−4.4352, 0.208)


@pytest.mark.parametrize("method", ["Momentum", "NAG"])
def test_draw_nag_lookahead_returns_its_artists_and_ends_at_the_library_step(method):
    fig, ax = plt.subplots()
    out = diagrams.draw_nag_lookahead(ax, method=method, theta=THETA, v=V, lr=0.2, gamma=0.9, previous=[-5, -2])
    assert {"momentum_step", "gradient_step", "step", "theta", "new_theta", "new_theta_label"} <= set(out)
    assert ("lookahead" in out) == (method == "NAG")
    assert all(isinstance(a, Artist) and a.axes is ax for a in out.values())
    opt = optimizers.ALL[method](lr=0.2, gamma=0.9)
    opt.v = V.copy()
    expected = opt.step(THETA, RAVINE.grad)
    np.testing.assert_allclose(np.ravel(out["new_theta"].get_data()), expected)
    np.testing.assert_allclose(out["step"].xy, expected)          # the thick arrow ends there
    assert f"{expected[1]:+.2f}" in out["new_theta_label"].get_text()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert x0 < -5 < expected[0] < x1 and y0 < -2 < expected[1] < y1  # the default view shows every point


def test_draw_nag_lookahead_makes_an_axes_and_keeps_a_given_view():
    out = diagrams.draw_nag_lookahead(method="NAG", theta=THETA, v=V, lr=0.2, gamma=0.9, xlim=(-6, 0), ylim=(-3, 3))
    ax = out["step"].axes
    assert ax.get_xlim() == (-6, 0) and ax.get_ylim() == (-3, 3)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(method="Adam"), ValueError, "method must be one of Momentum, NAG"),
    (dict(theta=[1.0, 2.0, 3.0]), ValueError, "theta must be a finite point"),
    (dict(v=[np.nan, 0.0]), ValueError, "v must be a finite point"),
    (dict(lr=0.0), ValueError, "lr must be finite and > 0"),
    (dict(gamma=1.0), ValueError, "gamma must be finite and in [0, 1)"),
    (dict(lr="fast"), TypeError, "lr must be a number"),
    (dict(previous=[0.0]), ValueError, "previous must be a finite point"),
])
def test_draw_nag_lookahead_checks_its_arguments(kwargs, error, words):
    args = dict(method="NAG", theta=THETA, v=V, lr=0.2, gamma=0.9) | kwargs
    with pytest.raises(error, match=words.replace("[", r"\[").replace(")", r"\)")):
        diagrams.draw_nag_lookahead(**args)


def test_steps_inside_view():
    inside = run(optimizers.SGD(lr=0.05), RAVINE, steps=30)
    assert diagrams.steps_inside_view(inside) == 30
    out = run(optimizers.SGD(lr=0.52), RAVINE, start=[-5.0, -0.5], steps=60)
    k = diagrams.steps_inside_view(out)
    assert 0 < k < 60 and abs(out.path[k, 1]) > RAVINE.ylim[1] >= abs(out.path[k - 1, 1])
    with pytest.raises(TypeError, match="traj must be a Trajectory"):
        diagrams.steps_inside_view(np.zeros((3, 2)))


def test_plot_log_loss_marks_the_divergence():
    trajs = {"η = 0.45": run(optimizers.SGD(lr=0.45), RAVINE, steps=200),
             "η = 0.55": run(optimizers.SGD(lr=0.55), RAVINE, steps=2500)}
    fig, ax = plt.subplots()
    lines = diagrams.plot_log_loss(trajs, ax=ax)
    assert set(lines) == set(trajs) and all(line.axes is ax for line in lines.values())
    np.testing.assert_allclose(lines["η = 0.45"].get_ydata(), np.log10(np.maximum(trajs["η = 0.45"].loss, 1e-300)))
    texts = [t.get_text() for t in ax.texts]
    assert f"diverged at step {trajs['η = 0.55'].diverged_at}" in texts
    with pytest.raises(TypeError, match="non-empty mapping"):
        diagrams.plot_log_loss({})


def test_plot_step_components_bars_are_the_steps():
    traj = run(optimizers.SGD(lr=0.45), RAVINE, steps=25)
    axes = diagrams.plot_step_components(traj, "SGD, η = 0.45")
    heights = [p.get_height() for p in axes["dy"].patches]
    np.testing.assert_allclose(heights, np.diff(traj.path[:, 1]))
    assert axes["path"].get_lines()
    with pytest.raises(TypeError, match="traj must be a Trajectory"):
        diagrams.plot_step_components("SGD", "SGD")


def test_plot_floor_profile_and_plot_escape():
    s = surfaces.LOCAL_MINIMA
    out = diagrams.plot_floor_profile(s, {-1.5: "shallow", 2.0: "global"})
    np.testing.assert_allclose(out[-1.5].get_ydata(), [s(np.array([-1.5, 0.0]))])
    with pytest.raises(TypeError, match="marks must map"):
        diagrams.plot_floor_profile(s, [-1.5])

    exact = run(optimizers.SGD(lr=0.1), s, steps=50)
    rng = np.random.default_rng(0)
    noisy = run(optimizers.SGD(lr=0.1), s, start=np.tile(s.start, (20, 1)), steps=50,
                grad_fn=lambda th: s.grad(th) + rng.normal(size=th.shape))
    axes = diagrams.plot_escape(s, exact, noisy, ridge_x=-0.9)
    assert sum(p.get_height() for p in axes["ends"].patches) == 20  # every run is counted once
    with pytest.raises(ValueError, match="batch run"):
        diagrams.plot_escape(s, exact, exact, ridge_x=-0.9)


def test_mark_ends_puts_a_dot_on_each_last_point():
    trajs = {"SGD": run(optimizers.SGD(lr=0.1), RAVINE, steps=30),
             "Adam": run(optimizers.Adam(lr=0.1), RAVINE, steps=30)}
    fig, ax = plt.subplots()
    dots = diagrams.mark_ends(trajs, ax)
    for label, traj in trajs.items():
        np.testing.assert_allclose(np.ravel(dots[label].get_data()), traj.final)
        assert dots[label].get_color() == diagrams.color_for(label)
    with pytest.raises(TypeError, match="trajs must map"):
        diagrams.mark_ends(list(trajs.values()), ax)


def test_plot_excess_loss_puts_work_on_the_right():
    from kai_lib import data as kdata

    reg = kdata.make_regression(n=100)
    surface, best = reg.surface(), float(reg.surface()(reg.minimiser()))
    trajs = {f"|B| = {b}": run(optimizers.SGD(lr=0.1), surface, steps=20, grad_fn=reg.minibatch_grad_fn(b))
             for b in (1, 100)}
    axes = diagrams.plot_excess_loss(trajs, {"|B| = 1": 1, "|B| = 100": 100}, n=100, best=best)
    full = axes["per_epoch"].get_lines()[1]
    np.testing.assert_allclose(full.get_xdata(), np.arange(1, 21))            # 1 epoch per full-batch update
    np.testing.assert_allclose(full.get_ydata(), trajs["|B| = 100"].loss[1:] - best)
    np.testing.assert_allclose(axes["per_epoch"].get_lines()[0].get_xdata(), np.arange(1, 21) / 100)
    with pytest.raises(ValueError, match="no entry for"):
        diagrams.plot_excess_loss(trajs, {"|B| = 1": 1}, n=100, best=best)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        diagrams.plot_excess_loss(trajs, {"|B| = 1": 1, "|B| = 100": 100}, n=0, best=best)


def test_plot_momentum_decay_draws_gamma_to_the_k():
    fig, ax = plt.subplots()
    lines = diagrams.plot_momentum_decay(ax, gammas=(0.5, 0.9), k_max=40, colors={0.5: "#98df8a"})
    np.testing.assert_allclose(lines[0.9].get_ydata(), 0.9 ** np.arange(41))
    assert lines[0.5].get_color() == "#98df8a" and lines[0.9].get_color() == diagrams.COLORS["Momentum"]
    assert lines[0.5].get_linestyle() == ":" and lines[0.9].get_linestyle() == "-"  # the defaults
    dashed = diagrams.plot_momentum_decay(gammas=(0.5, 0.9, 0.99), linestyles={0.5: (0, (5, 2)), 0.99: ":"})
    assert [dashed[g].get_linestyle() for g in (0.5, 0.9, 0.99)] == ["--", "-", ":"]
    assert "(horizon 10)" in lines[0.9].get_label()
    assert any("0.0985" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError, match="k_max must be an integer >= 22"):
        diagrams.plot_momentum_decay(k_max=10)
    with pytest.raises(ValueError, match="gamma must be finite"):
        diagrams.plot_momentum_decay(gammas=(1.5,))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("x", [0.0, 3.0, 1e8, -1e150])
def test_draw_nag_lookahead_of_a_state_that_does_not_move_gets_a_view(x):
    # at rest (v = 0) with a step too small to move θ, every point of the picture is θ: still a view
    # around it, never identical limits
    out = diagrams.draw_nag_lookahead(method="NAG", theta=[x, x], v=[0.0, 0.0], lr=1e-300, gamma=0.9)
    ax = out["theta"].axes
    for low, high in (ax.get_xlim(), ax.get_ylim()):
        assert low < x < high
