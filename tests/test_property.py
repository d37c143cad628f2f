"""Every public entry point, driven with arbitrary arguments: it succeeds, or it says which argument.

Each call either succeeds, with finite output and no warning, or raises a ``ValueError``
or ``TypeError`` whose message names one of the arguments it was given. Warnings are
errors here (``-W error``). Hypothesis is derandomized (tests/conftest.py), so every run
tries the same examples; the slow entry points (the command lines, GIFs, widgets) get
few of them.
"""

import contextlib
import inspect
import io
import os
import tempfile
import warnings
from pathlib import Path
from unittest import mock

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from kai_lib import (
    animate,
    explore,
    figures,
    optimizers,
    plot_contours,
    plot_paths,
    run,
    save_gif,
    surfaces,
)
from kai_lib.pictures.widgets import default_ranges
from kai_lib.runner import Trajectory
from kai_lib.tools import bench

pytestmark = pytest.mark.filterwarnings("error")

ALL = optimizers.ALL
SURFACES = list(surfaces.ALL.values())

# --- what arbitrary arguments look like -------------------------------------------------------------

#: text a figure can show: matplotlib warns of a glyph its font lacks (control characters,
#: Hangul in DejaVu Sans), which is a matter of fonts, not of kai_lib's arguments
TEXT = st.text(st.characters(codec="latin-1", categories=["L", "N", "P", "Zs"]), max_size=8)
JUNK = st.one_of(st.none(), st.booleans(), TEXT, st.lists(st.floats(), max_size=3),
                 st.complex_numbers(max_magnitude=2), st.just(np.array([0.1, 0.2])), st.just(object()))
NUMBERS = st.one_of(st.floats(), st.integers(-10**6, 10**6), st.floats(0, 1, exclude_max=True),
                    st.floats(1e-6, 2.0).map(np.float64), st.floats(0, 1).map(np.array))
ANYTHING = st.one_of(NUMBERS, JUNK)


def mostly(common, rare, odds: int = 3):
    """``common``, and once in ``odds + 1`` draws ``rare`` (one_of would weigh each of rare's branches
    like a branch of common's)."""
    return st.integers(0, odds).flatmap(lambda i: rare if i == 0 else common)


#: a hyperparameter: mostly plausible, sometimes anything
HYPER = mostly(st.one_of(st.floats(1e-4, 0.99), st.sampled_from([0.0, 0.5, 0.9, 0.999, 1.0, 1e6, 1e300])), ANYTHING)
COORD = st.one_of(st.floats(-5, 5), st.floats(-5, 5), st.sampled_from([0.0, 1e150, -1e200, 1e300, -1.7e308]))
POINT = st.tuples(COORD, COORD).map(list)
START = st.one_of(POINT, st.lists(POINT, min_size=1, max_size=4), st.none(), ANYTHING)
FLAGS = mostly(st.booleans(), ANYTHING)


def outcome(call, names):
    """``(True, result)``, or ``(False, error)`` for a ValueError that names one of ``names``.

    A ``checks.WrongType`` is a ValueError (and a TypeError); a plain TypeError, a KeyError or
    a warning fails the test: ``except ValueError`` must catch every bad argument.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = call()
        except ValueError as error:
            message = str(error)
            assert any(name in message for name in names), f"{type(error).__name__}({message!r}) names none of {names}"
            event("refused: " + message[:40])  # --hypothesis-show-statistics counts how often each outcome was tried
            return False, error
    event("succeeded")
    return True, result


def hyperparameters(draw, cls):
    names = [n for n in inspect.signature(cls).parameters]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names))) if names else []
    return {n: draw(FLAGS if n == "eps_inside_sqrt" else HYPER) for n in chosen}


def assert_finite_trajectory(traj: Trajectory, steps: int):
    assert isinstance(traj, Trajectory)
    assert np.all(np.isfinite(traj.path)), "path holds finite points only"
    assert traj.loss.shape == traj.path.shape[:-1]
    diverged, at = np.asarray(traj.diverged), np.asarray(traj.diverged_at)
    assert np.array_equal(diverged, at >= 0) and np.all(at <= steps)
    alive = ~diverged.reshape(-1)
    assert np.all(np.isfinite(traj.loss.reshape(len(traj.loss), -1)[:, alive])), "the loss of a live point is finite"
    assert traj.steps == steps if alive.any() else traj.steps <= steps


# --- the optimizers and the runner -------------------------------------------------------------------

@settings(max_examples=150)
@given(st.data())
def test_every_optimizer_constructs_and_steps_or_names_the_argument(data):
    name = data.draw(st.sampled_from(list(ALL)))
    cls = ALL[name]
    kwargs = hyperparameters(data.draw, cls)
    ok, opt = outcome(lambda: cls(**kwargs), list(kwargs))
    if not ok:
        return
    assert all(isinstance(v, float) and np.isfinite(v) for v in opt.hyperparameters().values())
    s = data.draw(st.sampled_from(SURFACES))
    theta = data.draw(st.one_of(POINT, st.lists(POINT, min_size=1, max_size=3), JUNK))
    ok, new = outcome(lambda: opt.step(theta, s.grad), ["theta", "xy"])  # xy: the surface's gradient's argument
    if not ok:
        return
    theta = np.asarray(theta, dtype=float)
    assert new.shape == theta.shape and new is not theta
    # a step that is not finite is a divergence, and run() says so from the same point
    bad = ~np.isfinite(new).all(axis=-1)
    if bad.any():
        traj = run(cls(**kwargs), s, start=theta, steps=1)
        assert np.all(np.asarray(traj.diverged)[bad] if bad.ndim else traj.diverged)
    for _ in range(3):  # and it keeps stepping quietly
        ok, new = outcome(lambda point=new: opt.step(point, s.grad), ["theta"])
        assert ok


@settings(max_examples=120)
@given(st.data())
def test_run_succeeds_with_a_finite_trajectory_or_names_the_argument(data):
    name = data.draw(st.sampled_from(list(ALL)))
    kwargs = hyperparameters(data.draw, ALL[name])
    ok, opt = outcome(lambda: ALL[name](**kwargs), list(kwargs))
    if not ok:
        return
    opt = data.draw(st.one_of(st.just(opt), st.just(opt), st.just(ALL[name]), JUNK))
    surface = data.draw(st.one_of(st.sampled_from(SURFACES), st.sampled_from(list(surfaces.ALL)), ANYTHING))
    start = data.draw(START)
    steps = data.draw(st.one_of(st.integers(-3, 40), st.integers(0, 40), ANYTHING))
    grad_fn = data.draw(st.one_of(st.none(), st.none(), st.just(lambda th: 2 * th), st.just(lambda th: th[..., :1]),
                                  ANYTHING))
    names = ["optimizer", "surface", "start", "steps", "grad_fn"]
    call = lambda: run(opt, surface, start=start, steps=steps, grad_fn=grad_fn)  # noqa: E731
    try:
        ok, traj = outcome(call, names)
    except KeyError as error:  # an unknown surface name: the error lists the known ones
        assert "known: beale" in str(error)
        return
    if ok:
        assert_finite_trajectory(traj, steps)


# --- pictures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pool():
    s = surfaces.BEALE
    return {
        "Adam": run(optimizers.Adam(lr=0.1), s, steps=30),
        "SGD, η = 1": run(optimizers.SGD(lr=1.0), s, steps=30),                     # diverges
        "far": run(optimizers.SGD(), s, start=[1e200, -1e200], steps=30),          # diverged at step 0
        "batch": run(optimizers.Momentum(lr=0.01), s, start=[[1, 1], [1e154, 0], [-4, 4]], steps=30),
        "short": run(optimizers.NAG(lr=0.001), s, steps=0),
    }


def trajectories(pool):
    labels = st.lists(st.sampled_from(list(pool)), unique=True, min_size=1, max_size=4)
    some = labels.map(lambda ls: {label: pool[label] for label in ls})
    return mostly(st.one_of(some, st.sampled_from(list(pool.values()))),
                  st.one_of(st.just({}), st.dictionaries(TEXT, JUNK, min_size=1, max_size=2), JUNK))


def arguments(draw, good: dict) -> dict:
    """Some of the keyword arguments in ``good`` (name → strategy of plausible values), and
    a third of the time one of them replaced by anything at all."""
    chosen = draw(st.lists(st.sampled_from(list(good)), unique=True, max_size=len(good)))
    kwargs = {k: draw(good[k]) for k in chosen}
    if chosen and draw(st.integers(0, 2)) == 0:
        kwargs[draw(st.sampled_from(chosen))] = draw(ANYTHING)
    return kwargs


LEVELS = st.one_of(st.none(), st.none(), st.integers(1, 40),
                   st.lists(st.floats(1e-3, 1e4), min_size=2, max_size=8, unique=True).map(sorted))
LIMITS = st.one_of(st.none(), st.tuples(st.floats(-10, 10), st.floats(-10, 10)).map(sorted).map(tuple))
PLOT_CONTOURS = dict(levels=LEVELS, filled=st.booleans(), marks=st.booleans(), n=st.integers(0, 50),
                     starts=st.one_of(st.none(), POINT, st.lists(POINT, min_size=1, max_size=3)))


def draw_small(fig):
    """Render ``fig`` (warnings raised), at a low resolution to keep the test quick."""
    fig.set_dpi(20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.canvas.draw()


@settings(max_examples=12)
@given(st.data())
def test_plot_contours_draws_or_names_the_argument(data):
    kwargs = arguments(data.draw, PLOT_CONTOURS)
    s = data.draw(st.sampled_from(SURFACES))
    try:
        ok, lines = outcome(lambda: plot_contours(s, **kwargs), list(kwargs))
        if ok:
            draw_small(lines.axes.figure)
    finally:
        plt.close("all")


PLOT_PATHS = dict(contours=st.booleans(), legend=st.booleans(), markers=st.booleans(), levels=LEVELS)


@settings(max_examples=20)
@given(data=st.data())
def test_plot_paths_draws_or_names_the_argument(pool, data):
    trajs = data.draw(trajectories(pool))
    kwargs = arguments(data.draw, PLOT_PATHS)
    try:
        ok, drawn = outcome(lambda: plot_paths("beale", trajs, **kwargs), ["trajs", *kwargs])
        if ok:
            assert set(drawn) == set(trajs if isinstance(trajs, dict) else {""})
            draw_small(plt.gcf())
    finally:
        plt.close("all")


ANIMATE = dict(frames=st.integers(0, 80), interval=st.one_of(st.integers(0, 200), st.floats(0.5, 500)),
               pace=st.one_of(st.floats(0, 4), st.sampled_from([1e-300, 1e6])),
               figsize=st.tuples(st.floats(0.5, 4), st.floats(0.5, 4)), legend=st.booleans(),
               title=st.one_of(st.none(), TEXT), xlim=LIMITS, ylim=LIMITS)


@settings(max_examples=30)
@given(data=st.data())
def test_animate_or_names_the_argument(pool, data):
    trajs = data.draw(trajectories(pool))
    kwargs = arguments(data.draw, ANIMATE)
    try:
        ok, anim = outcome(lambda: animate("beale", trajs, **kwargs), ["trajs", *kwargs])
        if not ok:
            return
        shown = anim.steps_shown
        assert shown[0] >= 0 and shown[-1] == anim._n_steps and np.all(np.diff(shown) > 0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            anim._init()
            for i in (0, len(shown) - 1):
                anim._draw_frame_at(i)
                k, total = map(int, anim.counter.get_text().removeprefix("step ").split(" / "))
                assert 0 <= k <= total
    finally:
        plt.close("all")


@settings(max_examples=8)
@given(data=st.data())
def test_save_gif_writes_or_names_the_argument(pool, data):
    kwargs = arguments(data.draw, dict(dpi=st.integers(5, 60), fps=st.one_of(st.none(), st.floats(0, 200))))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            anim = animate("ravine", pool["Adam"], frames=3, figsize=(2, 1.5))
            name = data.draw(mostly(st.sampled_from(["a.gif", "b.GIF"]), st.sampled_from(["c.png", "", "d"])))
            path = data.draw(mostly(st.sampled_from([Path(tmp) / name, str(Path(tmp) / name)]), JUNK))
            ok, out = outcome(lambda: save_gif(anim, path, **kwargs), ["path", *kwargs])
            if ok:
                assert out.read_bytes()[:6] == b"GIF89a" and out.parent == Path(tmp)
            assert [p.name for p in Path(tmp).iterdir()] == ([out.name] if ok else [])
        finally:
            plt.close("all")


def inside(low, high):
    """A value in [low, high], on a log scale for a log slider's range."""
    if low > 0 and high / low > 100:
        return st.floats(np.log10(low), np.log10(high)).map(lambda e: float(np.clip(10**e, low, high)))
    return st.floats(low, high)


@settings(max_examples=6)
@given(st.data())
def test_explore_and_its_update_draw_or_name_the_argument(data):
    name = data.draw(st.sampled_from(list(ALL)))
    cls = ALL[name]
    known = default_ranges(cls)
    s = surfaces.RAVINE
    views = {"x0": s.xlim, "y0": s.ylim}
    sub_range = {k: st.tuples(inside(lo, hi), inside(lo, hi)).filter(lambda t: t[0] < t[1])
                 for k, (lo, hi) in known.items()}
    ranges = arguments(data.draw, sub_range)
    bounds = {**known, **{k: v for k, v in ranges.items() if isinstance(v, tuple) and len(v) == 2}, **views}
    initial = data.draw(st.one_of(st.none(), st.fixed_dictionaries({}, optional={
        k: st.one_of(inside(*b), HYPER) if np.all(np.isfinite(np.asarray(b, dtype=float))) else HYPER
        for k, b in bounds.items() if isinstance(b[0], (int, float)) and isinstance(b[1], (int, float))})))
    steps = data.draw(st.one_of(st.integers(1, 30), st.integers(1, 30), st.integers(-1, 0), ANYTHING))
    ok, w = outcome(lambda: explore(cls, s, steps=steps, initial=initial, **ranges),
                    ["steps", "initial", *ranges])
    if not ok:
        return
    for _ in range(4):
        values = arguments(data.draw, {
            **{k: inside(*known[k]) for k in known}, "steps": st.integers(0, 30), "x0": COORD, "y0": COORD,
            "surface": st.sampled_from(list(surfaces.ALL)), **({"eps_inside_sqrt": FLAGS} if "eps_inside_sqrt"
                                                              in w.sliders else {})})
        ok, traj = outcome(lambda values=values: w.update(**values), list(values))
        if ok:
            assert_finite_trajectory(traj, int(values.get("steps", w.values()["steps"])))
            assert w.image.value[:4] == b"\x89PNG"


# --- the command lines --------------------------------------------------------------------------------

def command_line(main, argv):
    """``main(argv)``: its exit status and what it printed, under warnings-as-errors."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.simplefilter("error")
        try:
            status = main(argv)
        except SystemExit as exit_:
            status = exit_.code
    return status, out.getvalue(), err.getvalue()


@settings(max_examples=6)
@given(st.data())
def test_the_figures_command_line_writes_into_out_or_says_what_is_wrong(data):
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "a_file").write_text("x")
        out = data.draw(st.sampled_from(["", " ", "out", "out/deeper", "a_file", "a_file/sub", "."]))
        names = data.draw(st.lists(st.sampled_from(["momentum_decay", "momentum_decay.png", "nope", "", "-x"]),
                                   max_size=2))
        argv = ["--out", str(Path(tmp, out)) if out.strip() else out]
        argv += (["--only", *names] if names else ["--only", "momentum_decay"]) + data.draw(
            st.sampled_from([[], ["--list"], ["--bogus"]]))
        cwd = os.getcwd()
        os.chdir(tmp)  # so that nothing could land in the repository
        try:
            status, stdout, stderr = command_line(figures.main, argv)
        finally:
            os.chdir(cwd)
        assert status in (0, 2), status
        event(f"status {status}")
        if status == 2:
            assert "Traceback" not in stderr and ": error: " in stderr.strip().splitlines()[-1]
        written = sorted(p.relative_to(tmp).as_posix() for p in Path(tmp).rglob("*") if p.is_file())
        assert set(written) - {"a_file"} <= {f"{out.strip('.').strip('/') or '.'}/momentum_decay.png".lstrip("./")}
        assert Path(tmp, "a_file").read_text() == "x"


@contextlib.contextmanager
def quick_bench():
    """bench.main as it is, with fewer repetitions of what it times (2 slider moves, 3 frames):
    the argument handling and every printed line are the real ones; the full run is
    tests/test_bench.py::test_bench_with_five_steps_runs."""
    latency = bench.slider_latency
    with mock.patch.object(bench, "slider_latency", lambda *args, **kw: latency(*args, **{**kw, "changes": 2})), \
            mock.patch.object(bench, "animate", lambda s, trajs, **kw: animate(s, trajs, **{**kw, "frames": 3})):
        yield bench.main


@settings(max_examples=4)
@given(steps=st.sampled_from(["0", "-1", "x", "2.5", "", "100001", "1e3", "3", "1"]))
def test_the_bench_command_line_runs_or_says_what_is_wrong(steps):
    with quick_bench() as main:
        status, stdout, stderr = command_line(main, ["--steps", steps])
    assert status in (0, 2)
    event(f"status {status}")
    if status == 2:
        assert "Traceback" not in stderr and "--steps" in stderr.strip().splitlines()[-1]
    else:
        assert f"{steps}-step run" in stdout


# --- the network, the data, the schedules, second order, basins, styles (reliability round) ---------

SMALL = [[0.0, 0.0], [1.0, 0.5], [-1.0, 2.0], [2.0, -1.0], [0.5, 0.5], [1.5, 1.0]]


@settings(max_examples=60)
@given(st.data())
def test_nn_train_succeeds_with_finite_output_or_names_the_argument(data):
    from kai_lib import nn
    X = np.array(SMALL)
    y = np.array([0, 1, 0, 1, 1, 0])
    sizes = data.draw(mostly(st.just([2, 4, 2]), st.one_of(st.just([2, 2.5, 2]), st.just([2, True, 2]),
                                                             st.just([2]), st.just([10**7, 10**7, 2]), ANYTHING)))
    ok, net = outcome(lambda: nn.MLP(sizes, seed=0), ["sizes"])
    if not ok:
        return
    name = data.draw(st.sampled_from(list(ALL)))
    kwargs = hyperparameters(data.draw, ALL[name])
    ok, opt = outcome(lambda: ALL[name](**kwargs), list(kwargs))
    if not ok:
        return
    opt = data.draw(mostly(st.just(opt), st.one_of(st.just(ALL[name]), JUNK)))
    kwargs = {
        "epochs": data.draw(mostly(st.integers(1, 4), st.one_of(st.just(10**7), st.just(10**12), ANYTHING))),
        "batch_size": data.draw(mostly(st.integers(1, 6), st.one_of(st.integers(-1, 10), ANYTHING))),
        "seed": data.draw(mostly(st.integers(0, 3), ANYTHING)),
        "keep_theta": data.draw(FLAGS),
        "schedule": data.draw(mostly(st.none(), st.one_of(st.just(lambda t: 0.1 / t), st.just(lambda t: -1.0),
                                                          ANYTHING))),
    }
    if data.draw(st.booleans()):
        kwargs["theta"] = data.draw(st.one_of(st.just(np.full(net.n_params, np.nan)), st.just(np.zeros(3)), ANYTHING))
    names = ["optimizer", "epochs", "batch_size", "seed", "keep_theta", "schedule", "theta", "lr", "gamma", "eps",
             "beta", "history", "damping", "momentum_decay", "weight_decay"]
    ok, hist = outcome(lambda: nn.train(opt, net, X, y, **kwargs), names)
    if ok:
        assert np.all(np.isfinite(hist.theta)) and np.all(np.isfinite(hist.loss_per_epoch))
        assert hist.blew_up == (hist.blew_up_at > 0) and hist.diverged == (hist.diverged_at > 0)
        assert not hist.diverged or hist.blew_up


@settings(max_examples=60)
@given(st.data())
def test_the_data_generators_succeed_or_name_the_argument(data):
    from kai_lib import data as kdata
    which = data.draw(st.sampled_from(["moons", "digits", "make_regression", "make_sparse_features"]))
    if which == "moons":
        kwargs = {"n": data.draw(mostly(st.integers(2, 50), st.one_of(st.just(10**12), ANYTHING))),
                  "noise": data.draw(mostly(st.floats(0, 1), ANYTHING)),
                  "seed": data.draw(mostly(st.integers(0, 5), ANYTHING))}
    elif which == "digits":
        kwargs = {"test_size": data.draw(mostly(st.floats(0.05, 0.95), st.one_of(st.just(0.9999), st.just(1e-9),
                                                                                   ANYTHING))),
                  "seed": data.draw(mostly(st.integers(0, 5), ANYTHING))}
    elif which == "make_regression":
        kwargs = {"n": data.draw(mostly(st.integers(2, 50), ANYTHING)), "seed": data.draw(mostly(st.integers(0, 5),
                                                                                                  ANYTHING))}
    else:
        kwargs = {"n": data.draw(mostly(st.integers(1, 50), ANYTHING)), "d": data.draw(mostly(st.integers(2, 9),
                                                                                               ANYTHING))}
    ok, result = outcome(lambda: getattr(kdata, which)(**kwargs), list(kwargs))
    if ok:
        fields = vars(result) if not isinstance(result, tuple) else {}
        arrays = result if isinstance(result, tuple) else [fields[k] for k in ("X", "x", "y") if k in fields]
        assert all(len(a) >= 1 and np.all(np.isfinite(a)) for a in arrays)


@settings(max_examples=80)
@given(st.data())
def test_every_schedule_builds_and_gives_finite_rates_or_names_the_argument(data):
    from kai_lib import schedules
    which = data.draw(st.sampled_from(["constant", "step_decay", "exponential", "inverse_sqrt", "inverse_time",
                                       "cosine", "warmup"]))
    params = [n for n in inspect.signature(getattr(schedules, which)).parameters]
    kwargs = {}
    for n in params:
        if n == "schedule":
            kwargs[n] = data.draw(mostly(st.just(schedules.constant(0.1)), st.one_of(st.just(lambda t: -1), JUNK)))
        elif n in ("every", "total", "steps"):
            kwargs[n] = data.draw(mostly(st.integers(1, 50), ANYTHING))
        else:
            kwargs[n] = data.draw(mostly(st.floats(1e-4, 1.0), ANYTHING))
    ok, eta = outcome(lambda: getattr(schedules, which)(**kwargs), params)
    if ok:
        rates = [eta(t) for t in (1, 2, 10, 1000, 100_000)]
        assert all(isinstance(r, float) and np.isfinite(r) and r >= 0 for r in rates)
        ok, _ = outcome(lambda: eta(data.draw(st.one_of(st.integers(-2, 0), JUNK))), ["t"])
        assert not ok


@settings(max_examples=60)
@given(st.data())
def test_the_second_order_optimizers_run_or_name_the_argument(data):
    s = data.draw(st.sampled_from(SURFACES))
    which = data.draw(st.sampled_from(["Newton", "BFGS", "LBFGS"]))
    cls = optimizers.SECOND_ORDER["L-BFGS" if which == "LBFGS" else which]
    kwargs = {"lr": data.draw(mostly(st.floats(0.1, 1.0), ANYTHING))}
    if which == "Newton":
        kwargs["hessian_fn"] = data.draw(mostly(st.just(s.hessian), st.one_of(st.just(lambda th: th), JUNK)))
        kwargs["damping"] = data.draw(mostly(st.floats(0, 10), ANYTHING))
    else:
        kwargs["loss_fn"] = data.draw(mostly(st.one_of(st.none(), st.just(s)), st.one_of(
            st.just(lambda th: np.nan * th[..., 0]), st.just(lambda th: None), st.just(lambda th: "x"),
            st.just(lambda th: th), JUNK)))
    if which == "LBFGS":
        kwargs["history"] = data.draw(mostly(st.integers(1, 20), st.one_of(st.just(10**6), st.just(2.5), ANYTHING)))
    ok, opt = outcome(lambda: cls(**kwargs), list(kwargs))
    if not ok:
        return
    steps = data.draw(st.integers(0, 30))
    ok, traj = outcome(lambda: run(opt, s, steps=steps), list(kwargs))
    if ok:
        assert_finite_trajectory(traj, steps)


@settings(max_examples=25)
@given(st.data())
def test_basin_map_and_plot_basins_succeed_or_name_the_argument(data):
    from kai_lib.studies import basins
    kwargs = {"n": data.draw(mostly(st.integers(1, 5), st.one_of(st.just(10**5), ANYTHING))),
              "tol": data.draw(mostly(st.floats(1e-4, 1.0), ANYTHING)),
              "xlim": data.draw(mostly(st.none(), st.one_of(st.just((1, 1)), st.just((5, -5)), st.just((0, 1, 2)),
                                                             ANYTHING))),
              "minima": data.draw(mostly(st.none(), st.one_of(st.just({"a": [3, 2, -2.805118, 3.131312]}),
                                                               st.just({}), ANYTHING)))}
    ok, m = outcome(lambda: basins.basin_map(optimizers.SGD(lr=0.01), "himmelblau", steps=5, **kwargs), list(kwargs))
    if not ok:
        return
    assert sum(m.fractions().values()) == pytest.approx(1.0)
    fig, ax = plt.subplots()
    try:
        axes = data.draw(st.one_of(st.none(), st.just([ax])))
        maps = data.draw(st.one_of(st.just(m), st.just({"a": m}), st.just({"a": m, "b": m}), st.just({}), JUNK))
        outcome(lambda: basins.plot_basins(maps, axes=axes), ["maps", "axes"])
    finally:
        plt.close("all")


@settings(max_examples=30)
@given(name=st.one_of(st.sampled_from(["notebook", "classroom"]), st.just(["notebook"]), ANYTHING))
def test_use_style_switches_or_names_the_argument(name):
    from kai_lib.pictures import styles
    try:
        ok, style = outcome(lambda: styles.use_style(name), ["style"])
        if ok:
            assert styles.current() is style
    finally:
        styles.use_style("notebook")


# --- every explorer's update: what each slider calls ---------------------------------------------------

def _explorers():
    from kai_lib.studies import basins, moons, second_order_widgets
    return {
        "explore": lambda: explore(optimizers.Momentum, "ravine", steps=20),
        "basins": lambda: basins.explore_basins(optimizers.Momentum, "himmelblau", n=6, steps=20),
        "moons": lambda: moons.explore(initial={"epochs": 10}),
        "second order": lambda: second_order_widgets.explore_second_order("beale", steps=10),
    }


EXPLORERS = _explorers()


@pytest.fixture(scope="module")
def explorers():
    built = {}

    def get(name):
        if name not in built:
            built[name] = EXPLORERS[name]()
        return built[name]

    yield get
    plt.close("all")


def slider_value(widget):
    """A value ``widget`` can show (what a user can set), or, a third of the time, anything."""
    import ipywidgets as W

    from kai_lib.pictures.render import bounds
    if isinstance(widget, W.Checkbox):
        good = st.booleans()
    elif isinstance(widget, (W.Dropdown, W.SelectionSlider)):
        good = st.sampled_from(list(widget.options))
    elif isinstance(widget, W.IntSlider):
        good = st.integers(widget.min, min(widget.max, widget.min + 40))  # a long run is a run: keep it quick
    else:
        good = inside(*bounds(widget))
    return mostly(good, st.one_of(ANYTHING, st.integers(-10, 10**6)), odds=2)


def assert_finite_result(result, widget, values):
    from kai_lib import nn
    from kai_lib.studies.basins import BasinMap
    if isinstance(result, Trajectory):
        assert_finite_trajectory(result, int(widget.values()["steps"]))
    elif isinstance(result, BasinMap):
        fractions = result.fractions()
        assert sum(fractions.values()) == pytest.approx(1.0) and all(np.isfinite(list(fractions.values())))
    else:
        assert isinstance(result, nn.History)
        assert np.all(np.isfinite(result.theta))
        assert np.all(np.isfinite(result.loss_per_epoch)) or result.diverged
    assert widget.image.value[:4] == b"\x89PNG"


@pytest.mark.parametrize("name", list(EXPLORERS))
@settings(max_examples=12)
@given(data=st.data())
def test_every_explorer_update_draws_or_names_the_argument(explorers, name, data):
    w = explorers(name)
    chosen = data.draw(st.lists(st.sampled_from(list(w.sliders)), unique=True, min_size=1, max_size=3))
    values = {k: data.draw(slider_value(w.sliders[k])) for k in chosen}
    if data.draw(st.integers(0, 5)) == 5:
        values[data.draw(st.sampled_from(["speed", "colour", "lr_"]))] = 1.0  # no such slider
    before = w.values()
    ok, result = outcome(lambda: w.update(**values), list(values))
    if ok:
        assert_finite_result(result, w, values)
    else:
        assert w.values() == before  # a refused update moves nothing


# --- the maintainers' command lines: arguments that must be refused (nothing may be written) ----------

def refused_argv(commands: dict, names, options=()):
    """An argument list ``main`` must refuse: no command, an unknown one or option, or a command
    with at least one bad notebook name among good ones."""
    bad_name = st.sampled_from(["", " ", "99", "zz", "03x", "-q", "--bogus"])
    good_name = st.sampled_from(names)
    named = st.sampled_from(sorted(commands)).flatmap(lambda c: st.tuples(
        st.just(c), st.lists(good_name, max_size=2), bad_name).map(lambda t: [t[0], *t[1], t[2]]))
    return st.one_of(st.just([]), st.sampled_from([["bogus"], ["--bogus"], ["x"]]), named,
                     st.sampled_from(sorted(commands)).map(lambda c: [c, *options, "--bogus"]))


def assert_refused(main, argv):
    status, stdout, stderr = command_line(main, argv)
    assert status == 2, (argv, status, stdout, stderr)
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and ": error: " in lines[-1] and sum(": error: " in line for line in lines) == 1


def never(*args, **kwargs):
    raise AssertionError("a command line reached its work with arguments it should have refused")


@settings(max_examples=25)
@given(data=st.data())
def test_the_notebook_tools_refuse_bad_arguments_in_one_line(data):
    from kai_lib.tools import nbtools
    names = [p.name[:2] for p in nbtools.notebook_paths()]
    argv = data.draw(refused_argv({"slides": 1, "notes": 1, "execute": 1}, names))
    with mock.patch.object(nbtools, "_run", never):
        assert_refused(nbtools.main, argv)


@settings(max_examples=25)
@given(data=st.data())
def test_the_translation_tools_refuse_bad_arguments_in_one_line(data):
    from kai_lib.tools import i18n
    names = list(i18n.sources())
    argv = data.draw(st.one_of(refused_argv({"extract": 1, "check": 1, "build": 1}, names),
                               st.sampled_from([["status", "03"], ["export"], ["import", "03"]]),
                               st.tuples(st.sampled_from(["export", "import"]),
                                         st.sampled_from(["", "99", "zz"])).map(lambda t: [*t, "unused.txt"])))
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        for work in ("extract", "check", "build", "status", "export", "import_"):
            stack.enter_context(mock.patch.object(i18n, work, never))
        cwd = os.getcwd()
        os.chdir(tmp)  # so that nothing could land in the repository
        try:
            assert_refused(i18n.main, argv)
        finally:
            os.chdir(cwd)
        assert list(Path(tmp).iterdir()) == []


@settings(max_examples=25)
@given(data=st.data())
def test_the_site_tools_refuse_bad_arguments_in_one_line(data):
    from kai_lib.tools import site
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        for work in ("build", "handouts"):
            stack.enter_context(mock.patch.object(site, work, never))
        Path(tmp, "a_file").write_text("x")
        Path(tmp, "kept").mkdir()
        Path(tmp, "kept", "notes.txt").write_text("x")
        Path(tmp, "empty").mkdir()
        Path(tmp, "book").mkdir()
        Path(tmp, "book", "01-x.ipynb").write_text("{}")
        Path(tmp, "pages").mkdir()
        Path(tmp, "pages", "01-x.html").write_text("x")
        bad_folder = st.sampled_from(["", " ", "a_file", "missing", "empty"])
        out = st.sampled_from(["", "a_file", "kept", ".", "book", tmp])
        argv = data.draw(st.one_of(
            st.sampled_from([[], ["bogus"], ["--bogus"], ["build", "--bogus"], ["handouts", "--out"]]),
            st.tuples(bad_folder, st.sampled_from(["new", "empty"])).map(lambda t: ["build", "--notebooks", t[0],
                                                                                   "--out", t[1]]),
            out.map(lambda o: ["build", "--notebooks", "book", "--out", o]),
            bad_folder.map(lambda s: ["handouts", "--site", s, "--out", "new"]),
            st.sampled_from(["", "02", "x"]).map(lambda o: ["handouts", "--site", "pages", "--out", "new", "01", o]),
            st.sampled_from(["", "a_file"]).map(lambda o: ["handouts", "--site", "pages", "--out", o]),
        ))
        cwd = os.getcwd()
        os.chdir(tmp)  # relative folders are the temporary folder's; nothing could land in the repository
        try:
            assert_refused(site.main, argv)
        finally:
            os.chdir(cwd)
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["a_file", "book", "empty", "kept", "pages"]
        assert Path(tmp, "kept", "notes.txt").read_text() == "x"


def test_a_site_build_never_empties_a_folder_it_did_not_build(tmp_path):
    from kai_lib.tools import site
    book = tmp_path / "book"
    book.mkdir()
    (book / "01-x.ipynb").write_text("{}")
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("x")
    refused = r"out must be a new or empty folder, or an earlier build .*, which .*a build empties it first"
    for out in (kept, tmp_path, site.ROOT, site.ROOT.parent):
        with pytest.raises(ValueError, match=refused):
            site.build(book, out, work=tmp_path / "work")
    assert (kept / "notes.txt").read_text() == "x" and not (tmp_path / "work").exists()
    assert site.not_emptiable(tmp_path / "new") is None and site.not_emptiable(tmp_path / "work") is None
    (kept / ".nojekyll").touch()  # an earlier build: emptied and built again
    assert site.not_emptiable(kept) is None
