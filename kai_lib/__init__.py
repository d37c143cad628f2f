"""kai_lib: gradient-descent optimizers you can watch.

The package behind the notebooks that teach the slide deck "Gradient Descent
Optimization Algorithms" (TEAM Kai.Lib, 2020).

>>> from kai_lib import optimizers, surfaces, run
>>> traj = run(optimizers.Adam(lr=0.1), surfaces.BEALE, steps=200)
"""

from . import optimizers, surfaces
from .runner import Trajectory, run

__all__ = ["optimizers", "surfaces", "run", "Trajectory"]
__version__ = "0.1.0"
