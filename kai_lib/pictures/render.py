"""What every live picture shares: a figure as PNG bytes, the still a static viewer shows,
and the slider panel every explorer is built on.

:class:`SliderPanel` is the one way this project makes a live widget: sliders on the left
(with a status line under them), the picture on the right. A subclass builds its sliders
and its figure, calls ``SliderPanel.__init__``, and writes :meth:`SliderPanel.draw`; the
panel does the rest, the same way for every explorer:

- ``update(**values)`` *moves the sliders* to ``values`` and redraws, so the picture always
  shows what the controls say, whoever asked for it (a slider, a test, a later notebook cell);
- a value a slider cannot show is refused, not clamped or truncated: the wrong type, or
  outside the slider's range, gives a ``ValueError`` naming the argument and the range;
- an unknown name is refused with the names there are;
- nothing is half-done: every value is checked before any slider moves.

The committed notebooks are read in viewers without a kernel, which cannot run a widget:
:class:`StillPicture` adds a PNG of the current picture to the widget's output, and that is
what they show.
"""

from __future__ import annotations

import base64
import io

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from .. import checks

__all__ = ["png", "StillPicture", "SliderPanel", "slider", "SLIDER_STYLE", "SLIDER_WIDTH"]

#: How every explorer's sliders look: the same label column and width.
SLIDER_STYLE = {"description_width": "90px"}
SLIDER_WIDTH = "360px"


def png(figure: Figure, redraw: bool = True) -> bytes:
    """``figure`` as PNG bytes, from its Agg canvas (fast: zlib level 1, no alpha).

    ``redraw=False`` encodes the canvas as it is, e.g. after blitting artists onto a
    saved background.
    """
    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
        redraw = True
    if redraw:
        canvas.draw()
    size = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


class StillPicture:
    """Mixin for a widget: its output also carries a PNG still of its current picture.

    A viewer without a kernel (GitHub, the reading edition, nbviewer) shows the still; a
    live notebook shows the widget. The still is :meth:`_still`, by default ``self.image.value``.
    """

    def _still(self) -> bytes | None:
        return self.image.value

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        still = self._still()
        if still:
            bundle["image/png"] = base64.b64encode(still).decode("ascii")
        return bundle


def slider(name: str, value, low: float, high: float, *, log: bool = False, integer: bool = False,
           step: float | None = None, description: str | None = None, readout_format: str | None = None,
           continuous_update: bool = True) -> W.ValueWidget:
    """A slider in the house style over ``[low, high]`` (``log``: a log slider, ``integer``: an IntSlider).

    ``value`` is placed inside the range: it is the slider's *starting* position, a default
    chosen by the code, not a value a user asked for (those go through :meth:`SliderPanel.update`).
    """
    common = dict(description=description or name, style=SLIDER_STYLE, layout=W.Layout(width=SLIDER_WIDTH),
                  continuous_update=continuous_update)
    if integer:
        return W.IntSlider(value=int(np.clip(value, low, high)), min=int(low), max=int(high), step=int(step or 1),
                           **common)
    value = float(np.clip(value, low, high))
    if log:
        lo, hi = np.log10(low), np.log10(high)
        return W.FloatLogSlider(value=value, base=10, min=lo, max=hi, step=step or (hi - lo) / 200,
                                readout_format=readout_format or ".1e", **common)
    if step is None:
        step = 1e-4 if high - low < 0.2 else (high - low) / 200
    return W.FloatSlider(value=value, min=low, max=high, step=step, readout_format=readout_format or ".4g", **common)


def bounds(widget) -> tuple[float, float]:
    """The ``(low, high)`` a numeric slider shows now (a log slider's ends, not its exponents)."""
    if isinstance(widget, W.FloatLogSlider):
        return widget.base**widget.min, widget.base**widget.max
    return widget.min, widget.max


class SliderPanel(StillPicture, W.HBox):
    """Sliders, a status line and a picture; ``update(**values)`` moves the sliders and redraws.

    A subclass sets up its sliders (``{name: widget}``, in the order shown) and its figure,
    then calls ``SliderPanel.__init__(self, title, sliders, figure, initial)``, and implements
    :meth:`draw`. It may override :meth:`_slider_moved` (what else moving one slider moves),
    :meth:`_bounds` (a range that depends on another pending value) and :meth:`_range_hint`
    (how the range can be changed, for the error message).

    Attributes:
        sliders: ``{name: widget}``.
        status: the ``ipywidgets.HTML`` line under the sliders.
        image: the ``ipywidgets.Image`` with the picture.
    """

    #: sliders that ``initial=`` may not set (they have their own constructor argument)
    _not_initial: tuple[str, ...] = ()
    #: sliders set before the others, because moving them moves others (a surface moves its start)
    _leading: tuple[str, ...] = ()

    def __init__(self, title: str, sliders: dict[str, W.ValueWidget], figure: Figure, initial: dict | None = None):
        if initial is not None:
            checks.instance("initial", initial, dict, "a dict {slider name: value} or None")
        self.sliders = sliders
        self.status = W.HTML()
        self._figure = figure
        if not isinstance(figure.canvas, FigureCanvasAgg):
            FigureCanvasAgg(figure)
        width = int(figure.get_figwidth() * figure.get_dpi())
        self.image = W.Image(format="png", layout=W.Layout(width=f"{width}px"))
        self._quiet = False
        W.HBox.__init__(self, [W.VBox([W.HTML(f"<b>{title}</b>"), *sliders.values(), self.status]), self.image])
        for name, widget in sliders.items():
            widget.observe(lambda change, name=name: self._moved(name), names="value")
        initial = dict(initial or {})
        checks.keys("initial", initial, [n for n in sliders if n not in self._not_initial], "slider")
        self._set(self._checked(initial, label="initial[{!r}]"))
        self._redraw()

    # --- what the sliders say ---------------------------------------------------------------

    def values(self) -> dict:
        """The current slider values."""
        return {name: widget.value for name, widget in self.sliders.items()}

    def update(self, **values):
        """Move the sliders to ``values`` (each checked against its slider) and redraw; returns what
        :meth:`draw` returns. This is what every slider calls.

        Raises:
            ValueError: a value of the wrong type or outside its slider's range (nothing moves);
                ``checks.WrongType`` (also a ``TypeError``) for a name that is not a slider.
        """
        checks.keys("update", values, self.sliders, "slider")
        self._set(self._checked(values))
        return self._redraw()

    def draw(self, values: dict):
        """Compute and draw the picture for ``values`` (the sliders'); set ``self.image.value``
        and ``self.status.value``; return the result (a run, a training history, a map)."""
        raise NotImplementedError

    # --- the mechanism ------------------------------------------------------------------------

    def _checked(self, values: dict, label: str = "{}") -> dict:
        """``values`` checked against their sliders, in the order they are to be set."""
        pending = dict(values)
        order = sorted(values, key=lambda name: name not in self._leading)
        return {name: self._check(name, values[name], label.format(name), pending) for name in order}

    def _check(self, name: str, value, label: str, pending: dict):
        """One value, refused (not clamped, not truncated) if its slider cannot show it exactly."""
        widget = self.sliders[name]
        if isinstance(widget, W.Checkbox):
            return checks.boolean(label, value)
        if isinstance(widget, (W.Dropdown, W.SelectionSlider)):
            return checks.choice(label, value, widget.options)
        low, high = self._bounds(name, pending)
        if isinstance(widget, W.IntSlider):
            x = checks.integer(label, value, low=int(low))
        else:
            x = checks.number(label, value)
        # a log slider's ends are powers of ten, computed: allow their last bit
        slack = 1e-12 * max(abs(low), abs(high)) if isinstance(widget, W.FloatLogSlider) else 0.0
        if not low - slack <= x <= high + slack:
            checks.fail(label, f"in [{low:g}, {high:g}] ({self._range_hint(name)})", got=repr(value))
        return min(max(x, low), high)

    def _bounds(self, name: str, pending: dict) -> tuple[float, float]:
        return bounds(self.sliders[name])

    def _range_hint(self, name: str) -> str:
        return f"the {name} slider's range"

    def _set(self, values: dict) -> None:
        """Move the sliders without redrawing once per slider."""
        quiet, self._quiet = self._quiet, True
        try:
            for name, value in values.items():
                self.sliders[name].value = value
                self._slider_moved(name)
        finally:
            self._quiet = quiet

    def _slider_moved(self, name: str) -> None:
        """What else moving slider ``name`` moves (quietly); nothing by default."""

    def _moved(self, name: str) -> None:
        if self._quiet:
            return
        quiet, self._quiet = self._quiet, True
        try:
            self._slider_moved(name)
        finally:
            self._quiet = quiet
        self._redraw()

    def _redraw(self):
        return self.draw(self.values())
