"""Everything that draws: styles, plots, animations, widgets and the notebooks' diagrams.

The floor above the maths (``checks``, ``optimizers``, ``surfaces``, ``schedules``, ``data``)
and the two loops (``runner``, ``nn``): a picture takes trajectories and draws them; it
never steps an optimizer itself except through :func:`kai_lib.run`.
"""
