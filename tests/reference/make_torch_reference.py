"""Write ``torch_reference.json``: torch.optim trajectories that the tests compare against.

Run once, by hand, where PyTorch is installed (the project itself never needs it):

    pip install torch==2.13.0
    python tests/reference/make_torch_reference.py

Every optimizer of ``kai_lib.optimizers`` runs for ``STEPS`` steps, in float64 on the CPU,
on Beale's function and on a random 2-D quadratic, through the ``torch.optim`` class
that implements the same method. The gradient handed to torch is kai_lib's analytic
one (checked here against torch's autograd), so the file tests the update rules alone.

``schedules``: the learning rate each ``torch.optim.lr_scheduler`` hands to the steps
1 … n of a run (read from ``param_groups[0]["lr"]`` before each ``optimizer.step()``,
the scheduler stepped after it), beside the ``kai_lib.schedules`` call that should give
the same numbers. ``momentum_step_decay``: ``torch.optim.SGD(momentum=…)`` under
``StepLR`` on the ravine, the PyTorch form of momentum when the learning rate drops.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch


def _ground_floor_only():
    """Make ``kai_lib``'s ground-floor modules importable without the package's ``__init__``.

    ``kai_lib/__init__`` also loads the widgets (ipywidgets, Jupyter), which the torch venv
    does not have and this script does not need: the modules it uses import only numpy.
    """
    import importlib.util
    import sys
    import types

    if importlib.util.find_spec("ipywidgets") is None and "kai_lib" not in sys.modules:
        package = types.ModuleType("kai_lib")
        package.__path__ = [str(Path(importlib.util.find_spec("kai_lib").origin).parent)]
        sys.modules["kai_lib"] = package


_ground_floor_only()
from kai_lib import surfaces  # noqa: E402

STEPS = 200
OUT = Path(__file__).with_name("torch_reference.json")

# name -> (torch class, torch kwargs, kai_lib kwargs). kai_lib takes eps_inside_sqrt=False
# wherever torch puts eps outside the root (AdaDelta puts it inside, as the slides do).
CASES = {
    "SGD": ("SGD", {"lr": 2e-3}, {"lr": 2e-3}),
    "Momentum": ("SGD", {"lr": 2e-3, "momentum": 0.9}, {"lr": 2e-3, "gamma": 0.9}),
    "NAG": ("SGD", {"lr": 2e-3, "momentum": 0.9, "nesterov": True}, {"lr": 2e-3, "gamma": 0.9}),
    "Adagrad": ("Adagrad", {"lr": 0.3, "eps": 1e-10}, {"lr": 0.3, "eps": 1e-10, "eps_inside_sqrt": False}),
    "RMSProp": ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-8},
                {"lr": 0.01, "gamma": 0.9, "eps": 1e-8, "eps_inside_sqrt": False}),
    "AdaDelta": ("Adadelta", {"lr": 1.0, "rho": 0.9, "eps": 1e-6}, {"gamma": 0.9, "eps": 1e-6}),
    "Adam": ("Adam", {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-8},
             {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "eps_inside_sqrt": False}),
    "AdaMax": ("Adamax", {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-8},
               {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    "Nadam": ("NAdam", {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-8, "momentum_decay": 4e-3},
              {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "momentum_decay": 4e-3,
               "eps_inside_sqrt": False}),
    "AMSGrad": ("Adam", {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": True},
                {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "eps_inside_sqrt": False}),
    "AdamW": ("AdamW", {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.1},
              {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1,
               "eps_inside_sqrt": False}),
}


# (kai_lib schedule: {"schedule": name, "args": kwargs, "warmup": w or absent}, steps, torch scheduler factory,
# its description). Every factory takes the optimizer; ``lr`` of the optimizer is the schedule's first value.
SCHEDULE_LR = 0.1


def _lambda(fn):
    return lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, fn)


def _warmup_then(w, after):
    def make(opt):
        first = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / w, end_factor=1.0, total_iters=w - 1)
        return torch.optim.lr_scheduler.SequentialLR(opt, [first, after(opt)], milestones=[w])
    return make


SCHEDULE_CASES = [
    ({"schedule": "constant", "args": {"lr": SCHEDULE_LR}}, 20, _lambda(lambda e: 1.0), "LambdaLR(lambda e: 1.0)"),
    ({"schedule": "step_decay", "args": {"lr": SCHEDULE_LR, "every": 7, "factor": 0.5}}, 40,
     lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5), "StepLR(step_size=7, gamma=0.5)"),
    ({"schedule": "step_decay", "args": {"lr": SCHEDULE_LR, "every": 1, "factor": 0.9}}, 30,
     lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.9), "StepLR(step_size=1, gamma=0.9)"),
    ({"schedule": "exponential", "args": {"lr": SCHEDULE_LR, "factor": 0.95}}, 60,
     lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.95), "ExponentialLR(gamma=0.95)"),
    ({"schedule": "inverse_sqrt", "args": {"lr": SCHEDULE_LR}}, 60,
     _lambda(lambda e: 1 / math.sqrt(e + 1)), "LambdaLR(lambda e: 1 / sqrt(e + 1))"),
    ({"schedule": "inverse_time", "args": {"lr": SCHEDULE_LR, "decay": 1.0}}, 60,
     _lambda(lambda e: 1 / (1 + e)), "LambdaLR(lambda e: 1 / (1 + e))"),
    ({"schedule": "inverse_time", "args": {"lr": SCHEDULE_LR, "decay": 0.05}}, 60,
     _lambda(lambda e: 1 / (1 + 0.05 * e)), "LambdaLR(lambda e: 1 / (1 + 0.05 * e))"),
    ({"schedule": "cosine", "args": {"lr": SCHEDULE_LR, "total": 30, "final": 0.0}}, 31,
     lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30, eta_min=0.0),
     "CosineAnnealingLR(T_max=30, eta_min=0.0)"),
    ({"schedule": "cosine", "args": {"lr": SCHEDULE_LR, "total": 45, "final": 0.002}}, 46,
     lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=45, eta_min=0.002),
     "CosineAnnealingLR(T_max=45, eta_min=0.002)"),
    ({"schedule": "cosine", "args": {"lr": SCHEDULE_LR, "total": 25, "final": 0.0}, "warmup": 5}, 30,
     _warmup_then(5, lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=25, eta_min=0.0)),
     "SequentialLR([LinearLR(start_factor=1/5, end_factor=1, total_iters=4), CosineAnnealingLR(T_max=25)], "
     "milestones=[5])"),
    ({"schedule": "step_decay", "args": {"lr": SCHEDULE_LR, "every": 10, "factor": 0.5}, "warmup": 8}, 40,
     _warmup_then(8, lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)),
     "SequentialLR([LinearLR(start_factor=1/8, end_factor=1, total_iters=7), StepLR(step_size=10, gamma=0.5)], "
     "milestones=[8])"),
]

# Momentum under a step decay, on the ravine: torch's SGD(momentum) keeps lr outside its buffer.
MOMENTUM_STEP_DECAY = {"surface": "ravine", "lr": 0.1, "gamma": 0.9, "every": 50, "factor": 0.5, "steps": 100}


def torch_schedule_lrs(make_scheduler, steps):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=SCHEDULE_LR)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        p.grad = torch.zeros(1)
        opt.step()
        scheduler.step()
    return lrs


def torch_momentum_step_decay(case):
    surface = surfaces.get(case["surface"])
    p = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=case["lr"], momentum=case["gamma"], foreach=False)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=case["every"], gamma=case["factor"])
    path, lrs = [p.detach().numpy().copy()], []
    for _ in range(case["steps"]):
        opt.zero_grad()
        p.grad = torch.from_numpy(surface.grad(p.detach().numpy().copy()))
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
        path.append(p.detach().numpy().copy())
    return np.array(path), lrs


def random_quadratic(seed: int = 0):
    """J = 1/2 θᵀAθ - bᵀθ with A symmetric positive definite (eigenvalues 0.5 and 5)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(2, 2)))
    a = q @ np.diag([0.5, 5.0]) @ q.T
    return a, rng.normal(size=2)


def beale_torch(p):
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def torch_path(cls_name, kwargs, start, grad):
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = getattr(torch.optim, cls_name)([p], foreach=False, **kwargs)
    path = [p.detach().numpy().copy()]
    for _ in range(STEPS):
        opt.zero_grad()
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def main():
    torch.set_default_dtype(torch.float64)
    a, b = random_quadratic()
    problems = {
        "beale": (surfaces.BEALE.grad, [1.0, 1.5]),
        "quadratic": (lambda th: a @ th - b, [2.0, -1.5]),
    }

    # The analytic Beale gradient against autograd, along the way.
    for point in np.random.default_rng(1).uniform(-3, 3, size=(50, 2)):
        p = torch.tensor(point, requires_grad=True)
        beale_torch(p).backward()
        assert np.allclose(p.grad.numpy(), surfaces.BEALE.grad(point), rtol=1e-12, atol=1e-9)

    cases = []
    for name, (cls_name, torch_kwargs, kai_kwargs) in CASES.items():
        for problem, (grad, start) in problems.items():
            path = torch_path(cls_name, torch_kwargs, start, grad)
            assert np.all(np.isfinite(path)), (name, problem)
            cases.append({
                "optimizer": name,
                "problem": problem,
                "torch": f"torch.optim.{cls_name}(**{torch_kwargs})",
                "kai_lib_kwargs": kai_kwargs,
                "start": start,
                "path": path.tolist(),
            })
    doc = {
        "about": "torch.optim trajectories (float64, CPU), written by make_torch_reference.py",
        "torch_version": torch.__version__,
        "steps": STEPS,
        "quadratic": {"A": a.tolist(), "b": b.tolist()},
        "cases": cases,
        "schedules": [
            {**kai, "steps": steps, "torch": f"torch.optim.lr_scheduler.{text}",
             "lr": torch_schedule_lrs(make_scheduler, steps)}
            for kai, steps, make_scheduler, text in SCHEDULE_CASES
        ],
    }
    path, lrs = torch_momentum_step_decay(MOMENTUM_STEP_DECAY)
    doc["momentum_step_decay"] = {
        **MOMENTUM_STEP_DECAY,
        "torch": "torch.optim.SGD(lr, momentum=gamma) + lr_scheduler.StepLR(step_size=every, gamma=factor)",
        "start": surfaces.get(MOMENTUM_STEP_DECAY["surface"]).start.tolist(),
        "lr_per_step": lrs,
        "path": path.tolist(),
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB, {len(cases)} trajectories, "
          f"{len(doc['schedules'])} schedules, momentum under StepLR)")


if __name__ == "__main__":
    main()
