"""Write ``after_adam_reference.json``: the optimizers after Adam, run by their reference implementations.

Run once, by hand, in a throwaway environment (the project itself never needs these packages):

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch==2.13.0 numpy==2.4.6 lion-pytorch==0.2.5 \\
        schedulefree==1.4.1 prodigyopt==1.1.2 pytorch-optimizer==4.1.0 && /tmp/ref/bin/pip install -e .
    /tmp/ref/bin/python tests/reference/make_after_adam_reference.py

Pinned: torch 2.13.0 (CPU), numpy 2.4.6, lion-pytorch 0.2.5, schedulefree 1.4.1, prodigyopt 1.1.2,
pytorch-optimizer 4.1.0 (asserted below). Every case runs ``STEPS`` steps in float64 on the CPU
and stores the parameters after each step. The gradient handed to the reference is kai_lib's
own (Beale's from ``kai_lib.surfaces``; the quadratic's and the matrix problem's computed by the
numpy functions of ``problems.py``, which ``tests/test_after_adam.py`` uses too), so the file tests the update
rules alone.

Problems: Beale's function from its start (1, 1.5); the random 2-D quadratic
J = ½θᵀAθ − bᵀθ; and, for the matrix methods, a small least-squares problem with a weight matrix
W (3 × 4) and a bias b (4,): J = ‖XW + 1bᵀ − Y‖²/(2n), X (8 × 3), Y (8 × 4), θ = [W row-major, b],
``shapes=[(3, 4), (4,)]``.

Muon: torch 2.13's ``torch.optim.Muon`` runs its Newton–Schulz iterations in bfloat16 whatever the
parameters' dtype, so no float64 trajectory can match it. Its reference is generated with
``torch.optim._muon._zeropower_via_newtonschulz`` **replaced by the same function in float64**
(``zeropower_float64`` below: the same operations without the ``.bfloat16()`` cast). The bfloat16
original is run too, and how far it lands from the float64 one is stored (``bfloat16_gap``). A
1-D parameter (Beale's θ, the bias) is passed to torch's Muon as a 1 × n matrix, which is what
kai_lib's Muon makes of a vector block. ``newton_schulz`` holds one float64 Newton–Schulz call on a
tall and a wide matrix beside the SVD's UVᵀ.

Schedule-Free: the paths are the reference's parameters, the gradient point y; ``x_path`` is its
state ``x``, the averaged point. Prodigy: ``d_path`` is its ``d`` after each step.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import lion_pytorch
import numpy as np
import prodigyopt
import pytorch_optimizer
import schedulefree
import torch
import torch.optim._muon as torch_muon
from problems import matrix_grad, quadratic_grad  # tests/reference/problems.py, beside this script

from kai_lib import surfaces

PINNED = {"torch": "2.13.0+cpu", "numpy": "2.4.6", "lion-pytorch": "0.2.5", "schedulefree": "1.4.1",
          "prodigyopt": "1.1.2", "pytorch_optimizer": "4.1.0"}
FOUND = {name: version(name) for name in PINNED}
assert FOUND == PINNED, f"the reference is pinned to {PINNED}, found {FOUND}"

STEPS = 200
OUT = Path(__file__).with_name("after_adam_reference.json")
torch.set_default_dtype(torch.float64)


# --- the problems ----------------------------------------------------------------------------

def random_quadratic(seed: int = 1):
    """J = 1/2 θᵀAθ - bᵀθ with A symmetric positive definite (eigenvalues 0.5 and 5), rotated."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(2, 2)))
    return q @ np.diag([0.5, 5.0]) @ q.T, rng.normal(size=2)


A, B = random_quadratic()
RNG = np.random.default_rng(2)
X, Y = RNG.normal(size=(8, 3)), RNG.normal(size=(8, 4))
W0 = RNG.normal(size=(3, 4)) * 0.5
MATRIX_SHAPES = [(3, 4), (4,)]
MATRIX_START = np.concatenate([W0.ravel(), np.zeros(4)])


PROBLEMS = {
    "beale": (surfaces.BEALE.grad, list(surfaces.BEALE.start), None),
    "quadratic": (lambda theta: quadratic_grad(theta, A, B), [-1.0, 1.5], None),
    "matrix": (lambda theta: matrix_grad(theta, X, Y), MATRIX_START.tolist(), MATRIX_SHAPES),
}


# --- Muon's Newton–Schulz in float64 ----------------------------------------------------------

BFLOAT16_ZEROPOWER = torch_muon._zeropower_via_newtonschulz


def zeropower_float64(grad, ns_coefficients, ns_steps, eps):
    """torch 2.13's ``_zeropower_via_newtonschulz`` line for line, without the cast to bfloat16."""
    a, b, c = ns_coefficients
    ortho_grad = grad.clone()
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    ortho_grad.div_(ortho_grad.norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram_matrix = ortho_grad @ ortho_grad.T
        gram_update = torch.addmm(gram_matrix, gram_matrix, gram_matrix, beta=b, alpha=c)
        ortho_grad = torch.addmm(ortho_grad, gram_update, ortho_grad, beta=a)
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


# --- the cases -----------------------------------------------------------------------------------
# (display name, problem, reference factory (params -> optimizer), its description, kai_lib kwargs,
#  steps that must agree). ``params`` is a list of tensors: one for a surface, [W, b] for the matrix problem.

def _lion(**kw):
    return lambda params: lion_pytorch.Lion(params, **kw)


def _torch(name, **kw):
    return lambda params: getattr(torch.optim, name)(params, foreach=False, **kw)


def _muon(**kw):
    return lambda params: torch.optim.Muon(params, **kw)


def _sf_sgd(**kw):
    return lambda params: schedulefree.SGDScheduleFreeReference(params, **kw)


def _sf_adamw(**kw):
    return lambda params: schedulefree.AdamWScheduleFreeReference(params, **kw)


def _prodigy(**kw):
    return lambda params: prodigyopt.Prodigy(params, **kw)


def _shampoo(**kw):
    return lambda params: pytorch_optimizer.Shampoo(params, **kw)


CASES = [
    ("Lion", "beale", _lion(lr=0.01), "lion_pytorch.Lion(lr=0.01)", {"lr": 0.01}),
    ("Lion", "quadratic", _lion(lr=0.01, betas=(0.8, 0.95), weight_decay=0.5),
     "lion_pytorch.Lion(lr=0.01, betas=(0.8, 0.95), weight_decay=0.5)",
     {"lr": 0.01, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.5}),
    ("RAdam", "beale", _torch("RAdam", lr=0.005), "torch.optim.RAdam(lr=0.005)", {"lr": 0.005}),
    ("RAdam", "quadratic", _torch("RAdam", lr=0.05, betas=(0.8, 0.99), eps=1e-6),
     "torch.optim.RAdam(lr=0.05, betas=(0.8, 0.99), eps=1e-6)", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}),
    ("Schedule-Free SGD", "beale", _sf_sgd(lr=0.005), "schedulefree.SGDScheduleFreeReference(lr=0.005)",
     {"lr": 0.005}),
    ("Schedule-Free SGD", "quadratic", _sf_sgd(lr=0.1, momentum=0.8, weight_decay=0.05, warmup_steps=10, r=0.5),
     "schedulefree.SGDScheduleFreeReference(lr=0.1, momentum=0.8, weight_decay=0.05, warmup_steps=10, r=0.5)",
     {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.05, "warmup_steps": 10, "r": 0.5}),
    ("Schedule-Free AdamW", "beale", _sf_adamw(lr=0.05), "schedulefree.AdamWScheduleFreeReference(lr=0.05)",
     {"lr": 0.05}),
    ("Schedule-Free AdamW", "quadratic",
     _sf_adamw(lr=0.05, betas=(0.8, 0.99), weight_decay=0.05, warmup_steps=10, r=1.0, weight_lr_power=1.0),
     "schedulefree.AdamWScheduleFreeReference(lr=0.05, betas=(0.8, 0.99), weight_decay=0.05, warmup_steps=10, "
     "r=1.0, weight_lr_power=1.0)",
     {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.05, "warmup_steps": 10, "r": 1.0,
      "weight_lr_power": 1.0}),
    ("Prodigy", "beale", _prodigy(), "prodigyopt.Prodigy()", {}),
    ("Prodigy", "quadratic", _prodigy(d_coef=0.5, weight_decay=0.01, growth_rate=1.5),
     "prodigyopt.Prodigy(d_coef=0.5, weight_decay=0.01, growth_rate=1.5)",
     {"d_coef": 0.5, "weight_decay": 0.01, "growth_rate": 1.5}),
    ("Shampoo", "beale", _shampoo(lr=0.05), "pytorch_optimizer.Shampoo(lr=0.05)", {"lr": 0.05}),
    ("Shampoo", "quadratic", _shampoo(lr=0.3, matrix_eps=1e-4), "pytorch_optimizer.Shampoo(lr=0.3, matrix_eps=1e-4)",
     {"lr": 0.3, "eps": 1e-4}),
    ("Shampoo", "matrix", _shampoo(lr=0.05), "pytorch_optimizer.Shampoo(lr=0.05)", {"lr": 0.05}),
    ("Shampoo", "matrix", _shampoo(lr=0.05, matrix_eps=1e-3), "pytorch_optimizer.Shampoo(lr=0.05, matrix_eps=1e-3)",
     {"lr": 0.05, "eps": 1e-3}),
    ("Shampoo", "matrix", _shampoo(lr=0.05, matrix_eps=1e-2, preconditioning_compute_steps=3),
     "pytorch_optimizer.Shampoo(lr=0.05, matrix_eps=1e-2, preconditioning_compute_steps=3)",
     {"lr": 0.05, "eps": 1e-2, "update_every": 3}),
    ("Adafactor", "beale", _torch("Adafactor", lr=0.05), "torch.optim.Adafactor(lr=0.05)", {"lr": 0.05}),
    ("Adafactor", "quadratic", _torch("Adafactor", lr=0.02, beta2_decay=-0.5, d=2.0, weight_decay=0.1),
     "torch.optim.Adafactor(lr=0.02, beta2_decay=-0.5, d=2.0, weight_decay=0.1)",
     {"lr": 0.02, "beta2_decay": -0.5, "d": 2.0, "weight_decay": 0.1}),
    ("Adafactor", "matrix", _torch("Adafactor"), "torch.optim.Adafactor()", {}),
    ("Adafactor", "matrix", _torch("Adafactor", lr=0.05), "torch.optim.Adafactor(lr=0.05)", {"lr": 0.05}),
    ("Muon", "beale", _muon(lr=0.02, weight_decay=0.0), "torch.optim.Muon(lr=0.02, weight_decay=0.0)",
     {"lr": 0.02, "weight_decay": 0.0}),
    ("Muon", "quadratic", _muon(lr=0.02, momentum=0.9, nesterov=False),
     "torch.optim.Muon(lr=0.02, momentum=0.9, nesterov=False)", {"lr": 0.02, "momentum": 0.9, "nesterov": False}),
    ("Muon", "matrix", _muon(lr=0.02), "torch.optim.Muon(lr=0.02)", {"lr": 0.02}),
    ("Muon", "matrix", _muon(lr=0.005, nesterov=False, weight_decay=0.0),
     "torch.optim.Muon(lr=0.005, nesterov=False, weight_decay=0.0)",
     {"lr": 0.005, "nesterov": False, "weight_decay": 0.0}),
]


def parameters(name: str, problem: str, start: np.ndarray) -> list[torch.Tensor]:
    """The reference's parameters: θ itself, or [W, b] for the matrix problem; Muon's vectors as 1 × n."""
    pieces = [start] if problem != "matrix" else [start[:12].reshape(3, 4), start[12:]]
    if name == "Muon":
        pieces = [p.reshape(1, -1) if p.ndim == 1 else p for p in pieces]
    return [torch.tensor(p, dtype=torch.float64) for p in pieces]


def flat(params: list[torch.Tensor]) -> np.ndarray:
    return np.concatenate([p.detach().numpy().ravel() for p in params])


def reference_path(name, problem, make):
    grad, start, _ = PROBLEMS[problem]
    params = parameters(name, problem, np.array(start, dtype=float))
    opt = make(params)
    if hasattr(opt, "train"):
        opt.train()                                   # Schedule-Free: y in the parameters
    path, x_path, d_path = [flat(params)], [], []
    for _ in range(STEPS):
        g = grad(flat(params))
        start_index = 0
        for p in params:
            p.grad = torch.from_numpy(g[start_index:start_index + p.numel()].reshape(p.shape).copy())
            start_index += p.numel()
        opt.step()
        path.append(flat(params))
        if name.startswith("Schedule-Free"):
            x_path.append(np.concatenate([opt.state[p]["x"].numpy().ravel() for p in params]))
        if name == "Prodigy":
            d_path.append(opt.param_groups[0]["d"])
    return np.array(path), x_path, d_path


def newton_schulz_cases():
    rng = np.random.default_rng(3)
    out = []
    for shape in [(5, 3), (3, 6)]:
        G = rng.normal(size=shape)
        U, _, Vh = torch.linalg.svd(torch.tensor(G), full_matrices=False)
        ns = zeropower_float64(torch.tensor(G), (torch_muon.DEFAULT_A, torch_muon.DEFAULT_B, torch_muon.DEFAULT_C),
                               torch_muon.DEFAULT_NS_STEPS, torch_muon.EPS)
        out.append({"G": G.tolist(), "newton_schulz": ns.numpy().tolist(), "UVt": (U @ Vh).numpy().tolist()})
    return out


def main():
    cases = []
    for name, problem, make, described, kwargs in CASES:
        if name == "Muon":
            torch_muon._zeropower_via_newtonschulz = zeropower_float64
        path, x_path, d_path = reference_path(name, problem, make)
        case = {"optimizer": name, "problem": problem, "reference": described, "kai_lib_kwargs": kwargs,
                "shapes": PROBLEMS[problem][2], "start": PROBLEMS[problem][1], "path": path.tolist()}
        if x_path:
            case["x_path"] = np.array(x_path).tolist()
        if d_path:
            case["d_path"] = d_path
        if name == "Muon":
            torch_muon._zeropower_via_newtonschulz = BFLOAT16_ZEROPOWER
            bf16, _, _ = reference_path(name, problem, make)
            case["bfloat16_gap"] = float(np.max(np.abs(bf16 - path)))
        assert np.all(np.isfinite(path)), (name, problem)
        moved = float(np.linalg.norm(path[-1] - path[0]))
        print(f"{name:20s} {problem:10s} moved {moved:.3f}  end {np.round(path[-1][:4], 4)}"
              + (f"  bfloat16 gap {case['bfloat16_gap']:.2e}" if name == "Muon" else ""))
        cases.append(case)
    reference = {
        "about": "reference implementations of the optimizers after Adam (float64, CPU), "
                 "written by make_after_adam_reference.py",
        "versions": FOUND,
        "steps": STEPS,
        "quadratic": {"A": A.tolist(), "b": B.tolist()},
        "matrix": {"X": X.tolist(), "Y": Y.tolist(), "shapes": MATRIX_SHAPES},
        "cases": cases,
        "newton_schulz": newton_schulz_cases(),
    }
    OUT.write_text(json.dumps(reference, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
