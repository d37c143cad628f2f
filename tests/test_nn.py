"""kai_lib.nn: backpropagation against finite differences, training on digits, and its contract."""

import math
import re
import warnings

import numpy as np
import pytest

from kai_lib import data, nn, optimizers

#: A learning rate per slide optimizer that trains the digits network well at batch 32
#: (AdaDelta has none: its defaults). kai_lib.studies.tuning tunes them on a grid (tests/test_tuning.py).
GOOD_LR = {"SGD": 0.1, "Momentum": 0.01, "NAG": 0.01, "Adagrad": 0.03, "RMSProp": 0.001, "Adam": 0.003}


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def central_differences(f, theta, h=1e-6):
    fd = np.empty_like(theta)
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = h
        fd[i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return fd


# --- the maths ------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("sizes", [[3, 2], [4, 5, 3], [2, 6, 4, 2], [5, 3, 3, 3, 4]])
def test_backprop_matches_central_differences(sizes, activation):
    rng = np.random.default_rng(len(sizes))
    net = nn.MLP(sizes, activation=activation, seed=1)
    X = rng.normal(size=(7, sizes[0]))
    y = rng.integers(0, sizes[-1], size=7)
    theta = net.init() + 0.1 * rng.normal(size=net.n_params)  # biases off zero too
    loss, grad = net.loss_and_grad(theta, X, y)
    assert loss == pytest.approx(net.loss(theta, X, y), rel=1e-15)
    fd = central_differences(lambda th: net.loss(th, X, y), theta)
    assert np.linalg.norm(grad - fd) / np.linalg.norm(fd) <= 1e-6
    assert grad.shape == (net.n_params,)


def test_softmax_regression_loss_worked_by_hand():
    # sizes [2, 3]: no hidden layer, z = x W + b, loss = -log softmax(z)[y]
    net = nn.MLP([2, 3], seed=0)
    W = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]])
    b = np.array([0.0, -1.0, 0.25])
    theta = np.concatenate([W.ravel(), b])
    X, y = np.array([[1.0, 2.0]]), np.array([1])
    z = np.array([1.0 + 1.0, 4.0 - 1.0, -1.0 + 0.25])
    expected = -math.log(math.exp(z[1]) / sum(math.exp(v) for v in z))
    loss, grad = net.loss_and_grad(theta, X, y)
    assert loss == pytest.approx(expected, rel=1e-14)
    p = np.exp(z) / np.exp(z).sum()
    p[1] -= 1
    np.testing.assert_allclose(grad, np.concatenate([np.outer(X[0], p).ravel(), p]), rtol=1e-14)


def test_unflatten_views_and_init(digits):
    net = nn.MLP([64, 32, 10], activation="tanh", seed=0)
    assert net.n_params == 64 * 32 + 32 + 32 * 10 + 10
    theta = net.init()
    np.testing.assert_array_equal(theta, net.init())  # the seed fixes it
    assert not np.array_equal(theta, nn.MLP([64, 32, 10], seed=1).init())
    (W1, b1), (W2, b2) = net.unflatten(theta)
    assert W1.shape == (64, 32) and b1.shape == (32,) and W2.shape == (32, 10)
    assert np.all(b1 == 0) and np.all(b2 == 0)
    limit = math.sqrt(6 / (64 + 32))  # Glorot uniform
    assert np.abs(W1).max() <= limit and np.abs(W1).max() > 0.95 * limit
    W1[0, 0] = 123.0
    assert theta[0] == 123.0  # views, not copies
    W = nn.MLP([64, 32, 10], activation="relu", seed=0).unflatten(nn.MLP([64, 32, 10], activation="relu").init())[0][0]
    assert W.std() == pytest.approx(math.sqrt(2 / 64), rel=0.05)  # He normal


def test_untrained_loss_is_about_ln_10(digits):
    X_train, _, y_train, _ = digits
    net = nn.MLP([64, 32, 10], activation="tanh", seed=0)
    theta = net.init()
    loss = net.loss(theta, X_train, y_train)
    # Glorot's logits are small but not zero: the loss sits a little above ln 10 = 2.303
    assert abs(loss - math.log(10)) < 0.3
    theta[-(32 * 10 + 10):] = 0.0  # zero output layer: every class equally likely, exactly ln 10
    assert net.loss(theta, X_train, y_train) == pytest.approx(math.log(10), rel=1e-12)
    assert net.accuracy(theta, X_train, y_train) == pytest.approx(np.mean(y_train == 0))


# --- training --------------------------------------------------------------------------------

def test_adam_reaches_95_percent_on_digits_within_30_epochs(digits):
    X_train, X_test, y_train, y_test = digits
    net = nn.MLP([64, 32, 10], activation="tanh", seed=0)
    hist = nn.train(optimizers.Adam(lr=0.003), net, X_train, y_train, epochs=30, batch_size=32, seed=0,
                    X_test=X_test, y_test=y_test)
    assert hist.test_accuracy.max() >= 0.95
    assert hist.test_accuracy[-1] >= 0.95
    assert hist.loss_per_epoch[-1] < 0.1 * hist.loss_per_epoch[0]
    assert net.accuracy(hist.theta, X_test, y_test) == hist.test_accuracy[-1]


@pytest.mark.parametrize("name", optimizers.SLIDES)
def test_every_slide_optimizer_trains_with_finite_losses(digits, name):
    X_train, X_test, y_train, y_test = digits
    opt = optimizers.ALL[name](**({"lr": GOOD_LR[name]} if name in GOOD_LR else {}))
    hist = nn.train(opt, nn.MLP([64, 32, 10], seed=0), X_train, y_train, epochs=10, batch_size=32, seed=0,
                    X_test=X_test, y_test=y_test)
    assert not hist.diverged and hist.diverged_at == -1
    assert np.all(np.isfinite(hist.loss_per_step)) and len(hist.loss_per_step) == 10 * 45
    assert hist.loss_per_epoch[-1] < 0.5 * hist.loss_per_epoch[0]
    assert hist.test_accuracy[-1] > 0.85


def test_history_shapes_and_the_first_step_by_hand(digits):
    X_train, X_test, y_train, y_test = digits
    net = nn.MLP([64, 16, 10], seed=3)
    hist = nn.train(optimizers.SGD(lr=0.1), net, X_train, y_train, epochs=3, batch_size=100, seed=5,
                    X_test=X_test, y_test=y_test)
    steps = math.ceil(len(X_train) / 100)
    assert hist.loss_per_step.shape == (3 * steps,)
    assert hist.loss_per_epoch.shape == hist.test_accuracy.shape == hist.seconds.shape == (4,)
    assert hist.seconds[0] == 0 and np.all(np.diff(hist.seconds) > 0)
    assert hist.loss_per_epoch[0] == pytest.approx(net.loss(net.init(), X_train, y_train), rel=1e-15)
    # the first step: the first 100 rows of the seed's first permutation
    first = np.random.default_rng(5).permutation(len(X_train))[:100]
    loss, grad = net.loss_and_grad(net.init(), X_train[first], y_train[first])
    assert hist.loss_per_step[0] == loss
    one = nn.train(optimizers.SGD(lr=0.1), net, X_train[first], y_train[first], epochs=1, batch_size=100)
    np.testing.assert_allclose(one.theta, net.init() - 0.1 * grad, rtol=0, atol=1e-15)
    # full batch: one step per epoch, plain gradient descent on the whole loss
    full = nn.train(optimizers.SGD(lr=0.5), net, X_train, y_train, epochs=2, batch_size=len(X_train))
    th = net.init()
    for _ in range(2):
        th = th - 0.5 * net.loss_and_grad(th, X_train, y_train)[1]
    np.testing.assert_allclose(full.theta, th, rtol=0, atol=1e-13)


def test_train_is_deterministic_bit_for_bit(digits):
    X_train, X_test, y_train, y_test = digits
    net = nn.MLP([64, 32, 10], seed=0)
    a, b = (nn.train(optimizers.NAG(lr=0.01), net, X_train, y_train, epochs=3, seed=7, X_test=X_test,
                     y_test=y_test, keep_theta=True) for _ in range(2))
    for field in ("loss_per_step", "loss_per_epoch", "test_accuracy", "theta", "theta_per_epoch"):
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes(), field
    c = nn.train(optimizers.NAG(lr=0.01), net, X_train, y_train, epochs=3, seed=8)
    assert c.loss_per_step.tobytes() != a.loss_per_step.tobytes()  # the seed shuffles differently
    assert a.theta_per_epoch.shape == (4, net.n_params)
    np.testing.assert_array_equal(a.theta_per_epoch[-1], a.theta)


def test_train_leaves_the_data_and_the_start_alone(digits):
    X_train, _, y_train, _ = digits
    X0, theta0 = X_train.copy(), nn.MLP([64, 8, 10]).init()
    hist = nn.train(optimizers.Adam(lr=0.01), nn.MLP([64, 8, 10]), X_train, y_train, epochs=1, theta=theta0)
    np.testing.assert_array_equal(X_train, X0)
    np.testing.assert_array_equal(theta0, nn.MLP([64, 8, 10]).init())
    assert not np.array_equal(hist.theta, theta0)


# --- divergence and schedules ---------------------------------------------------------------

def test_a_diverging_learning_rate_is_reported_not_raised_and_prints_nothing(digits, capsys):
    X_train, X_test, y_train, y_test = digits
    net = nn.MLP([64, 32, 10], activation="relu", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = nn.train(optimizers.SGD(lr=10.0), net, X_train, y_train, epochs=20, batch_size=32, seed=0,
                        X_test=X_test, y_test=y_test)
    assert capsys.readouterr() == ("", "")
    # η = 10 on a ReLU network: the loss stays finite but rises far above the start: blew up, and stopped there
    assert hist.blew_up and not hist.diverged and hist.diverged_at == -1
    assert hist.epochs == hist.blew_up_at >= 1  # the epoch it blew up in is recorded
    assert len(hist.loss_per_epoch) == len(hist.test_accuracy) == len(hist.seconds) == hist.blew_up_at + 1
    assert hist.loss_per_epoch[-1] > nn.BLOW_UP_FACTOR * hist.loss_per_epoch[:-1].min()
    assert hist.loss_per_epoch[-1] > hist.loss_per_epoch[0]
    assert np.all(np.isfinite(hist.loss_per_step)) and np.all(np.isfinite(hist.theta))
    assert len(hist.loss_per_step) == 45 * hist.epochs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        at_once = nn.train(optimizers.SGD(lr=1e200), net, X_train, y_train, epochs=3)
    assert at_once.diverged and at_once.diverged_at == 1 and at_once.epochs == 0
    assert at_once.blew_up and at_once.blew_up_at == 1   # a run that left the finite world blew up too
    assert len(at_once.loss_per_step) <= 2 and np.all(np.isfinite(at_once.theta))


def test_a_schedule_sets_lr_between_steps_and_is_undone_after(digits):
    X_train, _, y_train, _ = digits
    net = nn.MLP([64, 8, 10], seed=0)
    plain = nn.train(optimizers.Momentum(lr=0.02), net, X_train, y_train, epochs=2, batch_size=64)
    opt = optimizers.Momentum(lr=0.5, gamma=0.8)
    seen = []
    constant = nn.train(opt, net, X_train, y_train, epochs=2, batch_size=64,
                        schedule=lambda t: seen.append(t) or 0.02)
    assert seen == list(range(1, 2 * 23 + 1))
    assert opt.lr == 0.5 and opt.gamma == 0.8 and opt.hyperparameters() == {"lr": 0.5, "gamma": 0.8}
    # the schedule replaced lr only: gamma stayed 0.8, so the run differs from plain Momentum(0.02)
    assert constant.loss_per_step[0] == plain.loss_per_step[0]
    opt = optimizers.SGD(lr=1.0)
    decayed = nn.train(opt, net, X_train, y_train, epochs=2, batch_size=64, schedule=lambda t: 0.1 / t)
    np.testing.assert_array_equal(decayed.lr_per_step, 0.1 / np.arange(1, 47))
    assert opt.lr == 1.0 and plain.lr_per_step is None
    # by hand: SGD under the schedule, on the same batches
    order = np.random.default_rng(0).permutation(len(X_train))
    th = net.init()
    for t, start in enumerate(range(0, len(X_train), 64), start=1):
        idx = order[start:start + 64]
        th = th - 0.1 / t * net.loss_and_grad(th, X_train[idx], y_train[idx])[1]
    one = nn.train(optimizers.SGD(lr=1.0), net, X_train, y_train, epochs=1, batch_size=64, schedule=lambda t: 0.1 / t)
    np.testing.assert_allclose(one.theta, th, rtol=0, atol=1e-14)


def test_schedules_are_refused_where_they_cannot_apply(digits):
    X_train, _, y_train, _ = digits
    net = nn.MLP([64, 8, 10])
    with pytest.raises(ValueError, match="schedule must be None for AdaDelta, which has no learning rate lr"):
        nn.train(optimizers.AdaDelta(), net, X_train, y_train, epochs=1, schedule=lambda t: 0.1)
    for bad in (-1.0, float("nan"), float("inf"), "0.1", None):
        opt = optimizers.Adam(lr=0.01)
        with pytest.raises(ValueError, match=r"^schedule\(3\) must be a finite number >= 0, got"):
            nn.train(opt, net, X_train, y_train, epochs=1, schedule=lambda t, bad=bad: 0.01 if t < 3 else bad)
        assert opt.lr == 0.01  # restored even when the schedule fails
    with pytest.raises(ValueError, match="schedule must be a callable"):
        nn.train(optimizers.SGD(), net, X_train, y_train, epochs=1, schedule=0.1)


# --- bad input ------------------------------------------------------------------------------

def test_bad_input_is_refused_with_the_argument_named(digits):
    X_train, X_test, y_train, y_test = digits
    net = nn.MLP([64, 8, 10])
    opt = optimizers.SGD()
    cases = [
        (dict(X_train=X_train[:, :10]), r"X_train must have shape \(n, 64\)"),
        (dict(X_train=X_train[0]), r"X_train must have shape \(n, 64\)"),
        (dict(y_train=y_train[:-1]), r"y_train must have shape \(1438,\)"),
        (dict(y_train=y_train + 1), r"y_train must hold labels in \[0, 9\], got an array of shape \(\d+,\)"),
        (dict(y_train=y_train - 1), r"y_train must hold labels in \[0, 9\]"),
        (dict(y_train=y_train + 0.5), "y_train must hold integer class labels"),
        (dict(epochs=0), "epochs must be an integer >= 1, got 0"),
        (dict(epochs=2.0), "epochs must be an integer >= 1"),
        (dict(batch_size=0), r"batch_size must be an integer in \[1, 1438\]"),
        (dict(batch_size=1439), r"batch_size must be an integer in \[1, 1438\]"),
        (dict(X_test=X_test), "X_test and y_test must be given together"),
        (dict(X_test=X_test[:, 1:], y_test=y_test), r"X_test must have shape \(n, 64\)"),
        (dict(X_test=X_test, y_test=y_test[:5]), r"y_test must have shape \(359,\)"),
        (dict(theta=np.zeros(3)), rf"theta must have shape \({net.n_params},\)"),
    ]
    for change, message in cases:
        kwargs = dict(X_train=X_train, y_train=y_train, epochs=1) | change
        with pytest.raises(ValueError, match=message):
            nn.train(opt, net, **kwargs)
    bad_X = X_train.copy()
    bad_X[0, 0] = np.nan
    with pytest.raises(ValueError, match="X_train must be finite"):
        nn.train(opt, net, bad_X, y_train)
    with pytest.raises(TypeError, match="optimizer must be a kai_lib optimizer"):
        nn.train(optimizers.SGD, net, X_train, y_train)
    with pytest.raises(TypeError, match="net must be a kai_lib.nn.MLP"):
        nn.train(opt, "net", X_train, y_train)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 64\)"):
        net.loss_and_grad(net.init(), X_train[:, :3], y_train)
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 9\]"):
        net.accuracy(net.init(), X_train, y_train + 10)


@pytest.mark.parametrize("sizes, message", [
    ([64], "sizes must be a list of at least two integers"),
    ([64, 0, 10], "sizes must be a list"),
    ([64, 32, 1], r"the last >= 2"),
    ([64, 32.0, 10], "sizes must be a list"),
    ("64,10", "sizes must be a list"),
])
def test_bad_sizes(sizes, message):
    with pytest.raises(ValueError, match=message):
        nn.MLP(sizes)


def test_bad_activation_and_seed():
    with pytest.raises(ValueError, match=r"activation must be 'tanh' or 'relu', got 'sigmoid'"):
        nn.MLP([2, 2], activation="sigmoid")
    with pytest.raises(ValueError, match="seed must be an integer"):
        nn.MLP([2, 2], seed=0.5)


# --- the datasets ----------------------------------------------------------------------------

def test_digits_are_standardised_on_the_training_set_and_split_the_same_way_every_time(digits):
    X_train, X_test, y_train, y_test = digits
    assert X_train.shape == (1438, 64) and X_test.shape == (359, 64)
    assert y_train.shape == (1438,) and set(np.unique(y_train)) == set(range(10))
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-12)
    std = X_train.std(axis=0)
    assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))
    again = data.digits()
    for a, b in zip(digits, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(data.digits(seed=1)[2], y_train)
    with pytest.raises(ValueError, match="test_size must be a fraction in"):
        data.digits(test_size=1.5)


def test_moons_are_two_seeded_half_moons():
    X, y = data.moons(n=200, noise=0.2, seed=0)
    assert X.shape == (200, 2) and y.shape == (200,) and np.bincount(y).tolist() == [100, 100]
    np.testing.assert_array_equal(X, data.moons(n=200, noise=0.2, seed=0)[0])
    assert not np.array_equal(X, data.moons(seed=1)[0])
    clean, labels = data.moons(n=100, noise=0.0)
    upper = clean[labels == 0]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-12)  # the upper arc, radius 1 about (0, 0)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        data.moons(n=1)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        data.moons(noise=-0.1)


# --- a blown-up run is called what it is (issue: reliability, family 2) ---------------------------

@pytest.mark.parametrize("lr", [1e6, 1e300])
def test_a_finite_but_exploding_loss_is_reported_as_blown_up(digits, lr):
    X_train, _, y_train, _ = digits
    net = nn.MLP([64, 32, 10], activation="tanh", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hist = nn.train(optimizers.SGD(lr=lr), net, X_train, y_train, epochs=5)
    assert hist.blew_up and hist.blew_up_at == 1 and hist.epochs == 1
    assert "blew up after epoch 1" in repr(hist)


def test_a_good_run_and_a_small_wobble_do_not_blow_up(digits):
    X_train, X_test, y_train, y_test = digits
    net = nn.MLP([64, 32, 10], seed=0)
    hist = nn.train(optimizers.Adam(lr=0.003), net, X_train, y_train, epochs=20, X_test=X_test, y_test=y_test)
    assert not hist.blew_up and hist.blew_up_at == -1 and hist.epochs == 20
    assert "diverged False, blew up False" in repr(hist)


# --- stale hyperparameters and one schedule mechanism (family 3.2) -------------------------------

def test_train_uses_and_keeps_the_current_hyperparameters(digits):
    X_train, _, y_train, _ = digits
    net = nn.MLP([64, 8, 10], seed=0)
    opt = optimizers.SGD(lr=0.01)
    opt.lr = 0.5
    assert repr(opt) == "SGD(lr=0.5)" and opt.hyperparameters() == {"lr": 0.5}
    assigned = nn.train(opt, net, X_train, y_train, epochs=2)
    fresh = nn.train(optimizers.SGD(lr=0.5), net, X_train, y_train, epochs=2)
    np.testing.assert_array_equal(assigned.loss_per_step, fresh.loss_per_step)
    nn.train(opt, net, X_train, y_train, epochs=1, schedule=lambda t: 0.1)
    assert opt.lr == 0.5   # put back to what was there, not to the constructor's 0.01
    opt.lr = -1            # assignment is not checked; the loop checks before any work
    with pytest.raises(ValueError, match="^lr must be a finite number > 0, got -1"):
        nn.train(opt, net, X_train, y_train, epochs=1)


# --- ceilings (family 3.1) -----------------------------------------------------------------------

def test_every_size_has_a_ceiling_named_in_the_error(digits):
    X_train, _, y_train, _ = digits
    net = nn.MLP([64, 8, 10], seed=0)
    with pytest.raises(ValueError, match=r"^epochs must be at most 69 at batch_size 1 .*MAX_STEPS = 100,000"):
        nn.train(optimizers.SGD(), net, X_train, y_train, epochs=10**7, batch_size=1)
    with pytest.raises(ValueError, match=r"^epochs must be at most .*MAX_ROWS_SEEN = 10,000,000"):
        nn.train(optimizers.SGD(), net, X_train, y_train, epochs=10**5, batch_size=len(X_train))
    with pytest.raises(ValueError, match=r"^sizes must be a network of at most 10,000,000 parameters"):
        nn.MLP([10**7, 10**7, 2])


@pytest.mark.parametrize("call, name", [
    (lambda net, X, y: nn.train(optimizers.SGD, net, X, y), "optimizer"),
    (lambda net, X, y: nn.train(optimizers.SGD(), net, X, y, keep_theta="yes"), "keep_theta"),
    (lambda net, X, y: nn.train(optimizers.SGD(), net, X, y, theta=np.full(net.n_params, np.nan)), "theta"),
    (lambda net, X, y: net.loss_and_grad(np.full(net.n_params, np.inf), X, y), "theta"),
    (lambda net, X, y: net.loss_and_grad(np.zeros(net.n_params, complex), X, y), "theta"),
    (lambda net, X, y: net.loss_and_grad(net.init(), X.astype(str), y), "X"),
    (lambda net, X, y: nn.MLP([64, 2.5, 10]), "sizes"),
    (lambda net, X, y: nn.MLP([64, True, 10]), "sizes"),
    (lambda net, X, y: nn.train(optimizers.SGD(), net, X, y, seed=-1), "seed"),
])
def test_bad_values_are_refused_naming_the_argument(digits, call, name):
    X_train, _, y_train, _ = digits
    net = nn.MLP([64, 8, 10], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="^" + re.escape(name) + " must"):
            call(net, X_train, y_train)
