"""The deck marks: what a slide shows is marked in the notebook, the deck is derived from the marks."""

from __future__ import annotations

import base64
import io

import nbformat
import pytest
from PIL import Image

from kai_lib.tools import nbtools

md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
LESSONS = [p for p in nbtools.notebook_paths() if p.name != nbtools.INDEX]


def marked(cell, mark):
    cell.metadata["tags"] = [*cell.metadata.get("tags", []), mark]
    return cell


def png(width=400, height=300) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def lesson():
    """A small lesson in the template's shape, marked as a deck."""
    picture = code("plot(run(opt))")
    picture.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png(), "text/plain": "<Figure>"})]
    printed = code("print(inspect.getsource(opt.step))")
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="def step(self, theta, grad):\n    ...\n")]
    cells = [md("<!--NAVIGATION-->\nContents"),
             marked(md("# Momentum\n\nFollows the slides **Momentum**.\n\nA second paragraph for the reader."),
                    "deck-lead"),
             code("import numpy as np"),
             marked(md("## The idea\n\nA long paragraph only a reader needs, with many words in it."), "deck-head"),
             md("More prose for the notes."),
             marked(picture, "deck"),
             marked(md("## The update rule\n\nIn words first.\n\n$$v_t = \\gamma v_{t-1} + \\eta g_t$$\n\nThen more."),
                    "deck-math"),
             marked(printed, "deck-code"),
             md("## Exercises\n\n1. Try."),
             md("<!--NAVIGATION-->\nContents")]
    cells[0].metadata["tags"] = cells[-1].metadata["tags"] = [nbtools.NAV_TAG]
    for i, cell in enumerate(cells):
        cell["id"] = str(i)
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    return nb


def test_each_marked_cell_is_a_slide_the_rest_notes_or_skipped():
    nb = lesson()
    assert nbtools.has_marks(nb)
    assert nbtools.marked_cut(nb) == ["skip", "slide", "skip", "slide", "notes", "slide", "slide", "slide",
                                      "notes", "skip"]
    nbtools.with_slides(nb)
    assert [c.metadata["slideshow"]["slide_type"] for c in nb.cells] == nbtools.marked_cut(nb)


def test_a_mark_shows_its_part_and_sends_the_rest_to_the_notes():
    nb = lesson()
    assert nbtools.shown_markdown(nb.cells[1]) == ("# Momentum\n\nFollows the slides **Momentum**.",
                                                   "A second paragraph for the reader.")
    shown, notes = nbtools.shown_markdown(nb.cells[3])
    assert shown == "## The idea" and notes.startswith("A long paragraph")
    shown, notes = nbtools.shown_markdown(nb.cells[6])
    assert shown == "## The update rule\n\n$$v_t = \\gamma v_{t-1} + \\eta g_t$$"
    assert notes == "In words first.\n\nThen more."
    assert nbtools.shown_markdown(md("no mark")) == ("", "no mark")


def test_the_deck_keeps_the_notes_the_words_and_the_code_of_each_slide():
    slides = nbtools.deck(nbtools.with_slides(lesson()))
    assert [s["index"] for s in slides] == [1, 3, 5, 6, 7]
    assert [s["title"] for s in slides] == ["Momentum", "The idea", "", "The update rule", ""]
    assert slides[0]["words"] == 5 and slides[0]["notes"] == ["A second paragraph for the reader."]
    assert slides[1]["notes"][0].startswith("A long paragraph") and slides[1]["notes"][1] == "More prose for the notes."
    assert slides[4]["notes"] == ["## Exercises\n\n1. Try."]  # the exercises: notes of the slide before
    assert [s["code"] for s in slides] == [[], [], [], [], [7]]  # only deck-code puts a source on a slide
    assert slides[4]["words"] == 0  # printed source is code, not words


def test_minutes_follow_the_stated_rule():
    slides = nbtools.deck(nbtools.with_slides(lesson()))
    pace = nbtools.PACE
    assert slides[2]["minutes"] == pytest.approx(pace["slide"] + pace["picture"])
    assert slides[4]["minutes"] == pytest.approx(pace["slide"] + pace["code"])
    assert slides[0]["minutes"] == pytest.approx(pace["slide"] + 5 / pace["words_per_minute"])


def test_words_leave_out_maths_code_numbers_and_link_targets():
    # "See the slides and and": maths, code, numbers and the link target are not words
    assert nbtools.words("See [the slides](00-index.ipynb): $x^2$ and `run(opt)`, 0.9 and 22.") == 5
    assert nbtools.words("$$\\theta \\leftarrow \\theta - \\eta g$$") == 0


def test_one_mark_per_cell():
    cell = marked(marked(md("## Two"), "deck"), "deck-head")
    with pytest.raises(ValueError, match="one deck mark per cell.*allowed"):
        nbtools.mark_of(cell)


def test_a_notebook_without_marks_falls_back_to_the_cut_from_structure():
    nb = lesson()
    for cell in nb.cells:
        cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t not in nbtools.MARKS]
    nb.metadata[nbtools.FONTS_KEY] = {"styles": {}}
    nbtools.with_slides(nb)
    assert [c.metadata["slideshow"]["slide_type"] for c in nb.cells] == [k for k, _ in nbtools.presentation_cut(nb)]
    assert nbtools.FONTS_KEY not in nb.metadata


def test_the_deck_styles_number_every_slide_and_size_the_type_for_a_projector():
    nb = nbtools.with_slides(lesson())
    rules = nb.metadata[nbtools.FONTS_KEY]["styles"][""][nbtools.PRESENTING]
    numbers = [v["content"] for k, v in rules.items() if k.endswith("']::after")]
    assert numbers == [f"'{n} / 5'" for n in range(1, 6)]
    assert rules["--jp-content-font-size1"] == "28px" and rules["--jp-code-font-size"] == "22px"
    assert rules["& .jp-RenderedHTMLCommon table, & .jp-RenderedHTMLCommon td, & .jp-RenderedHTMLCommon th"] == \
        {"font-size": "28px"}
    assert "& .jp-Cell[data-jpf-cell-id='1'] .jp-RenderedHTMLCommon h1" in rules  # the title slide
    assert not any(nbtools.FONTS_KEY in c.metadata for c in nb.cells)  # cells carry only mark and type


def test_the_deck_survives_nbstripout(tmp_path):
    nb = nbtools.with_slides(lesson())
    path = tmp_path / "01-x.ipynb"
    nbformat.write(nb, path)
    nbtools.clean(path)
    again = nbformat.read(path, as_version=4)
    assert again.metadata[nbtools.FONTS_KEY] == nb.metadata[nbtools.FONTS_KEY]
    assert [c.metadata.get("tags") for c in again.cells] == [c.metadata.get("tags") for c in nb.cells]
    assert nbtools.deck(again) == nbtools.deck(nb)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_deck_fits_a_class_and_shows_one_idea_a_slide(path):
    nb = nbformat.read(path, as_version=4)
    if not nbtools.has_marks(nb):
        pytest.skip(f"{path.name} has no deck marks yet: its deck is cut from its structure")
    slides = nbtools.deck(nb)
    assert sum(s["minutes"] for s in slides) <= nbtools.DECK_MINUTES
    wordy = [(n, s["words"]) for n, s in enumerate(slides, 1) if s["words"] > nbtools.MAX_WORDS]
    assert not wordy, f"{path.name}: slides over {nbtools.MAX_WORDS} words: {wordy}"
    for cell in nb.cells:
        if nbtools.mark_of(cell) == "deck-code":
            assert "NBVAL" not in cell.source, f"{path.name}: a test marker on a slide:\n{cell.source}"
    assert nbtools.with_slides(nbformat.read(path, as_version=4)) == nb, f"{path.name}: run nbtools slides"
