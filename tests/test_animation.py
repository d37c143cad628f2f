"""Racing animations: set_data only, sub-sampled frames, divergence marks, GIFs and the player."""

import io
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.animation import FuncAnimation
from PIL import Image, ImageChops

from kai_lib import animate, checks, optimizers, run, save_gif, show, surfaces
from kai_lib.pictures.animation import ANIMATION_MODE_ENV, TrajectoryAnimation, frame_steps

pytestmark = pytest.mark.filterwarnings("error")  # every warning fails a test here (-W error)


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
    with Image.open(path) as im:
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
    assert a.stat().st_size < 400 * 1024
    frames = gif_frames(a)
    assert len(frames) == 60
    assert frames[0].size == (728, 540)  # 7 × 5.2 in at 104 dpi, the notebook style
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


# --- the 3-D view -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def saddle_race():
    s = surfaces.SADDLE
    return s, {"SGD": run(optimizers.SGD(lr=0.02), s, steps=120),
               "Adam": run(optimizers.Adam(lr=0.02), s, steps=120),
               "Momentum, η = 0.3": run(optimizers.Momentum(lr=0.3), s, steps=120),  # far off the view
               "SGD, η = 2": run(optimizers.SGD(lr=2.0), surfaces.SADDLE, steps=2000)}  # diverges


def test_animate_3d_draws_the_surface_once_and_moves_the_paths(saddle_race):
    from kai_lib.pictures.animation import TrajectoryAnimation3D

    s, trajs = saddle_race
    assert trajs["SGD, η = 2"].diverged
    anim = animate(s, trajs, frames=30, view="3d", elev=30, azim=40)
    assert isinstance(anim, TrajectoryAnimation3D)
    ax = anim._fig.axes[0]
    assert ax.name == "3d" and (ax.elev, ax.azim) == (30, 40)
    background = (len(ax.collections), len(ax.lines))
    frames = list(anim.render_frames(dpi=40))
    assert len(frames) == 30
    assert (len(ax.collections), len(ax.lines)) == background  # nothing re-plotted per frame
    assert all(ImageChops.difference(f, g).getbbox() for f, g in zip(frames, frames[1:], strict=False))
    # the trails follow the run: frame i shows the path up to its step, on the surface, lifted
    anim._draw_frame_at(10)
    k = anim.steps_shown[10]
    x, y, z = anim.trails["SGD"][0].get_data_3d()
    np.testing.assert_array_equal(np.column_stack([x, y]), trajs["SGD"].path[: k + 1])
    lift = 0.02 * np.ptp(ax.get_zlim())
    np.testing.assert_allclose(z, s(trajs["SGD"].path[: k + 1]) + lift)
    (cross, last), = anim.crosses["SGD, η = 2"]
    anim._draw_frame_at(29)
    assert cross.get_visible()


def test_every_3d_path_stays_in_view(saddle_race):
    s, trajs = saddle_race
    anim = animate(s, trajs, frames=20, view="3d")
    fig, ax = anim._fig, anim._fig.axes[0]
    (x0, x1), (y0, y1), (z0, z1) = ax.get_xlim(), ax.get_ylim(), ax.get_zlim()
    lift = 0.02 * (z1 - z0)
    escaped = np.abs(trajs["Momentum, η = 0.3"].path).max()
    assert escaped > 10  # this one leaves the view far behind
    fig.canvas.draw()
    box = ax.bbox
    for i in range(len(anim.steps_shown)):
        anim._draw_frame_at(i)
        for lines in list(anim.trails.values()) + list(anim.heads.values()):
            for line in lines:
                x, y, z = (np.asarray(a) for a in line.get_data_3d())
                assert np.all((x0 <= x) & (x <= x1) & (y0 <= y) & (y <= y1)), line
                assert np.all((z0 <= z) & (z <= z1 + lift + 1e-12)), line
                if len(x):  # and on the picture: inside the axes' box in display coordinates
                    from mpl_toolkits.mplot3d import proj3d

                    px, py, _ = proj3d.proj_transform(x, y, z, ax.get_proj())
                    disp = ax.transData.transform(np.column_stack([px, py]))
                    assert np.all((disp[:, 0] >= box.x0) & (disp[:, 0] <= box.x1))
                    assert np.all((disp[:, 1] >= box.y0) & (disp[:, 1] <= box.y1))


def test_3d_gifs_are_deterministic(saddle_race, tmp_path):
    s, trajs = saddle_race
    a = save_gif(animate(s, trajs, frames=20, view="3d"), tmp_path / "a.gif")
    b = save_gif(animate(s, trajs, frames=20, view="3d"), tmp_path / "b.gif")
    assert a.read_bytes() == b.read_bytes()
    assert len(gif_frames(a)) == 20


def test_bad_view():
    s = surfaces.SADDLE
    traj = run(optimizers.SGD(lr=0.02), s, steps=10)
    with pytest.raises(ValueError, match="view must be '2d' or '3d'"):
        animate(s, traj, view="side")
    with pytest.raises(ValueError, match="view must be '2d' or '3d'"):
        animate(s, traj, elev=30)  # a camera without the 3-D view
    with pytest.raises(ValueError, match="trajs must hold at least one trajectory"):
        animate(s, {}, view="3d")

def test_colors_tell_two_runs_of_one_optimizer_apart():
    s = surfaces.RAVINE
    trajs = {"Momentum, γ = 0.5": run(optimizers.Momentum(lr=0.1, gamma=0.5), s, steps=20),
             "Momentum, γ = 0.9": run(optimizers.Momentum(lr=0.1, gamma=0.9), s, steps=20)}
    anim = animate(s, trajs, frames=5, colors={"Momentum, γ = 0.5": "#98df8a"})
    assert anim.trails["Momentum, γ = 0.5"][0].get_color() == "#98df8a"
    assert anim.trails["Momentum, γ = 0.9"][0].get_color() == "#2ca02c"  # Momentum's own, from color_for
    assert "#98df8a" in anim.colors  # kept exact in the GIF's palette
    dashed = animate(s, trajs, frames=5, linestyles={"Momentum, γ = 0.5": ":"})
    assert dashed.trails["Momentum, γ = 0.5"][0].get_linestyle() == ":"
    assert dashed.trails["Momentum, γ = 0.9"][0].get_linestyle() == "-"
    assert [line.get_linestyle() for line in dashed._fig.axes[0].get_legend().get_lines()] == [":", "-"]
    in_3d = animate(s, trajs, frames=5, view="3d", linestyles={"Momentum, γ = 0.9": "--"})
    assert in_3d.trails["Momentum, γ = 0.9"][0].get_linestyle() == "--"
    with pytest.raises(TypeError, match="linestyles must be a mapping"):
        animate(s, trajs, linestyles=["--"])


@pytest.mark.parametrize("style", ["notebook", "classroom"])
def test_the_3d_race_follows_the_style_and_the_line_styles_as_the_map_does(style):
    from kai_lib.pictures import styles
    from kai_lib.pictures.animation import TEXT_SCALE_3D

    s = surfaces.SADDLE
    trajs = {n: run(optimizers.ALL[n](lr=0.02), s, steps=20) for n in ("SGD", "NAG", "RMSProp")}
    with styles.using(style) as sizes:
        flat, deep = animate(s, trajs, frames=5), animate(s, trajs, frames=5, view="3d")
    for name in trajs:
        for anim in (flat, deep):
            trail, head = anim.trails[name][0], anim.heads[name][0]
            assert trail.get_linewidth() == sizes.path_width + 0.4 and head.get_markersize() == sizes.head
        assert deep.trails[name][0].get_linestyle() == flat.trails[name][0].get_linestyle()
    assert flat.trails["NAG"][0].get_linestyle() == "--" and flat.trails["SGD"][0].get_linestyle() == "-"
    legend_3d = deep._fig.axes[0].get_legend().get_texts()[0].get_fontsize()
    assert legend_3d == pytest.approx(TEXT_SCALE_3D * sizes.font("legend"))
    assert deep.counter.get_fontsize() == pytest.approx(TEXT_SCALE_3D * sizes.font("counter"))


def test_every_animation_stands_on_the_one_base():
    """The 2-D and 3-D races and the moons boundaries: FrameAnimation subclasses that run its constructor."""
    from kai_lib.pictures.animation import FrameAnimation
    from kai_lib.studies import moons

    s = surfaces.SADDLE
    trajs = {"SGD": run(optimizers.SGD(lr=0.02), s, steps=30)}
    runs = moons.train_all(moons.Moons(epochs=4, settings={"SGD": {"lr": 0.1}}))
    for anim in (animate(s, trajs, frames=7), animate(s, trajs, frames=7, view="3d"),
                 moons.animate_boundaries(runs, moons.Moons(epochs=4, settings={"SGD": {"lr": 0.1}}), frames=4)):
        assert isinstance(anim, FrameAnimation)
        assert anim._n_steps == anim.steps_shown[-1] and len(list(anim.render_frames(dpi=20))) == len(anim.steps_shown)
        assert anim._init_func == anim._init and anim._blit  # FuncAnimation's set-up, done by the base


def test_the_player_loops_and_plays_while_it_is_on_the_screen(race):
    """On a slide the animation starts when its slide arrives (and pauses when it leaves)."""
    s, trajs = race
    html = show(animate(s, trajs, frames=5), mode="jshtml")._repr_html_()
    loop = re.search(r'<input[^>]*value="loop"[^>]*>', html)
    assert loop and "checked" in loop.group(0), "the player's loop button is not the one selected"
    player_id = re.search(r'id="_anim_img(\w+)"', html).group(1)
    script = html[html.rindex("<script>"):]
    assert f'"_anim_img{player_id}"' in script and f'window["anim{player_id}"]' in script
    assert "IntersectionObserver" in script and "play_animation" in script and "pause_animation" in script


# --- the divergence mark --------------------------------------------------------------------------

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


# --- arguments checked up front -------------------------------------------------------------------

BAD_ANIMATIONS = [
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


@pytest.mark.parametrize("call,error,match", BAD_ANIMATIONS, ids=[m for _, _, m in BAD_ANIMATIONS])
def test_animation_arguments_are_checked_up_front(adam_on_beale, call, error, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=match):
        call(adam_on_beale)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_bad_animation_mode_in_the_environment_names_the_variable(adam_on_beale, monkeypatch):
    monkeypatch.setenv("KAI_LIB_ANIMATION", "mp4")
    with pytest.raises(ValueError, match="KAI_LIB_ANIMATION must be 'jshtml' or 'gif', got 'mp4'"):
        show(animate("beale", adam_on_beale, frames=2))


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
