"""kai_lib against torch.optim, through trajectories committed in tests/reference/.

The file is written by tests/reference/make_torch_reference.py (PyTorch 2.13, float64);
this test needs no torch.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from kai_lib import optimizers, surfaces

REFERENCE = json.loads((Path(__file__).parent / "reference" / "torch_reference.json").read_text())
A = np.array(REFERENCE["quadratic"]["A"])
B = np.array(REFERENCE["quadratic"]["b"])
GRADS = {"beale": surfaces.BEALE.grad, "quadratic": lambda th: A @ th - B}


def kai_lib_path(case):
    opt = optimizers.ALL[case["optimizer"]](**case["kai_lib_kwargs"])
    theta = np.array(case["start"], dtype=float)
    path = [theta]
    for _ in range(REFERENCE["steps"]):
        theta = opt.step(theta, GRADS[case["problem"]])
        # torch's Nesterov parameter is the look-ahead point θ - γv
        path.append(theta - opt.gamma * opt.v if case["optimizer"] == "NAG" else theta)
    return np.array(path)


def test_every_optimizer_is_covered():
    assert {c["optimizer"] for c in REFERENCE["cases"]} == set(optimizers.ALL)
    assert REFERENCE["steps"] == 200


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"{c['optimizer']}-{c['problem']}")
def test_same_trajectory_as_torch(case):
    ours = kai_lib_path(case)
    ref = np.array(case["path"])
    assert ours.shape == ref.shape == (201, 2)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)
    assert np.linalg.norm(ref[-1] - ref[0]) > 0.1  # the runs go somewhere
