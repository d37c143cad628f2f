"""kai_lib.studies.after_adam: notebook 12's races, per-idea pictures' data, memory and cost."""

import numpy as np
import pytest

from kai_lib import checks, nn, optimizers, run, surfaces
from kai_lib.studies import after_adam, races


def test_the_races_are_the_slides_races_with_every_new_optimizer_beside_adam():
    assert set(after_adam.RACES) == set(races.RACES)
    for name, r in after_adam.RACES.items():
        slide = races.RACES[name]
        assert (r.surface, r.steps, r.start, r.xlim, r.ylim) == (slide.surface, slide.steps, slide.start, slide.xlim,
                                                                 slide.ylim)
        assert list(r.settings) == ["Adam", *optimizers.AFTER_ADAM], name
        assert r.settings["Adam"] == slide.settings["Adam"]      # Adam at the slides' own race setting
        assert r.settings["Prodigy"] == {"lr": 1.0}              # Prodigy untuned: its point
        assert r.gif.startswith("after_adam_") and r.gif.endswith(".gif") and r.why


@pytest.mark.parametrize("name", ["long_valley", "beale"])
def test_each_race_learning_rate_is_the_tuned_one(name):
    """The settings are what tuned_lr finds: the smallest η of the grid that arrives, else the closest."""
    for opt in after_adam.NAMES:
        if opt == "Prodigy":
            continue
        assert after_adam.RACES[name].settings[opt]["lr"] == after_adam.tuned_lr(name, opt), (name, opt)


def test_tuned_lr_picks_the_smallest_arriving_rate():
    grid = (0.001, 0.05, 0.1, 0.5)
    lr = after_adam.tuned_lr("long_valley", "Lion", grid=grid, within=0.5)
    t = {g: run(optimizers.Lion(lr=g), surfaces.LONG_VALLEY, steps=200) for g in grid}
    dist = {g: np.linalg.norm(t[g].path[-1] - surfaces.LONG_VALLEY.minima[0]) for g in grid}
    assert dist[lr] <= 0.5 and all(dist[g] > 0.5 for g in grid if g < lr)
    with pytest.raises(ValueError, match="race_name"):
        after_adam.tuned_lr("saddle", "Lion")


def test_the_saddle_race_is_fair_one_learning_rate_for_all():
    settings = after_adam.RACES["saddle"].settings
    assert {kw["lr"] for opt, kw in settings.items() if opt != "Prodigy"} == {0.02}


def test_race_runs_every_racer_and_refuses_unknown_names():
    trajs = after_adam.race("saddle")
    assert list(trajs) == list(after_adam.RACES["saddle"].settings)
    assert all(t.steps == after_adam.RACES["saddle"].steps or t.diverged for t in trajs.values())
    with pytest.raises(KeyError, match="long_valley"):
        after_adam.race("nope")
    with pytest.raises(KeyError, match="Muon"):
        after_adam.make("Moon")


def test_labels_show_the_rate_and_what_is_off_default():
    assert after_adam.label("Muon", {"lr": 0.03, "weight_decay": 0.0}) == "Muon  η=0.03, λ=0"
    assert after_adam.label("Prodigy", {"lr": 1.0}) == "Prodigy  η=1"


def test_trace_records_the_state_after_every_step():
    sf = optimizers.ScheduleFreeSGD(lr=0.4)
    path, state = after_adam.trace(sf, surfaces.RAVINE, ["x", "z"], steps=5)
    assert path.shape == (6, 2) and state["x"].shape == state["z"].shape == (5, 2)
    # the returned point is y = (1 − β) z + β x, between the two, after every step
    assert np.allclose(path[1:], 0.1 * state["z"] + 0.9 * state["x"])
    again, _ = after_adam.trace(sf, surfaces.RAVINE, [], steps=5)           # reset first: the same run
    assert np.array_equal(again, path)
    with pytest.raises(ValueError, match="steps"):
        after_adam.trace(sf, surfaces.RAVINE, [], steps=0)


def test_lion_stays_on_its_lattice_and_adam_does_not():
    path, _ = after_adam.trace(optimizers.Lion(lr=0.1), surfaces.BEALE, [], steps=100)
    assert after_adam.lattice_offsets(path, 0.1).max() < 1e-9
    adam, _ = after_adam.trace(optimizers.Adam(lr=0.1), surfaces.BEALE, [], steps=100)
    assert after_adam.lattice_offsets(adam, 0.1).max() > 0.1


def test_scaled_surface_is_the_same_problem_in_another_unit():
    s, big = surfaces.BEALE, after_adam.scaled(surfaces.BEALE, 10.0)
    xy = np.array([[1.0, 1.5], [2.0, -0.3]])
    assert np.allclose(big(10 * xy), s(xy))
    assert np.allclose(big.grad(10 * xy), s.grad(xy) / 10)
    assert np.allclose(big.hessian(10 * xy), s.hessian(xy) / 100)
    assert np.allclose(big.minima, 10 * s.minima) and np.allclose(big.start, 10 * s.start)
    with pytest.raises(ValueError, match="scale"):
        after_adam.scaled(s, 0.0)


def test_prodigy_finds_the_scale_of_a_scaled_ravine():
    d_final = []
    for c in (1.0, 100.0):
        s = after_adam.scaled(surfaces.RAVINE, c)
        path, state = after_adam.trace(optimizers.Prodigy(), s, ["d"], steps=300)
        d = state["d"].reshape(len(state["d"]), -1)[:, 0]
        assert np.all(np.diff(d) >= 0)                     # d only grows
        assert np.linalg.norm(path[-1]) < 0.05 * np.linalg.norm(s.start)  # and gets there
        d_final.append(float(d[-1]))
    assert 30 < d_final[1] / d_final[0] < 300                            # d scales with the problem


def test_the_rotated_ravine_hides_its_valley_from_a_diagonal():
    s = after_adam.ROTATED_RAVINE
    h = s.hessian(np.zeros(2))
    assert np.allclose(np.linalg.eigvalsh(h), [0.2, 4.0])                 # notebook 03's ravine ...
    assert np.isclose(h[0, 0], h[1, 1]) and abs(h[0, 1]) > 1               # ... turned: no axis is the valley
    assert np.allclose(s.grad(np.array([1.0, 1.0])), h @ [1.0, 1.0])
    adagrad = run(optimizers.Adagrad(lr=0.5), s, steps=100)
    shampoo = run(optimizers.Shampoo(lr=0.5), s, steps=100)
    assert shampoo.loss[-1] < 1e-3 * adagrad.loss[-1]


def test_update_singular_values_of_sgd_and_muon():
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.normal(size=(8, 4)))
    v, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    g = u @ np.diag([1.0, 0.5, 0.2, 0.1]) @ v.T
    assert np.allclose(after_adam.update_singular_values(optimizers.SGD(lr=2.0), g), [2.0, 1.0, 0.4, 0.2])
    muon = after_adam.update_singular_values(optimizers.Muon(lr=1.0, weight_decay=0.0, shapes=[(8, 4)]), g)
    assert muon[0] / muon[-1] < 2.5                                       # nearly equal: orthogonalised
    with pytest.raises(ValueError, match="gradient"):
        after_adam.update_singular_values(optimizers.SGD(), np.ones(3))


def test_state_size_counts_what_each_optimizer_keeps():
    shapes = nn.MLP([64, 32, 10]).shapes
    P = sum(int(np.prod(s)) for s in shapes)
    assert after_adam.state_size("SGD", shapes) == 0
    assert after_adam.state_size("Adam", shapes) == 2 * P
    assert after_adam.state_size("Lion", shapes) == P
    assert after_adam.state_size("Muon", shapes) == P
    # Muon with AdamW on the biases: AdamW's m and v for the 32 + 10 bias entries on top
    assert after_adam.state_size("Muon", shapes, vectors=optimizers.AdamW()) == P + 2 * (32 + 10)
    # Adafactor: a row and a column per matrix, the whole v for each bias
    assert after_adam.state_size("Adafactor", shapes) == (64 + 32) + (32 + 10) + 32 + 10
    # Shampoo: m² + n² per matrix, n² per vector
    assert after_adam.state_size("Shampoo", shapes) >= 64**2 + 32**2 + 32**2 + 32**2 + 10**2 + 10**2


def test_step_seconds_is_a_positive_time_and_checks_its_steps():
    shapes = [(8, 4), (4,)]
    assert 0 < after_adam.step_seconds("Muon", shapes, steps=3) < 1
    with pytest.raises(checks.WrongType):
        after_adam.step_seconds("Adam", shapes, steps=2.5)


def test_agreement_replays_the_stored_reference_trajectories():
    import json
    from pathlib import Path

    reference = json.loads((Path(__file__).parent / "reference" / "after_adam_reference.json").read_text())
    lion = next(c for c in reference["cases"] if c["optimizer"] == "Lion")
    steps, gap = after_adam.agreement(reference, lion)
    assert steps == reference["steps"] and gap <= 1e-12
    # a path that leaves the reference is caught at the step where it leaves
    bent = dict(lion, path=[p if i < 5 else [p[0] + 1e-6, p[1]] for i, p in enumerate(lion["path"])])
    assert after_adam.agreement(reference, bent) == (4, pytest.approx(gap, abs=1e-12))
    # the problems are rebuilt from the stored numbers: the matrix problem's gradient is least squares'
    matrix = after_adam.reference_problem(reference, "matrix")
    X, Y = np.array(reference["matrix"]["X"]), np.array(reference["matrix"]["Y"])
    theta = np.linspace(-1, 1, X.shape[1] * Y.shape[1] + Y.shape[1])
    loss = lambda th: 0.5 * np.sum((X @ th[:12].reshape(3, 4) + th[12:] - Y) ** 2) / len(X)  # noqa: E731
    numeric = np.array([(loss(theta + 1e-6 * e) - loss(theta - 1e-6 * e)) / 2e-6 for e in np.eye(len(theta))])
    assert np.allclose(matrix(theta), numeric, atol=1e-6)
    with pytest.raises(KeyError, match="quadratic"):
        after_adam.reference_problem(reference, "nope")
