"""Keep the notebook collection in shape: navigation cells, execution, clean outputs.

    python -m kai_lib.tools.nbtools nav              # rewrite the navigation cells
    python -m kai_lib.tools.nbtools slides [NN ...]  # rewrite the presentation cut, print the decks
    python -m kai_lib.tools.nbtools execute [NN ...] # nav, run, cut and clean; then 00 and the Korean twins
    python -m kai_lib.tools.nbtools notes [NN ...]   # each deck's printable speaker notes, build/notes/

Every notebook in ``notebooks/`` is named ``NN-name.ipynb``; its first markdown H1 is its
title. The navigation cells (previous | Contents | next), first and last in each
notebook and tagged ``nav``, are generated here so they stay right when notebooks are
added. ``execute`` runs each notebook headless with animations as small GIFs
(``KAI_LIB_ANIMATION=gif``), writes its presentation cut, and cleans it with
``nbstripout --keep-output --keep-count`` (which keeps the cut), which is what gets committed.

The presentation cut is the standard ``slideshow.slide_type`` cell metadata that
JupyterLab's deck mode (``jupyterlab-slideshow``) reads. It is derived, never edited by hand:

**From marks** (:func:`with_marked_slides`). One source, two readings: the notebook is the
reading text, and a tag on a cell (:data:`MARKS`: ``deck``, ``deck-head``, ``deck-lead``,
``deck-math``, ``deck-code``) says that the cell is a slide and which part of it the slide
shows. Everything else, the parts a mark leaves out and every unmarked markdown cell after
it, is that slide's speaker notes (``nbtools notes`` prints them, one page per deck); set-up
code is skipped, and a code cell's source (with any test marker in it) stays off its slide
unless it is marked ``deck-code``. Marks are tags rather than slide-only cells because a
tag changes no cell's source: the slides cannot drift from the text they are cut from, the
reading view (and any other edition made from the notebook) shows nothing extra, and the
notebooks merge cleanly with edits to their text. What a mark hides, and the projector
typography (:data:`DECK_TYPE`), slide numbers and progress bar, are one stylesheet in the
notebook's metadata, in the format of ``jupyterlab-fonts`` (the deck's own dependency, which
applies it in presenting mode only): no extension of ours. A slide is one cell, so one →
is one slide; its length is measured by :func:`slide_minutes`.

**From structure** (:func:`presentation_cut`), for a notebook with no marks yet: the
template's headings, live cells and how tall each cell is on a 1280 × 720 screen
(:func:`cell_height`), as before marks existed.
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

from .. import checks

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


LANGUAGE_TAG = "<!--LANGUAGE-->"  # starts the navigation cell's language switch (the website has its own)


def language_switch(english: str | None, korean: str | None) -> str:
    """``English | 한국어``, the other edition's name a link (``english`` or ``korean``: its href)."""
    return (f"{LANGUAGE_TAG}\n" + (f"[English]({english})" if english else "English") + " | "
            + (f"[한국어]({korean})" if korean else "한국어"))


def english_switch(path: Path) -> str:
    """The switch an English notebook's navigation ends with, when its Korean twin
    (``ko/NN-name.ipynb``, written by :mod:`kai_lib.tools.i18n`) exists; else ``""``."""
    return language_switch(None, f"ko/{path.name}") if (path.parent / "ko" / path.name).exists() else ""


def nav_source(paths: list[Path], i: int, titles: list[str], switch: str = "") -> str:
    """The markdown of notebook ``i``'s navigation line (then ``switch``, a :func:`language_switch`)."""
    def link(j):
        return f"[{titles[j]}]({paths[j].name})"

    # the notebook after the index goes back to it through "Contents" alone, not twice
    previous = f"< {link(i - 1)}" if i > 0 and paths[i - 1].name != INDEX else ""
    parts = [previous, f"[Contents]({INDEX})" if paths[i].name != INDEX else "Contents",
             f"{link(i + 1)} >" if i + 1 < len(paths) else ""]
    return "<!--NAVIGATION-->\n" + " | ".join(p for p in parts if p) + (f"\n\n{switch}" if switch else "")


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
        source = nav_source(paths, i, titles, english_switch(path))
        with_slides(with_navigation(nb, source))  # new nav cells get their cut
        after = nbformat.writes(nb)
        if after != before:
            path.write_text(after)
            changed.append(path)
    return changed


# --- the presentation cut -----------------------------------------------------------------------

#: A deck is cut for a 1280 × 720 (16:9) screen, as the browser check shows it: a slide
#: holds at most SLIDE_BUDGET px of cells; the rest is the deck's margins.
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


# --- the deck marks: one source, two readings ---------------------------------------------------

#: The marks, as cell tags (JupyterLab's property inspector edits them; nbstripout keeps them).
#: A marked cell is a slide of its own; the part of it that the mark names is what the slide
#: shows, and everything the marks leave out goes to that slide's speaker notes.
MARKS = {
    "deck": "the whole cell (a code cell: its output; its source stays off the slide)",
    "deck-head": "a markdown cell's headings only",
    "deck-lead": "a markdown cell's headings and first paragraph",
    "deck-math": "a markdown cell's headings and display formulas",
    "deck-code": "a code cell's source and output: the code is the lesson",
}
#: Projector typography in deck mode (1280 × 720): body text, code and printed output, headings.
DECK_TYPE = {"body": 28, "code": 22, "h1": 60, "h2": 44, "h3": 38, "h4": 32}
#: The tallest picture on a slide, px: a still, an animation's frame (its buttons go below).
PICTURE_MAX, PLAYER_MAX = 600, 520
MAX_WORDS = 40  # on screen, per slide ("about 40"; the browser check allows 45)
#: The rule a deck's length is measured by, in minutes (see :func:`slide_minutes`).
PACE = {"slide": 0.6, "words_per_minute": 60, "picture": 1.0, "code": 1.5, "sliders": 3.0,
        "animation_plays": 2, "animation": 0.5}
DECK_MINUTES = 45


def mark_of(cell) -> str:
    """The cell's deck mark (one of :data:`MARKS`), or ``""``."""
    tags = cell.get("metadata", {}).get("tags", [])
    marks = [t for t in tags if t in MARKS]
    if len(marks) > 1:
        raise ValueError(f"cell {cell.get('id')!r}: one deck mark per cell, got {marks}; allowed: {sorted(MARKS)}")
    return marks[0] if marks else ""


def has_marks(nb) -> bool:
    """Whether ``nb`` carries deck marks; without them the deck falls back to :func:`presentation_cut`."""
    return any(mark_of(c) for c in nb.cells)


def _blocks(source: str) -> list[str]:
    """A markdown source's top-level blocks (paragraphs, lists, fences, tables, formulas),
    as the renderer splits them."""
    blocks, current, fenced, in_math = [], [], False, False
    for line in source.splitlines():
        text = line.strip()
        if text.startswith("```"):
            fenced = not fenced
        if text.startswith("$$") and not fenced and not (len(text) > 2 and text.endswith("$$")):
            in_math = not in_math
        if not text and not fenced and not in_math:
            if current:
                blocks.append("\n".join(current))
            current = []
            continue
        if re.match(r"#{1,6} ", text) and not fenced and current:  # a heading is a block of its own
            blocks.append("\n".join(current))
            current = []
        current.append(line)
        if re.match(r"#{1,6} ", text) and not fenced:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def _is_heading(block: str) -> bool:
    return bool(re.match(r"#{1,6} ", block.lstrip()))


def _is_formula(block: str) -> bool:
    return block.strip().startswith("$$") and block.strip().endswith("$$")


def shown_markdown(cell, mark: str | None = None) -> tuple[str, str]:
    """``(on the slide, to the notes)``: the parts of a markdown cell its mark shows, and the rest."""
    mark = mark_of(cell) if mark is None else mark
    blocks = _blocks(cell.source)
    if mark == "deck":
        keep = [True] * len(blocks)
    elif mark == "deck-head":
        keep = [_is_heading(b) for b in blocks]
    elif mark == "deck-math":
        keep = [_is_heading(b) or _is_formula(b) for b in blocks]
    elif mark == "deck-lead":
        first = next((i for i, b in enumerate(blocks) if not _is_heading(b)), len(blocks))
        keep = [_is_heading(b) or i == first for i, b in enumerate(blocks)]
    else:
        keep = [False] * len(blocks)
    shown = "\n\n".join(b for b, k in zip(blocks, keep, strict=True) if k)
    notes = "\n\n".join(b for b, k in zip(blocks, keep, strict=True) if not k)
    return shown, notes


def words(markdown: str) -> int:
    """Words a reader sees in ``markdown`` (:func:`_word_count`): maths, code, links' targets and markup left out."""
    text = re.sub(r"```[\s\S]*?```|\$\$[\s\S]*?\$\$|\$[^$]+\$|`[^`]*`|<[^>]+>", " ", markdown)
    return _word_count(re.sub(r"\]\([^)]*\)", " ", text))


def _word_count(text: str) -> int:
    """Tokens that start with a letter: numbers in a table are read like a picture, not as words."""
    return len(re.findall(r"[^\W\d_][\w'’-]*", text))


def _gif_seconds(data: str) -> float:
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(base64.b64decode(data))) as gif:
        total = 0
        for frame in range(getattr(gif, "n_frames", 1)):
            gif.seek(frame)
            total += gif.info.get("duration", 100)
    return total / 1000


def slide_minutes(cell, mark: str) -> tuple[float, int]:
    """``(minutes, words on screen)`` of a one-cell slide, by the stated rule (:data:`PACE`).

    Every slide takes ``slide`` minutes to arrive and be named, plus its words on screen
    spoken and explained at ``words_per_minute``; a still picture ``picture``; code on
    screen ``code``; sliders ``sliders`` (a live interaction); an animation plays
    ``animation_plays`` times its own length (from its committed GIF) plus ``animation``.
    """
    minutes = PACE["slide"]
    shown_words = 0
    if cell.cell_type == "markdown":
        shown_words = words(shown_markdown(cell, mark)[0])
    else:
        live = live_kind(cell)
        if mark == "deck-code":
            minutes += PACE["code"]
        if live == "sliders":
            minutes += PACE["sliders"]
        elif live == "animation":
            gifs = [o["data"]["image/gif"] for o in cell.get("outputs", []) if "image/gif" in o.get("data", {})]
            gif = gifs[0] if gifs else None
            seconds = _gif_seconds(gif) if gif else 20.0
            minutes += PACE["animation_plays"] * seconds / 60 + PACE["animation"]
        elif any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            minutes += PACE["picture"]
        for out in cell.get("outputs", []):  # printed output is read out like words
            text = out.get("text", "") if out.get("output_type") == "stream" else ""
            shown_words += 0 if mark == "deck-code" else _word_count(text)
    return minutes + shown_words / PACE["words_per_minute"], shown_words


def marked_cut(nb) -> list[str]:
    """The slide type of every cell of a marked notebook: each marked cell a ``slide``;
    other markdown ``notes`` (of the slide before it), other code and the navigation ``skip``."""
    cut = []
    for cell in nb.cells:
        if mark_of(cell):
            cut.append("slide")
        elif cell.cell_type == "markdown" and NAV_TAG not in cell.get("metadata", {}).get("tags", []):
            cut.append("notes")
        else:
            cut.append("skip")
    return cut


def _hide(selector: str) -> dict:
    return {selector: {"display": "none !important"}}


def deck_styles() -> dict:
    """The notebook-level ``jupyterlab-fonts`` styles of a marked deck, in presenting mode only:
    projector typography (:data:`DECK_TYPE`), pictures no taller than the screen, code sources
    off the slides unless marked ``deck-code``, and each markdown mark's hidden parts."""
    t = DECK_TYPE
    tagged = "& .jp-Cell[data-jpf-cell-tags*='{}']"  # no commas: JSS splits a selector at them
    md = " .jp-RenderedMarkdown > "
    text = ":not(h1):not(h2):not(h3):not(h4):not(h5):not(h6)"  # every block but a heading
    rules = {
        "--jp-content-font-size1": f"{t['body']}px", "--jp-content-line-height": "1.45",
        "--jp-code-font-size": f"{t['code']}px", "--jp-code-line-height": "1.35",
        "--jp-widgets-font-size": f"{t['code']}px", "--jp-widgets-inline-height": "40px",
        "--jp-widgets-inline-label-width": "190px",
        "& .jp-RenderedHTMLCommon": {"font-size": f"{t['body']}px"},
        "& .jp-RenderedHTMLCommon table, & .jp-RenderedHTMLCommon td, & .jp-RenderedHTMLCommon th":
            {"font-size": f"{t['body']}px"},
        "& .jp-RenderedHTMLCommon kbd": {"font-size": "1em"},
        "& .jp-RenderedHTMLCommon mjx-container[display='true']": {"font-size": "92% !important"},  # over MathJax's own
        "& .jp-RenderedHTMLCommon h1": {"font-size": f"{t['h1']}px"},
        "& .jp-RenderedHTMLCommon h2": {"font-size": f"{t['h2']}px"},
        "& .jp-RenderedHTMLCommon h3": {"font-size": f"{t['h3']}px"},
        "& .jp-RenderedHTMLCommon h4": {"font-size": f"{t['h4']}px"},
        "& .jp-RenderedHTMLCommon code, & .jp-OutputArea-output pre, & .jp-OutputArea-output pre *":
            {"font-size": f"{t['code']}px"},
        # a long line of code wraps rather than scroll sideways off the screen
        "& .jp-OutputArea-output pre, & .jp-Cell .cm-content, & .jp-Cell .cm-line":
            {"white-space": "pre-wrap !important", "word-break": "break-word"},
        "& .jp-RenderedImage img, & .jp-RenderedHTMLCommon img.jp-needs-light-background":
            {"max-height": f"{PICTURE_MAX}px", "width": "auto", "max-width": "100%"},
        "& .jp-RenderedHTMLCommon img[id^='_anim_img']": {"max-height": f"{PLAYER_MAX}px", "width": "auto"},
        "& .jp-InputPrompt, & .jp-OutputPrompt, & .jp-Collapser": {"display": "none !important"},
        "& .jp-RenderedHTMLCommon a.jp-InternalAnchorLink": {"display": "none"},
        **_hide("& .jp-CodeCell:not([data-jpf-cell-tags*='deck-code']) .jp-Cell-inputWrapper"),
        **_hide(tagged.format("deck-head") + md + text),
        **_hide(tagged.format("deck-math") + md + text
                + ":not(mjx-container):not(p:has(> mjx-container[display='true']))"),
        **_hide(tagged.format("deck-lead") + md + text + " ~ " + text),  # a block after the first
    }
    return {"styles": {"": {PRESENTING: rules}}}


def _slide_styles(slides: list[str]) -> dict:
    """The rules that number the slides: a slide's number and a progress bar at the foot of
    the screen, on the cell (by id) that makes the slide; ``slides`` are those cells' ids."""
    cell = "& .jp-Cell[data-jpf-cell-id='{}']"
    rules = {
        "& .jp-Cell.jp-deck-mod-onscreen::after": {"position": "fixed", "right": "24px", "bottom": "12px",
                                                   "z-index": "10", "font-size": "22px", "opacity": "0.75"},
        "& .jp-Cell.jp-deck-mod-onscreen::before": {"position": "fixed", "left": "0", "bottom": "0", "height": "6px",
                                                    "z-index": "10", "background": "var(--jp-brand-color1)"},
    }
    for number, cell_id in enumerate(slides, 1):
        rules[cell.format(cell_id) + "::after"] = {"content": f"'{number} / {len(slides)}'"}
        rules[cell.format(cell_id) + "::before"] = {"content": "''", "width": f"{100 * number / len(slides):.1f}%"}
    return rules


def _title_styles(cell_id: str) -> dict:
    """The title slide: the notebook's title large and centred over the line that says which
    slides of the course it follows."""
    cell = f"& .jp-Cell[data-jpf-cell-id='{cell_id}'] .jp-RenderedHTMLCommon"
    return {f"{cell} h1": {"font-size": "72px", "margin-top": "150px", "text-align": "center"},
            f"{cell} p": {"text-align": "center", "font-size": "32px"}}


def with_marked_slides(nb):
    """``nb``'s deck from its marks (in place): the cut, and the deck's styles (notebook
    metadata, so a cell carries only its mark and its slide type)."""
    cut = marked_cut(nb)
    slides, first = [], None
    for cell, kind in zip(nb.cells, cut, strict=True):
        cell.metadata["slideshow"] = {"slide_type": kind}
        cell.metadata.pop(FONTS_KEY, None)
        if kind == "slide":
            slides.append(cell["id"])
            first = cell if first is None else first
    styles = deck_styles()
    rules = styles["styles"][""][PRESENTING]
    rules.update(_slide_styles(slides))
    if first is not None and _heading_level(first) == 1:
        rules.update(_title_styles(slides[0]))
    nb.metadata[FONTS_KEY] = styles
    return nb


def with_slides(nb):
    """``nb`` with its presentation cut written into each cell's metadata (in place): from its
    deck marks (:func:`with_marked_slides`), or, in a notebook with none yet, from its
    structure (:func:`presentation_cut`)."""
    if has_marks(nb):
        return with_marked_slides(nb)
    nb.metadata.pop(FONTS_KEY, None)
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
    estimated height in px before the zoom, "words": words on screen, "minutes": by the
    rule of :func:`slide_minutes`, "code": cells whose source is on the slide, "notes":
    the markdown the presenter has for it (the parts its marks leave out, and the notes
    cells after it)}``. In a notebook without marks every shown cell counts whole, its
    code source included (as the cut from structure shows it).
    """
    marked = has_marks(nb)
    slides: list[dict] = []
    for i, cell in enumerate(nb.cells):
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type") or CONTINUE
        if kind == "notes" and slides and cell.cell_type == "markdown":
            slides[-1]["notes"].append(cell.source)
        if kind in ("skip", "notes"):
            continue
        if kind in ("slide", "subslide") or not slides:
            slides.append({"index": i, "cells": [], "title": "", "live": "", "zoom": 1.0, "height": 0.0,
                           "words": 0, "minutes": PACE["slide"], "code": [], "notes": []})
        slide = slides[-1]
        slide["cells"].append(i)
        slide["height"] += cell_height(cell)
        mark = mark_of(cell) if marked else ("deck-code" if cell.cell_type == "code" else "deck")
        minutes, shown_words = slide_minutes(cell, mark)
        slide["minutes"] += minutes - PACE["slide"]
        slide["words"] += shown_words if cell.cell_type == "code" else 0
        if cell.cell_type == "markdown":
            shown, notes = shown_markdown(cell, mark)
            slide["words"] += words(shown)
            if notes:
                slide["notes"].append(notes)
            if not slide["title"] and NAV_TAG not in cell.metadata.get("tags", []):
                slide["title"] = (shown or cell.source).strip().splitlines()[0].lstrip("# ").strip()
        elif mark == "deck-code" and cell.source.strip():
            slide["code"].append(i)
        live = live_kind(cell)
        if live == "sliders" or (live and not slide["live"]):
            slide["live"] = live
        zoom = cell.get("metadata", {}).get(FONTS_KEY, {}).get("styles", {}).get("", {}).get(PRESENTING, {})
        if "zoom" in zoom:
            slide["zoom"] = min(slide["zoom"], float(zoom["zoom"].rstrip("%")) / 100)
    return slides


def deck_summary(folder: Path = NOTEBOOKS) -> list[dict]:
    """For each lesson (every notebook but the index): its slides, words on screen, minutes by
    the rule of :func:`slide_minutes`, its live slides, the slides over :data:`MAX_WORDS` words,
    how many words went to the speaker notes, and the slides too tall for the screen even zoomed out."""
    out = []
    for path in notebook_paths(folder):
        if path.name == INDEX:
            continue
        nb = _read(path)
        slides = deck(nb)
        live = [(n + 1, s["live"]) for n, s in enumerate(slides) if s["live"]]
        too_tall = [n + 1 for n, s in enumerate(slides) if s["height"] * s["zoom"] > SLIDE_BUDGET and not has_marks(nb)]
        out.append({"notebook": path.name, "slides": len(slides), "marked": has_marks(nb),
                    "words": sum(s["words"] for s in slides), "minutes": sum(s["minutes"] for s in slides),
                    "notes_words": sum(words(n) for s in slides for n in s["notes"]),
                    "wordy": [n + 1 for n, s in enumerate(slides) if s["words"] > MAX_WORDS], "live": live,
                    "zoomed": sum(1 for s in slides if s["zoom"] < 1), "too_tall": too_tall})
    return out


def print_deck_summary(folder: Path = NOTEBOOKS, too_tall: bool = False) -> None:
    """The table the index notebook prints: slides, words on screen, minutes by the rule and live
    slides of every deck (and, with ``too_tall``, what a deck still has to fix)."""
    rows = deck_summary(folder)
    print(f"{'deck':<28} {'slides':>6} {'words':>6} {'minutes':>8}   live slides (number: what)")
    for row in rows:
        live = ", ".join(f"{n}: {what}" for n, what in row["live"]) or "-"
        mark = "" if row["marked"] else "  (no marks yet: cut from structure)"
        print(f"{row['notebook']:<28} {row['slides']:>6} {row['words']:>6} {row['minutes']:>8.0f}   {live}{mark}")
    for row in rows if too_tall else []:
        for slide in row["too_tall"]:
            print(f"  {row['notebook']}: slide {slide} holds one cell too tall for a 1280 x 720 screen "
                  f"even at {MIN_ZOOM:.0%}: split that cell")
        for slide in row["wordy"]:
            print(f"  {row['notebook']}: slide {slide} shows more than {MAX_WORDS} words")
        if row["minutes"] > DECK_MINUTES:
            print(f"  {row['notebook']}: {row['minutes']:.0f} minutes, over {DECK_MINUTES}")
    total = sum(r["minutes"] for r in rows)
    print(f"{'all':<28} {sum(r['slides'] for r in rows):>6} {sum(r['words'] for r in rows):>6} {total:>8.0f}"
          f"   (about {total / 60:.1f} hours)")


def course_plan(folder: Path = NOTEBOOKS, budget: float = DECK_MINUTES) -> list[list[dict]]:
    """The lessons' decks, in order, packed into classes: a class takes the next decks while
    their minutes (:func:`slide_minutes`) add up to at most ``budget``; a deck longer than
    ``budget`` is a class of its own."""
    classes: list[list[dict]] = []
    for row in deck_summary(folder):
        if classes and sum(r["minutes"] for r in classes[-1]) + row["minutes"] <= budget:
            classes[-1].append(row)
        else:
            classes.append([row])
    return classes


def print_course_plan(class_minutes: int = 50, folder: Path = NOTEBOOKS) -> None:
    """The presenter's plan: which decks make which class of ``class_minutes``, with the
    minutes each deck takes by the rule (printed first) and the minutes to spare."""
    class_minutes = checks.integer("class_minutes", class_minutes, low=1)
    pace = PACE
    print(f"rule: {pace['slide']} min a slide + words on screen at {pace['words_per_minute']} a minute"
          f" + {pace['picture']} a picture + {pace['code']} code + {pace['sliders']} sliders"
          f" + an animation played {pace['animation_plays']} times + {pace['animation']}")
    print(f"{'class':>5}  {'decks':<8} {'slides':>6} {'minutes':>7} {'spare':>5}")
    for n, decks in enumerate(course_plan(folder, budget=min(DECK_MINUTES, class_minutes)), 1):
        minutes = sum(r["minutes"] for r in decks)
        names = " + ".join(r["notebook"][:2] for r in decks)
        unmarked = "  (not yet marked)" if not all(r["marked"] for r in decks) else ""
        print(f"{n:>5}  {names:<8} {sum(r['slides'] for r in decks):>6} {minutes:>7.0f} "
              f"{class_minutes - minutes:>5.0f}{unmarked}")


def notes_page(path: Path) -> str:
    """A deck's printable speaker notes, as one HTML page: for every slide its number, its
    title and what the presenter has for it (print it, or keep it open on a second screen)."""
    import html

    import mistune

    nb = nbformat.read(path, as_version=4)
    language = nb.metadata.get("kai_lib", {}).get("language", "en")  # the Korean edition's notebooks say "ko"
    words = NOTES_WORDS[language]
    slides = deck(nb)
    minutes = sum(s["minutes"] for s in slides)
    render = mistune.create_markdown(escape=False, plugins=["table"])
    parts = [f"<!doctype html><html lang='{language}'><meta charset='utf-8'>"
             f"<title>{html.escape(title_of(nb))}: {words['notes']}</title>",
             "<style>body{font:16px/1.45 sans-serif;max-width:46em;margin:2em auto}"
             "section{break-inside:avoid-page;border-top:1px solid #999;padding:.4em 0}"
             "h2{font-size:1.1em;margin:.3em 0}.n{color:#555}</style>",
             f"<h1>{html.escape(title_of(nb))}: {words['notes']}</h1>",
             f"<p>{words['length'].format(slides=len(slides), minutes=minutes)} ({path.name}).</p>"]
    for n, slide in enumerate(slides, 1):
        body = "".join(render(note) for note in slide["notes"]) or f"<p class='n'>{words['nothing']}</p>"
        parts.append(f"<section><h2><span class='n'>{n} / {len(slides)} · {slide['minutes']:.1f} {words['min']} ·"
                     f"</span> {html.escape(slide['title'] or words['cell'] + ' ' + str(slide['index'] + 1))}"
                     f"</h2>{body}</section>")
    return "\n".join(parts)


#: The notes page's own words, in each edition's language.
NOTES_WORDS = {
    "en": {"notes": "speaker notes", "length": "{slides} slides, about {minutes:.0f} minutes", "min": "min",
           "nothing": "(the slide says it)", "cell": "cell"},
    "ko": {"notes": "발표자 노트", "length": "슬라이드 {slides}장, 약 {minutes:.0f}분", "min": "분",
           "nothing": "(슬라이드에 다 있습니다)", "cell": "셀"},
}


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
                    f"cell.metadata.slideshow cell.metadata.{FONTS_KEY} metadata.{FONTS_KEY}", str(path)], check=True)


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
    nt = sub.add_parser("notes", help="write each deck's printable speaker notes to build/notes/NN-name.html")
    nt.add_argument("only", nargs="*", help="notebook numbers or names, e.g. 03 04-nag")
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
    if command == "notes":  # the Korean edition's decks too, into build/notes/ko/
        for path in paths + [p for p in (NOTEBOOKS / "ko" / q.name for q in paths) if p.exists()]:
            out = ROOT / "build" / "notes" / path.relative_to(NOTEBOOKS).with_suffix(".html")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(notes_page(path))
            print(f"speaker notes: {out.relative_to(ROOT)}")
        return 0
    for path in update_navigation(only=paths):
        print(f"navigation updated: {path.name}")
    if command == "execute":
        update_slides(only=paths)  # the index prints every deck's size: cut them all first, run it last
        index = NOTEBOOKS / INDEX
        if index.exists() and index not in paths:  # a notebook's deck may have changed size: the index says it
            paths = [*paths, index]
        for path in sorted(paths, key=lambda p: p.name == INDEX):
            seconds = execute(path)
            print(f"{path.name}: {seconds:.1f} s, {path.stat().st_size / 1024:.0f} KiB", flush=True)
        from . import i18n  # the Korean twins take the new outputs (i18n builds on this module: imported here)

        for name, counts in i18n.build([p.stem for p in paths]).items():
            print(f"ko/{name}.ipynb: {counts['translated']} units in Korean, {counts['english']} still in English")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
