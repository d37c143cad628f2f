"""Basins of attraction: classification on a surface whose basins are known, the maps, bad input."""


import numpy as np
import pytest

from kai_lib import optimizers, surfaces
from kai_lib.studies import races
from kai_lib.studies.basins import (
    DIVERGED,
    NONE,
    BasinMap,
    basin_map,
    classify,
    explore_basins,
    minima_of,
    plot_basins,
    start_grid,
)
from kai_lib.surfaces import Surface

# A separable double well, J = (x² − 1)²/4 + y²/2: minima (±1, 0), and under gradient
# descent with a small step the sign of x never changes (x ← x(1 − η(x² − 1)) with
# 1 − η(x² − 1) > 0 for |x| ≤ 2, η = 0.1), so the basin boundary is exactly x = 0.
DOUBLE_WELL = Surface(
    name="double_well",
    title="Double well",
    formula=r"\tfrac14 (x^2 - 1)^2 + \tfrac12 y^2",
    value_fn=lambda x, y: (x**2 - 1) ** 2 / 4 + y**2 / 2,
    grad_fn=lambda x, y: (x * (x**2 - 1), y),
    hessian_fn=lambda x, y: (3 * x**2 - 1, 0 * x, 1 + 0 * y),
    minima=[[-1.0, 0.0], [1.0, 0.0]],
    xlim=(-2.0, 2.0),
    ylim=(-1.5, 1.5),
    start=[0.5, 0.5],
)


@pytest.mark.parametrize("n", [20, 41])
def test_double_well_basins_are_the_two_half_planes(n):
    m = basin_map(optimizers.SGD(lr=0.1), DOUBLE_WELL, n=n, steps=500)
    x = m.starts[..., 0]
    expected = np.where(x < 0, 0, 1)            # minimum 0 is (−1, 0), minimum 1 is (1, 0)
    on_boundary = x == 0                        # x = 0 is a fixed line: it stays on the ridge
    np.testing.assert_array_equal(m.basin[~on_boundary], expected[~on_boundary])
    assert np.all(m.basin[on_boundary] == NONE)
    assert m.distance[~on_boundary].max() < 1e-3
    share = m.fractions()
    off = on_boundary.mean()
    assert share["(−1, 0)"] == pytest.approx((1 - off) / 2) and share["(1, 0)"] == pytest.approx((1 - off) / 2)
    assert share["none"] == pytest.approx(off) and share["diverged"] == 0
    assert sum(share.values()) == pytest.approx(1.0)


def test_double_well_with_a_huge_step_diverges_from_the_far_starts():
    m = basin_map(optimizers.SGD(lr=1.0), DOUBLE_WELL, n=21, steps=200)
    far = np.abs(m.starts[..., 0]) > np.sqrt(3) + 0.05  # x(2 − x²) grows without bound from here
    assert np.all(m.basin[far] == DIVERGED)
    assert np.all(m.diverged_at[far] > 0) and np.all(np.isnan(m.distance[far]))
    assert m.fractions()["diverged"] >= far.mean()


def test_classify_by_hand():
    minima = np.array([[0.0, 0.0], [3.0, 4.0]])
    final = np.array([[0.0, 5e-4], [3.0, 4.0009], [1.0, 1.0], [3.0, 4.0]])
    diverged = np.array([False, False, False, True])
    basin, nearest, distance = classify(final, diverged, minima, tol=1e-3)
    assert basin.tolist() == [0, 1, NONE, DIVERGED]
    assert nearest.tolist() == [0, 1, 0, DIVERGED]
    np.testing.assert_allclose(distance[:3], [5e-4, 9e-4, np.sqrt(2)])
    assert np.isnan(distance[3])
    with pytest.raises(ValueError, match="minima must hold at least one point"):
        classify(final, diverged, np.zeros((0, 2)))


def test_start_grid_covers_the_view_row_by_y():
    g = start_grid(surfaces.HIMMELBLAU, 5)
    assert g.shape == (5, 5, 2)
    np.testing.assert_array_equal(g[0, 0], [-5, -5])
    np.testing.assert_array_equal(g[-1, -1], [5, 5])
    np.testing.assert_array_equal(g[1, 0], [-5, -2.5])  # row i: the i-th y


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "200"])
def test_a_grid_with_no_points_is_refused(n):
    with pytest.raises(ValueError, match=r"n must be an integer >= 1"):
        start_grid(surfaces.HIMMELBLAU, n)
    with pytest.raises(ValueError, match=r"n must be an integer >= 1"):
        basin_map(optimizers.SGD(), surfaces.HIMMELBLAU, n=n)


def test_bad_minima_and_tol():
    with pytest.raises(ValueError, match="minima must hold at least one point"):
        basin_map(optimizers.SGD(), DOUBLE_WELL, n=3, minima={})
    for tol in (0, -1e-3, "small"):
        with pytest.raises(ValueError, match="tol must be a finite number > 0"):
            basin_map(optimizers.SGD(), DOUBLE_WELL, n=3, tol=tol)


def test_minima_of_names_the_global_and_the_local_ones():
    lm = minima_of(surfaces.LOCAL_MINIMA)
    assert list(lm) == ["deep (2, 0)", "shallow (−1.5, 0)"]
    np.testing.assert_array_equal(lm["shallow (−1.5, 0)"], surfaces.LOCAL_MINIMA_SHALLOW)
    hb = minima_of(surfaces.HIMMELBLAU)
    assert list(hb)[0] == "(3, 2)" and len(hb) == 4
    for point in hb.values():  # every labelled point is a minimiser: ∇J = 0 there
        np.testing.assert_allclose(surfaces.HIMMELBLAU.grad(point), 0, atol=1e-9)


def test_basin_settings_are_the_races_settings():
    for name, b in races.BASINS.items():
        assert b.settings is races.RACES[b.race].settings
        assert list(b.settings) == list(optimizers.SLIDES)
        assert b.png == f"basins_{name}.png" and b.n == 200 and b.steps == 500 and b.tol == 1e-3
    with pytest.raises(KeyError, match="known: himmelblau, local_minima"):
        races.basins("nope")


@pytest.fixture(scope="module")
def coarse():
    return {name: races.basins(name, n=40) for name in races.BASINS}


def test_himmelblau_every_start_near_a_minimum_ends_in_it(coarse):
    s = surfaces.HIMMELBLAU
    for name in ("SGD", "Momentum", "NAG", "Adam"):
        kwargs = races.BASINS["himmelblau"].settings[name]
        near = s.minima + 0.1  # a start 0.14 from each minimum
        for i, point in enumerate(near):
            m = basin_map(optimizers.ALL[name](**kwargs), s, n=1, xlim=(point[0],) * 2, ylim=(point[1],) * 2)
            assert m.basin[0, 0] == i, (name, i)
    # at the races' settings no start leaves the map, and SGD's four basins are about equal
    for m in coarse["himmelblau"].values():
        assert m.fractions()["diverged"] == 0
    sgd = coarse["himmelblau"]["SGD"].fractions()
    assert all(0.2 < sgd[k] < 0.3 for k in minima_of(s))


def test_momentum_reaches_the_deep_minimum_from_more_starts_than_sgd(coarse):
    deep = "deep (2, 0)"
    share = {name: m.fractions()[deep] for name, m in coarse["local_minima"].items()}
    assert share["Momentum"] > share["SGD"] + 0.1 and share["NAG"] > share["SGD"] + 0.1
    # RMSProp at a fixed η hops about η around a minimum: never within 1e-3, yet it is
    # nearest the deep minimum from as many starts as SGD reaches it
    rms = coarse["local_minima"]["RMSProp"]
    assert rms.fractions()["none"] > 0.9
    assert rms.nearest_fractions()[deep] > 0.5


def test_plot_basins_draws_a_panel_per_optimizer_with_the_fractions(coarse):
    maps = coarse["himmelblau"]
    fig = plot_basins(maps)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 8  # seven maps and the legend
    panels = [ax for ax in visible if ax.images]
    assert len(panels) == 7
    for ax, m in zip(panels, maps.values(), strict=True):
        title = ax.get_title()
        assert title.startswith(m.label)
        assert all(f"{v:.0%}" in title for k, v in m.fractions().items() if k in m.names)
        assert ax.images[0].get_array().shape == (40, 40)
    legend = visible[-1].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [*minima_of(surfaces.HIMMELBLAU), "none within tol",
                                                           "diverged"]
    fig.set_dpi(100)
    assert min(t.get_fontsize() for t in legend.get_texts()) * 100 / 72 >= 16  # projector-sized
    with pytest.raises(ValueError, match="maps must hold at least one BasinMap"):
        plot_basins({})
    assert isinstance(next(iter(maps.values())), BasinMap)


def test_explore_basins_redraws_at_the_slider_extremes():
    w = explore_basins(optimizers.Momentum, surfaces.HIMMELBLAU, n=12, steps=60)
    assert set(w.sliders) == {"lr", "gamma"}
    first = w.image.value
    assert first[:4] == b"\x89PNG"
    big = w.update(lr=1.0, gamma=0.99)
    assert big.fractions()["diverged"] > 0.5 and w.image.value != first
    small = w.update(lr=1e-4, gamma=0.0)
    assert small.fractions()["none"] == 1.0  # 60 tiny steps arrive nowhere
    w.sliders["lr"].value = 0.005            # moving a slider redraws
    assert w.basin_map.label.startswith("Momentum  η=0.005")
    with pytest.raises(TypeError, match="no slider named 'beta1'"):
        w.update(beta1=0.5)
    assert set(explore_basins(optimizers.AdaDelta, DOUBLE_WELL, n=4, steps=5).sliders) == {"gamma"}


# --- ceilings, views, minima and panels (reliability, families 3.1, 3.6, 3.10, 3.12) -----------------

@pytest.mark.parametrize("kwargs, name", [
    (dict(n=10**5), "n"),
    (dict(n=4, tol=True), "tol"),
    (dict(n=4, xlim=(1, 1)), "xlim"),
    (dict(n=4, xlim=(5, -5)), "xlim"),
    (dict(n=4, xlim=(0, 1, 2)), "xlim"),
    (dict(n=4, minima={"a": [3, 2, -2.805118, 3.131312]}), "minima['a']"),
    (dict(n=4, minima={}), "minima"),
])
def test_basin_map_refuses_what_would_contradict_its_own_arrays(kwargs, name):
    import re
    with pytest.raises(ValueError, match="^" + re.escape(name) + " must"):
        basin_map(optimizers.SGD(lr=0.01), "himmelblau", steps=10, **kwargs)


def test_the_shares_of_a_map_with_given_minima_sum_to_one():
    m = basin_map(optimizers.SGD(lr=0.01), "himmelblau", n=6, steps=50,
                         minima={"a": [3, 2], "b": [-2.805118, 3.131312]})
    assert sum(m.fractions().values()) == pytest.approx(1.0)


def test_plot_basins_refuses_fewer_axes_than_maps():
    import matplotlib.pyplot as plt
    a = basin_map(optimizers.SGD(lr=0.01), "himmelblau", n=4, steps=10)
    b = basin_map(optimizers.Adam(lr=0.1), "himmelblau", n=4, steps=10)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="^axes must be one axes per map, at least 2"):
        plot_basins({"a": a, "b": b}, axes=[ax])
    plt.close(fig)
