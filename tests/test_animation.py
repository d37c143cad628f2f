"""Racing animations: set_data only, sub-sampled frames, divergence marks, GIFs and the player."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402
from PIL import Image, ImageChops  # noqa: E402

from kai_lib import animate, optimizers, run, save_gif, show, surfaces  # noqa: E402
from kai_lib.animation import ANIMATION_MODE_ENV, frame_steps  # noqa: E402


@pytest.fixture(autouse=True)
def close_all():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def race():
    s = surfaces.RAVINE
    return s, {"SGD": run(optimizers.SGD(lr=0.1), s, steps=300),
               "Momentum": run(optimizers.Momentum(lr=0.1), s, steps=300),
               "SGD, η = 2": run(optimizers.SGD(lr=2.0), s, steps=300)}


def test_frame_steps_cover_the_run_evenly():
    steps = frame_steps(300, 60)
    assert len(steps) == 60 and steps[0] == 0 and steps[-1] == 300
    assert np.all(np.diff(steps) > 0)
    np.testing.assert_array_equal(frame_steps(10, 60), np.arange(11))  # short runs: every step
    slow_start = frame_steps(300, 60, pace=2.0)
    assert len(slow_start) == 60 and slow_start[0] == 0 and slow_start[-1] == 300
    assert np.all(np.diff(slow_start) > 0)
    assert np.diff(slow_start)[:5].max() < np.diff(slow_start)[-5:].min()  # early steps in slow motion


def test_animate_returns_a_funcanimation_revealing_each_path(race):
    s, trajs = race
    anim = animate(s, trajs, frames=40)
    assert isinstance(anim, FuncAnimation)
    assert len(anim.steps_shown) == 40 and anim.steps_shown[-1] == 300
    ax = anim._fig.axes[0]
    background = (len(ax.collections), len(ax.lines))
    anim._init()
    for i in (0, 10, 39):
        k = anim.steps_shown[i]
        anim._draw_frame_at(i)
        for label, traj in trajs.items():
            trail, head = anim.trails[label][0], anim.heads[label][0]
            shown = min(k, len(traj.path) - 1)
            np.testing.assert_array_equal(trail.get_xydata(), traj.path[: shown + 1])
            np.testing.assert_array_equal(head.get_xydata()[0], traj.path[shown])
        assert anim.counter.get_text() == f"step {k} / 300"
    assert (len(ax.collections), len(ax.lines)) == background  # nothing re-plotted per frame


def test_a_diverged_run_stops_and_gets_a_cross_when_the_race_reaches_it(race):
    s, trajs = race
    anim = animate(s, trajs, frames=60)
    (cross, last), = anim.crosses["SGD, η = 2"]
    assert last == len(trajs["SGD, η = 2"].path) - 1
    anim._init()
    before = int(np.searchsorted(anim.steps_shown, last)) - 1  # the last frame before the race gets there
    anim._draw_frame_at(before)
    assert not cross.get_visible()
    anim._draw_frame_at(len(anim.steps_shown) - 1)
    assert cross.get_visible()
    assert anim.crosses["SGD"] == []


def test_animate_takes_a_single_trajectory_and_a_batch():
    s = surfaces.HIMMELBLAU
    anim = animate(s, run(optimizers.Adam(lr=0.1), s, steps=30))
    assert anim.trails.keys() == {""}
    batch = run(optimizers.Adam(lr=0.1), s, start=[[0, 0], [1, -1]], steps=30)
    anim = animate(s, {"Adam": batch})
    assert len(anim.trails["Adam"]) == 2
    with pytest.raises(ValueError, match="trajs must hold at least one trajectory"):
        animate(s, {})


def gif_frames(path):
    im = Image.open(path)
    frames = []
    for i in range(im.n_frames):
        im.seek(i)
        frames.append(im.convert("RGB"))
    return frames


def test_save_gif_writes_a_small_deterministic_gif(race, tmp_path):
    s, trajs = race
    a = save_gif(animate(s, trajs, frames=60), tmp_path / "a.gif")
    b = save_gif(animate(s, trajs, frames=60), tmp_path / "b.gif")
    assert a.read_bytes()[:6] == b"GIF89a"
    assert a.read_bytes() == b.read_bytes()
    assert a.stat().st_size < 300 * 1024
    frames = gif_frames(a)
    assert len(frames) == 60
    assert frames[0].size == (504, 374)  # 7 × 5.2 in at 72 dpi
    # every frame moves
    assert all(ImageChops.difference(f, g).getbbox() for f, g in zip(frames, frames[1:], strict=False))


def test_save_gif_wants_a_gif_path(race, tmp_path):
    s, trajs = race
    with pytest.raises(ValueError, match="path must end in .gif"):
        save_gif(animate(s, trajs), tmp_path / "a.mp4")


def test_show_gif_and_player_close_the_figure(race, monkeypatch):
    s, trajs = race
    shown = show(animate(s, trajs, frames=10), mode="gif")
    bundle = shown._repr_mimebundle_()
    assert set(bundle) == {"image/gif", "text/plain"}
    assert plt.get_fignums() == []
    player = show(animate(s, trajs, frames=10), mode="jshtml")
    html = player._repr_html_()
    assert "animation" in html and html.count("data:image/png;base64") == 10
    assert plt.get_fignums() == []
    monkeypatch.setenv(ANIMATION_MODE_ENV, "gif")
    assert "image/gif" in show(animate(s, trajs, frames=5))._repr_mimebundle_()
    with pytest.raises(ValueError, match="mode must be 'jshtml' or 'gif'"):
        show(animate(s, trajs, frames=5), mode="mp4")


def test_any_funcanimation_can_be_saved(tmp_path):
    fig, ax = plt.subplots(figsize=(2, 2))
    (line,) = ax.plot([], [])
    ax.set(xlim=(0, 3), ylim=(0, 3))
    anim = FuncAnimation(fig, lambda i: line.set_data([0, i], [0, i]) or (line,), frames=3)
    path = save_gif(anim, tmp_path / "plain.gif")
    assert len(gif_frames(path)) == 3
    assert Image.open(io.BytesIO(path.read_bytes())).format == "GIF"


def test_colors_tell_two_runs_of_one_optimizer_apart():
    s = surfaces.RAVINE
    trajs = {"Momentum, γ = 0.5": run(optimizers.Momentum(lr=0.1, gamma=0.5), s, steps=20),
             "Momentum, γ = 0.9": run(optimizers.Momentum(lr=0.1, gamma=0.9), s, steps=20)}
    anim = animate(s, trajs, frames=5, colors={"Momentum, γ = 0.5": "#98df8a"})
    assert anim.trails["Momentum, γ = 0.5"][0].get_color() == "#98df8a"
    assert anim.trails["Momentum, γ = 0.9"][0].get_color() == "#2ca02c"  # Momentum's own, from color_for
    assert "#98df8a" in anim.colors  # kept exact in the GIF's palette
