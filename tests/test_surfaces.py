"""The surfaces: analytic gradients and Hessians against finite differences, minimisers, views."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kai_lib import surfaces
from kai_lib.surfaces import ALL

NAMES = ["beale", "long_valley", "saddle", "rosenbrock", "himmelblau", "ravine", "local_minima"]
H = 1e-5


def points_in(surface):
    """Points of the surface's view (a margin around it too)."""
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    return st.tuples(st.floats(x0 - 0.5, x1 + 0.5), st.floats(y0 - 0.5, y1 + 0.5)).map(np.array)


def test_the_required_surfaces_exist():
    assert set(NAMES) <= set(ALL)
    for name in NAMES:
        assert ALL[name].name == name


@pytest.mark.parametrize("name", NAMES)
def test_gradient_against_finite_differences(name, central_differences):
    s = ALL[name]

    @settings(max_examples=100, deadline=None)
    @given(points_in(s))
    def check(xy):
        fd = central_differences(s, xy, H)
        scale = 1 + np.abs(s(xy)) + np.abs(fd).max()
        np.testing.assert_allclose(s.grad(xy), fd, rtol=1e-6, atol=1e-7 * scale)

    check()


@pytest.mark.parametrize("name", NAMES)
def test_hessian_against_finite_differences_of_the_gradient(name, central_differences):
    s = ALL[name]

    @settings(max_examples=100, deadline=None)
    @given(points_in(s))
    def check(xy):
        fd = central_differences(s.grad, xy, H)
        hess = s.hessian(xy)
        scale = 1 + np.abs(fd).max()
        np.testing.assert_allclose(hess, fd, rtol=1e-6, atol=1e-7 * scale)
        np.testing.assert_array_equal(hess, np.swapaxes(hess, -1, -2))  # symmetric

    check()


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=30, deadline=None)
@given(batch=arrays(float, st.tuples(st.integers(1, 4), st.integers(1, 3), st.just(2)), elements=st.floats(-3, 3)))
def test_vectorised_over_any_leading_shape(name, batch):
    s = ALL[name]
    values, grads, hessians = s(batch), s.grad(batch), s.hessian(batch)
    assert values.shape == batch.shape[:-1]
    assert grads.shape == batch.shape
    assert hessians.shape == batch.shape + (2,)
    i, j = batch.shape[0] - 1, batch.shape[1] - 1
    # the same numbers as one point at a time (up to the last bit: numpy's vector loops may round differently)
    np.testing.assert_allclose(values[i, j], s(batch[i, j]), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(grads[i, j], s.grad(batch[i, j]), rtol=1e-14, atol=1e-13)
    np.testing.assert_allclose(hessians[i, j], s.hessian(batch[i, j]), rtol=1e-14, atol=1e-13)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "saddle"])
def test_minimisers_have_zero_gradient_and_the_lowest_value_in_view(name):
    s = ALL[name]
    assert s.minima.ndim == 2 and s.minima.shape[1] == 2 and len(s.minima) >= 1
    X, Y, Z = s.grid(400)
    for m in s.minima:
        np.testing.assert_allclose(s.grad(m), 0, atol=1e-12)
        assert s.xlim[0] < m[0] < s.xlim[1] and s.ylim[0] < m[1] < s.ylim[1]
        assert s(m) <= Z.min() + 1e-12
        # a minimum, not a saddle: the Hessian is positive definite
        assert np.all(np.linalg.eigvalsh(s.hessian(m)) > 0)
    np.testing.assert_allclose(s(s.minima), s(s.minima[0]), atol=1e-12)  # all global


def test_saddle_has_no_minimiser_and_a_saddle_at_the_origin():
    s = surfaces.SADDLE
    assert s.minima.shape == (0, 2)
    np.testing.assert_array_equal(s.grad(np.zeros(2)), [0, 0])
    assert sorted(np.linalg.eigvalsh(s.hessian(np.zeros(2)))) == [-2, 2]
    np.testing.assert_array_equal(s(np.array([[1.0, 0.0], [0.0, 1.0]])), [1.0, -1.0])


@pytest.mark.parametrize("name", NAMES)
def test_start_is_in_view_and_not_a_minimiser(name):
    s = ALL[name]
    assert s.start.shape == (2,)
    assert s.xlim[0] < s.start[0] < s.xlim[1] and s.ylim[0] < s.start[1] < s.ylim[1]
    assert np.linalg.norm(s.grad(s.start)) > 1e-4
    assert s.title and s.formula and s.description


def test_long_valley_is_a_narrow_valley_with_a_gently_descending_floor():
    s = surfaces.LONG_VALLEY
    assert "reconstruction" in s.description
    # along the floor (y = 0) J descends gently and monotonically to the minimum
    xs = np.linspace(s.xlim[0], s.minima[0, 0], 200)
    floor = s(np.stack([xs, np.zeros_like(xs)], -1))
    assert np.all(np.diff(floor) < 0)
    assert np.abs(s.grad(np.stack([xs, 0 * xs], -1))[:, 0]).max() <= 0.05
    # at the start, on the wall, the gradient points (almost) straight across the valley
    gx, gy = s.grad(s.start)
    assert abs(gy) > 50 * abs(gx)


def test_local_minima_surface_has_a_shallow_local_minimum_beside_the_global_one():
    s = surfaces.LOCAL_MINIMA
    local = surfaces.LOCAL_MINIMA_SHALLOW
    np.testing.assert_allclose(s.grad(local), 0, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(s.hessian(local)) > 0)
    assert s(local) > s(s.minima[0]) + 1.0  # far above the global minimum
    ridge = np.array([-0.9, 0.0])
    assert 0 < s(ridge) - s(local) < 0.1   # behind a low ridge: shallow


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="known: beale, long_valley, saddle"):
        ALL["nope"]
    with pytest.raises(KeyError, match="known:"):
        surfaces.get("nope")


def test_bad_shape_is_a_value_error_naming_the_argument():
    with pytest.raises(ValueError, match=r"xy must have shape \(\.\.\., 2\)"):
        surfaces.BEALE(np.zeros(3))
    with pytest.raises(ValueError, match=r"xy must have shape"):
        surfaces.BEALE.grad(np.zeros((4, 3)))


def test_surfaces_are_read_only():
    with pytest.raises(ValueError):
        surfaces.BEALE.start[0] = 5.0
    with pytest.raises(AttributeError):
        surfaces.BEALE.xlim = (0, 1)


@pytest.mark.parametrize("name", sorted(surfaces.ALL))
@pytest.mark.parametrize("point", [(1e200, -1e200), (1e155, 3.0), (-1e300, 1e300), (3.0, -1e160)])
def test_far_points_answer_quietly_with_inf_or_nan(name, point):
    """Far outside the view J, ∇J and ∇²J may overflow: an answer (the runner calls it divergence), not a warning."""
    s = surfaces.ALL[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = [s(np.array(point)), s.grad(np.array(point)), s.hessian(np.array(point))]
    assert [np.shape(v) for v in values] == [(), (2,), (2, 2)]
