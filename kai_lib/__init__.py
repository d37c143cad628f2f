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

from .pictures.animation import animate, save_gif, show  # noqa: E402
from .pictures.plotting import COLORS, color_for, plot_contours, plot_paths, plot_surface_3d, shades  # noqa: E402

__all__ += ["animate", "save_gif", "show", "COLORS", "color_for", "shades", "plot_contours", "plot_paths",
            "plot_surface_3d"]
from .pictures.widgets import explore  # noqa: E402

__all__ += ["explore"]
from .pictures.styles import use_style  # noqa: E402

__all__ += ["use_style"]
