"""The gradients of the two problems the after-Adam reference runs on, in numpy alone (no torch).

``make_after_adam_reference.py`` hands them to the reference implementations and
``tests/test_after_adam.py`` to ours, each with the problem's data: the quadratic
J = ½θᵀAθ − bᵀθ, and the least-squares problem J = ‖XW + 1bᵀ − Y‖²/(2n) with
θ = [W row-major, b].

Both multiply by broadcasting and sums, not ``@``: a BLAS kernel may round a matrix product
differently on another processor, and the tests repeat these lines on every machine.
"""

import numpy as np


def quadratic_grad(theta, A, b):
    """∇J = Aθ − b for J = ½θᵀAθ − bᵀθ."""
    return (A * theta).sum(axis=1) - b


def matrix_grad(theta, X, Y):
    """The gradient of ‖XW + 1bᵀ − Y‖²/(2n) for θ = [W (d × k) row-major, b (k,)], X (n × d), Y (n × k)."""
    d, k = X.shape[1], Y.shape[1]
    W, b = theta[:d * k].reshape(d, k), theta[d * k:]
    residual = (X[:, :, None] * W).sum(axis=1) + b - Y
    return np.concatenate([(X[:, :, None] * residual[:, None, :]).sum(axis=0).ravel(), residual.sum(axis=0)]) / len(X)
