"""The notebook collection as committed: template, navigation, size, clean outputs.

nbval runs the notebooks themselves (make test); these tests read the files.
"""

import base64
import json
import re

import nbformat
import pytest

from kai_lib.tools import nbtools as nbtools

PATHS = nbtools.notebook_paths()
#: The notebooks that teach one method in the template: 01-08, the network (10, whose update
#: rule is backpropagation's gradient fed to the slides' rules), the second-order methods (11) and
#: the methods after Adam (12).
ALGORITHMS = [p for p in PATHS if re.match(r"(0[1-8]|1[012])-", p.name)]
TEMPLATE = ["The idea", "The update rule", "The code", "Watch it move", "Try it", "Key points", "In practice",
            "Summary", "Exercises"]
EXPECTED = ["00-index", "01-gradient-descent", "02-sgd-minibatch", "03-momentum", "04-nag", "05-adagrad",
            "06-rmsprop", "07-adadelta", "08-adam", "09-comparison", "10-neural-network",
            "11-second-order", "12-after-adam"]


def read(path):
    return nbformat.read(path, as_version=4)


def headings(nb, level=2):
    marks = "#" * level
    return [m.group(1).strip() for c in nb.cells if c.cell_type == "markdown"
            for m in re.finditer(rf"^{marks} (.+)$", c.source, flags=re.M)]


def test_the_collection_is_named_as_designed():
    names = [p.stem for p in PATHS]
    assert names == [n for n in EXPECTED if n in names]  # in order, and nothing unexpected
    assert not names or "00-index" in names


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_size_and_clean_outputs(path):
    raw = path.read_bytes()
    assert len(raw) < 2_000_000, f"{path.name} is {len(raw) // 1024} KiB (limit 2 MB): commit animations as GIFs"
    doc = json.loads(raw)
    assert "widgets" not in doc["metadata"], f"{path.name} carries widget state: run make notebooks"
    for cell in doc["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            assert "animation" not in data.get("text/html", "") or "<img" in data.get("text/html", ""), (
                f"{path.name}: a jshtml player was committed; make notebooks commits GIFs")
            if "image/gif" in data:
                size = len(base64.b64decode(data["image/gif"]))
                assert size <= 400 * 1024, f"{path.name}: a GIF of {size // 1024} KiB (limit 400)"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_navigation_is_first_and_last_and_up_to_date(path):
    nb = read(path)
    titles = [nbtools.title_of(read(p)) for p in PATHS]
    expected = nbtools.nav_source(PATHS, PATHS.index(path), titles, nbtools.english_switch(path))
    for cell in (nb.cells[0], nb.cells[-1]):
        assert nbtools.NAV_TAG in cell.metadata.get("tags", []), f"{path.name}: run python -m kai_lib.tools.nbtools nav"
        assert cell.source == expected
    assert nbtools.title_of(nb), f"{path.name} has no H1 title"
    assert nb.cells[1].cell_type == "markdown" and nb.cells[1].source.startswith("# ")


def test_navigation_links_the_index_once():
    titles = [nbtools.title_of(read(p)) for p in PATHS]
    for i, path in enumerate(PATHS):
        source = nbtools.nav_source(PATHS, i, titles)
        expected = 0 if path.name == nbtools.INDEX else 1
        assert source.count(f"({nbtools.INDEX})") == expected, f"{path.name}: {source}"
    first = nbtools.nav_source(PATHS, 1, titles)  # the notebook after the index: Contents, then next
    assert first.splitlines()[1].startswith("[Contents]"), first


@pytest.mark.parametrize("path", ALGORITHMS, ids=lambda p: p.name)
def test_algorithm_notebooks_follow_the_template(path):
    nb = read(path)
    found = headings(nb)
    positions = []
    for section in TEMPLATE:
        hits = [i for i, h in enumerate(found) if h.lower().startswith(section.lower())]
        assert hits, f"{path.name} has no '## {section}' section (sections: {found})"
        positions.append(hits[0])
    assert positions == sorted(positions), f"{path.name}: sections out of order: {found}"
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "inspect.getsource" in code, f"{path.name} must show kai_lib's code with inspect.getsource"
    live = {nbtools.live_kind(c) for c in nb.cells}
    assert {"sliders", "animation"} <= live, f"{path.name} needs sliders (explore...) and an animation (show): {live}"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_unrepeatable_outputs_are_marked_for_nbval(path):
    for cell in read(path).cells:
        if displays_live(cell):
            assert "NBVAL_IGNORE_OUTPUT" in cell.source, f"{path.name}: needs # NBVAL_IGNORE_OUTPUT:\n{cell.source}"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_notebooks_were_executed_and_have_no_errors(path):
    for cell in read(path).cells:
        if cell.cell_type == "code" and cell.source.strip():
            assert cell.execution_count is not None, f"{path.name}: unexecuted cell (run make notebooks)"
            assert all(o.output_type != "error" for o in cell.outputs), f"{path.name}: an error output"


def test_index_links_every_notebook():
    if not PATHS:
        pytest.skip("no notebooks yet")
    index = "\n".join(c.source for c in read(PATHS[0]).cells[1:-1])
    for path in PATHS[1:]:
        assert f"({path.name})" in index, f"00-index does not link {path.name}"


def test_executed_output_is_made_repeatable():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1); print(2); w")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="1\n"),
        nbformat.v4.new_output("stream", name="stdout", text="2\n"),
        nbformat.v4.new_output("display_data", data={
            "application/vnd.jupyter.widget-view+json": {"model_id": "3f2a9c", "version_major": 2},
            "text/plain": "HBox()"}),
    ]
    nb.cells = [cell]
    out = nbtools._repeatable(nb, "03-momentum").cells[0].outputs
    assert [o.output_type for o in out] == ["stream", "display_data"]
    assert out[0].text == "1\n2\n"
    assert out[1].data["application/vnd.jupyter.widget-view+json"]["model_id"] == "03-momentum-widget-1"


# --- the presentation cut ---------------------------------------------------------------------


def slide_types(nb):
    return [c.get("metadata", {}).get("slideshow", {}).get("slide_type") for c in nb.cells]


def displays_live(cell) -> bool:
    """A cell that shows a widget or an animation, read from its outputs and its calls,
    independently of :func:`kai_lib.tools.nbtools.live_kind`: a widget view, a GIF or a jshtml
    player stored, or kai_lib's ``show(`` or any ``explore...(`` called (not ``plt.show()``)."""
    if cell.cell_type != "code":
        return False
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "application/vnd.jupyter.widget-view+json" in data or "image/gif" in data:
            return True
        if "_anim_img" in data.get("text/html", ""):
            return True
    code = "\n".join(line.split("#", 1)[0] for line in cell.source.splitlines())
    return bool(re.search(r"(?<![\w.])show\(|(?<![\w])explore\w*\(", code))


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_every_notebook_has_a_presentation_cut(path):
    nb = read(path)
    kinds = slide_types(nb)
    missing = [i for i, k in enumerate(kinds) if k not in nbtools.SLIDE_TYPES]
    assert not missing, f"{path.name}: cells {missing} have no slide_type: run python -m kai_lib.tools.nbtools slides"
    shown = [k for k in kinds if k not in ("skip", "notes")]
    assert shown and shown[0] == "slide", f"{path.name}: the first cell shown must start a slide"
    slides = nbtools.deck(nb)
    on_slide = {i: s for s in slides for i in s["cells"]}
    for i, (cell, kind) in enumerate(zip(nb.cells, kinds, strict=True)):
        if displays_live(cell):  # every animation and every widget: a slide of its own, marked live
            assert kind == "slide", f"{path.name}: a live cell is {kind!r}, not a slide of its own:\n{cell.source}"
            assert nbtools.live_kind(cell), f"{path.name}: the cut does not see this cell as live:\n{cell.source}"
            assert on_slide[i]["live"], f"{path.name}: the slide of this cell is not marked live:\n{cell.source}"
    if path in ALGORITHMS:
        assert len(slides) >= 8, f"{path.name}: {len(slides)} slides"
        live = {s["live"] for s in slides}
        assert {"animation", "sliders"} <= live, f"{path.name}: no animation or sliders slide ({live})"
    assert nbtools.with_slides(read(path)).cells == nb.cells, f"{path.name}: cut is stale: run ... notebooks slides"


def test_the_cut_follows_the_template():
    nb = nbformat.v4.new_notebook()
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [md("<!--NAVIGATION-->\nContents"), md("# Title\n\nFollows the slide."), code("import numpy as np"),
             md("## The idea\n\nText."), code("print(1)"), md("## Watch it move"), code("show(animate(s, t))"),
             md("What to look for."), md("## Try it"), code("# NBVAL_IGNORE_OUTPUT\nexplore(opt, s)"),
             md("## Key points"), md("### 1. First point\n\ntext"), md("### 2. Second point"),
             md("long prose\n\n" + "a line of prose\n\n" * 40), md("## Exercises\n\n1. Try."),
             md("<!--NAVIGATION-->\nContents")]
    cells[0].metadata["tags"] = cells[-1].metadata["tags"] = [nbtools.NAV_TAG]
    for c in cells:
        if c.cell_type == "code" and "import" not in c.source:
            c.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells = cells
    kinds = [k for k, _ in nbtools.presentation_cut(nb)]
    assert kinds == ["slide", "", "skip", "slide", "", "slide", "slide", "slide", "slide", "slide", "slide", "",
                     "slide", "notes", "notes", "skip"]
    slides = nbtools.deck(nbtools.with_slides(nb))
    assert [s["live"] for s in slides] == ["", "", "", "animation", "", "", "sliders", "", ""]
    assert slides[0]["title"] == "# Title".lstrip("# ")


def test_a_cell_too_tall_for_a_slide_is_zoomed_out():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_markdown_cell("## Long\n\n" + "x\n\n" * 25)]
    (_, z0), (kind, zoom) = nbtools.presentation_cut(nb)
    assert z0 == 1.0 and kind == "slide" and nbtools.MIN_ZOOM <= zoom < 1
    cell = nbtools.with_slides(nb).cells[1]
    assert cell.metadata[nbtools.FONTS_KEY]["styles"][""][nbtools.PRESENTING] == {"zoom": f"{round(100 * zoom)}%"}


def test_the_cut_is_idempotent_and_survives_nbstripout(tmp_path):
    src = PATHS[1] if len(PATHS) > 1 else PATHS[0]
    nb = nbtools.with_slides(read(src))
    once = nbformat.writes(nb)
    assert nbformat.writes(nbtools.with_slides(nbformat.reads(once, as_version=4))) == once
    path = tmp_path / src.name
    noisy = nbformat.reads(once, as_version=4)
    noisy.cells[0].metadata["collapsed"] = True  # metadata noise nbstripout drops
    nbformat.write(noisy, path)
    nbtools.clean(path)  # what make notebooks runs after each notebook
    assert "collapsed" not in read(path).cells[0].metadata
    assert slide_types(read(path)) == slide_types(nb)
    zooms = [c.metadata.get(nbtools.FONTS_KEY) for c in nb.cells]
    assert [c.metadata.get(nbtools.FONTS_KEY) for c in read(path).cells] == zooms


def test_live_cells_are_read_from_what_they_display():
    code, out = nbformat.v4.new_code_cell, nbformat.v4.new_output
    widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "m", "version_major": 2}, "text/plain": "HBox()"}
    cases = {
        "explore(optimizers.SGD, surfaces.BEALE)": "sliders",
        "explore_basins(optimizers.Momentum, surfaces.HIMMELBLAU)": "sliders",
        "w = moons.explore()\nw": "sliders",
        "# NBVAL_IGNORE_OUTPUT\nexplore_second_order(surfaces.BEALE)": "sliders",
        "show(animate(s, trajs))": "animation",
        "show(moons.animate_boundaries(RUNS))": "animation",
        "fig.tight_layout()\nplt.show()": "",
        "plot(run(opt))  # explore(opt) would show sliders": "",  # a comment calls nothing
        "explorer = 1": "",
    }
    for source, kind in cases.items():
        got = nbtools.live_kind(code(source))
        assert got == kind, (source, got)
    shown = code("w")  # what the cell displays decides, whatever its code says
    shown.outputs = [out("display_data", data=widget)]
    assert nbtools.live_kind(shown) == "sliders"
    gif = code("display(player)")
    gif.outputs = [out("display_data", data={"image/gif": "R0lGODlh", "text/plain": "<GIF>"})]
    assert nbtools.live_kind(gif) == "animation"
    still = code("plt.show()")
    still.outputs = [out("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})]
    assert nbtools.live_kind(still) == "" and nbtools.live_kind(nbformat.v4.new_markdown_cell("explore(x)")) == ""


# --- the tooling refuses what it cannot do (reliability, family 3.12) -------------------------------

@pytest.mark.parametrize("only", [[""], ["03", "99"], ["  "]])
def test_a_selection_that_matches_nothing_is_an_error_not_everything(only, capsys):
    with pytest.raises(SystemExit) as exit_:
        nbtools.main(["slides", *only])
    assert exit_.value.code == 2
    assert "error: no notebook matches" in capsys.readouterr().err


def test_a_malformed_notebook_is_named_and_a_missing_h1_falls_back_to_the_file_name(tmp_path):
    good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# One")])
    untitled = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("no title here")])
    nbformat.write(good, tmp_path / "01-one.ipynb")
    nbformat.write(untitled, tmp_path / "02-two.ipynb")
    nbtools.update_navigation(folder=tmp_path)
    first = nbformat.read(tmp_path / "01-one.ipynb", as_version=4)
    assert "[02-two](02-two.ipynb) >" in first.cells[0].source
    (tmp_path / "03-broken.ipynb").write_text("{not json")
    with pytest.raises(ValueError, match="^03-broken.ipynb is not a readable notebook"):
        nbtools.update_navigation(folder=tmp_path)


def test_importing_the_benchmark_leaves_the_matplotlib_backend_alone():
    import subprocess
    import sys
    code = ("import matplotlib; matplotlib.use('svg'); import kai_lib.tools.bench; "
            "print(matplotlib.get_backend())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "svg"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_no_notebook_paints_with_a_colour_the_palette_owns(path):
    """An optimizer's colour comes from color_for / shades, never copied as a hex code, and matplotlib's
    "C0".."C9" are not used: one palette, one meaning (kai_lib.pictures.plotting)."""
    from kai_lib import COLORS

    owned = {c.lower() for c in COLORS.values()}
    for i, cell in enumerate(read(path).cells):
        if cell.cell_type != "code":
            continue
        hexes = {h.lower() for h in re.findall(r"#[0-9a-fA-F]{6}\b", cell.source)}
        assert not hexes & owned, f"{path.name} cell {i}: {sorted(hexes & owned)}: use color_for(...) or shades(...)"
        assert not re.search(r"""["']C\d["']""", cell.source), f"{path.name} cell {i}: a 'C0'..'C9' colour"
