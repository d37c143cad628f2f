"""The notebook collection as committed: template, navigation, size, clean outputs.

nbval runs the notebooks themselves (make test); these tests read the files.
"""

import base64
import json
import re

import nbformat
import pytest

from kai_lib import notebooks as nbtools

PATHS = nbtools.notebook_paths()
ALGORITHMS = [p for p in PATHS if re.match(r"0[1-8]-", p.name)]
TEMPLATE = ["The idea", "The update rule", "The code", "Watch it move", "Try it", "Key points", "In practice",
            "Summary", "Exercises"]
EXPECTED = ["00-index", "01-gradient-descent", "02-sgd-minibatch", "03-momentum", "04-nag", "05-adagrad",
            "06-rmsprop", "07-adadelta", "08-adam", "09-comparison", "10-neural-network"]


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
    assert len(raw) < 1_000_000, f"{path.name} is {len(raw) // 1024} KiB: animations must be committed as GIFs"
    doc = json.loads(raw)
    assert "widgets" not in doc["metadata"], f"{path.name} carries widget state: run make notebooks"
    for cell in doc["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            assert "animation" not in data.get("text/html", "") or "<img" in data.get("text/html", ""), (
                f"{path.name}: a jshtml player was committed; make notebooks commits GIFs")
            if "image/gif" in data:
                size = len(base64.b64decode(data["image/gif"]))
                assert size <= 300 * 1024, f"{path.name}: a GIF of {size // 1024} KiB (limit 300)"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_navigation_is_first_and_last_and_up_to_date(path):
    nb = read(path)
    titles = [nbtools.title_of(read(p)) for p in PATHS]
    expected = nbtools.nav_source(PATHS, PATHS.index(path), titles)
    for cell in (nb.cells[0], nb.cells[-1]):
        assert nbtools.NAV_TAG in cell.metadata.get("tags", []), f"{path.name}: run python -m kai_lib.notebooks nav"
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
    assert "explore(" in code and "show(" in code, f"{path.name} needs sliders (explore) and an animation (show)"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_unrepeatable_outputs_are_marked_for_nbval(path):
    for cell in read(path).cells:
        if cell.cell_type == "code" and re.search(r"(?<![\w.])(show|explore)\(", cell.source):
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
