"""kai_lib.studies.tuning: the protocol of every comparison, checked on answers known in advance.

Synthetic criteria (seeded draws, no training) test the statistics: the interval, the
sample sd, the verdicts and tiers; a small digits comparison tests the wiring (the test
set only at the end, the validation split, classes beyond optimizers.ALL).
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from kai_lib import checks, nn, optimizers
from kai_lib.pictures import styles
from kai_lib.studies import comparison, tuning

EVAL = range(100, 120)


def synthetic(means: dict[str, float], sd: float = 1.0, shared: float = 0.0):
    """A criterion that draws N(mean of the optimizer's class, sd) per seed, plus a seed effect shared by all.

    The tuned value does not matter (flat in η), so the answer is known: the means.
    """
    def criterion(optimizer, seed):
        rng = np.random.default_rng([seed, sorted(means).index(type(optimizer).__name__)])
        common = np.random.default_rng(seed).normal(0, shared)
        return means[type(optimizer).__name__] + common + rng.normal(0, sd)
    criterion.budget = "nothing: a draw"
    return criterion


def test_one_grid_for_the_collection_half_a_decade_apart():
    assert len(tuning.GRID) == len(tuning.EPS_GRID) == 9
    np.testing.assert_allclose(np.diff(np.log10(tuning.GRID)), 0.5)
    assert tuning.GRID[0] == pytest.approx(1e-3) and tuning.GRID[-1] == pytest.approx(10)
    assert comparison.LRS is tuning.GRID and comparison.EPSILONS is tuning.EPS_GRID


def test_the_interval_is_the_t_interval_with_the_sample_sd():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    low, high = tuning.t_interval(x)
    s = math.sqrt(((x - 3.5) ** 2).sum() / 3)                 # ddof = 1, by hand
    half = stats.t.ppf(0.975, 3) * s / 2
    assert (low, high) == pytest.approx((3.5 - half, 3.5 + half))
    assert tuning.t_interval([1.0, math.inf]) == (math.inf, math.inf)
    with pytest.raises(ValueError, match="at least 2"):
        tuning.t_interval([1.0])


def test_the_interval_covers_the_true_mean_about_95_times_in_100():
    rng = np.random.default_rng(0)
    hits = sum(lo <= 5 <= hi for lo, hi in (tuning.t_interval(rng.normal(5, 2, 10)) for _ in range(2000)))
    assert 0.93 < hits / 2000 < 0.97


def test_candidates_report_the_sample_sd_and_the_interval():
    cmp = tuning.compare(["SGD", "Adam"], synthetic({"SGD": 1.0, "Adam": 1.0}), tune_seeds=(0, 1), eval_seeds=EVAL,
                         grid=[0.1, 1.0])
    c = cmp["SGD"]
    assert c.sd == pytest.approx(np.std(c.scores, ddof=1)) and c.sd != pytest.approx(np.std(c.scores))
    assert cmp.interval("SGD") == tuning.t_interval(c.scores)
    assert len(c.scores) == 20 and c.tune_scores.shape == (2, 2)


def test_same_distribution_is_a_tie_and_clearly_separated_is_better_or_worse():
    cmp = tuning.compare(["SGD", "Momentum", "Adam"], synthetic({"SGD": 1.0, "Momentum": 1.0, "Adam": 5.0}),
                         tune_seeds=(0,), eval_seeds=EVAL, grid=[0.1, 1.0])
    assert cmp.verdict("SGD", "Momentum") == cmp.verdict("Momentum", "SGD") == "tie"
    assert cmp.verdict("SGD", "Adam") == "better" and cmp.verdict("Adam", "SGD") == "worse"
    assert cmp.tiers() == [sorted(["SGD", "Momentum"], key=lambda n: cmp[n].mean), ["Adam"]]
    assert cmp.tier_of("Adam") == 2
    text = str(cmp)
    assert "tuned on seeds 0, judged on 20 other seeds (100–119)" in text and "Holm-adjusted over 3 pairs" in text


def test_same_distribution_ties_in_at_least_95_of_100_experiments():
    ties = sum(tuning.compare(["SGD", "Adam"], synthetic({"SGD": 0.0, "Adam": 0.0}), tune_seeds=(0,),
                              eval_seeds=range(10 + 20 * k, 30 + 20 * k), grid=[0.1, 1.0]).verdict("SGD", "Adam")
               == "tie" for k in range(100))
    assert ties >= 93


def test_pairing_sees_a_small_difference_under_a_large_shared_seed_effect():
    # each seed moves both runs by a lot (sd 10), the optimizers differ by 1 (sd 0.1): paired, that is clear
    cmp = tuning.compare(["SGD", "Adam"], synthetic({"SGD": 1.0, "Adam": 2.0}, sd=0.1, shared=10.0),
                         tune_seeds=(0,), eval_seeds=EVAL, grid=[0.1, 1.0])
    low, high = cmp.interval("SGD")
    assert low < cmp["Adam"].mean < high                 # the intervals overlap ...
    assert cmp.verdict("SGD", "Adam") == "better"        # ... but seed by seed SGD is lower every time


def test_holm_adjusts_the_smallest_p_value_by_the_number_of_pairs():
    np.testing.assert_allclose(tuning.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(tuning.holm([0.5, 0.001]), [0.5, 0.002])


def test_a_failing_setting_is_worse_than_any_working_one_and_ties_with_failures():
    def criterion(optimizer, seed):
        name = type(optimizer).__name__
        return math.inf if name != "SGD" and seed == 105 else 1.0 + 0.01 * seed
    cmp = tuning.compare(["SGD", "Adam", "NAG"], criterion, tune_seeds=(0,), eval_seeds=range(100, 110), grid=[0.1, 1])
    assert cmp.verdict("SGD", "Adam") == "better" and cmp.verdict("Adam", "NAG") == "tie"
    assert cmp["Adam"].failed and cmp["Adam"].mean == math.inf and cmp.tiers()[0] == ["SGD"]
    assert "fails on some seed" in str(cmp)


def test_tuning_picks_the_lowest_mean_on_the_tuning_seeds_only():
    seen = []

    def criterion(optimizer, seed):
        seen.append(seed)
        return abs(math.log10(optimizer.lr) - (-1 if seed < 50 else 0.5)) + seed * 1e-6
    cmp = tuning.compare(["SGD"], criterion, tune_seeds=(0, 1), eval_seeds=EVAL)
    assert cmp["SGD"].best == pytest.approx(0.1)          # the tuning seeds' optimum, not the evaluation seeds'
    assert seen[: 2 * 9] == [0, 1] * 9 and seen[18:] == list(EVAL)
    assert cmp["SGD"].tuned_score < cmp["SGD"].mean       # judged on other seeds, it looks worse


@pytest.mark.parametrize("tune, evaluate, message", [
    ((0, 1, 2), range(2, 12), "eval_seeds must be disjoint from tune_seeds.*both hold 2"),
    ((0, 1), range(10, 15), "eval_seeds must hold at least 10 seeds, got 5"),
    ((0, 0), range(10, 20), "tune_seeds must not repeat a seed"),
    ((), range(10, 20), "tune_seeds must hold at least one seed"),
    ((0, -1), range(10, 20), r"tune_seeds\[1\] must be an integer >= 0"),
])
def test_bad_seeds_are_refused_naming_the_argument(tune, evaluate, message):
    with pytest.raises(ValueError, match=message):
        tuning.compare(["SGD"], synthetic({"SGD": 0.0}), tune_seeds=tune, eval_seeds=evaluate)


def test_other_bad_arguments_are_refused_clearly():
    crit = synthetic({"SGD": 0.0})
    with pytest.raises(ValueError, match="grid must be at least two finite values > 0"):
        tuning.compare(["SGD"], crit, grid=[0.1, -1])
    with pytest.raises(KeyError, match="must be a known optimizer name"):
        tuning.compare(["Adamm"], crit)
    with pytest.raises(checks.WrongType, match="optimizers must be names"):
        tuning.compare([42], crit)
    with pytest.raises(checks.WrongType, match="tune_seeds must be a sequence"):
        tuning.compare(["SGD"], crit, tune_seeds=3)
    with pytest.raises(ValueError, match="settings must be keyed by the compared optimizers"):
        tuning.compare(["SGD"], crit, settings={"Adam": {}})
    with pytest.raises(ValueError, match="name must be one of the compared optimizers"):
        tuning.compare(["SGD"], crit, grid=[0.1, 1]).interval("Adam")


class Poisoned:
    """A test set that raises as soon as anything reads it."""

    def __array__(self, *args, **kwargs):
        raise AssertionError("the test set was used")

    def __getitem__(self, key):
        raise AssertionError("the test set was used")

    def __len__(self):
        raise AssertionError("the test set was used")


class Halved(optimizers.SGD):
    """An optimizer beyond optimizers.ALL, with a setting of its own: SGD at half the step."""

    def __init__(self, lr: float = 0.01, factor: float = 0.5):
        super().__init__(lr=lr)
        self.factor = factor

    def step(self, theta, grad_fn):
        return theta - self.factor * self.lr * grad_fn(theta)


@pytest.fixture(scope="module")
def digits_small():
    from kai_lib import data

    X_train, X_test, y_train, y_test = data.digits()
    return X_train[:400], X_test, y_train[:400], y_test


def test_the_digits_protocol_reads_the_test_set_once_at_the_end(digits_small):
    X_train, X_test, y_train, y_test = digits_small
    poisoned = (X_train, Poisoned(), y_train, Poisoned())
    crit = tuning.Digits(epochs=1, dataset=poisoned)
    assert len(crit.X) == 320 and len(crit.X_val) == 80           # the validation split of the training data
    calls = []
    cmp = tuning.compare({"SGD": "SGD", "half": Halved}, crit, tune_seeds=(0,), eval_seeds=range(10, 20),
                         grid=[0.01, 0.1, 1.0], settings={"half": {"factor": 0.5}},
                         test=lambda h: calls.append(h) or 0.5)
    assert len(calls) == 20 and all(isinstance(h, nn.History) for h in calls)   # one per evaluation run, last
    assert cmp["half"].cls is Halved and cmp["half"].optimizer().factor == 0.5
    np.testing.assert_array_equal(cmp["SGD"].test, 0.5)
    with pytest.raises(AssertionError, match="the test set was used"):
        crit.test(calls[0])                                       # the one door to the test set


def test_the_digits_criterion_is_the_validation_loss_and_a_divergence_is_inf(digits_small):
    crit = tuning.Digits(epochs=2, sizes=(64, 16, 10), activation="relu", dataset=digits_small)
    loss = crit(optimizers.SGD(lr=0.1), seed=3)
    net = nn.MLP([64, 16, 10], activation="relu", seed=3)
    assert loss == pytest.approx(net.loss(crit.history.theta, crit.X_val, crit.y_val))
    assert crit(optimizers.SGD(lr=1e30), seed=3) == math.inf
    assert crit.steps == 2 * 10 and "2 epochs of mini-batches of 32 on 320 training images (20 steps)" in crit.budget


def test_a_digits_comparison_runs_end_to_end_and_reports_the_test_set(digits_small):
    cmp = tuning.compare(["SGD", "AdaDelta"], epochs=1, dataset=digits_small, tune_seeds=(0,),
                         eval_seeds=range(10, 20), grid=None)
    assert cmp["AdaDelta"].knob == "eps" and len(cmp["AdaDelta"].grid) == 9
    assert all(0 < acc <= 1 for c in cmp.values() for acc in c.test)
    assert "test accuracy of the evaluation runs" in cmp.test_text()
    assert {n for tier in cmp.tiers() for n in tier} == {"SGD", "AdaDelta"}


def test_batch_size_study_gives_each_batch_size_its_own_eta():
    study = tuning.batch_size_study(batch_sizes=(64, None), epochs=2, full_batch_epochs=5, grid=(0.1, 1.0))
    assert list(study) == [64, 1438]
    for size, (lr, hist) in study.items():
        assert lr in (0.1, 1.0)
        assert len(hist.loss_per_step) == (5 if size == 1438 else 2 * 23)


@pytest.mark.parametrize("style", ["notebook", "classroom"])
def test_the_batch_size_legend_sits_beside_the_panels_covering_no_curve(style, no_show_and_close):
    # curves through every corner of both panels (as notebook 10's catapult and slow batch-1 run
    # fill them): no place inside an axes is free, so the legend must be outside them all
    loss = {1: [2.5, 0.16, 0.05, 0.036], 32: [2.5, 0.13, 0.065, 0.03],
            1438: [2.5, 1.9, 5.0, *np.geomspace(1, 6e-3, 50)]}
    study = {size: (0.1, SimpleNamespace(loss_per_epoch=np.array(ls), seconds=np.linspace(0, 1.6, len(ls))))
             for size, ls in loss.items()}
    with styles.using(style):
        axes = tuning.plot_batch_sizes(study)
        fig = axes[0].figure
        fig.tight_layout()
        renderer = fig.canvas.get_renderer()
        legend = axes[-1].get_legend()
        box = legend.get_window_extent(renderer)
        assert [t.get_text() for t in legend.get_texts()] == ["batch 1, η = 0.1", "batch 32, η = 0.1",
                                                               "batch 1438 (full), η = 0.1"]
        assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in axes)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1  # and on the picture
        assert legend.get_texts()[0].get_fontsize() == styles.current().font("legend")
        assert axes[0].get_legend() is None  # one legend for both panels: the same colours


def test_select_and_join_redo_the_verdicts_over_the_new_set_of_pairs():
    crit = synthetic({"SGD": 1.0, "Momentum": 1.0, "Adam": 5.0, "NAG": 5.0})
    a = tuning.compare(["SGD", "Momentum", "Adam"], crit, tune_seeds=(0,), eval_seeds=EVAL, grid=[0.1, 1])
    b = tuning.compare(["NAG"], crit, tune_seeds=(0,), eval_seeds=EVAL, grid=[0.1, 1])
    joined = a.select(["SGD"]).join(b)
    assert list(joined) == ["SGD", "NAG"] and joined["SGD"] is a["SGD"]
    assert joined.verdict("SGD", "NAG") == "better" and "Holm-adjusted over 1 pairs" in str(joined)
    with pytest.raises(ValueError, match="other must compare other optimizers"):
        a.join(a)
    c = tuning.compare(["NAG"], crit, tune_seeds=(1,), eval_seeds=EVAL, grid=[0.1, 1])
    with pytest.raises(ValueError, match="other must have the same tune_seeds"):
        a.join(c)


def test_step_seconds_times_every_compared_optimizer(digits_small):
    crit = tuning.Digits(epochs=1, dataset=digits_small)
    cmp = tuning.compare(["SGD", "Adam"], crit, tune_seeds=(0,), eval_seeds=range(10, 20), grid=[0.01, 0.1])
    seconds = tuning.step_seconds(cmp, crit, repeats=2)
    assert set(seconds) == {"SGD", "Adam"} and all(0 < s < 1 for s in seconds.values())


def test_the_table_keeps_its_columns_in_line_for_a_long_name():
    cmp = tuning.compare(["SGD", "Schedule-Free AdamW"], synthetic({"SGD": 1.0, "ScheduleFreeAdamW": 2.0}),
                         tune_seeds=(0,), eval_seeds=EVAL, grid=[0.1, 1.0])
    name = next(n for n in cmp if n != "SGD")
    assert len(name) > 10
    header, *rows = [line for line in cmp.text().splitlines() if line.lstrip().startswith(("tier", "1", "2"))]
    column = header.index("tuned") + len("tuned")  # the tuned value's column ends under its heading
    for row in rows:
        assert row.index(" ", header.index("optimizer") + len(name)) <= column, row
        assert row[header.index("optimizer"):].startswith(("SGD ", name + " ")), row
    assert {len(line) for line in rows} == {len(header)}
