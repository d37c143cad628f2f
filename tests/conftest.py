"""Test settings shared by every test file."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Hypothesis draws its examples from a fixed seed, so every run tests the same points
# (and a failure found once is found again); no example database is written.
settings.register_profile("kai_lib", derandomize=True, database=None, deadline=None)
settings.load_profile("kai_lib")


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test left open, so that none carries into the next."""
    yield
    plt.close("all")


@pytest.fixture
def no_show_and_close(monkeypatch):
    """Fail a test whose kai_lib call shows a figure (helpers return what they drew); close its figures."""
    def forbidden(*args, **kwargs):
        raise AssertionError("kai_lib must not call plt.show()")

    monkeypatch.setattr(plt, "show", forbidden)
    yield
    plt.close("all")


def _central_differences(f, x, h: float = 1e-6) -> np.ndarray:
    """``[(f(x + h·e_i) − f(x − h·e_i)) / 2h for each coordinate i]``: the gradient of a scalar
    ``f``, or of a vector ``f`` the rows ∂f/∂x_i (the Hessian, from a gradient)."""
    x = np.asarray(x, dtype=float)
    steps = h * np.eye(x.size).reshape(x.size, *x.shape)
    return np.stack([(np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h) for e in steps])


@pytest.fixture
def central_differences():
    """The one finite-difference check of an analytic derivative (micrograd's test, numpy's way)."""
    return _central_differences


@pytest.fixture
def cli_error(capsys):
    """``check(main, argv)``: ``main(argv)`` exits with status 2, prints nothing to stdout and no
    traceback, and ends with one argparse-style ``prog: error: ...`` line, which it returns."""
    def check(main, argv) -> str:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err and captured.out == ""
        last = captured.err.strip().splitlines()[-1]
        assert ": error: " in last
        return last

    return check


@pytest.fixture(scope="session")
def adam_on_beale():
    """Adam (η = 0.1) on Beale's function from its start, 20 steps: a run to hand to a picture."""
    from kai_lib import optimizers, run

    return run(optimizers.Adam(lr=0.1), "beale", steps=20)


def _assert_converges(optimizer, surface, steps: int) -> None:
    """``optimizer`` run ``steps`` steps on ``surface`` from its start does not diverge, ends within
    1e-2 of the surface's (first) minimiser, and lowers the loss a thousandfold."""
    from kai_lib import run

    traj = run(optimizer, surface, steps=steps)
    assert not traj.diverged
    assert np.linalg.norm(traj.final - surface.minima[0]) < 1e-2, traj.final
    assert traj.loss[-1] < 1e-3 * traj.loss[0]


@pytest.fixture
def assert_converges():
    """The one convergence check of an optimizer on a surface (principle 8: a parabola, Rosenbrock)."""
    return _assert_converges


def _assert_batch_is_single_runs(make_optimizer, n: int, steps: int = 10) -> None:
    """``run`` on ``n`` start points at once (a batch, rows of θ) gives, row by row and bit for bit,
    the paths of ``n`` single runs of the optimizer ``make_optimizer()`` (reset between them)."""
    from kai_lib import run, surfaces

    starts = np.random.default_rng(7).uniform(-2, 2, size=(n, 2))
    batch = run(make_optimizer(), surfaces.HIMMELBLAU, start=starts, steps=steps)
    assert batch.path.shape == (steps + 1, n, 2)
    opt = make_optimizer()
    for i in range(n):
        opt.reset()
        theta = starts[i]
        for k in range(1, steps + 1):
            theta = opt.step(theta, surfaces.HIMMELBLAU.grad)
            np.testing.assert_array_equal(batch.path[k, i], theta)


@pytest.fixture
def assert_batch_is_single_runs():
    """The batch check shared by the slides' optimizers and those after Adam (:func:`_assert_batch_is_single_runs`)."""
    return _assert_batch_is_single_runs
