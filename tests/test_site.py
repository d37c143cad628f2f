"""The reading edition, checked in a real browser: ``make site`` and ``make handouts`` as a reader meets them.

The site is built from ``notebooks/`` into a temporary folder (``kai_lib.tools.site.build``),
served on 127.0.0.1 and opened in Debian's Chromium driven by Playwright, with the launch
options the browser checks share (``kai_lib.tools.site.CHROMIUM_FLAGS``: every host name but
the loopback address fails to resolve). On top of that every request goes through a route
that lets only 127.0.0.1 through and records anything else, so a page that tries to reach
another host fails its test even where DNS would have answered. For every page:

- zero requests to any other host, zero failed requests, zero HTTP errors;
- the maths typeset by MathJax (every ``.math`` element holds MathJax's rendering, no raw
  ``$$``, ``\\(`` or ``\\[`` left in the text);
- every picture decoded with a non-zero size, as many as the notebook has image outputs
  (each widget as its still PNG, each animation as its GIF), and the line saying that the
  live version runs in JupyterLab.

Then: search finds "bias correction" on notebook 08's page; the download button saves
notebook 08's ``.ipynb`` byte for byte; a handout PDF has as many pages as its printed layout
needs and every picture of the page. The Korean edition (``notebooks/ko/``) is the second book,
``ko/``: every Korean page passes the same checks, each page's language switch lands on its twin,
and Korean search finds 편향 보정 on the Adam page (the switch's mechanics are also checked with a
tiny fake twin in a temporary folder). Screenshots of three pages go to ``build/screenshots/site-*.png``.
Skipped with one line where Playwright or Chromium is missing, as ``test_browser.py`` is.
"""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from kai_lib.tools import site as reading

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
SCREENSHOTS = ROOT / "build" / "screenshots"
KOREAN = sorted((ROOT / "notebooks" / "ko").glob("[0-9][0-9]-*.ipynb"))
SHOTS = {"08-adam": "site-08-adam.png", "09-comparison": "site-09-comparison.png",
         "gallery": "site-gallery.png", "ko/08-adam": "site-ko-08-adam.png", "ko/gallery": "site-ko-gallery.png"}
VIEWPORT = {"width": 1280, "height": 900}
# MathJax 2 detects that a web font has loaded by measuring a font whose source is about:blank:
# an in-browser probe that never reaches the network, so it is not a failed request
NOT_NETWORK = ("about:", "data:", "blob:")

if sync_playwright is None:
    pytest.skip("site check skipped: Playwright is not installed (pip install -r requirements.txt)",
                allow_module_level=True)
if reading.CHROMIUM is None:
    pytest.skip("site check skipped: no Chromium at /usr/bin/chromium; enable it with "
                "`sudo apt-get install chromium` (Debian/Ubuntu)", allow_module_level=True)


class Reader:
    """One browser tab on a served site, with every request watched."""

    def __init__(self, page, base: str):
        self.page, self.base = page, base
        self.foreign: list[str] = []
        self.failed: list[str] = []

        def guard(route):
            if urlparse(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                self.foreign.append(route.request.url)
                route.abort()

        page.route("**/*", guard)
        page.on("requestfailed", lambda r: r.url.startswith(NOT_NETWORK)
                or self.failed.append(f"{r.url}: {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url}: HTTP {r.status}"))

    def open(self, path: str) -> None:
        self.foreign.clear()
        self.failed.clear()
        self.page.goto(f"{self.base}/{path}", wait_until="load")
        self.settle()

    def settle(self) -> None:
        """Wait until the page is loaded, typeset and quiet (MathJax loads its fonts after typesetting),
        so that leaving it aborts nothing."""
        self.page.wait_for_load_state("load")
        reading.wait_for_maths(self.page)
        self.page.wait_for_load_state("networkidle")

    def requests_ok(self) -> list[str]:
        return ([f"request to another host: {url}" for url in self.foreign]
                + [f"failed request: {what}" for what in self.failed])


def _reader(pw, base: str) -> Reader:
    browser = pw.chromium.launch(executable_path=reading.CHROMIUM, args=reading.CHROMIUM_FLAGS)
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    return Reader(context.new_page(), base)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("reading-edition")
    start = time.perf_counter()
    pages = reading.build(ROOT / "notebooks", work / "site", work=work)
    print(f"\nsite built in {time.perf_counter() - start:.1f} s: {sum(map(len, pages.values()))} pages")
    return work / "site", pages


@pytest.fixture(scope="module")
def pw():
    with sync_playwright() as playwright:  # one per module: the sync API cannot nest
        yield playwright


@pytest.fixture(scope="module")
def reader(built, pw):
    site, _ = built
    with reading.serve(site) as base:
        yield _reader(pw, base)


def test_the_site_has_every_notebook_in_order_and_the_gallery(built):
    site, pages = built
    assert list(pages) == ["en", "ko"]
    assert pages["en"] == [p.stem for p in NOTEBOOKS] + ["gallery"]
    assert pages["ko"] == [p.stem for p in KOREAN] + ["gallery"] == pages["en"]
    toc = json.loads((site.parent / "book" / "_toc.yml").read_text())
    assert [toc["root"]] + [c["file"] for c in toc["chapters"]] == pages["en"]
    for name in pages["en"]:
        assert (site / f"{name}.html").is_file(), name
    # the sidebar lists them in that order, and previous / next walk through it
    sidebar = (site / "03-momentum.html").read_text()
    hrefs = ["03-momentum.html" if h == "#" else h for h in _hrefs(sidebar, "bd-sidenav")]
    assert hrefs == [f"{name}.html" for name in pages["en"][1:]]
    assert 'class="left-prev"' in sidebar and 'href="02-sgd-minibatch.html"' in sidebar
    assert 'class="right-next"' in sidebar and 'href="04-nag.html"' in sidebar
    # every page of either edition switches to its twin (the site's switch: the navigation cells'
    # own, which would link an .ipynb, is left out); no MathJax and no fonts from a CDN in any page
    for name in pages["en"]:
        english, korean = (site / f"{name}.html").read_text(), (site / "ko" / f"{name}.html").read_text()
        assert f'class="kai-lang-switch"><a href="ko/{name}.html"' in english, name
        assert f'class="kai-lang-switch"><a href="../{name}.html"' in korean, name
        assert ".ipynb" not in "".join(re.findall(r'href="([^"]*)"', english + korean)).replace(
            f"_sources/{name}.ipynb", ""), name
        assert '<html lang="ko"' in korean and reading.TITLES["ko"] in korean, name
    for page in site.rglob("*.html"):
        text = page.read_text()
        for cdn in ("cdn.jsdelivr.net", "unpkg.com", "fonts.googleapis", "cdnjs", "googletagmanager"):
            assert cdn not in text, (page, cdn)


def _hrefs(html_text: str, container_class: str) -> list[str]:
    start = html_text.index(container_class)
    end = html_text.index("</ul>", start)
    return re.findall(r'href="([^"]*)"', html_text[start:end])


def _image_outputs(notebook: Path) -> tuple[int, int]:
    """(pictures, of which GIFs) that a notebook's outputs show in the reading edition."""
    pictures = gifs = 0
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/gif" in data:
                pictures, gifs = pictures + 1, gifs + 1
            elif "image/png" in data:
                pictures += 1
    return pictures, gifs


@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS] + ["gallery"]
                         + [f"ko/{p.stem}" for p in KOREAN] + ["ko/gallery"])
def test_page_reads_offline_with_maths_and_pictures(reader, name):
    reader.open(f"{name}.html")
    page = reader.page
    problems = reader.requests_ok()
    state = page.evaluate("""() => {
        const article = document.querySelector('article.bd-article');
        const text = article.cloneNode(true);
        text.querySelectorAll('pre, code, script, .MathJax, .MathJax_Display, .MJX_Assistive_MathML')
            .forEach(e => e.remove());
        const maths = [...article.querySelectorAll('span.math.notranslate, div.math.notranslate')];
        return {
            maths: maths.length,
            untypeset: maths.filter(m => !m.querySelector('.MathJax, .MathJax_Display'))
                            .map(m => m.textContent.slice(0, 60)),
            raw: (text.textContent.match(/\\$\\$|\\\\\\(|\\\\\\[/g) || []).length,
            outputs: [...article.querySelectorAll('.cell_output img')].map(i => i.getAttribute('src')),
            note: !!article.querySelector('.kai-live-note'),
            // MathJax_Blank is MathJax 2's about:blank probe (NOT_NETWORK); any other font must load
            brokenFonts: [...document.fonts].filter(f => f.status === 'error' && f.family !== 'MathJax_Blank')
                                            .map(f => f.family),
        };
    }""")
    images = page.evaluate("""async () => Promise.all([...document.querySelectorAll('article img')].map(async img => {
        try { await img.decode(); } catch (e) { return [img.getAttribute('src'), 0, 0]; }
        return [img.getAttribute('src'), img.naturalWidth, img.naturalHeight];
    }))""")
    problems += [f"picture did not decode: {src}" for src, w, h in images if not (w > 0 and h > 0)]
    problems += [f"maths not typeset: {m!r}" for m in state["untypeset"]]
    problems += [f"font failed to load: {family}" for family in state["brokenFonts"]]
    if state["raw"]:
        problems.append(f"{state['raw']} raw $$, \\( or \\[ left in the text")
    if name.endswith("gallery"):
        assert len(images) == len(list((ROOT / "figures").glob("*.*"))), images
    else:
        pictures, gifs = _image_outputs(ROOT / "notebooks" / f"{name}.ipynb")
        shown = state["outputs"]
        assert len(shown) == pictures, (name, shown)
        assert sum(src.endswith(".gif") for src in shown) == gifs, (name, shown)
        assert state["note"], f"{name}: no line saying the live version runs in JupyterLab"
        if "$" in (ROOT / "notebooks" / f"{name}.ipynb").read_text():
            assert state["maths"] > 0, f"{name}: maths in the notebook, none typeset on the page"
    if name in SHOTS:  # where a reader looks: the first animation if there is one, else the top
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("""() => { const gif = document.querySelector('.cell_output img[src$=".gif"]');
                                 if (gif) gif.scrollIntoView({block: 'center'}); }""")
        page.screenshot(path=str(SCREENSHOTS / SHOTS[name]))
    assert not problems, f"{name}:\n" + "\n".join(problems)


def _search(reader: Reader, url: str) -> list[str]:
    """Open Sphinx's search page at ``url`` and return the links of its hits, best first."""
    reader.open(url)
    # Sphinx's search fills its summary line (in the page's language) once every hit is listed
    reader.page.wait_for_function(
        "() => document.querySelector('#search-results p.search-summary')?.textContent.trim()", timeout=30_000)
    return reader.page.eval_on_selector_all("#search-results ul.search li > a",
                                            "links => links.map(a => a.getAttribute('href'))")


def test_search_finds_bias_correction_on_the_adam_page(reader):
    hits = _search(reader, "search.html?q=bias+correction")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    reader.page.screenshot(path=str(SCREENSHOTS / "site-search.png"))
    assert hits and hits[0].split("#")[0].split("?")[0] == "08-adam.html", hits
    assert not reader.requests_ok(), reader.requests_ok()


def test_korean_search_finds_bias_correction_on_the_korean_adam_page(reader):
    hits = _search(reader, "ko/search.html?q=편향+보정")
    assert hits and hits[0].split("#")[0].split("?")[0] == "08-adam.html", hits
    assert not reader.requests_ok(), reader.requests_ok()


def test_download_button_saves_the_notebook(reader):
    reader.open("08-adam.html")
    page = reader.page
    page.click(".dropdown-download-buttons button.dropdown-toggle")
    with page.expect_download() as download:
        page.click("a.btn-download-source-button")
    saved = download.value
    assert saved.suggested_filename == "08-adam.ipynb"
    assert Path(saved.path()).read_bytes() == (ROOT / "notebooks" / "08-adam.ipynb").read_bytes()
    assert not reader.requests_ok(), reader.requests_ok()


def test_handout_has_its_pages_and_pictures(built, reader, tmp_path):
    from pypdf import PdfReader

    site, _ = built
    # the command make handouts runs (its own Playwright, which cannot nest inside this module's)
    subprocess.run([sys.executable, "-m", "kai_lib.tools.site", "handouts", "--site", str(site),
                    "--out", str(tmp_path), "08"], check=True, cwd=ROOT)
    (pdf,) = tmp_path.glob("*.pdf")
    assert pdf.name == "08-adam.pdf"
    # the printed layout: A4 minus the handout's margins, at 96 px per inch
    reader.open("08-adam.html")
    page = reader.page
    page.emulate_media(media="print")
    page.set_viewport_size({"width": round((210 - 24) / 25.4 * 96), "height": 900})
    layout = page.evaluate("""() => ({height: document.documentElement.scrollHeight,
                                     pictures: document.querySelectorAll('article img').length})""")
    page.emulate_media(media="screen")
    page.set_viewport_size(VIEWPORT)
    page_height = (297 - 30) / 25.4 * 96
    at_least = math.ceil(layout["height"] / page_height)

    document = PdfReader(pdf)
    pages = len(document.pages)
    # a picture is never cut across pages, so each may push the rest down by at most a page
    assert at_least <= pages <= at_least + layout["pictures"], (pages, at_least, layout)
    pictures = [image for p in document.pages for image in p.images]
    assert len(pictures) == layout["pictures"] == _image_outputs(ROOT / "notebooks" / "08-adam.ipynb")[0]
    for image in pictures:
        decoded = image.image
        assert decoded.width > 0 and decoded.height > 0
    assert all(p.extract_text().strip() for p in document.pages), "a blank page in the handout"
    assert "Adam" in document.pages[0].extract_text()


def _notebook(path: Path, title: str, text: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\n{text}\n\n$$\\hat m_t = \\frac{{m_t}}{{1-\\beta_1^t}}$$"),
                nbformat.v4.new_code_cell("1 + 1", execution_count=1,
                                          outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "2"},
                                                                          execution_count=1)])]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_language_switch_lands_on_the_korean_twin(pw, tmp_path):
    from PIL import Image

    notebooks = tmp_path / "notebooks"
    _notebook(notebooks / "00-index.ipynb", "Contents", "Adam's bias correction, in English.")
    _notebook(notebooks / "01-first.ipynb", "First", "A page without a twin.")
    _notebook(notebooks / "ko" / "00-index.ipynb", "차례", "Adam의 편향 보정, 한국어로.")
    figures = tmp_path / "figures"
    figures.mkdir()
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    (figures / "dot.png").write_bytes(buffer.getvalue())
    (tmp_path / "README.md").write_text("# Fake\n\n## The figures\n\n![a dot](figures/dot.png)\n\n## Next\n")
    (tmp_path / "README.ko.md").write_text("# 가짜\n\n## 그림\n\n![점](figures/dot.png)\n")

    pages = reading.build(notebooks, tmp_path / "site", readme=tmp_path / "README.md", figures=figures,
                          work=tmp_path / "build")
    assert pages == {"en": ["00-index", "01-first", "gallery"], "ko": ["00-index", "gallery"]}
    assert "kai-lang-switch" not in (tmp_path / "site" / "01-first.html").read_text()

    with reading.serve(tmp_path / "site") as base:
        reader = _reader(pw, base)
        reader.open("00-index.html")
        page = reader.page
        page.click(".kai-lang-switch a")
        reader.settle()
        assert unquote(urlparse(page.url).path) == "/ko/00-index.html"
        assert page.evaluate("document.documentElement.lang") == "ko"
        assert "편향 보정" in page.inner_text("article")
        assert page.get_attribute(".kai-lang-switch a", "href") == "../00-index.html"
        assert page.locator("div.math.notranslate .MathJax_Display").count() > 0
        page.click(".kai-lang-switch a")
        reader.settle()
        assert unquote(urlparse(page.url).path) == "/00-index.html"
        assert not reader.requests_ok(), reader.requests_ok()

        hits = _search(reader, "ko/search.html?q=편향+보정")
        assert hits and hits[0].split("#")[0].split("?")[0] == "00-index.html", hits
        assert not reader.requests_ok(), reader.requests_ok()
