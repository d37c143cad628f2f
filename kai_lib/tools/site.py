"""The reading edition: every notebook as a static website that works offline, and a handout per notebook.

    python -m kai_lib.tools.site build       # make site: build/site/, a folder any web server serves as it is
    python -m kai_lib.tools.site handouts    # make handouts: build/handouts/NN-name.pdf, from the same pages

The notebooks are committed executed, so the site is built from them as they are, with
Jupyter Book 1 (Sphinx + MyST-NB), execution off. :func:`write_book` writes the book's
source into ``build/book/`` (a ``_config.yml``, a ``_toc.yml`` in the collection's order,
a copy of each notebook, the README's figure gallery as a page, and the vendored assets);
:func:`build` runs Sphinx on it into ``build/site/``. Nothing of it is committed.

What a reader gets, and the settings that give it:

- every animation as its committed GIF, and every ``explore`` widget as its committed still
  PNG: MyST-NB would pick the widget view first, so ``nb_mime_priority_overrides`` drops it
  (there is no widget state in the committed notebooks to draw it from anyway);
- a line at the top of each notebook page saying that the live version (player, sliders)
  runs in JupyterLab, ``make lab`` (this module is also the Sphinx extension that adds it);
- the theme's download button, serving each page's ``.ipynb`` (as a file to save, not a tab of JSON); the sidebar in the
  collection's order with previous / next; Sphinx's full-text search;
- no request to any other host: MathJax is copied from the ``jupyter-server-mathjax``
  package (MathJax 2.7.9, installed by ``requirements.txt``) into the site and configured
  to use its own STIX-Web fonts; the theme's icons are its own files; no analytics, no
  launch buttons, no repository buttons.

Why MathJax 2.7.9 from PyPI and not npm's ``mathjax`` 3.2.2 (Sphinx's default): the PyPI
package comes with the one ``pip install -r requirements.txt`` the collection already
needs, at an exact pin, so ``make site`` needs neither Node nor a network; MathJax 3 would
add npm to a fresh clone's requirements. Sphinx supports MathJax 2 through
``mathjax_path`` + ``mathjax2_config``; it typesets the notebooks' LaTeX (the browser check
in ``tests/test_site.py`` looks at every page). The cost: MathJax 2 typesets more slowly
than 3 on long pages.

Vendored assets go into a folder named ``vendor`` (listed in ``html_static_path``), never
``_static``: Jupyter Book 1 adds every ``.js`` under a book's ``_static`` to every page.

**Handouts.** :func:`handouts` opens each page of the built site in headless Chromium
(Debian's ``/usr/bin/chromium`` driven by Playwright, with :data:`CHROMIUM_FLAGS`, the
launch options the browser checks share) and prints it to A4 PDF. A GIF cannot move on
paper: :func:`build` writes a still copy of each GIF's last frame (the whole race drawn)
beside it, ``NAME.still.png``, and the handout swaps it in before printing.

**The Korean edition slots in later.** When ``notebooks/ko/`` holds the Korean twins
(``notebooks/ko/NN-name.ipynb``, written by ``make notebooks`` from the PO catalogues) the
same build writes a second book from them (``build/book-ko/``, gallery from ``README.ko.md``
when it exists) into ``build/site/ko/``, with Sphinx's ``language = "ko"``. Each page of
either edition whose twin exists gets a language switch, a link to the same page in the
other edition (``ko/NN-name.html`` from English, ``../NN-name.html`` back). Without
``notebooks/ko/`` there is no second book and no switch. ``tests/test_site.py`` checks the
switch with a tiny fake Korean notebook in a temporary folder.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat

from .. import checks
from . import nbtools

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"
SITE = BUILD / "site"
HANDOUTS = BUILD / "handouts"
TITLE = "Kai.Lib — gradient-descent optimizers you can watch"
TITLES = {"en": TITLE, "ko": "Kai.Lib — 눈으로 보는 경사 하강법 옵티마이저"}  # README.ko.md's title
LANGUAGES = {"en": "English", "ko": "한국어"}
LIVE_NOTE = {
    "en": ("This is the reading edition: each animation shows as a GIF and each slider panel as a still "
           "picture. The live version, with the player and the sliders, runs in JupyterLab: "
           "<code>make lab</code>."),
    "ko": ("읽기용 판입니다: 애니메이션은 GIF로, 슬라이더는 정지 그림으로 보입니다. 플레이어와 슬라이더가 "
           "움직이는 실제 버전은 JupyterLab에서 실행됩니다: <code>make lab</code>."),
}
GALLERY = "gallery"
STILL_SUFFIX = ".still.png"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full"

# Chromium as the browser checks (tests/test_browser.py, tests/test_site.py) and the handouts launch
# it: headless, and every host name but the loopback address fails to resolve, so nothing can leave
# the machine.
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and os.access(p, os.X_OK)), None)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]

# What the page looks like in print: no sidebars, buttons or banners, pictures kept whole.
SITE_CSS = """\
.kai-live-note { font-size: 0.9em; border-left: 4px solid var(--pst-color-info, #459db9);
                 padding: 0.3em 0.8em; margin: 0 0 1em 0; }
.kai-lang-switch { float: right; margin-left: 1em; }
/* The hidden MathML that MathJax adds for screen readers would ask for MathJax's TeX fonts (for
   double-struck letters and the like), which jupyter-server-mathjax does not ship: a screen reader needs no font. */
.MJX_Assistive_MathML [mathvariant] { font-family: inherit !important; }
@media print {
  .kai-live-note, .kai-lang-switch { display: none; }
  img { break-inside: avoid; max-width: 100% !important; }
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  .cell_output img { max-height: 24cm; object-fit: contain; }
}
"""


def notebook_paths(folder: Path) -> list[Path]:
    """The collection in its order: ``NN-name.ipynb`` sorted by number."""
    paths = sorted(Path(folder).glob("[0-9][0-9]-*.ipynb"))
    if not paths:
        raise ValueError(f"notebooks: no NN-name.ipynb in {folder}")
    return paths


def gallery_markdown(readme: Path) -> str:
    """The README's figure gallery as a page: its section whose pictures come from ``figures/``."""
    sections = re.split(r"(?m)^(?=## )", Path(readme).read_text(encoding="utf-8"))
    for section in sections:
        if section.startswith("## ") and "](figures/" in section:
            return "#" + section[2:].rstrip() + "\n"
    raise ValueError(f"readme: {readme} has no section with pictures from figures/")


def _config_yml(language: str, twin: dict | None) -> str:
    """Jupyter Book's ``_config.yml`` (JSON is YAML), every setting that a reader depends on spelled out."""
    sphinx_config = {
        "language": language,
        "html_static_path": ["vendor"],
        "html_css_files": ["kai_site.css"],
        # MathJax 2 from the site itself, with its own web fonts (no local-font probing, no image fonts)
        "mathjax_path": f"mathjax/MathJax.js?config={MATHJAX_CONFIG}",
        "mathjax2_config": {
            "HTML-CSS": {"availableFonts": [], "preferredFont": None, "webFont": "STIX-Web",
                         "imageFont": None},
            # MyST marks each page tex2jax_ignore and its maths with the class "math" (MathJax 3's
            # processHtmlClass); MathJax 2 spells the same rule processClass
            "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                        "processRefs": False, "processEnvironments": False,
                        "ignoreClass": "tex2jax_ignore|mathjax_ignore",
                        "processClass": "tex2jax_process|mathjax_process|math|output_area"},
            "menuSettings": {"zoom": "None"},
            # typeset once, in the final fonts: no quick preview and no "Loading MathJax" box
            "fast-preview": {"disabled": True},
            "messageStyle": "none",
        },
        # the committed still PNG, not the widget view (which has no state to draw from)
        "nb_mime_priority_overrides": [["html", "application/vnd.jupyter.widget-view+json", None]],
        # $$...$$ inside a line or a list item is display maths, as JupyterLab shows it (Jupyter
        # Book's parse: section does not pass this one on, so it is set for Sphinx directly)
        "myst_dmath_double_inline": True,
        "kai_language": language,
        "kai_twin": twin,
        "html_theme_options": {
            "use_download_button": True, "use_fullscreen_button": False,
            "use_repository_button": False, "use_issues_button": False, "use_edit_page_button": False,
            "launch_buttons": {}, "show_toc_level": 2,
        },
        "html_show_sourcelink": False,
        "suppress_warnings": ["mystnb.unknown_mime_type"],
    }
    config = {
        "title": TITLES[language],
        "author": "TEAM Kai.Lib",
        "copyright": "2020–2026",
        "only_build_toc_files": True,
        "exclude_patterns": ["_build", "**.ipynb_checkpoints", "vendor"],
        "execute": {"execute_notebooks": "off"},
        "parse": {"myst_enable_extensions": ["dollarmath", "amsmath", "colon_fence"]},
        "html": {"use_download_button": True, "use_repository_button": False, "use_issues_button": False,
                 "use_edit_page_button": False, "home_page_in_navbar": True, "baseurl": "",
                 "analytics": {"google_analytics_id": "", "plausible_analytics_domain": ""},
                 "comments": {"hypothesis": False, "utterances": False}},
        "launch_buttons": {"binderhub_url": "", "jupyterhub_url": "", "thebe": False, "colab_url": "",
                           "deepnote_url": ""},
        "repository": {"url": ""},
        "sphinx": {"extra_extensions": ["kai_lib.tools.site"], "config": sphinx_config},
    }
    return json.dumps(config, ensure_ascii=False, indent=1)


def _toc_yml(pages: list[str]) -> str:
    toc = {"format": "jb-book", "root": pages[0], "chapters": [{"file": page} for page in pages[1:]]}
    return json.dumps(toc, indent=1)


def write_book(notebooks: list[Path], readme: Path | None, figures: Path, out: Path, *,
               language: str = "en", twin: dict | None = None) -> list[str]:
    """Write a Jupyter Book source folder at ``out``; return its pages (docnames) in order.

    ``notebooks`` are copied as they are (the first is the book's root page); ``readme``'s
    figure gallery becomes the page ``gallery`` after them, its pictures copied from ``figures``.
    ``twin`` (``{"prefix": "ko/", "label": "한국어", "language": "ko", "pages": [...]}``) puts the
    language switch on every page whose docname is in ``twin["pages"]``.
    """
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "vendor").mkdir(parents=True)
    pages = []
    for path in notebooks:
        _copy_notebook(path, out / path.name)
        pages.append(path.stem)
    if readme is not None and Path(readme).exists():
        (out / f"{GALLERY}.md").write_text(gallery_markdown(readme), encoding="utf-8")
        shutil.copytree(figures, out / "figures")
        pages.append(GALLERY)
    _vendor_mathjax(out / "vendor" / "mathjax")
    (out / "vendor" / "kai_site.css").write_text(SITE_CSS, encoding="utf-8")
    (out / "_config.yml").write_text(_config_yml(language, twin), encoding="utf-8")
    (out / "_toc.yml").write_text(_toc_yml(pages), encoding="utf-8")
    return pages


def _copy_notebook(path: Path, dest: Path) -> None:
    """``path`` as it is, but for the navigation cells' language switch: the site's own switch
    (:func:`_page_context`) links the twin page, where the notebook's link would point at an ``.ipynb``."""
    text = path.read_text(encoding="utf-8")
    if nbtools.LANGUAGE_TAG not in text:
        shutil.copy2(path, dest)
        return
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        if nbtools.NAV_TAG in cell.get("metadata", {}).get("tags", []):
            cell.source = cell.source.split(nbtools.LANGUAGE_TAG)[0].rstrip()
    nbformat.write(nb, dest)


def _vendor_mathjax(dest: Path) -> None:
    """Copy MathJax 2.7.9 out of the installed ``jupyter-server-mathjax`` package (never from a CDN)."""
    try:
        import jupyter_server_mathjax
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise RuntimeError("make site needs jupyter-server-mathjax: pip install -r requirements.txt") from error
    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    # the SVG output and the translations are never used by these pages
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("SVG", "localization"))


def write_stills(site: Path) -> list[Path]:
    """Beside each GIF of the site, its last frame (the whole race drawn) as ``NAME.still.png``."""
    from PIL import Image

    stills = []
    for gif in sorted(Path(site).rglob("*.gif")):
        with Image.open(gif) as image:
            image.seek(image.n_frames - 1)
            still = gif.with_name(gif.stem + STILL_SUFFIX)
            image.convert("RGB").save(still, optimize=True)
        stills.append(still)
    return stills


def _sphinx(book: Path, out: Path, doctrees: Path) -> None:
    from jupyter_book.sphinx import build_sphinx

    result = build_sphinx(book, out, noconfig=True, path_config=book / "_config.yml", doctreedir=doctrees,
                          builder="html", freshenv=True, quiet=True,
                          confoverrides={"latex_individualpages": False})
    if result:
        raise RuntimeError(f"Sphinx failed on {book}: {result!r}")


def build(notebooks: Path = NOTEBOOKS, out: Path = SITE, *, readme: Path = ROOT / "README.md",
          figures: Path = ROOT / "figures", work: Path = BUILD) -> dict:
    """Build the reading edition of ``notebooks`` into ``out``; return what was built.

    English from ``notebooks/NN-name.ipynb``; when ``notebooks/ko/`` has twins, Korean from them
    into ``out/ko/`` with a language switch on every page that has a twin (module docstring).
    The return value maps each language to its list of pages (docnames, in order).
    """
    notebooks, out, work = Path(notebooks), Path(out), Path(work)
    english = notebook_paths(notebooks)
    korean_dir = notebooks / "ko"
    korean = sorted(korean_dir.glob("[0-9][0-9]-*.ipynb")) if korean_dir.is_dir() else []
    readme_ko = Path(readme).with_name("README.ko.md")
    korean_pages = [p.stem for p in korean] + ([GALLERY] if korean and readme_ko.exists() else [])
    english_pages = [p.stem for p in english] + ([GALLERY] if Path(readme).exists() else [])

    refused = not_emptiable(out)
    if refused:
        checks.fail("out", "a new or empty folder, or an earlier build (it holds .nojekyll)",
                    got=f"{str(out)!r}, which {refused}")
    if out.exists():
        shutil.rmtree(out)
    to_ko = {"prefix": "ko/", "label": LANGUAGES["ko"], "language": "ko", "pages": korean_pages} if korean else None
    pages = {"en": write_book(english, readme, figures, work / "book", twin=to_ko)}
    _sphinx(work / "book", out, work / "doctrees")
    if korean:
        to_en = {"prefix": "../", "label": LANGUAGES["en"], "language": "en", "pages": english_pages}
        pages["ko"] = write_book(korean, readme_ko if readme_ko.exists() else None, figures, work / "book-ko",
                                 language="ko", twin=to_en)
        _sphinx(work / "book-ko", out / "ko", work / "doctrees-ko")
    for path in english + korean:  # the download button saves the notebook as it is in the repository
        source = (out if path in english else out / "ko") / "_sources" / path.name
        if source.exists():
            shutil.copy2(path, source)
    (out / ".nojekyll").touch()  # GitHub Pages: serve _static/ and _images/ as they are
    write_stills(out)
    for page in out.rglob("*.html"):
        _download_as_file(page)
    return pages


def _download_as_file(page: Path) -> None:
    """The theme's ".ipynb" button opens the notebook in a new tab; make it save the file, named as it is."""
    text = page.read_text(encoding="utf-8")
    new = re.sub(r'href="(_sources/([^"/]+\.ipynb))" target="_blank"', r'href="\1" download="\2"', text)
    if new != text:
        page.write_text(new, encoding="utf-8")


# --- the Sphinx extension: the live-version note and the language switch on each page -------------

def _page_context(app, pagename, templatename, context, doctree) -> None:
    # Thebe ("run this page on Binder") is loaded by Jupyter Book whether or not a launch button
    # shows: the reading edition runs nothing remotely, so its scripts and its styles go, on every page.
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not _is_thebe(asset)]
    # no favicon of our own: say so, or every browser asks the server for /favicon.ico and gets a 404
    context["metatags"] = context.get("metatags", "") + '\n<link rel="icon" href="data:,">'
    if doctree is None or "body" not in context:
        return
    top = ""
    twin = app.config.kai_twin
    if twin and pagename in twin["pages"]:
        href = html.escape(twin["prefix"] + pagename + ".html")
        top += (f'<p class="kai-lang-switch"><a href="{href}" hreflang="{twin["language"]}" '
                f'lang="{twin["language"]}">{html.escape(twin["label"])}</a></p>\n')
    if str(app.env.doc2path(pagename)).endswith(".ipynb"):
        top += f'<p class="kai-live-note">{LIVE_NOTE.get(app.config.kai_language, LIVE_NOTE["en"])}</p>\n'
    context["body"] = top + re.sub(r'<script type="text/x-thebe-config">.*?</script>\s*', "",
                                   context["body"], flags=re.S)


def _is_thebe(js) -> bool:
    if isinstance(js, str):
        return "thebe" in js
    return "thebe" in str(js.filename or "") or "thebe" in js.attributes.get("body", "")


def setup(app):
    """Sphinx extension hooks (Jupyter Book loads this module through ``extra_extensions``)."""
    app.add_config_value("kai_language", "en", "html")
    app.add_config_value("kai_twin", None, "html")
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --- handouts ---------------------------------------------------------------------------------------

def handouts(site: Path = SITE, out: Path = HANDOUTS, only: list[str] | None = None) -> list[Path]:
    """Print every notebook page of ``site`` to ``out/NN-name.pdf`` in headless Chromium, GIFs as stills."""
    from playwright.sync_api import sync_playwright

    site, out = Path(site), Path(out)
    if CHROMIUM is None:
        raise RuntimeError("handouts need Chromium at /usr/bin/chromium: sudo apt-get install chromium")
    pages = sorted(p for p in site.glob("[0-9][0-9]-*.html"))
    if only:
        pages = [p for p in pages if p.stem[:2] in only or p.stem in only]
    if not pages:
        raise ValueError(f"site: no NN-name.html pages in {site} (run make site first)")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        for path in pages:
            page.goto(f"{base}/{path.name}", wait_until="load")
            wait_for_maths(page)
            page.evaluate("""suffix => Promise.all([...document.querySelectorAll('img[src$=".gif"]')].map(img => {
                img.src = img.src.replace(/\\.gif$/, suffix);
                return img.decode();
            }))""", STILL_SUFFIX)
            pdf = out / f"{path.stem}.pdf"
            page.pdf(path=str(pdf), format="A4", print_background=True,
                     margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
            written.append(pdf)
            print(f"{pdf.relative_to(out.parent) if out.parent in pdf.parents else pdf}", flush=True)
        browser.close()
    return written


def wait_for_maths(page, timeout: float = 30_000) -> None:
    """Wait until MathJax 2 has typeset the page (its startup "End" signal), on pages that load it."""
    if not page.evaluate("() => !!document.querySelector('script[src*=\"MathJax.js\"]')"):
        return
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.Register", timeout=timeout)
    page.evaluate("() => new Promise(done => MathJax.Hub.Register.StartupHook('End', done))")


class serve:
    """``with serve(folder) as url``: a static HTTP server for ``folder`` on 127.0.0.1, in a thread."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def __enter__(self) -> str:
        import functools
        import http.server
        import threading

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the browser left the page before a file was sent: nothing to report

        handler = functools.partial(Quiet, directory=str(self.folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def not_emptiable(out: Path) -> str | None:
    """Why a build may not empty ``out`` first, or ``None``: it may if ``out`` is absent, empty
    or an earlier build (which holds the ``.nojekyll`` a build writes); never a folder that holds
    anything else, such as the project or a working folder given as ``--out .``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        return "is a file, not a folder"
    if out.resolve() == ROOT or out.resolve() in ROOT.parents:
        return "holds the project: a build empties it first; name a folder of its own"
    if out.is_dir() and any(out.iterdir()) and not (out / ".nojekyll").exists():
        return "holds files that are not an earlier build, and a build empties it first: name a new or empty folder"
    return None


def _folder(parser: argparse.ArgumentParser, option: str, value: str, *, output: bool = False,
            emptied: tuple = ()) -> Path:
    """``value`` as a folder (one that exists, unless it is an ``output``), or ``parser.error``
    (one line, exit status 2). Never empty text (the current folder) or a file; the folder a build
    empties first (given ``emptied``, the folders it is built from) as :func:`not_emptiable` says."""
    if not value.strip():
        parser.error(f"{option} must name a folder, got an empty string")
    folder = Path(value)
    if folder.exists() and not folder.is_dir():
        parser.error(f"{option} {value!r} is a file, not a folder")
    if emptied:
        inside = folder.resolve()
        refused = not_emptiable(folder)
        if not refused and any(inside == kept or inside in kept.parents for kept in map(Path.resolve, emptied)):
            refused = "holds the notebooks it is built from: a build empties it first"
        if refused:
            parser.error(f"{option} {value!r} {refused}")
    if not output and not folder.is_dir():
        parser.error(f"{option} {value!r}: no such folder")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kai_lib.tools.site", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the website into build/site/")
    b.add_argument("--notebooks", default=str(NOTEBOOKS))
    b.add_argument("--out", default=str(SITE))
    h = sub.add_parser("handouts", help="print each notebook page of build/site/ to build/handouts/NN-name.pdf")
    h.add_argument("--site", default=str(SITE))
    h.add_argument("--out", default=str(HANDOUTS))
    h.add_argument("only", nargs="*", help="notebook numbers (default: all)")
    args = parser.parse_args(argv)
    if args.command == "build":
        args.notebooks = _folder(parser, "--notebooks", args.notebooks)
        if not notebook_paths(args.notebooks):
            parser.error(f"--notebooks {str(args.notebooks)!r}: no NN-name.ipynb notebooks there")
        args.out = _folder(parser, "--out", args.out, output=True, emptied=(args.notebooks,))
    else:
        args.site = _folder(parser, "--site", args.site)
        pages = sorted(p.stem for p in args.site.glob("[0-9][0-9]-*.html"))
        if not pages:
            parser.error(f"--site {str(args.site)!r}: no NN-name.html pages there (run make site first)")
        for o in args.only:  # every number must select a page: "" is not "all", and a typo is not ignored
            if not any(o.strip() and (stem[:2] == o or stem == o) for stem in pages):
                parser.error(f"no page matches {o!r}; pages: {', '.join(pages)}")
        args.out = _folder(parser, "--out", args.out, output=True)
    start = time.perf_counter()
    if args.command == "build":
        pages = build(args.notebooks, args.out)
        count = sum(len(p) for p in pages.values())
        print(f"{args.out}: {count} pages ({', '.join(f'{k}: {len(v)}' for k, v in pages.items())}) "
              f"in {time.perf_counter() - start:.1f} s; preview: python -m http.server -d {args.out}")
    else:
        written = handouts(args.site, args.out, args.only or None)
        print(f"{len(written)} handouts in {args.out} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
