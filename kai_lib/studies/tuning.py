r"""Comparing optimizers fairly: tune on some seeds, judge on others, and call a tie a tie.

The slides' conclusion: which optimizer works best depends on the problem, the data and
the network, so in real training one should try several and compare (실제 네트워크 학습 시
다양한 시도를 해보며 성능 비교를 수행하는 것이 적합). A comparison is worth what its
evidence is worth, so every comparison of the collection runs one protocol,
:func:`compare`, the protocol of the careful optimizer studies (Choi et al. 2019,
https://arxiv.org/abs/1910.05446; Schmidt et al. 2021, https://arxiv.org/abs/2007.01547;
AlgoPerf's held-out workloads):

1. **The same budget for all**: the same task, the same number of steps, the same grid
   (:data:`GRID`, 9 learning rates half a decade apart, 1e-3 … 10; AdaDelta, which has
   no η, gets its ε from :data:`EPS_GRID` of the same size).
2. **Tuning** on the *tuning seeds*: every value of the grid, every tuning seed; the value
   with the lowest mean criterion wins (a run whose criterion is not finite counts +∞).
   On the digits network the criterion is the loss on a *validation split* of the
   training data; the test set is not touched.
3. **Evaluation** on at least 10 *evaluation seeds*, disjoint from the tuning seeds
   (refused otherwise): the chosen value is run again, and these runs alone are the
   result. The tuning scores are kept to show the *winner's curse*: a value chosen on
   some seeds looks better on them than on new ones.
4. **Statistics**: mean, *sample* standard deviation (ddof = 1) and a 95 % **Student
   t-interval** of the mean, :math:`\bar x \pm t_{0.975,\,n-1}\, s/\sqrt n`.
5. **Verdicts**: every optimizer runs on the same evaluation seeds, so two are compared
   *paired*, seed by seed: a two-sided **paired t-test** on the differences; with k
   optimizers there are k(k−1)/2 pairs, so the p-values are adjusted by **Holm's**
   step-down method (the family-wise error stays ≤ ``alpha`` = 0.05). ``"better"`` or
   ``"worse"`` only where the adjusted p-value is below ``alpha``, else ``"tie"``. A
   tuned setting whose criterion is not finite on some evaluation seed *fails*: it is
   worse than any that never fails, and ties with other failures.
6. **Tiers**, best first: the best remaining optimizer (lowest mean) and every one that
   ties with it form a tier; repeat on the rest. Ties are not transitive, so an
   optimizer of tier 2 may tie with one of tier 1 but not with tier 1's leader.
7. **The test set**, where there is one, is reported **once**, at the end: after every
   tuning and evaluation run, each evaluation run's final parameters are scored on it.

The core is generic: ``compare(names, criterion)`` takes any function
``criterion(optimizer, seed) -> float`` (lower is better), so notebook 09 (the 2-D
surfaces, where the seed draws the start point: tune on some starts, evaluate on others)
calls the same protocol as notebook 10 (the digits network, where the seed sets the
initialisation and the shuffling; :class:`Digits` is its criterion).

>>> from kai_lib.studies import tuning
>>> cmp = tuning.compare(["SGD", "Momentum", "Adam"], epochs=5, batch_size=32,
...                      tune_seeds=(0, 1, 2), eval_seeds=range(10, 20))  # doctest: +SKIP
>>> cmp.tiers()                 # doctest: +SKIP
[['SGD', 'Adam'], ['Momentum']]
>>> cmp.verdict("SGD", "Adam")  # doctest: +SKIP
'tie'

Introduced in notebook ``10-neural-network``. (Floor 4, beside :mod:`kai_lib.studies.races`: the
settings of a comparison and its pictures.)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from .. import checks, data, nn, optimizers
from ..pictures import styles
from ..pictures.plotting import color_for

__all__ = ["GRID", "EPS_GRID", "ALPHA", "MIN_EVAL_SEEDS", "Digits", "Candidate", "Comparison", "compare",
           "t_interval", "holm", "batch_size_study", "step_seconds", "plot_sweep", "plot_intervals",
           "plot_curves", "plot_batch_sizes"]

#: The one grid of learning rates of the collection: 1e-3, 3.2e-3, 1e-2, …, 3.2, 10 (notebooks 09–12).
GRID: np.ndarray = np.logspace(-3, 1, 9)
#: AdaDelta's ε, on a grid of the same size: 1e-8, 1e-7, …, 1 (its first step √(ε/(1−γ)): 3·10⁻⁴ … 3.2).
EPS_GRID: np.ndarray = np.logspace(-8, 0, 9)
#: The family-wise error rate of the verdicts, and 1 − the intervals' confidence.
ALPHA = 0.05
#: The fewest evaluation seeds the protocol accepts.
MIN_EVAL_SEEDS = 10


def t_interval(values, confidence: float = 1 - ALPHA) -> tuple[float, float]:
    """The Student t-interval of the mean of ``values``: x̄ ± t_{(1+c)/2, n−1} · s/√n, s with ddof = 1.

    ``(inf, inf)`` if a value is not finite (a failed run).
    """
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        checks.fail("values", "at least 2 numbers for an interval", verb="hold", got=str(len(x)))
    if not np.all(np.isfinite(x)):
        return (math.inf, math.inf)
    half = stats.t.ppf((1 + confidence) / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return (float(x.mean() - half), float(x.mean() + half))


def _paired_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided paired t-test of mean(a − b) = 0; a failed run (not finite) makes the failing side lose."""
    fa, fb = not np.all(np.isfinite(a)), not np.all(np.isfinite(b))
    if fa or fb:
        return 1.0 if fa == fb else 0.0
    d = a - b
    sd = d.std(ddof=1)
    if sd == 0:
        return 1.0 if d.mean() == 0 else 0.0
    t = d.mean() / (sd / math.sqrt(len(d)))
    return float(2 * stats.t.sf(abs(t), len(d) - 1))


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment: the adjusted p-values, in the given order.

    Sorted ascending, the i-th smallest (i = 0, 1, …) becomes max over j ≤ i of
    min(1, (m − j) p₍ⱼ₎): rejecting where the adjusted value is below α keeps the chance of
    any false "better" at most α.
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def _seeds(name: str, seeds) -> tuple[int, ...]:
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        checks.fail(name, "a sequence of integer seeds", seeds, wrong_type=True)
    out = tuple(checks.integer(f"{name}[{i}]", s, low=0) for i, s in enumerate(seeds))
    if len(set(out)) != len(out):
        checks.fail(name, "a seed", verb="not repeat", got=str(out))
    return out


def _candidates(names, settings) -> dict[str, tuple[type[optimizers.Optimizer], dict]]:
    """``{label: (class, fixed settings)}`` from names of :data:`optimizers.ALL`, classes, or label → either."""
    items = names.items() if isinstance(names, Mapping) else ((None, n) for n in names)
    out = {}
    for label, what in items:
        if isinstance(what, str):
            cls = optimizers.get(what)  # unknown names: a KeyError that lists the known ones
        elif isinstance(what, type) and issubclass(what, optimizers.Optimizer):
            cls = what
        else:
            checks.fail("optimizers", "names of kai_lib.optimizers.ALL or Optimizer classes", what, wrong_type=True)
        if label is None:
            label = next((k for k, c in optimizers.ALL.items() if c is cls), cls.__name__)
        if label in out:
            checks.fail("optimizers", "a name", verb="not repeat", got=f"{label!r} twice")
        out[label] = (cls, dict((settings or {}).get(label, {})))
    if len(out) < 1:
        checks.fail("optimizers", "at least one optimizer", verb="name", got="none")
    unknown = set(settings or {}) - set(out)
    if unknown:
        checks.fail("settings", f"keyed by the compared optimizers ({', '.join(out)})",
                    got=", ".join(sorted(unknown)))
    return out


# --- the digits network: notebook 10's criterion ---------------------------------------------

class Digits:
    """``criterion(optimizer, seed)`` for the digits network: train, then the loss on a validation split.

    The training set of :func:`kai_lib.data.digits` (1,438 images) is split once, by
    ``split_seed``, into a *training part* (1,150 images) and a *validation split*
    (``validation`` = 20 %, 288 images). A run trains an ``MLP(sizes, activation,
    seed=seed)`` on the training part for ``epochs`` epochs of ``batch_size`` (the
    shuffling seeded by ``seed`` too) and returns the cross-entropy on the validation
    split after the last epoch, ``inf`` if the run diverged or blew up (``nn.History.blew_up``:
    training stopped early, so its loss is not one of this budget) or that loss is not finite
    (``measure="training loss"``: the loss on the training part instead; the validation
    split is then held out and unused, and the test set still untouched).
    (The pixels' standardisation was fitted on the whole training set, validation split
    included: it uses no label.)

    The test set is only read by :meth:`test`, which :func:`compare` calls once per
    evaluation run after all the runs, never while tuning.
    """

    def __init__(self, epochs: int = 5, batch_size: int = 32, sizes: Sequence[int] = (64, 32, 10),
                 activation: str = "tanh", validation: float = 0.2, split_seed: int = 0, dataset=None,
                 measure: str = "validation loss"):
        self.measure = checks.choice("measure", measure, ("validation loss", "training loss"))
        self.epochs = checks.integer("epochs", epochs, low=1)
        self.sizes = tuple(sizes)
        self.activation = activation
        self.validation = checks.number("validation", validation, low=0, high=1, low_open=True, high_open=True)
        X_train, self._X_test, y_train, self._y_test = data.digits() if dataset is None else dataset
        order = np.random.default_rng(checks.integer("split_seed", split_seed, low=0)).permutation(len(X_train))
        n_val = int(round(self.validation * len(X_train)))
        val, part = order[:n_val], order[n_val:]
        self.X, self.y = X_train[part], y_train[part]
        self.X_val, self.y_val = X_train[val], y_train[val]
        self.batch_size = checks.integer("batch_size", batch_size, low=1, high=len(self.X))
        self.history: nn.History | None = None   # the last run's, for the pictures

    @property
    def steps(self) -> int:
        """Optimizer steps per run."""
        return self.epochs * math.ceil(len(self.X) / self.batch_size)

    @property
    def budget(self) -> str:
        return (f"{self.epochs} epochs of mini-batches of {self.batch_size} on {len(self.X):,} training images "
                f"({self.steps} steps) of an MLP{list(self.sizes)} ({self.activation})")

    @property
    def criterion(self) -> str:
        where = "the validation split" if self.measure == "validation loss" else "the training part"
        return f"loss on {where} after the last epoch (lower is better)"

    def run(self, optimizer: optimizers.Optimizer, seed: int) -> nn.History:
        net = nn.MLP(list(self.sizes), activation=self.activation, seed=seed)
        return nn.train(optimizer, net, self.X, self.y, epochs=self.epochs, batch_size=self.batch_size, seed=seed)

    def __call__(self, optimizer: optimizers.Optimizer, seed: int) -> float:
        h = self.history = self.run(optimizer, seed)
        if h.blew_up:   # blew up (or diverged, which counts as blowing up): it stopped early, it failed
            return math.inf
        if self.measure == "training loss":
            loss = h.loss_per_epoch[-1]
        else:
            net = nn.MLP(list(self.sizes), activation=self.activation, seed=seed)
            with np.errstate(all="ignore"):
                loss = net.loss(h.theta, self.X_val, self.y_val)
        return float(loss) if math.isfinite(loss) else math.inf

    def test(self, history: nn.History) -> float:
        """The test accuracy of a run's final parameters: the one use of the test set."""
        net = nn.MLP(list(self.sizes), activation=self.activation)
        return net.accuracy(history.theta, self._X_test, self._y_test)


# --- the protocol ------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Candidate:
    """One optimizer in a comparison: its tuning sweep and its evaluation runs.

    Attributes:
        name: its label in the comparison.
        cls: its class; ``settings`` its fixed keyword arguments.
        knob: ``"lr"``, or ``"eps"`` for an optimizer without ``lr`` (AdaDelta).
        grid: the values tried while tuning.
        tune_scores: ``(len(grid), tuning seeds)``: the criterion of each tuning run (``inf``:
            failed; runs after a failure at the same value are skipped and count ``inf`` too).
        best_index: the value chosen (lowest mean over the tuning seeds).
        scores: ``(evaluation seeds,)``: the criterion at the chosen value on the evaluation seeds.
        runs: what the criterion kept of each evaluation run (``criterion.history``), or ``None``s.
        test: the test-set value of each evaluation run, or ``None``.
    """

    name: str
    cls: type
    knob: str
    grid: np.ndarray
    tune_scores: np.ndarray
    best_index: int
    scores: np.ndarray
    runs: tuple = ()
    test: np.ndarray | None = None
    settings: dict = field(default_factory=dict)

    @property
    def best(self) -> float:
        """The chosen value of the knob."""
        return float(self.grid[self.best_index])

    @property
    def at_edge(self) -> bool:
        """The chosen value is the grid's first or last: the grid may be too short."""
        return self.best_index in (0, len(self.grid) - 1)

    @property
    def tuned_score(self) -> float:
        """The mean criterion at the chosen value on the *tuning* seeds: optimistic (the winner's curse)."""
        return float(self.tune_scores[self.best_index].mean())

    @property
    def failed(self) -> bool:
        return not bool(np.all(np.isfinite(self.scores)))

    @property
    def mean(self) -> float:
        return float(self.scores.mean()) if not self.failed else math.inf

    @property
    def sd(self) -> float:
        """Sample standard deviation (ddof = 1) over the evaluation seeds."""
        return float(self.scores.std(ddof=1)) if not self.failed else math.nan

    def setting(self) -> str:
        return f"{'η' if self.knob == 'lr' else 'ε'} = {self.best:.2g}"

    def optimizer(self) -> optimizers.Optimizer:
        """A fresh optimizer at the chosen value."""
        return self.cls(**self.settings, **{self.knob: self.best})


def _fmt(x: float) -> str:
    """Two significant digits, or "fails"."""
    return f"{x:.2g}" if math.isfinite(x) else "fails"


def _span(seeds: Sequence[int]) -> str:
    s = list(seeds)
    return f"{s[0]}–{s[-1]}" if s == list(range(s[0], s[-1] + 1)) and len(s) > 2 else ", ".join(map(str, s))


class Comparison(dict):
    """``{name: Candidate}`` and the verdicts: the result of :func:`compare`.

    ``print(cmp)`` shows the table: tiers, the chosen values, the tuning seeds' score beside
    the evaluation seeds' mean ± sd and 95 % interval, the seeds and the budget.
    """

    def __init__(self, candidates: Mapping[str, Candidate], criterion: str, budget: str,
                 tune_seeds: tuple[int, ...], eval_seeds: tuple[int, ...], alpha: float = ALPHA):
        super().__init__(candidates)
        self.criterion, self.budget, self.alpha = criterion, budget, alpha
        self.tune_seeds, self.eval_seeds = tune_seeds, eval_seeds
        pairs = list(itertools.combinations(self, 2))
        raw = [_paired_p(self[a].scores, self[b].scores) for a, b in pairs]
        adjusted = holm(raw) if pairs else []
        self._p = {}
        for (a, b), p in zip(pairs, adjusted, strict=True):
            self._p[a, b] = self._p[b, a] = float(p)

    def _check(self, name: str) -> Candidate:
        if name not in self:
            checks.fail("name", f"one of the compared optimizers ({', '.join(self)})", got=repr(name))
        return self[name]

    def interval(self, name: str) -> tuple[float, float]:
        """The 95 % t-interval of the mean criterion of ``name`` over the evaluation seeds."""
        return t_interval(self._check(name).scores, 1 - self.alpha)

    def p_value(self, a: str, b: str) -> float:
        """The Holm-adjusted p-value of the paired t-test of ``a`` against ``b``."""
        self._check(a), self._check(b)
        return 1.0 if a == b else self._p[a, b]

    def verdict(self, a: str, b: str) -> str:
        """``"better"``/``"worse"`` if ``a``'s criterion is lower/higher than ``b``'s on the evidence, else tie."""
        if self.p_value(a, b) >= self.alpha:
            return "tie"
        ca, cb = self[a], self[b]
        if ca.failed != cb.failed:
            return "worse" if ca.failed else "better"
        return "better" if (ca.scores - cb.scores).mean() < 0 else "worse"

    def ranking(self) -> list[str]:
        """Names by mean criterion on the evaluation seeds, lowest first (failures last)."""
        return sorted(self, key=lambda n: (self[n].failed, self[n].mean))

    def tiers(self) -> list[list[str]]:
        """Best tier first; a tier is the best remaining optimizer and every one that ties with it."""
        remaining, out = self.ranking(), []
        while remaining:
            leader = remaining[0]
            tier = [leader] + [n for n in remaining[1:] if self.verdict(n, leader) == "tie"]
            out.append(tier)
            remaining = [n for n in remaining if n not in tier]
        return out

    def tier_of(self, name: str) -> int:
        """1 for the best tier, 2 for the next, …"""
        self._check(name)
        return next(i for i, t in enumerate(self.tiers(), 1) if name in t)

    def tuned_ranking(self) -> list[str]:
        """Names by their score on the *tuning* seeds: the order a single tuning run would have printed."""
        return sorted(self, key=lambda n: self[n].tuned_score)

    def select(self, names: Sequence[str]) -> Comparison:
        """Only the optimizers ``names``, in that order (verdicts redone over their pairs)."""
        for name in names:
            self._check(name)
        return Comparison({n: self[n] for n in names}, self.criterion, self.budget, self.tune_seeds,
                          self.eval_seeds, self.alpha)

    def join(self, other: Comparison) -> Comparison:
        """This comparison and ``other``'s optimizers in one (same seeds, criterion and budget), verdicts redone.

        For adding optimizers without re-running the ones already compared: Holm's
        adjustment then covers every pair of the joined set.
        """
        checks.instance("other", other, Comparison, "a tuning.Comparison")
        for what in ("tune_seeds", "eval_seeds", "criterion", "budget", "alpha"):
            if getattr(self, what) != getattr(other, what):
                checks.fail("other", f"the same {what} ({getattr(self, what)!r})", verb="have",
                            got=repr(getattr(other, what)))
        if set(self) & set(other):
            checks.fail("other", "other optimizers", verb="compare",
                        got=f"{', '.join(sorted(set(self) & set(other)))} in both")
        return Comparison({**self, **other}, self.criterion, self.budget, self.tune_seeds, self.eval_seeds, self.alpha)

    def text(self) -> str:
        """The table: tier, chosen value, tuning-seed score, evaluation mean ± sd and 95 % interval."""
        width = max([10, *(len(name) for name in self)])  # "Schedule-Free AdamW" keeps its columns in line
        lines = [f"budget: {self.budget}; the same {len(GRID)}-point grid for every optimizer",
                 f"criterion: {self.criterion}",
                 f"tuned on seeds {_span(self.tune_seeds)}, judged on {len(self.eval_seeds)} other seeds "
                 f"({_span(self.eval_seeds)}): mean ± sample sd, 95 % t-interval; tiers by paired t-tests, "
                 f"Holm-adjusted over {len(self) * (len(self) - 1) // 2} pairs at {self.alpha:g}",
                 f"{'tier':>4}  {'optimizer':{width}s} {'tuned':>11s}  {'tuning seeds':>12s}  "
                 f"{'new seeds: mean ± sd':>20s}  {'95 % interval':>15s}"]
        for i, tier in enumerate(self.tiers(), 1):
            for name in tier:
                c = self[name]
                low, high = self.interval(name)
                spread = f"{_fmt(c.mean)} ± {_fmt(c.sd)}" if not c.failed else "fails on some seed"
                interval = f"[{_fmt(low)}, {_fmt(high)}]" if not c.failed else ""
                lines.append(f"{i:>4}  {name:{width}s} {c.setting():<10s}{'*' if c.at_edge else ' '}  "
                             f"{_fmt(c.tuned_score):>12s}  {spread:>20s}  {interval:>15s}")
        if any(c.at_edge for c in self.values()):
            lines.append("* at the edge of its grid")
        return "\n".join(lines)

    def test_text(self) -> str:
        """The test set, reported once: mean ± sd over the evaluation runs of each optimizer."""
        if any(c.test is None for c in self.values()):
            raise ValueError("this comparison has no test set (compare(..., test=None))")
        lines = ["test accuracy of the evaluation runs (the test set's only use): mean ± sd"]
        width = max([10, *(len(name) for name in self)])
        for name in self.ranking():
            t = self[name].test
            lines.append(f"  {name:{width}s} {100 * t.mean():5.1f} ± {100 * t.std(ddof=1):3.1f} %")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__


def compare(names: Sequence[str | type] | Mapping[str, str | type] = optimizers.SLIDES,
            criterion: Callable[[optimizers.Optimizer, int], float] | None = None, *,
            tune_seeds: Sequence[int] = (0, 1, 2), eval_seeds: Sequence[int] = range(10, 20),
            epochs: int = 5, batch_size: int = 32, grid: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
            settings: Mapping[str, dict] | None = None, test: Callable | None = None, budget: str | None = None,
            alpha: float = ALPHA, dataset=None) -> Comparison:
    """Tune every optimizer on the tuning seeds, judge it on the evaluation seeds, and compare.

    The protocol is the module's (its docstring): the same grid and budget for all, the
    value with the lowest mean criterion over ``tune_seeds`` chosen, then ``eval_seeds``
    (at least :data:`MIN_EVAL_SEEDS`, disjoint from ``tune_seeds``) run at that value;
    mean, sample sd, 95 % t-interval; paired t-tests, Holm-adjusted; tiers.

    Args:
        names: the optimizers: names of :data:`kai_lib.optimizers.ALL` (any case), classes
            (any :class:`~kai_lib.optimizers.Optimizer` subclass, in ``ALL`` or not: a new
            optimizer is compared the same way), or a mapping label → name or class. An
            optimizer with an ``lr`` is tuned on η, one without (AdaDelta) on ε.
        criterion: ``criterion(optimizer, seed) -> float``, lower is better, ``inf`` for a
            failed run. Default: :class:`Digits` with ``epochs``, ``batch_size`` and
            ``dataset`` (the loss on a validation split of the digits' training set).
            If it has a ``history`` attribute, the one of each evaluation run is kept. If it
            has a method ``many(optimizer, seeds) -> array``, that scores all the seeds of one
            setting at once (a batch of start points on a surface) and must give the same numbers.
        tune_seeds, eval_seeds: disjoint sets of seeds, no repeats.
        epochs, batch_size, dataset: the digits criterion's (ignored with another criterion).
        grid: the values to try (default :data:`GRID` for η, :data:`EPS_GRID` for ε), or a mapping
            optimizer label → its values (a label left out gets the default).
        settings: fixed keyword arguments per optimizer label, e.g. ``{"Momentum": {"gamma": 0.95}}``
            or, for a new optimizer, ``{"Lion": {"beta1": 0.9}}``.
        test: ``test(run) -> float`` called once per evaluation run after all the runs, with
            what ``criterion.history`` held. Default: a :class:`Digits` criterion's :meth:`Digits.test`.
        budget: a sentence saying what every run gets (default: the criterion's ``budget``).
        alpha: the family-wise error rate of the verdicts (and 1 − the intervals' confidence).

    Returns:
        A :class:`Comparison`.

    Raises:
        ValueError: seeds that overlap, repeat or are too few, a bad grid, unknown settings.
        KeyError: an unknown optimizer name (the message lists the known ones).
    """
    tune_seeds, eval_seeds = _seeds("tune_seeds", tune_seeds), _seeds("eval_seeds", eval_seeds)
    if not tune_seeds:
        checks.fail("tune_seeds", "at least one seed", verb="hold", got="none")
    if len(eval_seeds) < MIN_EVAL_SEEDS:
        checks.fail("eval_seeds", f"at least {MIN_EVAL_SEEDS} seeds", verb="hold", got=str(len(eval_seeds)))
    shared = sorted(set(tune_seeds) & set(eval_seeds))
    if shared:
        checks.fail("eval_seeds", "disjoint from tune_seeds (a value chosen on a seed looks best on it)",
                    got=f"seeds that both hold {', '.join(map(str, shared))}")
    alpha = checks.number("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    candidates = _candidates(names, settings)
    grids = {}
    for label in candidates:
        g = grid.get(label) if isinstance(grid, Mapping) else grid
        if g is not None:
            g = np.asarray(g, dtype=float)
            if g.ndim != 1 or len(g) < 2 or not np.all(np.isfinite(g) & (g > 0)):
                checks.fail("grid", "at least two finite values > 0", got=repr(g))
        grids[label] = g
    if isinstance(grid, Mapping) and set(grid) - set(candidates):
        checks.fail("grid", f"keyed by the compared optimizers ({', '.join(candidates)})",
                    got=", ".join(sorted(map(str, set(grid) - set(candidates)))))
    if criterion is None:
        criterion = Digits(epochs=epochs, batch_size=batch_size, dataset=dataset)
    else:
        checks.function("criterion", criterion, "a function (optimizer, seed) -> float")
    if test is None and isinstance(criterion, Digits):
        test = criterion.test
    budget = budget if budget is not None else getattr(criterion, "budget", "not stated")
    what = getattr(criterion, "criterion", getattr(criterion, "__doc__", None) or "criterion (lower is better)")

    def score(cls, knob, value, fixed, seed) -> float:
        x = criterion(cls(**fixed, **{knob: float(value)}), seed)
        x = checks.number("the criterion's value", x) if not (isinstance(x, float) and math.isinf(x)) else x
        return x if math.isfinite(x) else math.inf

    many = getattr(criterion, "many", None)

    def scores_of(cls, knob, value, fixed, seeds) -> np.ndarray:
        x = np.asarray(many(cls(**fixed, **{knob: float(value)}), list(seeds)), dtype=float)
        if x.shape != (len(seeds),):
            checks.fail("criterion.many", "one value per seed", verb="return", got=f"shape {x.shape}")
        return np.where(np.isfinite(x), x, math.inf)

    results, kept = {}, {}
    for label, (cls, fixed) in candidates.items():
        knob = "lr" if "lr" in cls(**fixed).hyperparameters() else "eps"
        values = grids[label] if grids[label] is not None else (GRID if knob == "lr" else EPS_GRID)
        tuned = np.full((len(values), len(tune_seeds)), math.inf)
        for i, value in enumerate(values):
            if many is not None:
                tuned[i] = scores_of(cls, knob, value, fixed, tune_seeds)
                continue
            for j, seed in enumerate(tune_seeds):
                tuned[i, j] = score(cls, knob, value, fixed, seed)
                if not math.isfinite(tuned[i, j]):
                    break          # this value fails: its mean is +inf whatever the other seeds do
        best = int(np.argmin(tuned.mean(axis=1)))
        scores, runs = [], []
        if many is not None:
            scores, runs = scores_of(cls, knob, values[best], fixed, eval_seeds), [None] * len(eval_seeds)
        for seed in eval_seeds if many is None else ():
            scores.append(score(cls, knob, values[best], fixed, seed))
            runs.append(getattr(criterion, "history", None))
        results[label] = (cls, knob, np.asarray(values, dtype=float), tuned, best, np.array(scores), fixed)
        kept[label] = tuple(runs)
    out = {}
    for label, (cls, knob, values, tuned, best, scores, fixed) in results.items():   # the test set: once, last
        tested = None if test is None else np.array([test(r) for r in kept[label]], dtype=float)
        out[label] = Candidate(label, cls, knob, values, tuned, best, scores, kept[label], tested, fixed)
    return Comparison(out, what, budget, tune_seeds, eval_seeds, alpha)


def batch_size_study(name: str = "SGD", batch_sizes: Sequence[int | None] = (1, 32, None), epochs: int = 3,
                     full_batch_epochs: int = 60, grid: Sequence[float] = (1e-2, 1e-1, 1.0, 10.0),
                     seed: int = 0, dataset=None) -> dict[int, tuple[float, nn.History]]:
    """The same network at several batch sizes, each with its own η tuned on ``grid``.

    Batch size 1 is single-sample SGD, ``None`` the full training set (batch gradient
    descent). Every batch size trains for ``epochs`` epochs except the full batch, which
    takes one step per epoch and gets ``full_batch_epochs``, so that per *second* it can
    be compared too. η is chosen by the lowest final training loss (one seed).

    Returns:
        ``{batch size: (tuned η, History)}``.
    """
    X_train, X_test, y_train, y_test = data.digits() if dataset is None else dataset
    out = {}
    for b in batch_sizes:
        size = len(X_train) if b is None else b
        E = full_batch_epochs if b is None else epochs
        net = nn.MLP([64, 32, 10], activation="tanh", seed=seed)
        runs = [nn.train(optimizers.get(name)(lr=lr), net, X_train, y_train,
                         epochs=E, batch_size=size, seed=seed, X_test=X_test, y_test=y_test) for lr in grid]
        losses = [np.inf if h.diverged else h.loss_per_epoch[-1] for h in runs]
        best = int(np.argmin(losses))
        out[size] = (float(grid[best]), runs[best])
    return out



# --- pictures ----------------------------------------------------------------------------------

def _x(c: Candidate) -> np.ndarray:
    """Where a candidate's grid sits on the η axis: η, or AdaDelta's first step √(ε/(1−γ))."""
    return c.grid if c.knob == "lr" else np.sqrt(c.grid / (1 - c.settings.get("gamma", 0.9)))


def plot_sweep(cmp: Comparison, ax=None):
    """The tuning sweep: mean criterion over the tuning seeds against the grid, ★ = chosen.

    An optimizer tuned on ε (AdaDelta) is drawn at its first step √(ε/(1−γ)).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    for i, (name, c) in enumerate(cmp.items()):
        mean = c.tune_scores.mean(axis=1)
        x = _x(c)
        label = name if c.knob == "lr" else f"{name} (at √(ε/(1−γ)))"
        ax.plot(x, np.where(np.isfinite(mean), mean, np.nan), "-o", ms=4, color=color_for(name, i), label=label)
        ax.plot(x[c.best_index], mean[c.best_index], "*", ms=14, color=color_for(name, i), mec="k")
    ax.set(xscale="log", yscale="log", xlabel="η (the grid)", ylabel="criterion, mean of the tuning seeds",
           title="Tuning: every optimizer on the same grid, ★ = chosen")
    ax.legend(fontsize="small", ncol=2)
    return ax


def plot_intervals(cmp: Comparison, ax=None):
    """Each optimizer's evaluation runs (dots) and 95 % interval (bar), by tier; ✕ its tuning-seed score."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    y, ticks = 0, []
    for k, tier in enumerate(cmp.tiers()):
        for name in tier:
            c = cmp[name]
            color = color_for(name, list(cmp).index(name))
            finite = c.scores[np.isfinite(c.scores)]
            ax.plot(finite, np.full(len(finite), -y), "o", ms=4, alpha=0.5, color=color)
            if not c.failed:
                low, high = cmp.interval(name)
                ax.plot([low, high], [-y, -y], "-", lw=5, color=color, solid_capstyle="butt")
            ax.plot(c.tuned_score, -y, "x", ms=9, mew=2, color="k")
            ticks.append((-y, f"{name} (tier {k + 1})"))
            y += 1
        y += 0.5
    ax.set_yticks([t for t, _ in ticks], [label for _, label in ticks])
    ax.set(xscale="log", xlabel="criterion on the evaluation seeds (dots), 95 % interval (bar); ✕ on the tuning seeds")
    return ax


def step_seconds(cmp: Comparison, criterion: Digits | None = None, repeats: int = 5) -> dict[str, float]:
    """Seconds per training step of each optimizer at its chosen value: the *minimum* over ``repeats`` epochs.

    One epoch on the digits network is timed ``repeats`` times per optimizer, interleaved
    (optimizer by optimizer, round after round), and the fastest kept: the other engineers
    of a busy machine only ever add time, so the minimum is the least disturbed measurement.
    """
    crit = criterion if criterion is not None else Digits()
    repeats = checks.integer("repeats", repeats, low=1)
    steps = math.ceil(len(crit.X) / crit.batch_size)
    best = {name: math.inf for name in cmp}
    for _ in range(repeats):
        for name, c in cmp.items():
            net = nn.MLP(list(crit.sizes), activation=crit.activation, seed=0)
            h = nn.train(c.optimizer(), net, crit.X, crit.y, epochs=1, batch_size=crit.batch_size, seed=0)
            best[name] = min(best[name], h.seconds[-1] / steps)
    return best


def plot_curves(cmp: Comparison, x: str = "epoch", ax=None, seconds_per_step: Mapping[str, float] | None = None):
    """Training loss of the evaluation runs against epochs (``x="epoch"``) or seconds (``"seconds"``).

    The line is the median over the evaluation seeds, the band spans the middle 80 %. Per
    second, the x-axis is the runs' own clock, or epochs × steps × ``seconds_per_step[name]``
    where that is given (e.g. from :func:`step_seconds`, less noisy).
    """
    x = checks.choice("x", x, ("epoch", "seconds"))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    for i, (name, c) in enumerate(cmp.items()):
        runs = [h for h in c.runs if h is not None and not h.diverged]
        if not runs:
            continue
        losses = np.array([h.loss_per_epoch for h in runs])
        xs = np.arange(losses.shape[1])
        if x == "seconds":
            xs = (np.median([h.seconds for h in runs], axis=0) if seconds_per_step is None
                  else xs * len(runs[0].loss_per_step) / runs[0].epochs * seconds_per_step[name])
        color = color_for(name, i)
        ax.plot(xs, np.median(losses, axis=0), color=color, lw=2, label=name)
        ax.fill_between(xs, *np.percentile(losses, [10, 90], axis=0), color=color, alpha=0.2, lw=0)
    ax.set(yscale="log", xlabel="epoch" if x == "epoch" else "wall time of the steps (s)", ylabel="training loss")
    ax.legend(fontsize="small", ncol=2)
    return ax


def plot_batch_sizes(study: dict[int, tuple[float, nn.History]], axes=None):
    """Loss against epochs and against seconds, one curve per batch size.

    Both panels draw the same curves in the same colours, so one legend names them: beside the
    last panel, outside its axes, where it covers no curve whatever the data and the style's
    text size (``fig.tight_layout()`` makes room for it).
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4))
    n = max(study)
    for i, (size, (lr, h)) in enumerate(study.items()):
        label = f"batch {size}" + (" (full)" if size == n else "") + f", η = {lr:g}"
        color = ["#d62728", "#1f77b4", "#111111", "#2ca02c"][i % 4]
        axes[0].plot(np.arange(len(h.loss_per_epoch)), h.loss_per_epoch, "-", color=color, lw=2, label=label)
        axes[1].plot(h.seconds, h.loss_per_epoch, "-", color=color, lw=2, label=label)
    axes[0].set(xscale="symlog", yscale="log", xlabel="epoch", ylabel="training loss", title="per epoch")
    axes[1].set(yscale="log", xlabel="wall time of the steps (s)", title="per second")
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0,
                    fontsize=styles.current().font("legend"))
    return axes
