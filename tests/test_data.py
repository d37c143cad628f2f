"""The seeded datasets: reproducible, and their losses and gradients agree with each other."""

import warnings

import numpy as np
import pytest

from kai_lib import data, optimizers, run, surfaces

pytestmark = pytest.mark.filterwarnings("error")  # every warning fails a test here (-W error)


def test_regression_is_seeded_and_its_surface_is_its_loss():
    a, b = data.make_regression(seed=3), data.make_regression(seed=3)
    np.testing.assert_array_equal(a.x, b.x)
    s = a.surface()
    theta = np.random.default_rng(0).normal(size=(40, 2)) * 3
    np.testing.assert_allclose(s(theta), a.loss(theta), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s.grad(theta), a.grad(theta), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s.grad(s.minima[0]), 0, atol=1e-12)
    np.testing.assert_allclose(a.minimiser(), a.theta_true, atol=0.1)


def test_minibatches_cover_an_epoch_and_average_to_the_full_gradient():
    d = data.make_regression(n=100)
    grad_fn = d.minibatch_grad_fn(batch_size=10, seed=0)
    theta = np.array([0.5, 0.5])
    np.testing.assert_allclose(np.mean([grad_fn(theta) for _ in range(10)], axis=0), d.grad(theta), atol=1e-12)
    traj = run(optimizers.SGD(lr=0.1), d.surface(), steps=300, grad_fn=d.minibatch_grad_fn(32, seed=1))
    assert np.linalg.norm(traj.final - d.minimiser()) < 0.2
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 100\]"):
        d.minibatch_grad_fn(0)


def test_sparse_features_have_zipf_like_frequencies_and_a_matching_gradient(central_differences):
    sp = data.make_sparse_features(n=500, d=20, seed=0)
    assert sp.frequency[0] > 0.8 and sp.frequency[-1] < 0.1
    w = np.zeros(20)
    fd = central_differences(sp.loss, w)
    np.testing.assert_allclose(sp.grad(w), fd, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="d must be an integer >= 2"):
        data.make_sparse_features(d=1)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        data.make_regression(n=1)


# --- ceilings, empty splits and bad values (reliability, families 3.1, 3.5 and 3.10) ---------------

@pytest.mark.parametrize("call, name", [
    (lambda: data.moons(n=10**12), "n"),
    (lambda: data.moons(noise=True), "noise"),
    (lambda: data.moons(seed=-1), "seed"),
    (lambda: data.digits(test_size=0.9999), "test_size"),
    (lambda: data.digits(test_size=1e-9), "test_size"),
    (lambda: data.digits(test_size=True), "test_size"),
])
def test_the_network_datasets_refuse_what_would_be_empty_huge_or_mistyped(call, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=f"^{name} must"):
            call()


def test_the_smallest_and_largest_test_size_leave_one_image_on_each_side():
    for size in (0.51 / 1797, 1 - 1.5 / 1797):
        X_train, X_test, _, _ = data.digits(test_size=size)
        assert len(X_train) >= 1 and len(X_test) >= 1 and np.isfinite(X_train).all()


def test_the_reference_values_are_found_from_any_folder(tmp_path, monkeypatch):
    from kai_lib import data

    monkeypatch.chdir(tmp_path)  # notebooks/ko/ reads them as notebooks/ does: not relative to the folder
    assert {"momentum_step_decay", "lbfgs"} <= set(data.reference("torch_reference"))
    assert "cases" in data.reference("after_adam_reference")
    with pytest.raises(ValueError, match="name must be 'after_adam_reference' or 'torch_reference', got 'torch'"):
        data.reference("torch")


def test_surface_grids_and_data_check_their_arguments():
    with pytest.raises(ValueError, match=r"n must be an integer in \[2, 4000\], got 1"):
        surfaces.BEALE.grid(1)
    for call, match in ((lambda: data.make_regression(n=True), "n must be an integer >= 2, got True"),
                        (lambda: data.make_regression(noise=np.nan), "noise must be a finite number >= 0"),
                        (lambda: data.make_regression(w="2"), "w must be a finite number"),
                        (lambda: data.make_regression(seed=-1), "seed must be an integer >= 0"),
                        (lambda: data.make_regression(n=10**9), "n must be at most 10,000,000"),
                        (lambda: data.make_sparse_features(n=10**6, d=100), r"n × d must be at most 10,000,000"),
                        (lambda: data.make_sparse_features(exponent=-1), r"exponent must be in \[0, 10\]"),
                        (lambda: data.make_sparse_features(d=2.0), "d must be an integer >= 2"),
                        (lambda: data.make_regression(n=50).minibatch_grad_fn(True),
                         r"batch_size must be an integer in \[1, 50\], got True")):
        with pytest.raises(ValueError, match=match):
            call()
