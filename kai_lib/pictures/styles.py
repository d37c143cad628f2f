"""One switch for the size of every picture: ``use_style("notebook" | "classroom")``.

A learner reads a notebook on a laptop; an instructor shows it on a projector to the
back row. The two need different sizes, and every plot, animation and widget of the
project reads them from here *when it draws*, so one call changes them all:

>>> from kai_lib import use_style
>>> style = use_style("classroom")   # every picture drawn from now on is projector-sized
>>> style.gif_dpi, style.font("legend")
(110, 13.0)
>>> _ = use_style("notebook")        # back to the default

or, without touching a notebook, ``KAI_LIB_STYLE=classroom make lab`` (the variable is
read when ``kai_lib`` is imported, in the kernel).

===============  ==========================================  ==========================================
                 ``"notebook"`` (default)                    ``"classroom"``
===============  ==========================================  ==========================================
fonts            matplotlib's (10 pt; legends 8.3 pt)        13 pt (titles 14–15 pt)
lines, markers   paths 1.6–2.4 pt, step dots 2.5 pt          paths 3–3.4 pt, step dots 4 pt, marks ×1.4
figures          as drawn (8–15 in wide)                     at most 9 in wide; panels side by side
                                                             stacked into a column
animations       7 × 5.2 in, GIF 104 dpi (728 px wide),      9.4 × 4.6 in at 110 dpi (1034 px), the
                 player 100 dpi; legend on the map           legend beside the map
widget picture   6 × 4.5 in at 100 dpi (600 px)              6.4 × 4.8 in at 100 dpi (640 px)
===============  ==========================================  ==========================================

What each promises, checked by ``tests/test_styles.py`` on every figure
``python -m kai_lib.figures`` writes and one frame of each race: in ``"classroom"``
every text (titles, tick labels, legends, annotations, the step counter) is at least
18 px tall when the picture is shown 1280 px wide; in ``"notebook"`` a committed GIF is
at least 720 px wide, its legend text at least 11 px tall, and it weighs at most 400 KB.
A text's height is the height of its line box (ascender to descender of the font, as
matplotlib lays it out), measured unrotated.

Floor 3 of the house (see STYLE.md): it imports only matplotlib and ``kai_lib.checks``; ``plotting``,
``animation``, ``widgets`` and ``figures`` import it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import textwrap
from dataclasses import dataclass, field
from types import MappingProxyType

import matplotlib as mpl

from .. import checks

__all__ = ["Style", "STYLES", "STYLE_ENV", "KOREAN_FONTS", "use_style", "current", "using", "fit_titles",
           "font_family"]

#: Environment variable read when kai_lib is imported: ``KAI_LIB_STYLE=classroom``.
STYLE_ENV = "KAI_LIB_STYLE"

# The rcParams a style sets; the notebook style gives them matplotlib's own defaults,
# so switching back restores exactly what was there.
_RC_KEYS = ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize",
            "legend.fontsize", "legend.title_fontsize", "figure.titlesize", "lines.linewidth",
            "lines.markersize", "axes.linewidth", "xtick.major.width", "ytick.major.width",
            "xtick.major.size", "ytick.major.size")


@dataclass(frozen=True)
class Style:
    """The sizes one style gives every picture.

    Attributes:
        name: ``"notebook"`` or ``"classroom"``.
        rc: matplotlib rcParams it sets (fonts, default line width and marker size).
        fonts: point sizes for the texts a helper places itself: ``"legend"``,
            ``"annotation"`` (notes and arrows in a figure), ``"counter"`` (an
            animation's step counter), ``"small"`` (a minor label), ``"title"``,
            ``"suptitle"``.
        path_width: line width of a trajectory (plots, animations, widgets), in pt.
        marker: the dots on each step of a trajectory, in pt.
        head: an animation's moving head, in pt.
        marks: start point ●, minimum ★ and divergence ✕, as a factor on their
            notebook sizes (7, 15 and 11–14 pt).
        max_width: the widest figure ``python -m kai_lib.figures`` draws, in inches: a
            wider one is scaled down to it (so its fonts are larger next to it).
        figure_height: a further factor on the figures' height.
        animation_figsize: an animation's figure, in inches.
        gif_dpi: a GIF's resolution (the committed GIFs: 7 in × 104 dpi = 728 px).
        player_dpi: the live jshtml player's resolution.
        widget_figsize, widget_dpi: the picture of an ``explore`` widget.
        legend_outside: an animation's legend goes beside the map instead of on it (its
            big text would cover the paths).
        stack_panels, stack_width: a figure of two or more panels side by side is
            redrawn as one column, ``stack_width`` times as wide (see :func:`fit_titles`).
    """

    name: str
    rc: dict = field(default_factory=dict)
    fonts: dict = field(default_factory=dict)
    path_width: float = 1.6
    marker: float = 2.5
    head: float = 8.0
    marks: float = 1.0
    max_width: float | None = None
    figure_height: float = 1.0
    animation_figsize: tuple[float, float] = (7.0, 5.2)
    gif_dpi: int = 104
    player_dpi: int = 100
    widget_figsize: tuple[float, float] = (6.0, 4.5)
    widget_dpi: int = 100
    legend_outside: bool = False
    stack_panels: bool = False
    stack_width: float = 1.0

    def __post_init__(self):
        # frozen all the way down: a style's dicts are read-only views of private copies
        object.__setattr__(self, "rc", MappingProxyType(dict(self.rc)))
        object.__setattr__(self, "fonts", MappingProxyType(dict(self.fonts)))

    def font(self, role: str) -> float:
        """The size in points of a text of ``role`` (see ``fonts``)."""
        return self.fonts[checks.choice("role", role, tuple(self.fonts))]

    def figsize(self, width: float, height: float) -> tuple[float, float]:
        """A figure size drawn for the notebook, in this style (``max_width``, ``figure_height``)."""
        k = 1.0 if self.max_width is None else min(1.0, self.max_width / width)
        return (width * k, height * k * self.figure_height)


def _notebook() -> Style:
    rc = {key: mpl.rcParamsDefault[key] for key in _RC_KEYS}
    return Style(
        name="notebook",
        rc=rc,
        fonts={"legend": 8.33, "annotation": 10.0, "counter": 11.0, "small": 9.0, "title": 12.0, "suptitle": 13.0},
    )


def _classroom() -> Style:
    rc = {"font.size": 13.0, "axes.titlesize": 14.0, "axes.labelsize": 13.0, "xtick.labelsize": 13.0,
          "ytick.labelsize": 13.0, "legend.fontsize": 13.0, "legend.title_fontsize": 13.0,
          "figure.titlesize": 15.0, "lines.linewidth": 2.5, "lines.markersize": 8.0, "axes.linewidth": 1.2,
          "xtick.major.width": 1.2, "ytick.major.width": 1.2, "xtick.major.size": 5.0, "ytick.major.size": 5.0}
    return Style(
        name="classroom",
        rc=rc,
        fonts={"legend": 13.0, "annotation": 13.0, "counter": 14.0, "small": 13.0, "title": 14.0, "suptitle": 15.0},
        path_width=3.0,
        marker=4.0,
        head=12.0,
        marks=1.4,
        max_width=9.0,
        figure_height=1.15,
        animation_figsize=(9.4, 4.6),
        gif_dpi=110,
        player_dpi=110,
        widget_figsize=(6.4, 4.8),
        widget_dpi=100,
        legend_outside=True,
        stack_panels=True,
        stack_width=1.0,
    )


#: Korean fonts a picture with Hangul falls back to, the first installed one (Debian's ``fonts-noto-cjk``
#: gives the first; nothing is downloaded). NanumGothic comes last: it lacks − (U+2212), ᵏ, ₀ and ✕.
KOREAN_FONTS = ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic")


def font_family() -> list[str]:
    """The pictures' fonts in fallback order: DejaVu Sans first (matplotlib's own, with every symbol the
    pictures use: − η θ ∇ ε γ β ᵏ ₀ ✕), then the first installed :data:`KOREAN_FONTS` for Hangul."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *[name for name in KOREAN_FONTS if name in installed][:1]]


if list(mpl.rcParams["font.family"]) == list(mpl.rcParamsDefault["font.family"]):  # a learner's own choice stays
    mpl.rcParams["font.family"] = font_family()


#: The styles by name.
STYLES: dict[str, Style] = {"notebook": _notebook(), "classroom": _classroom()}

_current = STYLES["notebook"]
#: The learner's own values of the style's rcParams, kept while another style is in use.
_learners_rc: dict | None = None


def use_style(name: str) -> Style:
    """Size every plot, animation and widget drawn from now on for ``name``.

    Args:
        name: ``"notebook"`` (the default: a laptop screen, and the committed notebooks
            and figures) or ``"classroom"`` (a projector: every text at least 18 px tall
            when a picture is shown 1280 px wide).

    Returns:
        The :class:`Style` now in use. It also sets matplotlib's rcParams for fonts,
        line widths and marker sizes, so a notebook's own ``plt.subplots`` figures
        follow it too. Leaving ``"notebook"`` keeps the learner's own values of those
        rcParams, and switching back puts them back (``rcParams["font.size"] = 12``,
        then ``"classroom"``, then ``"notebook"``: 12 again); otherwise ``"notebook"``
        sets matplotlib's defaults.

    Raises:
        ValueError: for an unknown name (a :class:`~kai_lib.checks.WrongType` for a non-string).
    """
    global _current, _learners_rc
    name = checks.choice("style", name, tuple(STYLES))
    if _current.name == "notebook" and name != "notebook":
        _learners_rc = {key: mpl.rcParams[key] for key in _RC_KEYS}
    _current = STYLES[name]
    if name == "notebook" and _learners_rc is not None:
        mpl.rcParams.update(_learners_rc)
        _learners_rc = None
    else:
        mpl.rcParams.update(_current.rc)
    return _current


def current() -> Style:
    """The :class:`Style` in use (what every helper reads when it draws)."""
    return _current


@contextlib.contextmanager
def using(name: str):
    """``with using("classroom"):`` draw in a style, then restore the one before (and its rcParams)."""
    before = _current.name
    with mpl.rc_context():
        try:
            yield use_style(name)
        finally:
            use_style(before)


def _words(text: str) -> list[str]:
    """``text`` split at the spaces outside ``$...$``, so that maths is never broken."""
    words, word, in_math = [], "", False
    for char in text:
        if char == "$":
            in_math = not in_math
        if char == " " and not in_math:
            words.append(word)
            word = ""
        else:
            word += char
    return [w for w in [*words, word] if w]


def _wrap(text_artist, width_px: float, renderer) -> bool:
    """Re-wrap a title onto more lines until it is at most ``width_px`` wide; True if it changed."""
    text = text_artist.get_text()
    if not text or "\n" in text or text_artist.get_window_extent(renderer).width <= width_px:
        return False
    words = _words(text)
    chars = max(1, int(len(text) * width_px / text_artist.get_window_extent(renderer).width))
    while True:  # as many characters a line as fit, fewer if the widest line still does not
        wrapped = textwrap.wrap(" ".join(w.replace(" ", "\0") for w in words), chars, break_long_words=False,
                                break_on_hyphens=False)
        text_artist.set_text("\n".join(line.replace("\0", " ") for line in wrapped))
        if chars <= 1 or text_artist.get_window_extent(renderer).width <= width_px:
            break
        chars -= max(1, chars // 10)
    return True


def _stack_panels(fig) -> bool:
    """Two or more panels side by side become one column (each panel at full width)."""
    axes = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    specs = [ax.get_subplotspec() for ax in axes]
    if len(axes) < 2 or any(sp.get_gridspec().nrows != 1 for sp in specs):
        return False
    width, height = fig.get_size_inches()
    fig.set_size_inches(width * current().stack_width, height * len(axes) * 0.8)
    grid = fig.add_gridspec(len(axes), 1)
    for i, ax in enumerate(axes):
        ax.set_subplotspec(grid[i, 0])
        ax.tick_params(labelleft=True)  # a shared y axis labelled only on the left panel
        legend = ax.get_legend()
        if legend is not None:  # a full-width panel has room beside it, where it covers no data
            legend.set_loc("upper left")
            legend.set_bbox_to_anchor((1.01, 1.0), transform=ax.transAxes)
    return True


def fit_titles(fig) -> None:
    """Fit a figure's texts to the style in use, then lay it out again (``tight_layout``).

    In the classroom style, two or more panels side by side are stacked into one
    column (at 18 px a text, half a projector's width holds too little), and a
    legend inside its axes moves to where it covers the fewest data points. Then every
    axes title wider than its axes, and a suptitle wider than the figure, is wrapped onto
    more lines, so that it does not run into the next panel.
    """
    if type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine":
        return
    changed = current().stack_panels and _stack_panels(fig)
    if changed:
        fig.tight_layout()
    elif current().legend_outside:  # bigger legends: let matplotlib find where they hide the least
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None and legend.get_bbox_to_anchor() is ax.bbox:
                legend.set_loc("best")
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        changed |= _wrap(ax.title, 1.02 * ax.get_window_extent(renderer).width, renderer)
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None:
        changed |= _wrap(suptitle, 0.96 * fig.bbox.width, renderer)
    if changed:
        fig.tight_layout()


def _command() -> str | None:
    """The kai_lib command being started (``python -m kai_lib.figures ...``), or None (a kernel, a script, pytest)."""
    argv = list(getattr(sys, "orig_argv", []))
    if "-m" in argv[:-1] and argv[argv.index("-m") + 1].startswith("kai_lib."):
        return argv[argv.index("-m") + 1]
    return None


def _style_from_environment() -> None:
    """Use ``KAI_LIB_STYLE``, read once, when kai_lib is imported. A typo is refused with the variable's
    name and the allowed values: a notebook's first cell raises that ``ValueError``; a command
    (``python -m kai_lib.figures``, ``kai_lib.tools.*``) prints it as one ``error:`` line and exits 2,
    as it does for its own arguments (the package is imported before the command's code runs)."""
    name = os.environ.get(STYLE_ENV)
    if not name:
        return
    try:
        use_style(checks.choice(STYLE_ENV, name, tuple(STYLES)))
    except ValueError as error:
        command = _command()
        if command is None:
            raise
        print(f"python -m {command}: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


_style_from_environment()
