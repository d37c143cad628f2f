"""python -m kai_lib.figures, and the race claims its animations make (kai_lib.studies.races).

The claims are Radford's captions for the slides' three animations, written as numbers
on the trajectories: if a setting in kai_lib.studies.races changes the story, a test here fails.
"""

import errno
import itertools
import os
import tempfile

import numpy as np
import pytest
from PIL import Image, ImageChops

from kai_lib import animate, optimizers, plot_paths, run, save_gif, surfaces
from kai_lib.figures import FIGURES, main
from kai_lib.studies import after_adam, races

pytestmark = pytest.mark.filterwarnings("error")  # every warning fails a test here (-W error)

EXPECTED = {
    "long_valley.gif", "beale.gif", "saddle_point.gif", "momentum_ravine.png", "local_minima.png",
    "momentum_decay.png", "nag_lookahead.png", "adagrad_step_size.png", "adam_bias_correction.png",
    "batch_vs_minibatch.png", "learning_rate.png", "saddle_point_3d.gif", "long_valley_3d.gif",
    "basins_himmelblau.png", "basins_local_minima.png", "noisy_moons.gif", "after_adam_beale.gif",
}
GIFS = sorted(f for f in EXPECTED if f.endswith(".gif"))
PNGS = sorted(f for f in EXPECTED if f.endswith(".png"))
CHEAP = ["momentum_decay", "adagrad_step_size", "saddle_point", "saddle_point_3d",
         "basins_local_minima"]  # for the second, determinism run


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    assert main(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def trajs():
    return {name: races.race(name) for name in races.RACES}


# --- the command line -------------------------------------------------------------------------

def test_every_listed_figure_is_written_and_nothing_else(generated):
    assert {filename for filename, _ in FIGURES.values()} == EXPECTED
    assert {p.name for p in generated.iterdir()} == EXPECTED
    for name in EXPECTED:
        assert (generated / name).stat().st_size > 10_000


@pytest.mark.parametrize("name", PNGS)
def test_pngs_are_pngs_without_a_software_stamp(generated, name):
    with Image.open(generated / name) as im:
        assert im.format == "PNG"
        assert im.width >= 700 and im.height >= 400
        assert "Software" not in im.info


def distinct_frames(path) -> int:
    with Image.open(path) as im:
        assert im.format == "GIF"
        frames = []
        for i in range(im.n_frames):
            im.seek(i)
            frames.append(im.convert("RGB"))
    distinct = 1 + sum(ImageChops.difference(a, b).getbbox() is not None for a, b in itertools.pairwise(frames))
    return distinct


@pytest.mark.parametrize("name", GIFS)
def test_gifs_have_at_least_60_frames_that_differ(generated, name):
    with Image.open(generated / name) as im:
        assert 500 <= im.width <= 800  # classroom-sized, not a thumbnail
    assert distinct_frames(generated / name) >= 60


def test_two_runs_write_identical_bytes(generated, tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--only", *CHEAP]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(FIGURES[n][0] for n in CHEAP)
    for name in written:
        assert (tmp_path / name).read_bytes() == (generated / name).read_bytes(), name
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(CHEAP) + 1  # one line per figure, and the total
    assert all(" s " in line for line in lines[:-1])


def test_list_prints_the_names(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for name, (filename, _) in FIGURES.items():
        assert name in out and filename in out


def test_an_unknown_name_is_an_error_that_lists_the_known_ones(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--out", str(tmp_path / "out"), "--only", "momentum_decay", "nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "nope" in err
    assert all(name in err for name in FIGURES)
    assert not (tmp_path / "out").exists()  # nothing was written


def test_only_takes_file_names_too_and_out_defaults_to_figures_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--only", "momentum_decay.png"]) == 0
    assert [p.name for p in (tmp_path / "figures").iterdir()] == ["momentum_decay.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["figures"]


# --- the races: one documented place, and what the pictures claim ----------------------------

def test_every_race_runs_the_seven_slide_optimizers(trajs):
    for name, race in races.RACES.items():
        assert tuple(trajs[name]) == optimizers.SLIDES
        assert all(t.steps == race.steps and not t.diverged for t in trajs[name].values())
    with pytest.raises(KeyError, match="long_valley"):
        races.race("nope")


ADAPTIVE = ("Adagrad", "RMSProp", "AdaDelta", "Adam")


def floor_crossings(y: np.ndarray, threshold: float = 0.05) -> int:
    """How often y changes sign, counting only points at least ``threshold`` off the floor."""
    signs = np.sign(y[np.abs(y) > threshold])
    return int(np.sum(signs[1:] != signs[:-1]))


def test_long_valley_sgd_gets_nowhere_the_adaptive_methods_descend_at_once(trajs):
    t = trajs["long_valley"]
    moved = {name: traj.path[:, 0] - traj.path[0, 0] for name, traj in t.items()}  # along the valley
    # after 200 steps: SGD 1.00; every other method 7.4 ... 8.0
    assert moved["SGD"][200] < 1.1
    assert all(moved[name][200] > 7 for name in t if name != "SGD")
    # at step 20: the adaptive methods 0.91 ... 2.28, Momentum and NAG 0.48, SGD 0.10
    assert all(moved[name][20] > 0.85 for name in ADAPTIVE)
    assert moved["Momentum"][20] < 0.5 and moved["NAG"][20] < 0.5
    assert moved["SGD"][20] < 0.15
    # and they do not swing across the valley (0 or 1 sign change of y in 200 steps)
    assert all(floor_crossings(t[name].path[:, 1]) <= 1 for name in ADAPTIVE)


def test_long_valley_momentum_and_nag_oscillate_before_building_up_speed(trajs):
    t = trajs["long_valley"]
    # y changes sign 8 (Momentum) and 3 (NAG) times in the first 60 steps
    assert floor_crossings(t["Momentum"].path[:61, 1]) >= 6
    assert floor_crossings(t["NAG"].path[:61, 1]) >= 2
    for name in ("Momentum", "NAG"):
        speed = np.diff(t[name].path[:, 0])  # along the valley
        assert speed[99] > 1.5 * speed[9]  # 0.040 vs 0.026
        assert t[name].path[200, 0] - t[name].path[0, 0] > 7 * (t["SGD"].path[200, 0] - t["SGD"].path[0, 0])


def distance_to_minimum(traj) -> np.ndarray:
    return np.linalg.norm(traj.path - traj.surface.minima[0], axis=-1)


def step_lengths(traj) -> np.ndarray:
    return np.linalg.norm(np.diff(traj.path, axis=0), axis=-1)


def test_beale_velocity_methods_shoot_off_and_bounce_around(trajs):
    t = trajs["beale"]
    for name in ("Momentum", "NAG"):
        path = t[name].path
        assert path[:, 1].min() < -1.2  # shot far below the minimum's y = 0.5: -1.86, -1.31
        assert path[:, 0].max() > 3.15  # and past it along x: 3.39, 3.21
        assert np.sum(np.diff(t[name].loss[:101]) > 0) >= 20  # J went up on 38 and 28 of the first 100 steps
        assert distance_to_minimum(t[name])[-1] < 0.05  # before settling
    for name in ("SGD", *ADAPTIVE):
        assert np.all(np.diff(t[name].loss[:101]) <= 0)  # the others only go downhill at first


def test_beale_adagrad_almost_goes_unstable(trajs):
    t = trajs["beale"]
    steps = {name: step_lengths(traj) for name, traj in t.items()}
    lr = races.RACES["beale"].settings["Adagrad"]["lr"]
    # its first step is lr·sign(g) per coordinate, 2.83: the longest step of any method
    assert steps["Adagrad"][0] == pytest.approx(lr * np.sqrt(2))
    assert all(steps["Adagrad"][0] > 2.5 * s.max() for name, s in steps.items() if name != "Adagrad")
    d = distance_to_minimum(t["Adagrad"])
    assert d[1] > 1.8 * d[0]  # thrown away from the minimum: 2.24 -> 4.12
    assert d[-1] < 0.05  # ... and it recovers: 0.009


def test_beale_rmsprop_and_adadelta_are_a_stable_accelerated_sgd(trajs):
    t = trajs["beale"]
    sgd_first_step = step_lengths(t["SGD"])[0]  # 0.99: η|∇J| with |∇J| = 98.7 at the start
    for name in ("RMSProp", "AdaDelta"):
        assert step_lengths(t[name]).max() < 0.2 < sgd_first_step / 4  # 0.13, 0.17
        assert t[name].path[:, 1].min() > 0.1  # never below the valley: 0.15, 0.20
        # at step 200 within 0.1 of the minimum (0.03, 0.08); SGD is 0.31 away
        assert distance_to_minimum(t[name])[200] < 0.1 < 0.3 < distance_to_minimum(t["SGD"])[200]


def test_saddle_sgd_lingers_on_the_ridge_the_others_escape(trajs):
    t = trajs["saddle"]
    y = {name: np.abs(traj.path[:, 1]) for name, traj in t.items()}
    assert y["SGD"][:101].max() < 0.1  # 0.051 at step 100
    assert np.linalg.norm(t["SGD"].path[100]) < 0.1  # it slid down the ridge to the saddle and sits there
    for name in t:
        if name != "SGD":
            assert y[name][:51].max() > 1, name  # |y| > 1 by step 46 at the latest (Momentum)
    # Momentum and NAG overshoot the saddle along the ridge first (x down to -0.44, -0.31)
    assert t["Momentum"].path[:, 0].min() < -0.25 and t["NAG"].path[:, 0].min() < -0.25


# --- diverged and single trajectories ----------------------------------------------------------

@pytest.fixture(scope="module")
def diverged():
    traj = run(optimizers.SGD(lr=0.05), surfaces.BEALE, steps=200)
    assert traj.diverged and traj.steps < 200
    return traj


def test_plot_paths_takes_one_diverged_trajectory(diverged):
    import matplotlib.pyplot as plt

    drawn = plot_paths(surfaces.BEALE, diverged)
    ax = drawn[""][0].axes
    try:
        assert len(drawn[""][0].get_xdata()) == diverged.steps + 1
        assert ax.get_xlim() == surfaces.BEALE.xlim  # the view stays on the surface
    finally:
        plt.close(ax.figure)


def test_animations_take_diverged_and_single_trajectories(diverged, tmp_path):
    import matplotlib.pyplot as plt

    for trajs in (diverged, {"SGD": diverged, "Adam": run(optimizers.Adam(lr=0.1), surfaces.BEALE, steps=200)}):
        anim = animate(surfaces.BEALE, trajs, frames=12)
        try:
            path = save_gif(anim, tmp_path / "race.gif")
        finally:
            plt.close(anim._fig)
        assert distinct_frames(path) >= 2


# --- the races in 3-D and the basin maps -------------------------------------------------------

@pytest.mark.parametrize("name", ["saddle_point_3d.gif", "long_valley_3d.gif"])
def test_3d_gifs_are_classroom_sized_and_small(generated, name):
    with Image.open(generated / name) as im:
        assert im.width >= 720
    assert (generated / name).stat().st_size <= 400 * 1024


@pytest.mark.parametrize("name", ["saddle", "long_valley"])
def test_3d_race_legend_text_is_at_least_11_px_tall_in_the_gif(name):
    from kai_lib.figures import GIF_DPI_3D, race_animation_3d

    anim = race_animation_3d(name)
    fig = anim._fig
    fig.set_dpi(GIF_DPI_3D)
    fig.canvas.draw()
    ax = anim.trails[next(iter(anim.trails))][0].axes
    assert ax.get_legend() is None and len(fig.legends) == 1  # beside the surface, not over it
    texts = fig.legends[0].get_texts()
    assert len(texts) == 7
    # the legend stays in the figure's lower left, below the z axis: left of x = 0.31, under y = 0.5
    box = fig.legends[0].get_window_extent(fig.canvas.get_renderer()).transformed(fig.transFigure.inverted())
    assert box.x0 >= 0 and box.x1 <= 0.31 and box.y1 <= 0.5
    # x's last tick label would meet y's in the near corner: x has none at its upper limit
    assert max(ax.get_xticks()) < races.RACES[name].surface.xlim[1]
    renderer = fig.canvas.get_renderer()
    assert min(t.get_window_extent(renderer).height for t in texts) >= 11
    assert fig.canvas.get_width_height() == (768, 544)
    r = races.RACES[name]
    assert (ax.elev, ax.azim) == (r.elev, r.azim)  # the race's documented camera
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_basin_figures_show_seven_maps(generated):
    for name in ("basins_himmelblau.png", "basins_local_minima.png"):
        with Image.open(generated / name) as im:
            assert im.width >= 1400

# --- noisy moons (kai_lib.studies.moons) ------------------------------------------------------------------

def test_noisy_moons_gif_is_deterministic_classroom_sized_and_says_its_caption(generated, tmp_path):
    from kai_lib.studies import moons

    assert main(["--out", str(tmp_path), "--only", "noisy_moons"]) == 0
    written = tmp_path / "noisy_moons.gif"
    assert written.read_bytes() == (generated / "noisy_moons.gif").read_bytes()
    assert written.stat().st_size <= 400 * 1024
    with Image.open(written) as im:
        assert im.width >= 720 and im.n_frames == moons.MOONS.frames
    assert moons.MOONS.dpi * 11 / 72 >= 11  # 11 pt legend text is at least 11 px tall
    runs = moons.train_all()
    accuracy = {name: moons.train_accuracy(h)[-1] for name, h in runs.items()}
    assert accuracy["SGD"] == 0.92 and min(v for n, v in accuracy.items() if n != "SGD") >= 0.95


# --- notebook 12's race: the optimizers after Adam on Beale's function ---------------------------

@pytest.fixture(scope="module")
def after_adam_beale():
    return after_adam.race("beale")


def test_after_adam_beale_six_arrive_within_0_1(after_adam_beale):
    minimum = surfaces.BEALE.minima[0]
    for name in ("Adam", "Schedule-Free SGD", "Schedule-Free AdamW", "Shampoo", "Adafactor", "Muon"):
        t = after_adam_beale[name]
        assert not t.diverged and np.linalg.norm(t.path[-1] - minimum) < 0.1, name


def test_after_adam_beale_lion_hops_on_its_lattice_around_the_minimum(after_adam_beale):
    path = after_adam_beale["Lion"].path
    assert after_adam.lattice_offsets(path, after_adam.RACES["beale"].settings["Lion"]["lr"]).max() < 1e-9
    late = np.linalg.norm(path[-100:] - surfaces.BEALE.minima[0], axis=-1)
    assert 0.13 < late.min() and late.max() <= 0.2 + 1e-9      # it never settles closer than 0.14
    last = np.round(path[-40:], 9)
    assert len(np.unique(last, axis=0)) == 2 and np.all(last[1:] != last[:-1])  # back and forth, never still


def test_after_adam_beale_prodigy_swings_out_then_comes_back(after_adam_beale):
    path = after_adam_beale["Prodigy"].path
    assert path[:, 1].min() < -2
    assert np.linalg.norm(path[-1] - surfaces.BEALE.minima[0]) < 0.2


def test_after_adam_beale_radam_is_thrown_off_or_held_back(after_adam_beale):
    assert np.linalg.norm(surfaces.BEALE.grad(surfaces.BEALE.start)) > 98
    minimum = surfaces.BEALE.minima[0]
    for lr in after_adam.GRID:
        t = run(optimizers.RAdam(lr=lr), surfaces.BEALE, steps=300)
        assert t.diverged or np.linalg.norm(t.path[-1] - minimum) > 1, lr   # no η of the grid arrives
        if lr >= 0.03:
            assert t.diverged or np.abs(t.path[-1]).max() > 1e3, lr            # thrown off the map
    # the rectifier is still small at the end of the race: a warm-up much longer than 300 steps
    assert optimizers.RAdam().rectifier(300) < 0.4
    assert 1.9 < np.linalg.norm(after_adam_beale["RAdam"].path[-1] - minimum) < 2.1


def test_after_adam_beale_gif_is_wide_small_and_shows_every_racer(generated):
    with Image.open(generated / "after_adam_beale.gif") as im:
        assert im.width >= 720 and im.n_frames >= 60
    assert (generated / "after_adam_beale.gif").stat().st_size <= 400 * 1024
    assert list(after_adam.RACES["beale"].settings) == ["Adam", *optimizers.AFTER_ADAM]


# --- bad arguments: one line, status 2, nothing written -------------------------------------------

def test_figures_out_a_file_is_an_error_and_the_file_is_untouched(tmp_path, cli_error):
    readme = tmp_path / "README.md"
    readme.write_text("hello")
    last = cli_error(main, ["--out", str(readme), "--only", "momentum_decay"])
    assert last.endswith(f"error: --out {str(readme)!r} is a file, not a folder")
    assert readme.read_text() == "hello"
    last = cli_error(main, ["--out", str(readme / "sub"), "--only", "momentum_decay"])
    assert "cannot write there" in last


def test_figures_out_empty_writes_nowhere(tmp_path, cli_error, monkeypatch):
    monkeypatch.chdir(tmp_path)
    last = cli_error(main, ["--out", "", "--only", "momentum_decay"])
    assert "--out must name a folder, got an empty string" in last
    assert list(tmp_path.iterdir()) == []


def test_figures_out_on_a_read_only_file_system(tmp_path, cli_error, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    last = cli_error(main, ["--out", str(tmp_path / "out"), "--only", "momentum_decay"])
    assert last.endswith(f"cannot write there ({os.strerror(errno.EROFS)})")


def test_figures_a_write_that_fails_midway_is_one_line(tmp_path, cli_error, monkeypatch):
    def full_disk(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setitem(FIGURES, "momentum_decay", ("momentum_decay.png", full_disk))
    last = cli_error(main, ["--out", str(tmp_path), "--only", "momentum_decay"])
    assert "cannot write" in last and "momentum_decay.png" in last and os.strerror(errno.ENOSPC) in last
