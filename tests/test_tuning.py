"""kai_lib.studies.tuning: the fair sweep picks what its criterion says, and every tuned optimizer trains."""

import numpy as np
import pytest

from kai_lib import nn, optimizers
from kai_lib.studies import tuning


@pytest.fixture(scope="module")
def small():
    budget = tuning.Budget(epochs=3, seeds=(0,))
    return tuning.tune(optimizers.SLIDES, budget=budget)


def test_grids_are_the_same_size_and_half_a_decade_apart():
    assert len(tuning.GRID) == len(tuning.EPS_GRID) == 9
    np.testing.assert_allclose(np.diff(np.log10(tuning.GRID)), 0.5)
    assert tuning.GRID[0] == pytest.approx(1e-3) and tuning.GRID[-1] == pytest.approx(10)


def test_the_criterion_picks_the_lowest_mean_final_loss(small):
    for name, t in small.items():
        assert t.grid_loss.shape == (9, 1)
        assert t.best_index == int(np.argmin(t.grid_loss.mean(axis=1)))
        assert t.final_loss[0] == pytest.approx(t.grid_loss[t.best_index].mean())
        assert t.knob == ("eps" if name == "AdaDelta" else "lr")
    text = str(small)
    assert text.splitlines()[0].startswith("3 epochs, batch 32, 1 seeds, 9-point grid")
    assert "SGD        η = " in text and "AdaDelta   ε = " in text and "s/run" not in text
    assert "s/run" in small.text(seconds=True)


@pytest.mark.parametrize("name", optimizers.SLIDES)
def test_every_slide_optimizer_at_its_tuned_value_trains_without_a_non_finite_loss(small, digits_data, name):
    X_train, X_test, y_train, y_test = digits_data
    hist = nn.train(small[name].optimizer(), nn.MLP([64, 32, 10], seed=5), X_train, y_train, epochs=10,
                    batch_size=32, seed=5, X_test=X_test, y_test=y_test)
    assert not hist.diverged and np.all(np.isfinite(hist.loss_per_step))
    assert hist.test_accuracy[-1] > 0.9


@pytest.fixture(scope="module")
def digits_data():
    from kai_lib import data

    return data.digits()


def test_diverged_runs_count_as_infinite_and_several_seeds_give_a_spread():
    budget = tuning.Budget(sizes=(64, 16, 10), activation="relu", epochs=2, seeds=(0, 1))
    t = tuning.tune(["SGD"], budget=budget, grid=[0.01, 0.1, 1e6])["SGD"]
    assert np.all(np.isinf(t.grid_loss[-1]))  # η = 1e6 blows a ReLU network up
    assert t.best == 0.1 and not t.at_edge
    assert t.final_loss[1] > 0 and len(t.histories) == 2
    with pytest.raises(ValueError, match="grid must be at least two finite values > 0"):
        tuning.tune(["SGD"], grid=[0.1, -1])
    with pytest.raises(KeyError, match="must be a known optimizer name"):
        tuning.tune(["Lion"])


def test_batch_size_study_gives_each_batch_size_its_own_eta():
    study = tuning.batch_size_study(batch_sizes=(64, None), epochs=2, full_batch_epochs=5, grid=(0.1, 1.0))
    assert list(study) == [64, 1438]
    for size, (lr, hist) in study.items():
        assert lr in (0.1, 1.0)
        assert len(hist.loss_per_step) == (5 if size == 1438 else 2 * 23)
