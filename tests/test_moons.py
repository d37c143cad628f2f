"""kai_lib.studies.moons: the noisy-moons race says what its caption says, and its widget answers."""

import numpy as np
import pytest

from kai_lib import nn, optimizers
from kai_lib.pictures.animation import FrameAnimation
from kai_lib.studies import moons


@pytest.fixture(scope="module")
def runs():
    return moons.train_all()


def test_every_slide_optimizer_races_on_the_same_start_and_batches(runs):
    assert list(runs) == list(optimizers.SLIDES)
    first = {name: h.theta_per_epoch[0] for name, h in runs.items()}
    for theta in first.values():
        np.testing.assert_array_equal(theta, moons.MOONS.net().init())
    for h in runs.values():
        assert not h.diverged and h.epochs == moons.MOONS.epochs
        assert h.theta_per_epoch.shape == (moons.MOONS.epochs + 1, moons.MOONS.net().n_params)
    # the same shuffled batches: the first step's mini-batch loss is the same for all but NAG (look-ahead at v=0: same)
    assert len({h.loss_per_step[0] for h in runs.values()}) == 1


def test_the_caption_in_numbers(runs):
    accuracy = {name: moons.train_accuracy(h)[-1] for name, h in runs.items()}
    first = {name: moons.first_epoch_at(h, 0.95) for name, h in runs.items()}
    # SGD's boundary stays almost straight: 92 % of the training points right, never 95 %
    assert accuracy["SGD"] == pytest.approx(0.92) and first["SGD"] == -1
    assert "92 %" in moons.MOONS.caption
    # every other optimizer bends it between the moons
    assert all(accuracy[n] >= 0.95 for n in runs if n != "SGD")
    # Momentum and NAG first, at epoch 17 ...
    assert first["Momentum"] == first["NAG"] == 17 == min(v for v in first.values() if v > 0)
    assert "epoch 17" in moons.MOONS.caption
    # ... the adaptive methods later, Adagrad last
    assert all(first[n] > 17 for n in ("Adagrad", "RMSProp", "AdaDelta", "Adam"))
    assert first["Adagrad"] == max(first.values())
    # SGD's loss is the highest at the end, as the loss panel shows
    assert max(runs, key=lambda n: runs[n].loss_per_epoch[-1]) == "SGD"


def test_the_animation_moves_images_and_curves_only(runs):
    anim = moons.animate_boundaries(runs, frames=12)
    assert isinstance(anim, FrameAnimation)  # so save_gif and show blit it
    assert anim.steps_shown[0] == 0 and anim.steps_shown[-1] == moons.MOONS.epochs
    assert len(anim.steps_shown) == 12 and np.all(np.diff(anim.steps_shown) > 0)
    anim._init()
    anim._draw_frame_at(11)
    curve = anim.curves["SGD"]
    np.testing.assert_array_equal(curve.get_ydata(), runs["SGD"].loss_per_epoch)
    # the last frame's image is the final network's prediction on the grid
    image = anim.images["Adam"].get_array()
    assert image.shape == (60, 60) and 0.2 < np.mean(image > 0.5) < 0.8
    assert anim.texts["SGD"].get_text() == "92 % right"
    import matplotlib.pyplot as plt
    plt.close(anim._fig)


def test_the_widget_retrains_at_its_extremes():
    w = moons.explore()
    assert set(w.sliders) == {"optimizer", "lr", "batch_size", "hidden", "epochs"}
    first = w.image.value
    for name in optimizers.SLIDES:
        hist = w.update(optimizer=name)
        assert np.all(np.isfinite(hist.loss_per_epoch)) and w.seconds > 0
    for change in (dict(lr=1e-4), dict(lr=10.0), dict(batch_size=10, epochs=100), dict(batch_size=200, epochs=10),
                   dict(hidden=2), dict(hidden=64)):
        hist = w.update(**change)
        # a run that blew up (η = 10) stops at the epoch it did, as a diverged one does
        assert hist.epochs == (change.get("epochs") or w.sliders["epochs"].value) or hist.blew_up
        assert "epochs" in w.status.value or "diverged" in w.status.value or "blew up" in w.status.value
    w.sliders["hidden"].value = 8  # what moving a slider does
    assert w.history.theta.shape == (nn.MLP([2, 8, 2]).n_params,)
    assert w.image.value != first and w.image.value[:4] == b"\x89PNG"
    with pytest.raises(TypeError, match="no slider named"):
        w.update(gamma=0.5)
    # AdaDelta has no η: it trains with the race's setting and the η slider does nothing
    a = w.update(optimizer="AdaDelta", lr=1e-3).loss_per_epoch
    np.testing.assert_array_equal(a, w.update(optimizer="AdaDelta", lr=1.0).loss_per_epoch)


@pytest.mark.filterwarnings("error")
def test_a_run_that_stopped_in_its_first_epoch_animates_quietly():
    X, y, _, _ = moons.MOONS.dataset()
    hist = nn.train(optimizers.SGD(lr=1e308), moons.MOONS.net(), X, y, epochs=3, batch_size=20, seed=0,
                    keep_theta=True)
    assert hist.diverged and hist.epochs == 0 and len(hist.loss_per_epoch) == 1  # one point, at epoch 0
    anim = moons.animate_boundaries({"SGD": hist}, frames=3)
    low, high = anim.curves["SGD"].axes.get_xlim()  # no "identical low and high xlims" warning
    assert (low, high) == (0, 1)
    anim._init()
    anim._draw_frame_at(len(anim.steps_shown) - 1)
