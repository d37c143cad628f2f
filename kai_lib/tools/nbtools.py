"""Keep the notebook collection in shape: navigation cells, execution, clean outputs.

    python -m kai_lib.tools.nbtools nav              # rewrite the navigation cells
    python -m kai_lib.tools.nbtools slides [NN ...]  # rewrite the presentation cut, print the decks
    python -m kai_lib.tools.nbtools execute [NN ...] # nav, then run, cut and clean (make notebooks)

Every notebook in ``notebooks/`` is named ``NN-name.ipynb``; its first markdown H1 is its
title. The navigation cells (previous | Contents | next), first and last in each
notebook and tagged ``nav``, are generated here so they stay right when notebooks are
added. ``execute`` runs each notebook headless with animations as small GIFs
(``KAI_LIB_ANIMATION=gif``), writes its presentation cut, and cleans it with
``nbstripout --keep-output --keep-count`` (which keeps the cut), which is what gets committed.

The presentation cut is the standard ``slideshow.slide_type`` cell metadata that
JupyterLab's deck mode (``jupyterlab-slideshow``) reads; :func:`presentation_cut`
derives it from the template's structure and from how tall each cell is on a
1280 × 720 screen (:func:`cell_height`), so it stays right when cells change.
"""

from __future__ import annotations

import argparse
import base64
import math
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NAV_TAG = "nav"
INDEX = "00-index.ipynb"


def notebook_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """The collection, in order: ``NN-name.ipynb`` files."""
    return sorted(p for p in folder.glob("[0-9][0-9]-*.ipynb"))


class Malformed(ValueError):
    """A notebook file that is not a notebook (bad JSON, or not nbformat 4)."""


def _read(path: Path):
    """``path`` as an nbformat-4 notebook, or :class:`Malformed` naming the file."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises NotJSONError, ValidationError, KeyError, ... for a broken file
        raise Malformed(f"{path.name} is not a readable notebook ({type(error).__name__}: {error})"[:300]) from None


def title_of(nb) -> str:
    """The text of the notebook's first markdown H1."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^# (.+)$", cell.source, flags=re.M)
            if match:
                return match.group(1).strip()
    return ""


def nav_source(paths: list[Path], i: int, titles: list[str]) -> str:
    """The markdown of notebook ``i``'s navigation line."""
    def link(j):
        return f"[{titles[j]}]({paths[j].name})"

    # the notebook after the index goes back to it through "Contents" alone, not twice
    previous = f"< {link(i - 1)}" if i > 0 and paths[i - 1].name != INDEX else ""
    parts = [previous, f"[Contents]({INDEX})" if paths[i].name != INDEX else "Contents",
             f"{link(i + 1)} >" if i + 1 < len(paths) else ""]
    return "<!--NAVIGATION-->\n" + " | ".join(p for p in parts if p)


def _nav_cell(source: str):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["tags"] = [NAV_TAG]
    cell.pop("id", None)
    return cell


def with_navigation(nb, source: str):
    """``nb`` with a nav cell first and last (replacing old ones), holding ``source``."""
    cells = [c for c in nb.cells if NAV_TAG not in c.get("metadata", {}).get("tags", [])]
    nb.cells = [_nav_cell(source), *cells, _nav_cell(source)]
    for i, cell in enumerate(nb.cells):  # stable ids, numbered as nbstripout numbers them
        cell["id"] = str(i)
    return nb


def update_navigation(folder: Path = NOTEBOOKS, only: list[Path] | None = None) -> list[Path]:
    """Rewrite the navigation cells (of every notebook, or of ``only``); return those that changed."""
    paths = notebook_paths(folder)
    nbs = [_read(p) for p in paths]
    titles = [title_of(nb) or p.stem for p, nb in zip(paths, nbs, strict=True)]  # no H1: the file's name
    changed = []
    for i, (path, nb) in enumerate(zip(paths, nbs, strict=True)):
        if only is not None and path not in only:
            continue
        before = nbformat.writes(nb)
        with_slides(with_navigation(nb, nav_source(paths, i, titles)))  # new nav cells get their cut
        after = nbformat.writes(nb)
        if after != before:
            path.write_text(after)
            changed.append(path)
    return changed


# --- the presentation cut -----------------------------------------------------------------------

#: The screen a deck is cut for: 1280 × 720 (16:9), as the browser check shows it. A slide
#: holds at most SLIDE_BUDGET px of cells; the rest is the deck's margins.
SCREEN = (1280, 720)
SLIDE_BUDGET = 640
#: A cell that is alone on its slide and still too tall is zoomed out, down to this;
#: below it, it would have to be split (the deck scrolls it).
MIN_ZOOM = 0.6
#: The slide types, as JupyterLab's property inspector writes them: "" continues the slide
#: (the "-" of nbconvert and RISE; the deck reads only "" or no value so).
SLIDE_TYPES = ("slide", "subslide", "", "fragment", "skip", "notes")
CONTINUE = ""
FONTS_KEY = "@deathbeds/jupyterlab-fonts"  # where the deck keeps a cell's presentation styles
PRESENTING = "body[data-jp-deck-mode='presenting'] &"
#: A call that puts something live on the screen: kai_lib's ``show(...)`` (an animation's
#: player; not ``plt.show()``) or any ``explore...(...)`` (sliders: ``explore``,
#: ``explore_basins``, ``explore_second_order``, ``moons.explore``).
LIVE_CALL = re.compile(r"(?<![\w.])show\(|(?<!\w)explore\w*\(")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# px per line at 1280 px, JupyterLab 4's default theme: markdown 14 px text, code 13 px
_MD_LINE, _MD_CHARS, _CODE_LINE, _CONTENT_WIDTH = 24.0, 150, 17.5, 1180
_HEADINGS = {1: 62.0, 2: 52.0, 3: 44.0, 4: 36.0}


def _image_size(mime: str, data: str) -> tuple[int, int]:
    """(width, height) in px of a base64 PNG or GIF output."""
    raw = base64.b64decode(data[:120] + "=" * (-len(data[:120]) % 4))
    if mime == "image/png":
        return struct.unpack(">II", raw[16:24])
    return struct.unpack("<HH", raw[6:10])


def _markdown_height(source: str) -> float:
    height, fenced, in_math = 16.0, False, False
    for line in source.splitlines():
        text = line.strip()
        if text.startswith("```"):
            fenced = not fenced
            height += 10
        elif fenced:
            height += _CODE_LINE + 1
        elif text.startswith("$$") and (text == "$$" or not text.endswith("$$") or len(text) == 2):
            in_math = not in_math
            height += 20
        elif in_math:
            height += 30
        elif text.startswith("$$"):
            height += 56  # one display formula
        elif re.match(r"#{1,4} ", text):
            height += _HEADINGS[len(text.split()[0])]
        elif text.startswith("|"):
            height += 0 if re.match(r"^\|[\s:|-]+\|$", text) else 36
        elif not text:
            height += 10
        else:
            visible = re.sub(r"\]\([^)]*\)|\\[a-zA-Z]+|[`*$_{}]", "", text)
            height += _MD_LINE * max(1, math.ceil(len(visible) / _MD_CHARS))
    return height


def cell_height(cell) -> float:
    """About how tall ``cell`` is, in px, in JupyterLab's deck at 1280 px, as it shows *live*.

    Run live, an animation is matplotlib's player (its frame plus ~90 px of buttons)
    and ``explore`` the widget (its picture beside ~12 sliders), whatever the committed
    notebook stores in their place. The browser check measures the real heights.
    """
    if cell.cell_type != "code":
        return _markdown_height(cell.source)
    height = 16 + _CODE_LINE * len(cell.source.splitlines())
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            height += 10 + _CODE_LINE * len(out.get("text", "").splitlines())
            continue
        data = out.get("data", {})
        image = next((m for m in ("image/png", "image/gif") if m in data), None)
        if image is None and "application/vnd.jupyter.widget-view+json" in data:
            height += 480  # a live widget with no still stored: as tall as the sliders' picture
            continue
        if image is None:
            height += 10 + _CODE_LINE * min(len(str(data.get("text/plain", "")).splitlines()), 20)
            continue
        width, tall = _image_size(image, data[image])
        tall *= min(1.0, _CONTENT_WIDTH / max(width, 1))
        if "application/vnd.jupyter.widget-view+json" in data:
            height += max(tall, 430) + 30  # the picture beside the column of sliders
        elif image == "image/gif":
            height += tall * 100 / 104 + 90  # the live player: 100 dpi frames, buttons below
        else:
            height += tall + 10
    return height


def _heading_level(cell) -> int:
    """The level of a markdown cell's first heading (its first line, or ``##`` anywhere in it); 0 if none."""
    if cell.cell_type != "markdown":
        return 0
    match = re.match(r"(#{1,6}) ", cell.source.lstrip())
    if match:
        return len(match.group(1))
    return 2 if re.search(r"^## ", cell.source, flags=re.M) else 0


def _is_heading_only(cell) -> bool:
    return _heading_level(cell) > 0 and len([line for line in cell.source.splitlines() if line.strip()]) == 1


def presentation_cut(nb) -> list[tuple[str, float]]:
    """``(slide_type, zoom)`` for every cell of ``nb``, from the template's structure.

    - the title slide: the top navigation line and the H1 cell; the bottom navigation
      is skipped;
    - every ``##`` section and every ``###`` key point starts a slide;
    - a live cell (:func:`live_kind`: an animation, or sliders) is a slide of its own;
    - set-up code (a code cell with no output: imports, helpers) is skipped; the
      exercises and any prose too long for a slide become speaker ``notes``;
    - the other cells go on the current slide (``""``) while it fits :data:`SLIDE_BUDGET`
      (:func:`cell_height`), and start a new slide when it would not;
    - a cell alone on its slide that is still too tall is zoomed out to fit (``zoom``
      < 1, at least :data:`MIN_ZOOM`).
    """
    cut: list[list] = []
    filled, current_is_headings, after_live = 0.0, False, False
    for i, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        height = cell_height(cell)
        code_live = bool(live_kind(cell))
        level = _heading_level(cell)
        if NAV_TAG in tags:
            kind = "slide" if i == 0 else "skip"
        elif level == 1:
            kind = CONTINUE if i == 1 else "slide"
        elif cell.cell_type == "code" and not cell.get("outputs") and not code_live:
            kind = "skip"
        elif level == 2 and cell.source.lstrip()[3:].lower().startswith("exercises"):
            kind = "notes"
        elif code_live:
            kind = "slide"
        elif level in (2, 3):
            kind = CONTINUE if current_is_headings and filled + height <= SLIDE_BUDGET else "slide"
        elif cell.cell_type == "markdown" and height > SLIDE_BUDGET:
            kind = "notes"
        else:
            kind = CONTINUE if not after_live and filled + height <= SLIDE_BUDGET else "slide"
        if kind == "slide":
            filled, current_is_headings = height, _is_heading_only(cell)
        elif kind == CONTINUE:
            filled += height
            current_is_headings = current_is_headings and _is_heading_only(cell)
        if kind in ("slide", CONTINUE):
            after_live = code_live
        cut.append([kind, 1.0, height])
    # zoom out a slide that holds one cell too tall for the screen
    for i, (kind, _, height) in enumerate(cut):
        alone = kind == "slide" and (i + 1 == len(cut) or cut[i + 1][0] != CONTINUE)
        if alone and height > SLIDE_BUDGET:
            cut[i][1] = max(MIN_ZOOM, math.floor(100 * SLIDE_BUDGET / height) / 100)
    return [(kind, zoom) for kind, zoom, _ in cut]


def _code_only(source: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in source.splitlines())


def live_kind(cell) -> str:
    """What a code cell puts live on a slide: ``"sliders"``, ``"animation"`` or ``""``.

    Read from what the cell displays: a widget view among its outputs is sliders (every
    widget of the project is an explorer), a GIF or a jshtml player is an animation (the
    committed notebooks store each ``show(...)`` as a GIF). A cell with no outputs yet is
    read from its code (:data:`LIVE_CALL`): an ``explore...(`` call is sliders, a
    ``show(`` an animation.
    """
    if cell.cell_type != "code":
        return ""
    shows = [out.get("data", {}) for out in cell.get("outputs", [])]
    if any(WIDGET_MIME in data for data in shows):
        return "sliders"
    if any("image/gif" in data or "_anim_img" in str(data.get("text/html", "")) for data in shows):
        return "animation"
    calls = [m.group(0) for m in LIVE_CALL.finditer(_code_only(cell.source))]
    if any(call.startswith("explore") for call in calls):
        return "sliders"
    return "animation" if calls else ""


def with_slides(nb):
    """``nb`` with its presentation cut written into each cell's metadata (in place)."""
    for cell, (kind, zoom) in zip(nb.cells, presentation_cut(nb), strict=True):
        cell.metadata["slideshow"] = {"slide_type": kind}
        styles = cell.metadata.get(FONTS_KEY, {}).get("styles", {}).get("", {})
        styles.pop(PRESENTING, None)
        if zoom < 1:
            styles[PRESENTING] = {"zoom": f"{round(100 * zoom)}%"}
        if styles:
            cell.metadata[FONTS_KEY] = {"styles": {"": styles}}
        else:
            cell.metadata.pop(FONTS_KEY, None)
    return nb


def update_slides(folder: Path = NOTEBOOKS, only: list[Path] | None = None) -> list[Path]:
    """Rewrite the presentation cut (of every notebook, or of ``only``); return those that changed."""
    changed = []
    for path in notebook_paths(folder):
        if only is not None and path not in only:
            continue
        nb = _read(path)
        before = nbformat.writes(nb)
        after = nbformat.writes(with_slides(nb))
        if after != before:
            path.write_text(after)
            changed.append(path)
    return changed


def deck(nb) -> list[dict]:
    """The slides of ``nb`` as its cut makes them: for each, its first cell, its cells, what is live.

    Each slide is ``{"index": first cell, "cells": [...], "title": its first line,
    "live": "animation" | "sliders" | "", "zoom": the smallest zoom on it, "height": its
    estimated height in px before the zoom}``.
    """
    slides: list[dict] = []
    for i, cell in enumerate(nb.cells):
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type") or CONTINUE
        if kind in ("skip", "notes"):
            continue
        if kind in ("slide", "subslide") or not slides:
            slides.append({"index": i, "cells": [], "title": "", "live": "", "zoom": 1.0, "height": 0.0})
        slide = slides[-1]
        slide["cells"].append(i)
        slide["height"] += cell_height(cell)
        live = live_kind(cell)
        if live == "sliders" or (live and not slide["live"]):
            slide["live"] = live
        zoom = cell.get("metadata", {}).get(FONTS_KEY, {}).get("styles", {}).get("", {}).get(PRESENTING, {})
        if "zoom" in zoom:
            slide["zoom"] = min(slide["zoom"], float(zoom["zoom"].rstrip("%")) / 100)
        if not slide["title"] and cell.cell_type == "markdown" and NAV_TAG not in cell.metadata.get("tags", []):
            slide["title"] = cell.source.strip().splitlines()[0].lstrip("# ").strip()
    return slides


def deck_summary(folder: Path = NOTEBOOKS) -> list[dict]:
    """For each lesson (every notebook but the index): its slides, its live slides (animation /
    sliders), minutes at one a slide, and the slides too tall for the screen even zoomed out."""
    out = []
    for path in notebook_paths(folder):
        if path.name == INDEX:
            continue
        slides = deck(_read(path))
        live = [(n + 1, s["live"]) for n, s in enumerate(slides) if s["live"]]
        too_tall = [n + 1 for n, s in enumerate(slides) if s["height"] * s["zoom"] > SLIDE_BUDGET]
        out.append({"notebook": path.name, "slides": len(slides), "minutes": len(slides), "live": live,
                    "zoomed": sum(1 for s in slides if s["zoom"] < 1), "too_tall": too_tall})
    return out


def print_deck_summary(folder: Path = NOTEBOOKS, too_tall: bool = False) -> None:
    """The table the index notebook prints: slides, minutes and live slides of every deck
    (and, with ``too_tall``, the slides whose one cell must be split to fit the screen)."""
    rows = deck_summary(folder)
    print(f"{'notebook':<28} {'slides':>6} {'minutes':>8}   live slides (number: what)")
    for row in rows:
        live = ", ".join(f"{n}: {what}" for n, what in row["live"]) or "-"
        print(f"{row['notebook']:<28} {row['slides']:>6} {row['minutes']:>8}   {live}")
    for row in rows if too_tall else []:
        for slide in row["too_tall"]:
            print(f"  {row['notebook']}: slide {slide} holds one cell too tall for a 1280 x 720 screen "
                  f"even at {MIN_ZOOM:.0%}: split that cell")
    total = sum(r["slides"] for r in rows)
    print(f"{'all':<28} {total:>6} {total:>8}   (a minute a slide: about {total / 60:.1f} hours)")


def execute(path: Path, timeout: int = 60) -> float:
    """Run ``path`` top to bottom in a fresh kernel, animations as GIFs; cut and clean it; return seconds."""
    from nbclient import NotebookClient

    nb = _read(path)
    os.environ["KAI_LIB_ANIMATION"] = "gif"  # the kernel inherits it
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(with_slides(_repeatable(nb, path.stem)), path)  # the cut sees this run's pictures
    clean(path)
    return seconds


def clean(path: Path) -> None:
    """``nbstripout --keep-output --keep-count``, keeping the presentation cut, on ``path``."""
    subprocess.run([sys.executable, "-m", "nbstripout", "--keep-output", "--keep-count", "--keep-metadata-keys",
                    f"cell.metadata.slideshow cell.metadata.{FONTS_KEY}", str(path)], check=True)


def _repeatable(nb, name: str):
    """Make what an execution stores the same on every run: stream outputs split by
    timing are merged, and each widget's random model id becomes ``name-widget-N``
    (the widget state it pointed to is stripped anyway)."""
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            view = out.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if view:
                n += 1
                view["model_id"] = f"{name}-widget-{n}"
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kai_lib.tools.nbtools", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("nav", help="rewrite the navigation cells")
    sl = sub.add_parser("slides", help="rewrite the presentation cut (all notebooks, or those named); print the decks")
    sl.add_argument("only", nargs="*", help="notebook numbers or names, e.g. 03 04-nag")
    ex = sub.add_parser("execute", help="nav, then execute and clean notebooks (all, or those named)")
    ex.add_argument("only", nargs="*", help="notebook numbers or names, e.g. 03 04-nag")
    args = parser.parse_args(argv)

    only = args.__dict__.get("only") or []
    names = ", ".join(p.name for p in notebook_paths())
    for o in only:   # every name must select something: "" is not "all", and a typo is not ignored
        if not o.strip() or not any(p.name.startswith(o) for p in notebook_paths()):
            parser.error(f"no notebook matches {o!r}; notebooks: {names}")
    paths = [p for p in notebook_paths() if not only or any(p.name.startswith(o) for o in only)]
    if not paths:
        parser.error(f"no notebooks in {NOTEBOOKS}")
    try:
        return _run(args.command, paths)
    except Malformed as error:
        parser.error(str(error))


def _run(command: str, paths: list[Path]) -> int:
    if command == "slides":
        for path in update_slides(only=paths):
            print(f"presentation cut updated: {path.name}")
        print_deck_summary(too_tall=True)
        return 0
    for path in update_navigation(only=paths):
        print(f"navigation updated: {path.name}")
    if command == "execute":
        update_slides(only=paths)  # the index prints every deck's size: cut them all first, run it last
        for path in sorted(paths, key=lambda p: p.name == INDEX):
            seconds = execute(path)
            print(f"{path.name}: {seconds:.1f} s, {path.stat().st_size / 1024:.0f} KiB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
