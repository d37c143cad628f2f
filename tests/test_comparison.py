"""kai_lib.studies.comparison: first steps from the zero state, the fair sweep and its heat map."""


import matplotlib.pyplot as plt
import numpy as np
import pytest

from kai_lib import optimizers, surfaces
from kai_lib.runner import Trajectory, run
from kai_lib.studies import comparison

GRADIENTS = np.array([1e3, 1.0, 1e-3, 1e-5, 1e-7])


@pytest.mark.parametrize("inside", [True, False])
@pytest.mark.parametrize("eps", [1e-10, 1e-8, 1e-4, 1.0])
def test_the_first_step_is_the_formula_for_every_adaptive_optimizer(eps, inside):
    for cls, c in ((optimizers.Adagrad, 1.0), (optimizers.Adam, 1.0),
                   (optimizers.RMSProp, 0.1), (optimizers.RMSProp, 0.01)):
        kwargs = {"gamma": 1 - c} if cls is optimizers.RMSProp else {}
        measured = comparison.first_step(cls, GRADIENTS, lr=0.3, eps=eps, eps_inside_sqrt=inside, **kwargs)
        expected = comparison.first_step_formula(GRADIENTS, eps, inside=inside, c=c)
        np.testing.assert_allclose(measured, expected, rtol=1e-9)


def test_first_steps_worked_out_by_hand():
    # Adagrad, ε = 1e-4 inside: 1e-3 / √(1e-6 + 1e-4) = 0.0995037...
    assert comparison.first_step(optimizers.Adagrad, [1e-3], eps=1e-4)[0] == pytest.approx(0.09950372, rel=1e-7)
    # outside: 1e-3 / (1e-3 + 1e-4) = 0.90909...
    assert comparison.first_step(optimizers.Adagrad, [1e-3], eps=1e-4,
                                 eps_inside_sqrt=False)[0] == pytest.approx(1 / 1.1, rel=1e-12)
    # RMSProp, γ = 0.9: 1/√0.1 = 3.1623 for any large gradient
    assert comparison.first_step(optimizers.RMSProp, [5.0])[0] == pytest.approx(10 ** 0.5, rel=1e-8)
    # AdaDelta has no η: the distance itself, √ε / √((1−γ)g² + ε)
    step = comparison.first_step(optimizers.AdaDelta, [1.0], eps=1e-6)[0]
    assert step == pytest.approx(1e-3 / np.sqrt(0.1 + 1e-6), rel=1e-12)


def test_the_tables_print_one_row_per_setting_and_the_measured_values():
    table = comparison.eps_placement(optimizers.Adagrad, [1.0, 1e-3], [1e-8, 1e-4])
    lines = table.splitlines()
    assert len(lines) == 1 + 4
    assert "1e+00" in lines[0] and "1e-03" in lines[0]
    row = next(line for line in lines if line.startswith("ε = 0.0001, inside the root"))
    assert row.split()[-1] == "0.0995"
    row = next(line for line in lines if line.startswith("ε = 0.0001, outside"))
    assert row.split()[-1] == "0.9091"


def _traj(path, loss, diverged=False):
    path = np.asarray(path, dtype=float)
    return Trajectory(path=path, loss=np.asarray(loss, dtype=float), diverged=np.asarray(diverged),
                      diverged_at=np.where(np.asarray(diverged), 1, -1), grad_evals=0, surface=surfaces.SADDLE)


def test_score_on_a_surface_with_a_minimum():
    ok = _traj(np.zeros((3, 2, 2)), [[5.0, 5.0], [1.0, 1.0], [0.2, 0.4]], diverged=[False, False])
    assert comparison.score("beale", ok) == (pytest.approx(0.3), False)
    diverged = _traj(np.zeros((3, 2, 2)), np.zeros((3, 2)), diverged=[False, True])
    assert comparison.score("beale", diverged) == (np.inf, True)
    far = np.zeros((3, 2, 2))
    far[-1, 1] = [150.0, 0.0]                      # ends more than 100 from the origin
    assert comparison.score("long_valley", _traj(far, np.zeros((3, 2)), [False, False])) == (np.inf, True)


def test_score_on_the_saddle():
    path = np.zeros((5, 2, 2))
    path[:, 0, 1] = [0.0, 0.5, 1.5, 3.0, 9.0]       # escapes at step 2
    path[:, 1, 1] = [0.0, 0.1, 0.2, 1.2, 2.0]       # escapes at step 3
    assert comparison.score("saddle", _traj(path, np.zeros((5, 2)), [False, False])) == (2.5, False)
    path[:, 1, 1] = 0.1                             # never escapes: fails, but did not blow up
    assert comparison.score("saddle", _traj(path, np.zeros((5, 2)), [False, False])) == (np.inf, False)
    path[:, 1, 1] = [0.0, 0.1, 0.2, 1.2, 2.0]
    path[1, 1, 0] = 2.0                             # thrown sideways before escaping
    assert comparison.score("saddle", _traj(path, np.zeros((5, 2)), [False, False])) == (np.inf, True)


def test_start_points_are_seeded_and_where_documented():
    a, b = comparison.start_points(), comparison.start_points()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
        assert a[name].shape == (comparison.N_STARTS, 2)
    assert np.all((a["saddle"][:, 0] >= 0.5) & (a["saddle"][:, 0] <= 1.0))
    assert np.all((np.abs(a["saddle"][:, 1]) >= 0.5e-3) & (np.abs(a["saddle"][:, 1]) <= 2e-3))
    assert np.abs(a["beale"] - surfaces.BEALE.start).max() < 0.5


def test_the_sweep_scores_each_setting_as_a_run_of_its_own_would():
    s = comparison.sweep("beale", names=("SGD", "AdaDelta"), steps=20)
    assert set(s.values) == {"SGD", "AdaDelta"} and s.scores["SGD"].shape == (9,)
    np.testing.assert_array_equal(s.values["AdaDelta"], comparison.EPSILONS)
    starts = comparison.start_points()["beale"]
    for i in (0, 4, 8):
        traj = run(optimizers.SGD(lr=comparison.LRS[i]), surfaces.BEALE, start=starts, steps=20)
        assert comparison.score("beale", traj) == (s.scores["SGD"][i], s.blew_up["SGD"][i])
    # SGD's step is η times a gradient of about 99 here: large η blow up, small ones do not
    assert s.blew_up["SGD"][-1] and not s.blew_up["SGD"][0]
    value, best = s.best("SGD")
    assert best == s.scores["SGD"].min() and value in comparison.LRS
    np.testing.assert_allclose(s.step_scale("AdaDelta"), np.sqrt(comparison.EPSILONS / 0.1))


def test_an_unknown_race_is_refused_with_the_known_names():
    with pytest.raises(KeyError, match="long_valley"):
        comparison.sweep("nope")


def test_the_heat_map_writes_every_score_or_a_cross():
    s = comparison.sweep("saddle", names=("SGD", "AdaDelta", "Adam"), steps=30)
    fig, ax = plt.subplots()
    image = comparison.heat_map(s, ax=ax)
    texts = [t.get_text() for t in ax.texts]
    n_cells = sum(len(v) for v in s.values.values())
    assert len(texts) == n_cells
    assert texts.count("✕") == sum(int(np.sum(~np.isfinite(v))) for v in s.scores.values())
    for name in s.values:
        for x in s.scores[name][np.isfinite(s.scores[name])]:
            assert comparison._short(x) in texts
    # AdaDelta sits half a decade left of the η grid: 10 columns for 9 values per row
    assert image.get_array().shape == (3, 10)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["SGD", "AdaDelta", "Adam"]
    plt.close(fig)


def test_short_numbers_fit_a_cell():
    assert [comparison._short(x) for x in (0.29, 3.1e-05, 6.5, 72.0, np.inf, 3.9e-90)] == \
        ["0.29", "3e-5", "6.5", "72", "✕", "4e-90"]


def test_a_compact_png_is_a_smaller_png_of_the_same_picture():
    import io

    from PIL import Image

    s = comparison.sweep("saddle", names=("SGD", "Adam"), steps=30)
    fig, ax = plt.subplots(figsize=(6, 3))
    comparison.heat_map(s, ax=ax)
    full = io.BytesIO()
    fig.savefig(full, format="png", dpi=100, bbox_inches="tight")
    png = comparison.compact_png(fig)
    assert not plt.fignum_exists(fig.number)
    image = Image.open(io.BytesIO(png._repr_png_()))
    assert image.format == "PNG" and image.mode == "P" and image.size == Image.open(full).size
    assert len(png.data) < len(full.getvalue())
    assert repr(png) == f"<PNG, {image.size[0]} × {image.size[1]} px>"


@pytest.mark.parametrize("race", ["long_valley", "beale", "saddle"])
def test_the_protocols_start_criterion_scores_a_batch_as_it_scores_each_start_alone(race):
    crit = comparison.Start(race, steps=30)
    opt = optimizers.Adam(lr=0.1)
    together = crit.many(opt, [3, 4, 5])
    alone = [crit(optimizers.Adam(lr=0.1), s) for s in (3, 4, 5)]
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(crit.many(optimizers.SGD(lr=1e6), [3])[:1], [np.inf])
    assert race.replace("_", " ")[:4].lower() in crit.budget.lower()


def test_the_2d_protocol_tunes_on_some_starts_and_judges_on_others():
    assert not set(comparison.TUNE_STARTS) & set(comparison.EVAL_STARTS) and len(comparison.EVAL_STARTS) >= 10
    cmp = comparison.protocol("saddle", names=["SGD", "Adam"], steps=30)
    assert cmp.tune_seeds == tuple(comparison.TUNE_STARTS) and cmp["SGD"].tune_scores.shape == (9, 8)
    assert cmp.verdict("Adam", "SGD") == "better"      # Adam leaves the saddle in about one step, SGD in six
    with pytest.raises(KeyError, match="race_name must be a known race name"):
        comparison.Start("nope")
