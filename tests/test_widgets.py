"""explore(): a slider for every hyperparameter; the update function at its extremes."""

import inspect

import ipywidgets as W
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kai_lib import checks, data, explore, optimizers, surfaces
from kai_lib.pictures.widgets import default_ranges
from kai_lib.runner import Trajectory

pytestmark = pytest.mark.filterwarnings("error")  # every warning fails a test here (-W error)

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


# --- every widget: one panel, what it shows is what its controls say ----------------------------------

def a_widget(name):
    """One of each live widget, small and quick."""
    from kai_lib.studies import moons
    from kai_lib.studies.basins import explore_basins
    from kai_lib.studies.second_order_widgets import explore_second_order

    return {
        "explore": lambda: explore(optimizers.Momentum, "ravine", steps=20),
        "second order": lambda: explore_second_order("beale", method="L-BFGS", steps=10),
        "moons": lambda: moons.explore(initial={"epochs": 10}),
        "basins": lambda: explore_basins(optimizers.Momentum, "himmelblau", n=6, steps=10),
    }[name]()


REFUSED = {  # name -> [(values, what the error says)]: the wrong type, or outside the slider's range
    "explore": [({"steps": 2.5}, r"steps must be an integer >= 1, got 2.5"),
                ({"steps": 0}, r"steps must be an integer >= 1, got 0"),
                ({"steps": 5000}, r"steps must be in \[1, 1000\] \(the steps slider's range\), got 5000"),
                ({"gamma": 0.995}, r"gamma must be in \[0, 0.99\] \(the gamma slider's range; pass gamma="),
                ({"lr": "0.1"}, r"lr must be a finite number, got '0.1' \(a str\)"),
                ({"surface": "beale", "x0": -5.0},
                 r"x0 must be in \[-4.5, 4.5\] \(the x0 slider's range, the surface's view\)")],
    "second order": [({"history": 2.5}, r"history must be an integer >= 1, got 2.5"),
                     ({"history": True}, r"history must be an integer >= 1, got True"),
                     ({"history": 31}, r"history must be in \[1, 30\] \(the history slider's range\), got 31"),
                     ({"steps": 0}, r"steps must be an integer >= 1, got 0"),
                     ({"damping": 500.0}, r"damping must be in \[0, 100\]"),
                     ({"lr": "0.1"}, r"lr must be a finite number, got '0.1'"),
                     ({"method": "Adam"}, r"method must be one of 'Newton', 'BFGS', 'L-BFGS'")],
    "moons": [({"hidden": 2.5}, r"hidden must be an integer >= 2, got 2.5"),
              ({"hidden": True}, r"hidden must be an integer >= 2, got True"),
              ({"epochs": 2.5}, r"epochs must be an integer >= 10, got 2.5"),
              ({"epochs": 10**6}, r"epochs must be in \[10, 100\] \(the epochs slider's range\), got 1000000"),
              ({"lr": "0.1"}, r"lr must be a finite number, got '0.1'"),
              ({"lr": 100.0}, r"lr must be in \[0.0001, 10\]"),
              ({"batch_size": 32}, r"batch_size must be one of 10, 20, 50, 100, 200, got 32"),
              ({"optimizer": "Lion"}, r"optimizer must be one of 'SGD'")],
    "basins": [({"lr": 5.0}, r"lr must be in \[0.0001, 1\] \(the lr slider's range\), got 5.0"),
               ({"lr": 1e-6}, r"lr must be in \[0.0001, 1\]"),
               ({"gamma": 0.995}, r"gamma must be in \[0, 0.99\] \(the gamma slider's range\), got 0.995"),
               ({"gamma": True}, r"gamma must be a finite number, got True")],
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_every_widget_refuses_what_its_sliders_cannot_show_and_moves_nothing(name):
    w = a_widget(name)
    for values, message in REFUSED[name]:
        before, picture = w.values(), w.image.value
        with pytest.raises(ValueError, match=message):
            w.update(**values)
        assert w.values() == before and w.image.value == picture  # nothing half-done
        with pytest.raises(TypeError, match="no slider named 'nope'"):
            w.update(nope=1)


def test_initial_values_are_checked_by_the_same_rule():
    from kai_lib.studies import moons
    from kai_lib.studies.basins import explore_basins
    from kai_lib.studies.second_order_widgets import explore_second_order

    with pytest.raises(ValueError, match=r"initial\['history'\] must be an integer >= 1, got 2.5"):
        explore_second_order("beale", initial={"history": 2.5})
    with pytest.raises(ValueError, match=r"initial\['hidden'\] must be an integer >= 2, got True"):
        moons.explore(initial={"hidden": True})
    with pytest.raises(ValueError, match=r"initial\['lr'\] must be in \[0.0001, 1\] \(the lr slider's range\), "
                                         r"got 5.0"):
        explore_basins(optimizers.SGD, "himmelblau", n=4, steps=5, lr=5.0)
    with pytest.raises(ValueError, match=r"initial\['gamma'\] must be in \[0, 0.99\]"):
        explore_basins(optimizers.Momentum, "himmelblau", n=4, steps=5, gamma=0.995)
    w = explore_basins(optimizers.Momentum, "himmelblau", n=4, steps=5, lr=0.003, gamma=0.5)
    assert w.values() == {"lr": 0.003, "gamma": 0.5} and w.basin_map.label == "Momentum  η=0.003, γ=0.5"


def test_what_a_widget_draws_is_what_its_controls_say():
    """A later cell's update() moves the sliders: the picture never says SGD while the controls say Adam."""
    m = a_widget("moons")
    assert m.values()["optimizer"] == "Adam"
    m.update(optimizer="SGD", lr=1.0)
    assert m.values()["optimizer"] == "SGD" and m.values()["lr"] == pytest.approx(1.0)
    assert m._ax.get_title() == "SGD η=1"
    e = a_widget("explore")
    traj = e.update(gamma=0.5, x0=-4.0, steps=7)
    assert (e.sliders["gamma"].value, e.sliders["x0"].value, e.sliders["steps"].value) == (0.5, -4.0, 7)
    assert traj.steps == 7 and traj.path[0, 0] == -4.0 and e.trajectory is traj
    e.update(surface="saddle")  # as the dropdown does: the start moves to the new surface's start
    assert (e.sliders["x0"].value, e.sliders["y0"].value) == tuple(surfaces.SADDLE.start)
    assert e.trajectory.path[0].tolist() == list(surfaces.SADDLE.start)
    s = a_widget("second order")
    s.update(method="Newton", damping=60.0)
    assert s.values()["method"] == "Newton" and type(s.optimizer).__name__ == "Newton" and s.optimizer.damping == 60
    b = a_widget("basins")
    b.update(lr=0.002, gamma=0.0)
    assert b.values() == {"lr": 0.002, "gamma": 0.0} and b.basin_map.label == "Momentum  η=0.002, γ=0"


@pytest.mark.parametrize("name", ["explore", "second order", "moons", "basins"])
def test_every_widget_is_one_slider_panel_with_a_still(name):
    import base64

    from kai_lib.pictures.render import SliderPanel

    w = a_widget(name)
    assert isinstance(w, SliderPanel)
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == w.image.value and w.image.value[:4] == PNG


def test_the_second_order_sliders_take_a_surface_of_ones_own():
    from kai_lib import data
    from kai_lib.studies.second_order_widgets import explore_second_order

    s = data.make_regression(n=200).surface()
    w = explore_second_order(s, method="Newton", steps=5)
    assert w.values()["surface"] == s.name and w.trajectory.surface is s


VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.booleans(),
                   st.text(max_size=3), st.none(), st.sampled_from(["SGD", "Adam", "Newton", "beale", "saddle"]),
                   st.sampled_from([0.5, 2.5, 10, 20, 32, 64, 1e-3, 1e-5, 0.99, 0.995]))


@pytest.mark.parametrize("name", ["explore", "second order", "moons", "basins"])
def test_update_shows_exactly_what_was_asked_or_names_the_argument(name):
    """A property: whatever value a slider is given, it then holds exactly that value, or the call
    raises a ValueError naming the slider and nothing moved (no clamping, no rounding)."""
    w = a_widget(name)
    sliders = sorted(set(w.sliders) - {"surface"})  # the surface moves the start sliders on purpose

    @settings(max_examples=12, deadline=None)
    @given(st.sampled_from(sliders), VALUES)
    def check(slider, value):
        before = w.values()
        try:
            w.update(**{slider: value})
        except ValueError as error:
            assert slider in str(error)
            assert w.values() == before
            return
        assert w.values()[slider] == value
        assert type(value) is not bool or isinstance(w.sliders[slider], W.Checkbox)  # True is not a number

    check()


# --- far starts, one step, and what the sliders may be given --------------------------------------

def test_the_widget_driven_far_away_is_quiet():
    w = explore(optimizers.Adam, "beale", steps=20)
    with pytest.raises(ValueError, match=r"x0 must be in \[-4.5, 4.5\] \(the x0 slider's range, the surface's view\)"):
        w.update(x0=1e200, y0=1e200)  # the start sliders cannot show it: refused, not clamped
    w.sliders["x0"].max = w.sliders["y0"].max = 1e300  # widened, a far start is a run like any other
    traj = w.update(x0=1e200, y0=1e200)
    assert traj.diverged and traj.diverged_at == 0 and "diverged</b> at step 0" in w.status.value
    w.sliders["x0"].max = 1e300  # the sliders themselves, driven out there
    w.sliders["x0"].value = 1e300
    w.sliders["y0"].min = -1e300
    w.sliders["y0"].value = -1e300
    assert w.trajectory.diverged and w.image.value[:4] == b"\x89PNG"


def test_explore_runs_one_step_when_asked_for_one():
    w = explore(optimizers.SGD, "ravine", steps=1)
    assert w.trajectory.steps == 1 and w.sliders["steps"].min == 1 and w.sliders["steps"].value == 1
    w.sliders["steps"].value = 7
    assert w.trajectory.steps == 7


def test_initial_values_outside_a_slider_range_are_refused_not_clamped():
    with pytest.raises(ValueError, match=r"initial\['lr'\] must be in \[0.0001, 1\] \(the lr slider's range; "
                                         r"pass lr=\(low, high\) to explore\(\) to widen it\), got 5.0"):
        explore(optimizers.SGD, "ravine", initial={"lr": 5.0})
    w = explore(optimizers.SGD, "ravine", lr=(1e-4, 10.0), initial={"lr": 5.0})  # widened: honoured exactly
    assert w.sliders["lr"].value == 5.0 and w.trajectory.diverged
    with pytest.raises(ValueError, match=r"initial\['x0'\] must be in \[-5.5, 1.5\] \(the x0 slider's range, "
                                         r"the surface's view\)"):
        explore(optimizers.SGD, "ravine", initial={"x0": 100.0})
    with pytest.raises(ValueError, match=r"initial\['gamma'\] must be in \[0, 0.99\]"):
        explore(optimizers.Momentum, "ravine", initial={"gamma": 0.999})
    with pytest.raises(checks.WrongType, match=r"initial\['eps_inside_sqrt'\] must be True or False, got 'no'"):
        explore(optimizers.Adam, "ravine", initial={"eps_inside_sqrt": "no"})
    with pytest.raises(checks.WrongType, match=r"initial\['lr'\] must be a finite number, got '0.1' \(a str\)"):
        explore(optimizers.Adam, "ravine", initial={"lr": "0.1"})


def test_slider_ranges_must_fit_the_optimizer():
    with pytest.raises(ValueError, match=r"gamma range \(0, 1.5\) reaches outside what Momentum accepts: "
                                         r"gamma must be in \[0, 1\), got 1.5"):
        explore(optimizers.Momentum, "ravine", gamma=(0, 1.5))
    with pytest.raises(ValueError, match=r"lr range must be \(low, high\) with 0 < low < high \(a log slider\)"):
        explore(optimizers.SGD, "ravine", lr=(0, 1))
    with pytest.raises(checks.WrongType, match=r"lr range must be \(low, high\)"):
        explore(optimizers.SGD, "ravine", lr=0.5)
    with pytest.raises(checks.WrongType, match=r"lr range's high must be a finite number, got '1' \(a str\)"):
        explore(optimizers.SGD, "ravine", lr=(0.1, "1"))


def test_update_checks_what_it_is_given():
    w = explore(optimizers.SGD, "ravine", steps=10)
    for values, match in (({"steps": 2.5}, "steps must be an integer >= 1, got 2.5"),
                          ({"steps": 0}, "steps must be an integer >= 1, got 0"),
                          ({"x0": "far"}, "x0 must be a finite number, got 'far'"),
                          ({"y0": np.nan}, "y0 must be a finite number, got nan"),
                          ({"lr": -1.0}, r"lr must be in \[0.0001, 1\] \(the lr slider's range; pass lr=\(low, high\) "
                                         r"to explore\(\) to widen it\), got -1.0"),
                          ({"surface": "nope"}, "surface must be one of 'beale'")):
        with pytest.raises(ValueError, match=match):
            w.update(**values)
    assert w.trajectory.steps == 10  # nothing half-done


def test_explore_takes_a_surface_that_is_not_built_in():
    s = data.make_regression(n=200).surface()
    w = explore(optimizers.SGD, s, steps=20)
    assert w.trajectory.surface is s and "regression" in w.sliders["surface"].options
    w.sliders["surface"].value = "ravine"
    w.sliders["surface"].value = "regression"
    assert w.trajectory.surface is s


def test_explore_checks_its_picture_arguments():
    with pytest.raises(ValueError, match=r"figsize must be a pair \(width, height\) of numbers in \(0, 30\]"):
        explore(optimizers.SGD, "ravine", figsize=(1e6, 1))
    with pytest.raises(ValueError, match=r"dpi must be an integer in \[10, 300\]"):
        explore(optimizers.SGD, "ravine", dpi=5000)
    with pytest.raises(checks.WrongType, match="initial must be a dict"):
        explore(optimizers.SGD, "ravine", initial=[("lr", 0.1)])
