"""Racing animations: every trajectory grows from the start, frame by frame.

The contours are drawn once; each frame only moves artists with ``set_data``, so an
animation of many optimizers stays cheap. (After Louis Tiao's ``TrajectoryAnimation``.)

>>> from kai_lib import optimizers, surfaces, run, animate, show
>>> s = surfaces.BEALE
>>> trajs = {n: run(optimizers.ALL[n](lr=0.01), s, steps=300) for n in ("SGD", "Adam")}
>>> anim = animate(s, trajs)        # a matplotlib FuncAnimation
>>> show(anim)                      # doctest: +ELLIPSIS
<animation: ...>

In a notebook, ``show(anim)`` last in a cell displays the player (or a GIF, see :func:`show`).
"""

from __future__ import annotations

import base64
import io
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.animation import FuncAnimation, HTMLWriter, PillowWriter
from PIL import Image

from .. import checks
from ..runner import Trajectory
from ..surfaces import Surface
from ..surfaces import get as get_surface
from . import styles
from .plotting import (
    _check_linestyles,
    _check_trajs,
    _diverged_flags,
    _segments,
    color_for,
    divergence_mark,
    linestyle_for,
    plot_contours,
    start_points,
    tight_layout,
)

__all__ = ["FrameAnimation", "TrajectoryAnimation", "TrajectoryAnimation3D", "animate", "animate_3d", "save_gif",
           "show", "ANIMATION_MODE_ENV", "MAX_FRAMES"]

#: Environment variable that picks how :func:`show` displays an animation:
#: ``"jshtml"`` (default, the interactive player) or ``"gif"`` (small, for committing).
ANIMATION_MODE_ENV = "KAI_LIB_ANIMATION"
#: The most frames an animation may have (every frame is rendered and kept in memory).
MAX_FRAMES = 1000


def frame_steps(n_steps: int, frames: int, pace: float = 1.0) -> np.ndarray:
    """The step shown in each frame: ``frames`` distinct steps from ``0`` to ``n_steps``.

    Frame ``i`` of ``F`` shows step ``n_steps·(i/(F−1))**pace``: ``pace = 1`` spreads the
    frames evenly; ``pace > 1`` plays the first steps, where a race's action often is, in
    slow motion and speeds up later. Every frame still shows a different step, and the
    last frame the last step (never a step beyond it).
    """
    n_steps = checks.integer("n_steps", n_steps, low=0)
    frames = checks.integer("frames", frames, low=1)
    pace = checks.number("pace", pace, low=0, low_open=True)
    frames = min(frames, n_steps + 1)
    if frames == 1:
        return np.array([n_steps])
    steps = np.round(n_steps * np.linspace(0, 1, frames) ** pace).astype(int)
    for i in range(1, frames):  # no repeated frame: at least one step apart
        steps[i] = max(steps[i], steps[i - 1] + 1)
    steps[-1] = n_steps
    for i in range(frames - 2, -1, -1):  # and still ending on the last step
        steps[i] = min(steps[i], steps[i + 1] - 1)
    return steps


class FrameAnimation(FuncAnimation):
    """The one animation base: each frame shows one step of a run, drawn by moving artists.

    A subclass builds its figure and artists, then calls ``FrameAnimation.__init__`` with the
    run's length; it implements :meth:`_artists` (what moves), :meth:`_init` (empty them) and
    :meth:`_draw_frame_at` (frame ``i`` shows step ``steps_shown[i]``). This base picks the
    frames' steps (:func:`frame_steps`), renders the frames by blitting
    (:meth:`render_frames`: the background drawn once), and lists the colours the GIF's
    shared palette must keep exactly, so :func:`save_gif`, :func:`jshtml` and :func:`show`
    take every animation of the project the same way.

    Attributes:
        steps_shown: the step (or epoch) each frame shows.
        colors: the colours the GIF palette keeps exactly.
    """

    def __init__(self, fig, n_steps: int, frames: int, pace: float = 1.0, interval: int = 80,
                 colors: list[str] = (), **kwargs):
        self.steps_shown = frame_steps(n_steps, frames, pace)
        self._n_steps = n_steps
        self.colors = list(colors)
        super().__init__(fig, self._draw_frame_at, frames=len(self.steps_shown), init_func=self._init,
                         interval=interval, blit=True, **kwargs)

    def _artists(self) -> list:
        """The artists that move (drawn per frame, over the background)."""
        raise NotImplementedError

    def _init(self):
        return self._artists()

    def _draw_frame_at(self, i: int) -> list:
        raise NotImplementedError

    def render_frames(self, dpi: int = 72):
        """Yield every frame as an RGB image, drawing the background only once (blitting)."""
        fig = self._fig
        saved_dpi = fig.dpi
        artists = self._init()
        try:
            fig.set_dpi(dpi)
            for artist in artists:
                artist.set_animated(True)  # left out of the full draw: the background
            fig.canvas.draw()
            background = fig.canvas.copy_from_bbox(fig.bbox)
            size = fig.canvas.get_width_height(physical=True)
            for i in range(len(self.steps_shown)):
                fig.canvas.restore_region(background)
                for artist in self._draw_frame_at(i):
                    fig.draw_artist(artist)
                rgba = Image.frombuffer("RGBA", size, fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
                yield rgba.convert("RGB")
        finally:
            fig.set_dpi(saved_dpi)


class TrajectoryAnimation(FrameAnimation):
    """A race: each trajectory revealed up to the step of the frame, on a 2-D map.

    Attributes:
        steps_shown: the step index each frame shows.
        trails, heads: ``{label: [Line2D, ...]}``; ``crosses``: ``{label: [(✕, step), ...]}``,
            one divergence mark per diverged path, shown from the frame of ``step``, the
            path's last finite point, on (so a race whose longest run diverged still
            shows its ✕ on the last frame).
    """

    def __init__(self, fig, ax, trajs: Mapping[str, Trajectory], frames: int = 60, interval: int = 80,
                 counter: bool = True, legend: bool = True, pace: float = 1.0, colors: Mapping[str, str] | None = None,
                 linestyles: Mapping[str, object] | None = None, **kwargs):
        self.trajs = dict(trajs)
        self.paths = {label: _segments(t.path) for label, t in self.trajs.items()}
        n_steps = max(len(t.path) - 1 for t in self.trajs.values())
        self.trails, self.heads, self.crosses = {}, {}, {}
        palette = ["red", "black", "white", "gold"]
        style = styles.current()
        for i, (label, segs) in enumerate(self._shown_paths().items()):
            color = (colors or {}).get(label) or color_for(label, i)
            palette.append(color)
            linestyle = (linestyles or {}).get(label, linestyle_for(label))
            flags = _diverged_flags(self.trajs[label])
            self.trails[label] = [self._line(ax, color=color, lw=style.path_width + 0.4, zorder=3, linestyle=linestyle,
                                             label=label if j == 0 else "_") for j in range(len(segs))]
            self.heads[label] = [self._line(ax, "o", color=color, markeredgecolor="k", markersize=style.head, zorder=4)
                                 for _ in segs]
            self.crosses[label] = [(self._cross(ax, seg, color="red", markeredgecolor="k",
                                                markersize=13 * style.marks, zorder=6, visible=False),
                                    _last_move(self.paths[label][j]))
                                   for j, (seg, flag) in enumerate(zip(segs, flags, strict=True)) if flag]
        self.counter = self._text(ax, "", va="top", fontsize=self._font("counter"),
                                  bbox=dict(boxstyle="round", fc="white", alpha=0.8)) if counter else None
        if legend:
            self._legend(fig, ax)
        super().__init__(fig, n_steps, frames, pace, interval, palette, **kwargs)

    # --- what differs between the map and the 3-D view -----------------------------------------

    def _shown_paths(self) -> dict[str, list[np.ndarray]]:
        return self.paths

    @staticmethod
    def _font(role: str) -> float:
        return styles.current().font(role)

    @staticmethod
    def _line(ax, *fmt, **kwargs):
        return ax.plot([], [], *fmt, **kwargs)[0]

    @staticmethod
    def _cross(ax, seg, **kwargs):
        return ax.plot(*divergence_mark(seg, ax.get_xlim(), ax.get_ylim()), "X", clip_on=False, **kwargs)[0]

    @staticmethod
    def _text(ax, text, **kwargs):
        return ax.text(0.02, 0.97, text, transform=ax.transAxes, **kwargs)

    @staticmethod
    def _set(line, points: np.ndarray) -> None:
        line.set_data(points[:, 0], points[:, 1])

    def _legend(self, fig, ax) -> None:
        if styles.current().legend_outside:  # big text beside the map, not over the paths
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=self._font("legend"), framealpha=0.85)
            fig.tight_layout()
            styles.fit_titles(fig)  # a title wider than the narrower map wraps
        else:
            ax.legend(loc="lower right", fontsize=self._font("legend"), framealpha=0.85)

    # --- the frames ------------------------------------------------------------------------------

    def _artists(self):
        out = [a for group in (self.trails, self.heads) for lines in group.values() for a in lines]
        out += [cross for crosses in self.crosses.values() for cross, _ in crosses]
        return out + ([self.counter] if self.counter is not None else [])

    def _init(self):
        empty = np.empty((0, 3))
        for label in self.paths:
            for line in self.trails[label] + self.heads[label]:
                self._set(line, empty)
        return self._artists()

    def _draw_frame_at(self, i):
        k = int(self.steps_shown[i])
        for label, segs in self._shown_paths().items():
            for seg, trail, head in zip(segs, self.trails[label], self.heads[label], strict=True):
                upto = seg[: min(k, len(seg) - 1) + 1]
                self._set(trail, upto)
                self._set(head, upto[-1:])
            for cross, last in self.crosses[label]:
                cross.set_visible(k >= last)  # as soon as the trail reaches its last finite point
        if self.counter is not None:
            self.counter.set_text(f"step {k} / {self._n_steps}")
        return self._artists()


def _last_move(seg: np.ndarray) -> int:
    """The index of a path's last finite point: where it stopped (a diverged point of a batch
    stays at its last finite position while the others go on)."""
    moved = np.flatnonzero(np.any(seg != seg[-1], axis=-1))
    return int(moved[-1]) + 1 if moved.size else 0


def animate(
    surface: Surface | str,
    trajs: Mapping[str, Trajectory] | Trajectory,
    frames: int = 60,
    interval: int = 80,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    ax=None,
    legend: bool = True,
    pace: float = 1.0,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    colors: Mapping[str, str] | None = None,
    view: str = "2d",
    linestyles: Mapping[str, object] | None = None,
    **view_3d,
) -> TrajectoryAnimation:
    """All ``trajs`` racing from the start over the contours of ``surface``.

    Args:
        surface: the surface they ran on.
        trajs: ``{label: trajectory}`` (or one trajectory).
        frames: at most this many frames (an integer in [1, 1000]); long runs are
            sub-sampled evenly, so the animation plays in ``frames × interval`` ms
            whatever the run's length.
        interval: ms per frame (a number in [1, 60000]).
        title: the figure's title (default: the surface's).
        figsize: the figure size in inches (default: the style's, see :mod:`kai_lib.pictures.styles`;
            9.6 × 6.8 for the 3-D view).
        ax: draw into this axes instead of a new figure.
        legend: show a legend.
        pace: ``1`` spreads the frames evenly over the run; ``2`` plays the early steps in
            slow motion (see :func:`frame_steps`); any finite number > 0.
        xlim, ylim: the view, if not the surface's (a zoom); divergence marks keep to it.
        colors: ``{label: colour}`` for runs of one optimizer that must differ (two γ of
            Momentum); the others take their optimizer's colour.
        linestyles: ``{label: line style}`` for such runs, so that they differ in
            greyscale too (as :func:`~kai_lib.pictures.plotting.plot_paths`).
        view: ``"2d"`` (contours, the default) or ``"3d"``: the surface in 3-D, drawn by
            :func:`animate_3d`, which takes the camera (``elev``, ``azim``), ``zlim`` and
            the rest as further keywords (``ax`` is not used there).

    Returns:
        A :class:`TrajectoryAnimation` (a ``FuncAnimation``). A diverged run stops at
        its last finite point and a red ✕ appears there (or where it left the view);
        the others go on.
    """
    if view == "3d":
        return animate_3d(surface, trajs, frames=frames, interval=interval, title=title, legend=legend, pace=pace,
                          xlim=xlim, ylim=ylim, figsize=figsize or (9.6, 6.8), colors=colors,
                          linestyles=linestyles, **view_3d)
    if view != "2d" or view_3d:
        raise ValueError(f"view must be '2d' or '3d' (with the 3-D keywords), got view={view!r}"
                         + (f" and {sorted(view_3d)}" if view_3d else ""))
    surface = get_surface(surface)
    trajs = _check_trajs(trajs)
    frames = checks.integer("frames", frames, low=1, high=MAX_FRAMES)
    interval = checks.number("interval", interval, low=1, high=60_000)
    if title is not None and not isinstance(title, str):
        raise checks.WrongType(f"title must be a str or None, got {checks.shown(title)}")
    figsize = None if figsize is None else checks.size("figsize", figsize)
    legend = checks.boolean("legend", legend)
    linestyles = _check_linestyles(linestyles)
    pace = checks.number("pace", pace, low=0, low_open=True)
    xlim = None if xlim is None else checks.limits("xlim", xlim)
    ylim = None if ylim is None else checks.limits("ylim", ylim)
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize or styles.current().animation_figsize)
    else:
        fig = ax.figure
    plot_contours(surface, ax=ax, starts=start_points(trajs))
    if xlim is not None:
        ax.set_xlim(xlim)
    if ylim is not None:
        ax.set_ylim(ylim)
    if title is not None:
        ax.set_title(title)
    tight_layout(fig)
    return TrajectoryAnimation(fig, ax, trajs, frames=frames, interval=interval, legend=legend and any(trajs),
                               pace=pace, colors=colors, linestyles=linestyles)


def save_gif(anim: FuncAnimation, path: str | os.PathLike, dpi: int | None = None, fps: int | None = None) -> Path:
    """Write ``anim`` to ``path`` as a GIF with Pillow (no ffmpeg or ImageMagick needed).

    The file is written by matplotlib's ``PillowWriter``. A :class:`TrajectoryAnimation`
    hands it frames rendered by blitting (the contours drawn once, only the moving
    artists per frame) that share one palette, so a 60-frame animation takes about half
    a second and 150–300 KB at 104 dpi; any other ``FuncAnimation`` is saved the usual way
    (``anim.save(path, writer=PillowWriter(...))``), a full redraw per frame.

    Args:
        dpi: dots per inch, an integer in [10, 600] (default: the style's ``gif_dpi``, 104: a
            7×5.2 in figure is 728×541 px).
        fps: frames per second, a number in (0, 100] (default: from the animation's interval).
    """
    if not isinstance(anim, FuncAnimation):
        raise checks.WrongType(f"anim must be a matplotlib FuncAnimation (what animate returns), "
                               f"got {checks.shown(anim)}")
    if not isinstance(path, (str, os.PathLike)):
        raise checks.WrongType(f"path must be a file name ending in .gif, got {checks.shown(path)}")
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"path must end in .gif, got {str(path)!r}")
    dpi = styles.current().gif_dpi if dpi is None else checks.integer("dpi", dpi, low=10, high=600)
    fps = None if fps is None else checks.number("fps", fps, low=0, high=100, low_open=True)
    fps = fps or max(1, round(1000 / anim._interval))
    if not isinstance(anim, FrameAnimation):
        anim.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
        return path
    writer = PillowWriter(fps=fps)
    writer.setup(anim._fig, path, dpi=dpi)
    writer._frames = _shared_palette(list(anim.render_frames(dpi)), anim.colors)  # instead of grab_frame()
    writer.finish()
    return path


def _shared_palette(frames: list[Image.Image], keep: list[str] = ()) -> list[Image.Image]:
    """Quantize every frame to one palette, undithered.

    One palette keeps the background's pixels identical from frame to frame, so the GIF
    stores only what moved. The colours in ``keep`` (the optimizers') enter the palette
    exactly; the rest of it comes from the last, fullest frame.
    """
    exact = list(dict.fromkeys(tuple(round(255 * c) for c in mcolors.to_rgb(k)) for k in keep))
    rest = frames[-1].quantize(colors=256 - len(exact), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette = Image.new("P", (1, 1))
    palette.putpalette([v for rgb in exact for v in rgb] + rest.getpalette()[: 3 * (256 - len(exact))])
    return [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]


def gif_bytes(anim: FuncAnimation, dpi: int | None = None) -> bytes:
    """The GIF of ``anim`` as bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        return save_gif(anim, Path(tmp) / "anim.gif", dpi=dpi).read_bytes()


def jshtml(anim: FuncAnimation, dpi: int = 72, default_mode: str = "once") -> str:
    """matplotlib's JavaScript player (play / pause / step / speed) for ``anim``, as HTML.

    A :class:`TrajectoryAnimation`'s frames are blitted and palette-compressed PNGs;
    anything else goes through ``FuncAnimation.to_jshtml``.
    """
    if not isinstance(anim, FrameAnimation):
        return anim.to_jshtml(default_mode=default_mode)
    fps = max(1, round(1000 / anim._interval))
    writer = HTMLWriter(fps=fps, embed_frames=True, default_mode=default_mode)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "player.html"
        writer.setup(anim._fig, out, dpi=dpi)
        for frame in _shared_palette(list(anim.render_frames(dpi)), anim.colors):
            buffer = io.BytesIO()
            frame.save(buffer, format="png")
            writer._saved_frames.append(base64.encodebytes(buffer.getvalue()).decode("ascii"))
        writer.finish()
        return out.read_text()


class _GIF:
    """A GIF for a notebook output (``image/gif``; the text form names what it is)."""

    def __init__(self, data: bytes):
        self.data = data

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/gif": base64.b64encode(self.data).decode("ascii"),
                "text/plain": f"<animation: GIF, {len(self.data) // 1024} KiB>"}


#: Appended to a player: it plays (looping) while at least half its frame is on the screen and
#: pauses when it leaves, so on a slide the animation starts when its slide arrives.
_PLAY_WHEN_SEEN = """<script>
(function () {
  var start = function () {
    var img = document.getElementById("_anim_img%(id)s"), anim = window["anim%(id)s"];
    if (!img || !anim || !window.IntersectionObserver) { return setTimeout(start, 200); }
    new IntersectionObserver(function (seen) {
      seen.forEach(function (e) { if (e.isIntersecting) { anim.play_animation(); } else { anim.pause_animation(); } });
    }, {threshold: 0.5}).observe(img);
  };
  setTimeout(start, 0);
})();
</script>"""


class _Player:
    """matplotlib's jshtml player (play / pause / step) for a notebook output, looping, and
    playing while it is on the screen (:data:`_PLAY_WHEN_SEEN`)."""

    def __init__(self, html: str):
        found = re.search(r'id="_anim_img(\w+)"', html)
        self.html = html + (_PLAY_WHEN_SEEN % {"id": found.group(1)} if found else "")

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return "<animation: interactive player>"


def show(anim: FuncAnimation, mode: str | None = None, dpi: int | None = None):
    """Show ``anim`` in a notebook and close its figure (so no stray still is printed).

    Args:
        mode: ``"jshtml"`` — matplotlib's player with play / pause / step buttons, for
            running live (it embeds every frame, about 2 MB: never commit it); ``"gif"`` —
            a small GIF, which is what ``make notebooks`` commits. Default: the
            environment variable ``KAI_LIB_ANIMATION``, else ``"jshtml"``.
        dpi: the resolution of the frames (default: the style's ``player_dpi`` for the
            player, ``gif_dpi`` for the GIF; see :mod:`kai_lib.pictures.styles`).

    Returns:
        An object the notebook displays (put ``show(anim)`` last in a cell).
    """
    if not isinstance(anim, FuncAnimation):
        raise checks.WrongType(f"anim must be a matplotlib FuncAnimation (what animate returns), "
                               f"got {checks.shown(anim)}")
    if mode is None:
        mode = os.environ.get(ANIMATION_MODE_ENV) or "jshtml"
        name = ANIMATION_MODE_ENV
    else:
        name = "mode"
    checks.choice(name, mode, ("jshtml", "gif"))
    dpi = None if dpi is None else checks.integer("dpi", dpi, low=10, high=600)
    try:
        if mode == "gif":
            return _GIF(gif_bytes(anim, dpi=dpi or styles.current().gif_dpi))
        return _Player(jshtml(anim, dpi=dpi or styles.current().player_dpi, default_mode="loop"))
    finally:
        plt.close(anim._fig)


# --- the races in 3-D ------------------------------------------------------------------------

def _lift_path(surface: Surface, seg: np.ndarray, xlim, ylim, zlim, lift: float) -> np.ndarray:
    """A 2-D path ``(T, 2)`` as a 3-D path ``(T', 3)`` on the surface, kept inside the box.

    z is J(x, y) raised by ``lift`` (so the line lies on top of the surface, not in it)
    and clipped to ``zlim``. A path that leaves the x–y view ends where it crosses the
    view's edge (matplotlib's 3-D axes do not clip lines to the box).
    """
    inside = ((seg[:, 0] >= xlim[0]) & (seg[:, 0] <= xlim[1]) & (seg[:, 1] >= ylim[0]) & (seg[:, 1] <= ylim[1]))
    if not inside.all():
        first_out = int(np.argmin(inside))
        if first_out == 0:  # starts outside the view: only its clipped start
            seg = np.clip(seg[:1], [xlim[0], ylim[0]], [xlim[1], ylim[1]])
        else:
            edge = divergence_mark(seg[: first_out + 1], xlim, ylim)  # where it crosses the edge
            seg = np.vstack([seg[:first_out], edge])
    z = np.clip(surface(seg), zlim[0], zlim[1]) + lift
    return np.column_stack([seg, z])


#: The 3-D race is saved at 80 dpi where a 2-D race is saved at 104 (its figure is larger, its
#: surface mesh heavy): its texts are the style's sizes × 104/80, the same height in pixels.
TEXT_SCALE_3D = 1.3


class TrajectoryAnimation3D(TrajectoryAnimation):
    """:class:`TrajectoryAnimation` on a 3-D axes: the surface drawn once, paths on top.

    Each frame moves the trails and heads with ``set_data_3d``; rendered by blitting
    (:meth:`FrameAnimation.render_frames`), the paths are drawn after the surface,
    so the surface never hides them. Line widths, markers, line styles (NAG's and
    RMSProp's dashes) and texts follow :func:`~kai_lib.use_style` as on the map
    (texts × :data:`TEXT_SCALE_3D`).

    Attributes:
        paths3d: ``{label: [(T', 3) array, ...]}``, the lifted, clipped paths.
    """

    def __init__(self, fig, ax, surface: Surface, trajs: Mapping[str, Trajectory], frames: int = 60,
                 interval: int = 80, counter: bool = True, legend: bool = True, pace: float = 1.0,
                 zlim=None, lift: float = 0.02, colors: Mapping[str, str] | None = None,
                 linestyles: Mapping[str, object] | None = None, **kwargs):
        xlim, ylim, zlim = ax.get_xlim(), ax.get_ylim(), zlim or ax.get_zlim()
        height = lift * (zlim[1] - zlim[0])
        self.paths3d = {label: [_lift_path(surface, seg, xlim, ylim, zlim, height) for seg in _segments(t.path)]
                        for label, t in trajs.items()}
        super().__init__(fig, ax, trajs, frames=frames, interval=interval, counter=counter, legend=legend, pace=pace,
                         colors=colors, linestyles=linestyles, **kwargs)

    def _shown_paths(self) -> dict[str, list[np.ndarray]]:
        return self.paths3d

    @staticmethod
    def _font(role: str) -> float:
        return TEXT_SCALE_3D * styles.current().font(role)

    @staticmethod
    def _line(ax, *fmt, **kwargs):
        kwargs.pop("zorder", None)  # a 3-D axes orders by depth; blitting draws the paths last anyway
        return ax.plot([], [], [], *fmt, **kwargs)[0]

    @staticmethod
    def _cross(ax, seg, **kwargs):
        kwargs.pop("zorder", None)
        return ax.plot(*seg[-1:].T, "X", **kwargs)[0]

    @staticmethod
    def _text(ax, text, **kwargs):
        return ax.text2D(0.02, 0.95, text, transform=ax.transAxes, **kwargs)

    @staticmethod
    def _set(line, points: np.ndarray) -> None:
        line.set_data_3d(points[:, 0], points[:, 1], points[:, 2])

    def _legend(self, fig, ax) -> None:
        ax.legend(loc="upper right", fontsize=self._font("legend"), framealpha=0.85)


def animate_3d(
    surface: Surface | str,
    trajs: Mapping[str, Trajectory] | Trajectory,
    frames: int = 60,
    interval: int = 80,
    title: str | None = None,
    figsize: tuple[float, float] = (9.6, 6.8),
    legend: bool = True,
    pace: float = 1.0,
    elev: float = 30.0,
    azim: float = -60.0,
    xlim: tuple[float, float] | None = None,
    ylim: tuple[float, float] | None = None,
    zlim: tuple[float, float] | None = None,
    n: int = 40,
    alpha: float = 0.45,
    colors: Mapping[str, str] | None = None,
    linestyles: Mapping[str, object] | None = None,
) -> TrajectoryAnimation3D:
    """All ``trajs`` racing over ``surface`` drawn in 3-D, as Radford drew the saddle.

    The surface is a translucent shaded mesh drawn once (J clipped to ``zlim``, default
    the range of J over the view); the paths lie on it, lifted by 2% of the height so
    they stay above it, and end at the view's edge if they leave it.

    Args:
        surface, trajs, frames, interval, title, legend, pace: as :func:`animate`.
        figsize: inches (9.6 × 6.8 at 80 dpi is 768 × 544 px).
        elev, azim: the fixed camera, in degrees (``Axes3D.view_init``).
        xlim, ylim: the view (default the surface's); zlim: the height shown.
        n: mesh points per side; alpha: the surface's opacity.
        colors: ``{label: colour}``, linestyles: ``{label: line style}``, as :func:`animate`.

    Returns:
        A :class:`TrajectoryAnimation3D` (a ``FuncAnimation``, saved by :func:`save_gif`).
    """
    surface = get_surface(surface)
    linestyles = _check_linestyles(linestyles)
    if isinstance(trajs, Trajectory):
        trajs = {"": trajs}
    if not trajs:
        raise ValueError("trajs must hold at least one trajectory")
    xlim, ylim = xlim or surface.xlim, ylim or surface.ylim
    fig = plt.figure(figsize=figsize)
    ax = fig.add_subplot(projection="3d")
    X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    Z = surface(np.stack([X, Y], axis=-1))
    if zlim is None:
        zlim = (float(Z.min()), float(np.percentile(Z, 98)))
    Zc = np.clip(Z, *zlim)
    norm = mcolors.LogNorm(max(zlim[0], 1e-2), zlim[1]) if surface.log_levels and zlim[0] >= 0 else None
    ax.plot_surface(X, Y, Zc, cmap="Blues_r", norm=norm, alpha=alpha, linewidth=0.3, edgecolor=(0, 0, 0, 0.07),
                    antialiased=False, rstride=1, cstride=1, shade=True)
    lift = 0.02 * (zlim[1] - zlim[0])
    for point in surface.minima:
        if xlim[0] <= point[0] <= xlim[1] and ylim[0] <= point[1] <= ylim[1]:
            ax.plot(*point, np.clip(surface(point), *zlim) + lift, "*", color="gold", markeredgecolor="k",
                    markersize=16, zorder=5)
    for point in start_points(trajs):
        ax.plot(*point, np.clip(surface(point), *zlim) + lift, "o", color="white", markeredgecolor="k",
                markersize=8)
    ax.set(xlim=xlim, ylim=ylim, zlim=zlim)
    ax.set_xlabel("$x$", fontsize=12)
    ax.set_ylabel("$y$", fontsize=12)
    ax.set_zlabel("$J$", fontsize=12)
    ax.view_init(elev=elev, azim=azim)
    ax.set_title(title or surface.title, fontsize=13)
    fig.subplots_adjust(left=0.0, right=1.0, bottom=0.02, top=0.94)
    return TrajectoryAnimation3D(fig, ax, surface, trajs, frames=frames, interval=interval,
                                 legend=legend and any(trajs), pace=pace, zlim=zlim, colors=colors,
                                 linestyles=linestyles)
