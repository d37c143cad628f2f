"""Static plots: contours, paths, the 3-D view, and the one colour per optimizer."""


import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.contour import QuadContourSet

from kai_lib import (
    COLORS,
    animate,
    checks,
    color_for,
    optimizers,
    plot_contours,
    plot_paths,
    plot_surface_3d,
    run,
    save_gif,
    surfaces,
)
from kai_lib.pictures.plotting import contour_levels, divergence_mark

pytestmark = [pytest.mark.usefixtures("no_show_and_close"),  # tests/conftest.py
              pytest.mark.filterwarnings("error")]  # every warning fails a test here (-W error)


def test_every_optimizer_has_its_own_colour():
    assert set(COLORS) == set(optimizers.ALL) | set(optimizers.SECOND_ORDER) | set(optimizers.AFTER_ADAM)
    assert len(set(COLORS.values())) == len(COLORS)
    # a name of several words, and a name that begins another (Adam, AdamW) keep their own colours
    assert color_for("Schedule-Free SGD  η=2") == COLORS["Schedule-Free SGD"] != COLORS["Schedule-Free AdamW"]
    assert color_for("AdamW  η=0.01") == COLORS["AdamW"] and color_for("Adam  η=0.01") == COLORS["Adam"]
    assert color_for("Adamx", 0) == color_for("η = 0.1", 0)  # a longer word names no optimizer
    momentum = COLORS["Momentum"]
    assert color_for("Momentum") == color_for("Momentum, γ = 0.5") == color_for("momentum (torch form)") == momentum
    assert color_for("AdaDelta") != color_for("Adam")
    assert color_for("η = 0.1", 0) != color_for("η = 0.5", 1)


@pytest.mark.parametrize("name", list(surfaces.ALL))
def test_plot_contours_draws_the_view_and_returns_the_contours(name):
    s = surfaces.ALL[name]
    lines = plot_contours(s)
    assert isinstance(lines, QuadContourSet)
    ax = lines.axes
    assert ax.get_xlim() == s.xlim and ax.get_ylim() == s.ylim
    assert ax.get_title() == s.title
    markers = [line for line in ax.lines if line.get_marker() in ("*", "o")]
    assert len(markers) == (2 if len(s.minima) else 1)  # minimisers and start


def test_levels_are_log_spaced_where_values_span_decades():
    beale = contour_levels(surfaces.BEALE)
    gaps = np.diff(beale)
    ratios = gaps[1:] / gaps[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    assert beale[-1] / beale[0] > 1e3
    saddle = contour_levels(surfaces.SADDLE)
    np.testing.assert_allclose(np.diff(saddle), np.diff(saddle)[0])
    assert saddle[0] < 0 < saddle[-1]


def test_plot_contours_uses_the_given_axes():
    fig, (a, b) = plt.subplots(1, 2)
    assert plot_contours(surfaces.RAVINE, ax=b).axes is b
    assert not a.collections


def test_plot_paths_labels_colours_and_diverged_marks():
    s = surfaces.RAVINE
    trajs = {"SGD": run(optimizers.SGD(lr=0.1), s, steps=30),
             "Momentum": run(optimizers.Momentum(lr=0.1), s, steps=30),
             "SGD, η = 2": run(optimizers.SGD(lr=2.0), s, steps=300)}
    assert trajs["SGD, η = 2"].diverged
    drawn = plot_paths(s, trajs)
    assert list(drawn) == list(trajs)
    for label, lines in drawn.items():
        assert len(lines) == 1
        assert lines[0].get_color() == color_for(label)
        np.testing.assert_array_equal(lines[0].get_xydata(), trajs[label].path)
    ax = drawn["SGD"][0].axes
    crosses = [line for line in ax.lines if line.get_marker() == "X"]
    assert len(crosses) == 1
    x, y = crosses[0].get_xydata()[0]
    # the run ends ~1e150 away: the cross sits on the view's edge, where the path leaves it
    assert s.xlim[0] <= x <= s.xlim[1] and s.ylim[0] <= y <= s.ylim[1]
    assert np.isclose(abs(y), s.ylim[1]) or np.isclose(x, s.xlim[0]) or np.isclose(x, s.xlim[1])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(trajs)


def test_divergence_mark_is_the_last_point_or_where_the_path_leaves_the_view():
    view = ((-1, 1), (-1, 1))
    inside = np.array([[0.0, 0.0], [0.5, 0.2]])
    np.testing.assert_array_equal(divergence_mark(inside, *view), [0.5, 0.2])
    leaving = np.array([[0.0, 0.0], [0.5, 0.0], [3.0, 0.5], [1e9, -1e9]])
    np.testing.assert_allclose(divergence_mark(leaving, *view), [1.0, 0.1])  # on the segment (0.5,0)-(3,0.5)
    outside = np.array([[5.0, 5.0], [7.0, 9.0]])
    np.testing.assert_array_equal(divergence_mark(outside, *view), [1.0, 1.0])


def test_the_runs_own_start_points_are_marked():
    s = surfaces.RAVINE
    drawn = plot_paths(s, {"SGD": run(optimizers.SGD(lr=0.1), s, start=[1.0, 2.0], steps=5)})
    ax = drawn["SGD"][0].axes
    starts = [line for line in ax.lines if line.get_label() == "_start"]
    np.testing.assert_array_equal(starts[0].get_xydata(), [[1.0, 2.0]])


def test_plot_paths_takes_a_single_trajectory_and_a_batch():
    s = surfaces.HIMMELBLAU
    drawn = plot_paths(s, run(optimizers.Adam(lr=0.1), s, steps=20))
    assert len(drawn[""]) == 1
    batch = run(optimizers.Adam(lr=0.1), s, start=[[0, 0], [1, -1], [-1, 1]], steps=20)
    drawn = plot_paths(s, {"Adam": batch})
    assert len(drawn["Adam"]) == 3 and {line.get_color() for line in drawn["Adam"]} == {COLORS["Adam"]}


def test_plot_paths_of_a_run_that_diverged_at_once():
    s = surfaces.BEALE
    traj = run(optimizers.SGD(lr=1e300), s, steps=10)
    assert traj.diverged and traj.path.shape == (1, 2)
    drawn = plot_paths(s, {"SGD": traj})
    assert drawn["SGD"][0].get_xydata().shape == (1, 2)


def test_plot_surface_3d():
    s = surfaces.SADDLE
    surf = plot_surface_3d(s, {"Adam": run(optimizers.Adam(lr=0.05), s, steps=50)})
    ax = surf.axes
    assert ax.name == "3d"
    assert len(ax.lines) == 1 and ax.get_zlabel() == "$J$"


def test_colors_tell_two_runs_of_one_optimizer_apart():
    s = surfaces.RAVINE
    trajs = {"Momentum, γ = 0.5": run(optimizers.Momentum(lr=0.1, gamma=0.5), s, steps=20),
             "Momentum, γ = 0.9": run(optimizers.Momentum(lr=0.1, gamma=0.9), s, steps=20)}
    lines = plot_paths(s, trajs, colors={"Momentum, γ = 0.5": "#98df8a"})
    assert lines["Momentum, γ = 0.5"][0].get_color() == "#98df8a"
    assert lines["Momentum, γ = 0.9"][0].get_color() == COLORS["Momentum"]


def test_linestyles_tell_two_runs_of_one_optimizer_apart_in_greyscale():
    s = surfaces.RAVINE
    trajs = {"Momentum, γ = 0.5": run(optimizers.Momentum(lr=0.1, gamma=0.5), s, steps=20),
             "Momentum, γ = 0.9": run(optimizers.Momentum(lr=0.1, gamma=0.9), s, steps=20),
             "NAG": run(optimizers.NAG(lr=0.1), s, steps=20)}
    lines = plot_paths(s, trajs, linestyles={"Momentum, γ = 0.5": ":"})
    assert lines["Momentum, γ = 0.5"][0].get_linestyle() == ":"
    assert lines["Momentum, γ = 0.9"][0].get_linestyle() == "-"  # the others keep their optimizer's
    assert lines["NAG"][0].get_linestyle() == "--"
    legend = lines["NAG"][0].axes.get_legend().get_lines()
    assert [line.get_linestyle() for line in legend] == [":", "-", "--"]  # and the legend shows them
    custom = plot_paths(s, trajs, linestyles={"Momentum, γ = 0.9": (0, (5, 2))})
    assert custom["Momentum, γ = 0.9"][0].get_linestyle() == "--"  # a dash pattern of its own
    with pytest.raises(TypeError, match="linestyles must be a mapping"):
        plot_paths(s, trajs, linestyles="--")
    with pytest.raises(ValueError, match=r"linestyles\['NAG'\] must be a matplotlib line style"):
        plot_paths(s, trajs, linestyles={"NAG": "dashes"})


def test_a_colour_means_the_same_thing_in_every_picture():
    from kai_lib.pictures.plotting import NEUTRAL, SCHEDULE_COLORS

    owned = {c.lower() for c in COLORS.values()}
    schedules_ = {c.lower() for c in SCHEDULE_COLORS.values()}
    neutral = {c.lower() for c in NEUTRAL}
    assert len(schedules_) == len(SCHEDULE_COLORS) and len(neutral) == len(NEUTRAL)
    assert not owned & schedules_ and not owned & neutral and not schedules_ & neutral
    # a schedule has one colour wherever it is drawn (notebooks 02 and 05 draw the same 1/t)
    assert color_for("1/t: η = 0.1 / (1 + 0.05 (t − 1))") == SCHEDULE_COLORS["1/t"]
    assert color_for("pure 1/t: η = 0.1 / t") == SCHEDULE_COLORS["pure 1/t"] != SCHEDULE_COLORS["1/t"]
    assert color_for("cosine from η = 0.32") == SCHEDULE_COLORS["cosine"]
    assert color_for("SGD, tuned 1/t") == COLORS["SGD"]  # an optimizer's name comes first
    assert color_for("solve H (measured)", 3) == NEUTRAL[3]
    # matplotlib's own cycle, for a curve drawn without a colour, is the neutral one
    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == NEUTRAL


def test_shades_of_an_optimizer_run_from_dark_to_light_around_its_colour():
    from matplotlib.colors import rgb_to_hsv, to_rgb

    from kai_lib.pictures.plotting import shades

    for name in ("RMSProp", "L-BFGS", "Adam", "AdaDelta"):
        for n in (1, 3, 4, 5):
            found = shades(name, n)
            values = [rgb_to_hsv(to_rgb(c))[2] for c in found]
            assert len(set(found)) == n and values == sorted(values), (name, n, found)
            if n % 2:
                assert found[n // 2] == COLORS[name].lower()
    with pytest.raises(ValueError, match="n must be"):
        shades("Adam", 0)


# --- far starts, and arguments checked up front ---------------------------------------------------

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
]


@pytest.mark.parametrize("call,error,match", BAD_PLOTS, ids=[m for _, _, m in BAD_PLOTS])
def test_plot_arguments_are_checked_up_front(adam_on_beale, call, error, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=match):
        call(adam_on_beale)
    assert list(tmp_path.iterdir()) == []  # nothing written
