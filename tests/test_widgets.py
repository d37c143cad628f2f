"""explore(): a slider for every hyperparameter; the update function at its extremes."""

import inspect

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from kai_lib import explore, optimizers, surfaces  # noqa: E402
from kai_lib.pictures.widgets import default_ranges  # noqa: E402
from kai_lib.runner import Trajectory  # noqa: E402

PNG = b"\x89PNG"


def extremes(slider):
    """The values at the two ends of a slider (a log slider's min and max are exponents)."""
    if type(slider).__name__ == "FloatLogSlider":
        return slider.base**slider.min, slider.base**slider.max
    if hasattr(slider, "min"):
        return slider.min, slider.max
    return True, False


@pytest.mark.parametrize("name", list(optimizers.ALL))
def test_a_slider_for_every_hyperparameter_the_steps_and_the_start(name):
    cls = optimizers.ALL[name]
    w = explore(cls, surfaces.BEALE)
    params = set(inspect.signature(cls).parameters)
    assert set(w.sliders) == params | {"steps", "x0", "y0", "surface"}
    defaults = cls()
    for p in params - {"eps_inside_sqrt"}:
        assert w.sliders[p].value == pytest.approx(getattr(defaults, p))
    assert (w.sliders["x0"].value, w.sliders["y0"].value) == tuple(surfaces.BEALE.start)
    assert w.image.value[:4] == PNG
    assert isinstance(w.trajectory, Trajectory)


@pytest.mark.parametrize("name", list(optimizers.ALL))
def test_update_at_every_slider_extreme_never_raises(name):
    w = explore(optimizers.ALL[name], surfaces.BEALE, steps=50)
    for key, slider in w.sliders.items():
        if key == "surface":
            continue
        for value in extremes(slider):
            traj = w.update(**{key: value})
            assert isinstance(traj, Trajectory)
            assert w.image.value[:4] == PNG


@pytest.mark.parametrize("name", ["SGD", "Momentum", "NAG"])
def test_lr_at_its_maximum_shows_a_diverged_run(name):
    w = explore(optimizers.ALL[name], surfaces.BEALE)
    w.sliders["lr"].value = extremes(w.sliders["lr"])[1]
    assert w.trajectory.diverged
    assert "diverged" in w.status.value


def test_moving_a_slider_redraws():
    w = explore(optimizers.Momentum, surfaces.RAVINE)
    before, path = w.image.value, w.trajectory.path
    w.sliders["gamma"].value = 0.5
    assert w.image.value != before
    assert w.trajectory.path.shape == path.shape and (w.trajectory.path != path).any()
    w.sliders["steps"].value = 20
    assert w.trajectory.steps == 20


def test_the_surface_chooser_moves_the_start_sliders():
    w = explore(optimizers.Adam, surfaces.BEALE)
    w.sliders["surface"].value = "saddle"
    s = surfaces.SADDLE
    assert (w.sliders["x0"].min, w.sliders["x0"].max) == s.xlim
    assert (w.sliders["x0"].value, w.sliders["y0"].value) == tuple(s.start)
    assert w.trajectory.surface is s
    w.sliders["surface"].value = "beale"  # back to a cached background
    assert w.trajectory.surface is surfaces.BEALE


def test_ranges_can_be_set_and_bad_ones_are_refused():
    w = explore(optimizers.SGD, "ravine", lr=(1e-3, 0.5), steps=2000)
    assert extremes(w.sliders["lr"])[1] == pytest.approx(0.5)
    assert w.sliders["steps"].value == w.sliders["steps"].max == 2000 and w.trajectory.steps == 2000
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        explore(optimizers.SGD, "ravine", steps=0)
    with pytest.raises(ValueError, match=r"lr range must be \(low, high\)"):
        explore(optimizers.SGD, "ravine", lr=(0.5, 0.1))
    with pytest.raises(TypeError, match="no slider named"):
        explore(optimizers.SGD, "ravine", gamma=(0, 1))
    with pytest.raises(TypeError, match="optimizer_cls must be a kai_lib optimizer class"):
        explore(optimizers.SGD(), "ravine")
    with pytest.raises(KeyError, match="known:"):
        explore(optimizers.SGD, "nope")
    with pytest.raises(TypeError, match="no slider named"):
        explore(optimizers.SGD, "ravine").update(gamma=0.5)


def test_log_sliders_for_lr_and_eps():
    assert default_ranges(optimizers.Adam)["lr"] == (1e-4, 1.0)
    w = explore(optimizers.Adam, "beale")
    assert type(w.sliders["lr"]).__name__ == "FloatLogSlider"
    assert type(w.sliders["eps"]).__name__ == "FloatLogSlider"


def test_the_widget_carries_a_still_for_viewers_without_a_kernel():
    bundle = explore(optimizers.SGD, "ravine")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/png" in bundle


def test_initial_slider_values():
    w = explore(optimizers.Adam, "beale", initial={"lr": 0.05, "x0": 2.0})
    assert w.sliders["lr"].value == pytest.approx(0.05) and w.sliders["x0"].value == 2.0
    assert w.trajectory.path[0].tolist() == [2.0, surfaces.BEALE.start[1]]
    reference = explore(optimizers.Adam, "beale")
    reference.update(lr=0.05, x0=2.0)
    assert w.trajectory.path.tolist() == reference.trajectory.path.tolist()
    with pytest.raises(TypeError, match="initial: no slider named 'gamma'"):
        explore(optimizers.Adam, "beale", initial={"gamma": 0.5})


def test_interactive_still_keeps_a_picture_of_its_figure():
    import base64

    import ipywidgets as W
    import matplotlib.pyplot as plt

    from kai_lib.pictures.widgets import interactive_still

    def draw(n=3):
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.plot(range(n))
        return fig

    w = interactive_still(draw, n=W.IntSlider(value=3, min=2, max=9))
    first = w.result
    assert first is not None and len(first.axes[0].lines[0].get_xdata()) == 3
    w.kwargs_widgets[0].value = 9  # what moving the slider does
    assert w.result is not first and len(w.result.axes[0].lines[0].get_xdata()) == 9
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(PNG)
    plt.close("all")
    with pytest.raises(TypeError, match="fn must be a function"):
        interactive_still("draw")
