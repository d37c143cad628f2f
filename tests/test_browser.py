"""What a learner sees: every notebook run in JupyterLab, in a real browser.

nbval proves the cells run in a kernel; it cannot see the page. This test starts
JupyterLab on ``notebooks/``, drives Debian's Chromium with Playwright, and for every
``NN-name.ipynb`` opens it, runs all its cells (``notebook:run-all-cells``, the command
of Run → Run All Cells), waits for the kernel to finish, then checks what is on the
screen:

- no cell shows an error (an error output, or a Traceback printed to stderr);
- every ``explore(...)`` widget rendered its sliders, and moving a slider from the
  keyboard (ArrowRight on its handle) redraws the picture under it (checked after the deck
  pass, so that the deck meets every widget untouched: see below);
- every animation player (matplotlib's jshtml: ``show(animate(...))``) rendered, and
  its step button ("Next frame") shows another frame;
- a screenshot of the notebook is saved as ``build/screenshots/NN-name.png``.

Then it presents the notebook as a deck at 1280 × 720 (``_deck_pass``), in the classroom style
an instructor presents in, and checks every slide as the back row sees it: body text at least
28 px and code at least 22 px, at most 45 words, no code but the code marked as the lesson and
no test marker, the slide number on screen, nothing past the screen, every → a new slide, each
animation playing by itself on arrival and each widget's picture what its controls draw (the
deck pass comes before anything else moves a slider, so the picture it meets on arrival is the
one Run All Cells drew, not one a slider move already redrew). It prints each deck's slides
and minutes (with ``-s``); ``KAI_LIB_DECK_SCREENSHOTS=1`` saves every slide as
``build/screenshots/NN-name-deck-slide-N.png``.

One JupyterLab server and one browser serve every notebook (module-scoped fixtures),
with JupyterLab open in two tabs: while one notebook is checked, the next one already
runs in the other tab. The server runs in its own process group and is stopped, with
its kernels, however the test ends. Where Chromium or Playwright is missing the file is skipped with one
line saying how to enable it. ``KAI_LIB_NOTEBOOKS_DIR=/some/folder`` points the check
at another folder of notebooks (e.g. a deliberately broken copy).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from kai_lib.tools import nbtools as nbtools
from kai_lib.tools import site as reading

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = Path(os.environ.get("KAI_LIB_NOTEBOOKS_DIR") or ROOT / "notebooks").resolve()
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]-*.ipynb"))
#: Korean notebooks checked the same way, from notebooks/ko/ (their Hangul too: _check_hangul); their code
#: and outputs are the English ones (tests/test_korean.py), so two of them stand for the edition here
KOREAN = [p for p in (NOTEBOOK_DIR / "ko" / f"{n}.ipynb" for n in ("04-nag", "08-adam")) if p.exists()]
SCREENSHOTS = ROOT / "build" / "screenshots"
# Debian's Chromium and its launch options, shared with the reading edition's handouts and check
CHROMIUM, CHROMIUM_FLAGS = reading.CHROMIUM, reading.CHROMIUM_FLAGS

if sync_playwright is None:
    pytest.skip("browser check skipped: Playwright is not installed (pip install -r requirements.txt)",
                allow_module_level=True)
if CHROMIUM is None:
    pytest.skip("browser check skipped: no Chromium at /usr/bin/chromium; enable it with "
                "`sudo apt-get install chromium` (Debian/Ubuntu)", allow_module_level=True)

VIEWPORT = {"width": 1280, "height": 900}
MAX_SCREENSHOT_HEIGHT = 16000  # px; Chromium's limit for one capture is about 16k
SERVER_START_TIMEOUT = 60  # s
RUN_TIMEOUT = 300  # s for Run All Cells on one notebook
WIDGET_TIMEOUT = 15_000  # ms for a widget or a player to appear, or a picture to change

# JupyterLab settings for a quiet, deterministic page: no news or update pop-ups, every
# cell attached to the DOM (no windowing), and never an autosave of the repo's notebooks.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "scrollPastEnd": False},
    "@jupyterlab/extensionmanager-extension/plugin": {"enabled": False},
}

# A cell that calls kai_lib's explore(...) or show(...) (not plt.show) must show a widget or a
# player; and every widget or player found on the page, whatever made it, must work.
EXPLORE_CALL = re.compile(r"(?<![\w.])explore\(")
SHOW_CALL = re.compile(r"(?<![\w.])show\(")

# Finds the notebook panel for a path in window.jupyterapp (exposed with --LabApp.expose_app_in_browser).
JS_PANEL = """
const panelFor = (path) => {
  for (const w of window.jupyterapp.shell.widgets('main')) {
    if (w.context && w.context.path === path) return w;
  }
  return null;
};
"""


def _name(notebook: Path) -> str:
    """A notebook's path as JupyterLab names it, from the folder it serves: ``04-nag.ipynb``, ``ko/04-nag.ipynb``."""
    return notebook.resolve().relative_to(NOTEBOOK_DIR).as_posix()


def _stem(notebook) -> str:
    """A notebook's name for a screenshot or a test id: ``04-nag``, ``ko-04-nag``."""
    return _name(Path(notebook) if Path(notebook).is_absolute() else NOTEBOOK_DIR / notebook)[:-6].replace("/", "-")


# --- the server ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (kernels run in their own sessions, so killpg misses them)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group and anything it started; leave nothing behind."""
    below = _descendants(proc.pid)
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    for pid in below:  # kernels the server did not shut down itself
        try:
            os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Lab:
    """Where the server listens, and its log."""

    def __init__(self, url: str, token: str, log: Path):
        self.url, self.token, self.log = url, token, log

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 with a random token, its own config in a temp dir."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    for name, values in LAB_SETTINGS.items():
        path = tmp / "settings" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(24)
    # the user's own Jupyter config, data (kernels), and IPython profile stay out of it
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_DATA_DIR": str(tmp / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "IPYTHONDIR": str(tmp / "ipython")}
    env.pop("KAI_LIB_ANIMATION", None)  # live players, as a learner gets them, not the committed GIFs
    # the pictures as an instructor presents them (README, "In class"): the decks are checked in the
    # projector style; KAI_LIB_STYLE=notebook in the environment checks the reading style instead
    env["KAI_LIB_STYLE"] = os.environ.get("KAI_LIB_STYLE") or "classroom"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--port-retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={NOTEBOOK_DIR}",
           "--ServerApp.terminals_enabled=False", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
           f"--FileCheckpoints.checkpoint_dir={tmp / 'checkpoints'}",  # no .ipynb_checkpoints/ in notebooks/
           # a server orphaned by a killed pytest still ends by itself
           "--MappingKernelManager.cull_idle_timeout=600", "--MappingKernelManager.cull_interval=60",
           "--ServerApp.shutdown_no_activity_timeout=900", "--LabApp.extension_manager=readonly"]
    if os.geteuid() == 0:  # CI runs as root
        cmd.append("--allow-root")
    log = tmp / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=NOTEBOOK_DIR, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    server = Lab(url, token, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        _stop(proc)


# --- the browser -----------------------------------------------------------------------------------

TABS = 2  # one notebook is checked in one tab while the next one runs in the other


def _new_tab(browser, lab: Lab, workspace: str):
    """A browser context (own cookies, own storage) with JupyterLab loading in it."""
    context = browser.new_context(viewport=VIEWPORT)
    # The page never writes a notebook: a save (autosave is off anyway), a rename or a delete is
    # refused and reported. (Opening a notebook POSTs a checkpoint: that goes to the temp dir.)
    writes = []

    def guard(route):
        method, url = route.request.method, route.request.url.split("?")[0]
        if method in ("PUT", "PATCH", "DELETE") or (method == "POST" and not url.endswith("/checkpoints")):
            writes.append(f"{method} {url}")
            route.abort()
        else:
            route.continue_()

    context.route("**/api/contents/**", guard)
    page = context.new_page()
    page.set_default_timeout(WIDGET_TIMEOUT)
    page.writes = writes
    page.goto(f"{lab.url}/lab/workspaces/{workspace}?reset&token={lab.token}", wait_until="commit", timeout=60_000)
    return page


def _lab_ready(page) -> None:
    page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight(); }")


class Runner:
    """Notebooks in flight: the one being checked, and the next one, already running in another tab."""

    def __init__(self, pages, queue: list[str]):
        self.free, self.queue, self.tab_of = list(pages), queue, {}

    def start(self, name: str) -> None:
        """Open ``name`` in a free tab and run all its cells (nothing if it is under way)."""
        if name in self.tab_of or not self.free:
            return
        page = self.free.pop(0)
        self.tab_of[name] = page
        page.writes.clear()
        _start(page, name)

    def take(self, name: str):
        """The tab where ``name`` runs; the next notebook of the session starts meanwhile."""
        if name not in self.tab_of and not self.free:  # tests run out of the expected order
            for other in list(self.tab_of):
                self.release(other)
        self.start(name)
        later = self.queue[self.queue.index(name) + 1:] if name in self.queue else []
        if later:
            self.start(later[0])
        return self.tab_of[name]

    def release(self, name: str) -> None:
        page = self.tab_of.pop(name, None)
        if page is not None:
            _close(page, name)
            self.free.append(page)


@pytest.fixture(scope="module")
def runner(lab, request):
    """One Chromium with JupyterLab in two tabs, shared by every notebook of the session."""
    # this module's notebooks, in the order the session runs them (nbval's items have no module)
    queue = [_name(item.callspec.params["notebook"]) for item in request.session.items
             if getattr(item, "module", None) is request.module and hasattr(item, "callspec")]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            pages = [_new_tab(browser, lab, f"check-{i}") for i in range(TABS)]
            for page in pages:
                _lab_ready(page)
            yield Runner(pages, queue)
        finally:
            browser.close()


# --- one notebook ------------------------------------------------------------------------------------


def _start(page, name: str) -> None:
    """Open the notebook and run all its cells, in the page, without waiting (see _wait_until_run).

    Its committed outputs and counts are cleared first, so everything checked later is
    this run's. Running all cells is Run → Run All Cells: the menu's command.
    """
    page.evaluate(JS_PANEL + """
      (path) => {
        window.kaiRuns = window.kaiRuns || {};
        const run = window.kaiRuns[path] = {error: null, started: false};
        const app = window.jupyterapp;
        (async () => {
          const w = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
          await w.context.ready;
          await w.sessionContext.ready;
          for (const cell of w.content.widgets) {
            if (cell.model.type === 'code') cell.model.clearExecution();
          }
          app.shell.activateById(w.id);
          run.started = true;
          await app.commands.execute('notebook:run-all-cells');
        })().catch(error => {  // after the start, a failing cell is reported cell by cell instead
          if (!run.started) run.error = String((error && error.stack) || error);
        });
      }""", name)


def _close(page, name: str) -> None:
    """Close the notebook without saving it; its kernel shuts down in the background."""
    try:
        page.evaluate(JS_PANEL + """
          (path) => {
            const w = panelFor(path);
            if (!w) return;
            w.sessionContext.shutdown().catch(() => {});
            w.dispose();
          }""", name)
    except PlaywrightError:
        pass


def _wait_until_run(page, name: str) -> None:
    """Until the kernel is idle, no cell is queued, and every code cell ran (or one failed)."""
    done = page.wait_for_function(JS_PANEL + """
      (path) => {
        const run = window.kaiRuns[path];
        if (run.error) return {error: run.error};
        if (!run.started) return false;
        const w = panelFor(path);
        const kernel = w.sessionContext.session.kernel;
        if (kernel.status !== 'idle') return false;
        const cells = w.content.widgets.filter(c => c.model.type === 'code');
        if (cells.some(c => c.model.executionState === 'running'
                            || c.node.querySelector('.jp-InputPrompt').textContent.includes('*'))) return false;
        const failed = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
        return (failed || cells.every(c => c.model.sharedModel.getSource().trim() === ''
                                           || c.model.executionCount !== null)) && {error: null};
      }""", arg=name, timeout=RUN_TIMEOUT * 1000, polling=200).json_value()
    if done["error"]:
        pytest.fail(f"{name} could not be opened and run in JupyterLab: {done['error']}")


def _cells(page, name: str) -> list[dict]:
    """What each cell holds and shows; each cell's node is tagged data-kai-cell=<index>."""
    return page.evaluate(JS_PANEL + """
      (path) => panelFor(path).content.widgets.map((cell, i) => {
        const m = cell.model, node = cell.node;
        node.setAttribute('data-kai-cell', String(i));
        const info = {index: i, type: m.type, source: m.sharedModel.getSource(), count: null,
                      errors: [], tracebacks: [], widgetErrors: [], explorers: 0, players: 0};
        if (m.type !== 'code') return info;
        info.count = m.executionCount;
        for (const o of m.outputs.toJSON()) {
          if (o.output_type === 'error') info.errors.push(`${o.ename}: ${o.evalue}`);
        }
        const stderr = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]';
        for (const e of node.querySelectorAll(stderr)) {
          const text = e.innerText;
          if (text.includes('Traceback')) info.tracebacks.push(text.trim().split('\\n').slice(-1)[0]);
        }
        for (const e of node.querySelectorAll('.jp-OutputArea-output')) {
          const text = e.innerText.trim();
          if (/^Error displaying widget/.test(text)) info.widgetErrors.push(text.split('\\n')[0]);
        }
        info.explorers = [...node.querySelectorAll('.jp-OutputArea-output')].filter(
          e => e.querySelector('img.widget-image') && e.querySelector('.widget-slider')).length;
        info.players = [...node.querySelectorAll('.animation')].filter(
          e => e.querySelector('[id^="_anim_"]')).length;
        return info;
      })""", name)


def _where(name: str, cell: dict) -> str:
    lines = [line.strip() for line in cell["source"].splitlines() if line.strip()]
    first = next((line for line in lines if not line.startswith("#")), lines[0] if lines else "")
    count = f" [In {cell['count']}]" if cell["count"] is not None else ""
    return f"{name}, cell {cell['index'] + 1}{count} `{first[:60]}`"


def _check_explorers(page, cell_node, where: str, arrival: bool = False) -> list[str]:
    """The explore() widget: sliders and a picture; a slider moved by keyboard redraws the picture.

    With ``arrival`` (a deck's slide just arrived): the slider is then moved back, and the
    picture drawn at the controls' values must be the picture that was there on arrival. A widget
    whose slider a check has moved is marked (:data:`MOVED`): an arrival check after that fails."""
    outputs = cell_node.locator(".jp-OutputArea-output")
    explorers = outputs.filter(has=page.locator("img.widget-image")).filter(has=page.locator(".widget-slider"))
    try:
        explorers.first.wait_for(state="visible", timeout=WIDGET_TIMEOUT)
    except PlaywrightError:
        return [f"{where}: no explore widget with sliders and a picture was rendered"]
    problems = []
    for k in range(explorers.count()):
        widget = explorers.nth(k)
        image = widget.locator("img.widget-image").first
        slider = widget.locator(".widget-slider").first
        label = slider.locator(".widget-label").first.inner_text().strip() or "the first slider"
        handle, readout = slider.locator(".noUi-handle").first, slider.locator(".widget-readout").first
        try:
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        except PlaywrightError:
            problems.append(f"{where}: explore widget {k + 1} shows no picture")
            continue
        if arrival:
            problems += _check_arrival(page, widget, image, f"{where}: explore widget {k + 1}")
        _mark_moved(widget)
        before_src, before_value = image.get_attribute("src"), readout.inner_text()
        for key in ("ArrowRight", "ArrowLeft"):  # left if the slider already sits at its maximum
            for _ in range(3):
                handle.press(key)
            if readout.inner_text() != before_value:
                break
        if readout.inner_text() == before_value:
            problems.append(f"{where}: slider '{label}' of explore widget {k + 1} did not move with the arrow keys")
            continue
        try:
            page.wait_for_function("([img, src]) => img.src !== src && img.complete && img.naturalWidth > 0",
                                   arg=[image.element_handle(), before_src])
        except PlaywrightError:
            problems.append(f"{where}: moving slider '{label}' ({before_value} → {readout.inner_text()}) "
                            f"did not change the picture of explore widget {k + 1}")
            continue
    return problems


def _check_arrival(page, widget, image, where: str) -> list[str]:
    """The picture a widget shows when its slide arrives is the picture its controls draw.

    A whole-number slider is moved three presses and back (exactly the same values again:
    a float slider's steps need not add up exactly), then one press and back: both pictures
    drawn at the arrival values must be the arrival picture."""
    whole = widget.locator(".widget-slider").filter(
        has=page.locator(".widget-readout", has_text=re.compile(r"^\s*-?\d+\s*$")))
    if not whole.count():  # a float slider's presses need not add up to the very same value: not checkable
        UNCHECKED.append(f"{where}: no whole-number slider, its arrival picture was not checked")
        return []
    if widget.get_attribute(MOVED) is not None:  # its picture is a slider move's redraw, not the arrival's
        return [f"{where}: a check moved its sliders before its slide arrived: its arrival picture cannot "
                "be checked (check arrival first)"]
    slider = whole.first
    label = slider.locator(".widget-label").first.inner_text().strip()
    handle, readout = slider.locator(".noUi-handle").first, slider.locator(".widget-readout").first
    _settled(page, image)
    arrival, value = _picture(page, image), readout.inner_text()
    _mark_moved(widget)
    drawn = []
    for n in (3, 1):
        for key in ("ArrowRight", "ArrowLeft"):  # away from the end the slider may sit at, and back
            for _ in range(n):
                handle.press(key)
            if readout.inner_text() != value:
                break
        for _ in range(n):
            handle.press("ArrowLeft" if key == "ArrowRight" else "ArrowRight")
        _settled(page, image)
        drawn.append(_picture(page, image))
    if readout.inner_text() != value:
        return [f"{where}: slider '{label}' did not come back to {value} (shows {readout.inner_text()})"]
    if drawn[0] != drawn[1]:
        return [f"{where}: draws two different pictures at the same values ('{label}' at {value}): "
                "its picture cannot be checked against its controls"]
    if drawn[0] != arrival:
        return [f"{where}: its picture on arrival is not what its controls draw: redrawn at the same "
                f"values ('{label}' moved and back to {value}) it differs"]
    return []


#: Set on a widget's output node once a check has moved one of its sliders (the arrival check refuses it then)
MOVED = "data-kai-moved"


def _mark_moved(widget) -> None:
    widget.evaluate(f"node => node.setAttribute('{MOVED}', '')")


def _picture(page, image) -> str:
    """What a widget's picture shows: its bytes' length and hash (its src is a new blob: URL at
    every redraw, whatever it holds)."""
    return page.evaluate("""async img => {
      const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
      let h = 0;
      for (const b of bytes) h = (Math.imul(h, 31) + b) | 0;
      return `${bytes.length}:${h}`;
    }""", image.element_handle())


def _settled(page, image, quiet: float = 1.0, limit: float = 20.0) -> None:
    """Wait until the picture has not changed for ``quiet`` seconds (a redraw may still be on its way)."""
    start, last, since = time.perf_counter(), image.get_attribute("src"), time.perf_counter()
    while time.perf_counter() - start < limit:
        time.sleep(0.1)
        src = image.get_attribute("src")
        if src != last:
            last, since = src, time.perf_counter()
        elif time.perf_counter() - since >= quiet:
            return


def _check_players(page, cell_node, where: str) -> list[str]:
    """matplotlib's jshtml player: an <img> frame, the buttons, and a step button that changes the frame."""
    players = cell_node.locator(".animation")
    try:
        players.first.wait_for(state="visible", timeout=WIDGET_TIMEOUT)
    except PlaywrightError:
        return [f"{where}: no animation player (matplotlib jshtml) was rendered"]
    problems = []
    for k in range(players.count()):
        player = players.nth(k)
        image = player.locator("img[id^=_anim_img]").first
        buttons = player.locator(".anim-buttons button")
        if buttons.count() < 9:
            problems.append(f"{where}: animation player {k + 1} has {buttons.count()} buttons, expected 9")
            continue
        try:
            page.wait_for_function("img => img.src.startsWith('data:image') && img.complete && img.naturalWidth > 0",
                                   arg=image.element_handle())
        except PlaywrightError:
            problems.append(f"{where}: animation player {k + 1} shows no frame (its script did not run?)")
            continue
        frames = int(player.locator("input.anim-slider").first.get_attribute("max") or 0) + 1
        if frames < 2:
            problems.append(f"{where}: animation player {k + 1} has {frames} frame(s)")
            continue
        player.locator("button[title='Pause']").click()
        player.locator("button[title='First frame']").click()
        before = image.get_attribute("src")
        player.locator("button[title='Next frame']").click()
        try:
            page.wait_for_function("([img, src]) => img.src !== src", arg=[image.element_handle(), before])
        except PlaywrightError:
            problems.append(f"{where}: the step button ('Next frame') of animation player {k + 1} "
                            "did not change the frame")
    return problems


def _screenshot(page, name: str) -> Path:
    """The whole notebook: the window is made as tall as the notebook for the capture."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{_stem(name)}.png"
    hidden = page.evaluate(JS_PANEL + """
      (path) => {
        const w = panelFor(path);
        let hidden = 0;
        for (const e of [w.content.node, ...w.content.node.querySelectorAll('*')]) {
          if (e.scrollHeight > e.clientHeight + 1 && getComputedStyle(e).overflowY !== 'visible') {
            hidden = Math.max(hidden, e.scrollHeight - e.clientHeight);
          }
        }
        return hidden;
      }""", name)
    height = min(page.viewport_size["height"] + hidden, MAX_SCREENSHOT_HEIGHT)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    try:
        # two animation frames: JupyterLab has laid out and painted the taller window
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        page.screenshot(path=path, caret="initial")  # (hiding the caret costs a relayout)
    finally:
        page.set_viewport_size(VIEWPORT)  # a tall window makes every later repaint expensive
    return path


# --- the deck: every notebook presented as slides --------------------------------------------------

DECK_VIEWPORT = {"width": 1280, "height": 720}  # a 16:9 projector
DECK_STEP_TIMEOUT = 5_000  # ms for one key press to move the deck
DECK_TIMES: dict[str, float] = {}  # seconds of the deck pass per notebook (printed at the end, with -s)
MATH = re.compile(r"\$\$[\s\S]+?\$\$|(?<![\\$])\$[^$\s][^$]*?\$")

JS_DECK_STATE = JS_PANEL + """
  (path) => {
    const w = panelFor(path);
    const nb = w.content;
    const onscreen = [];
    nb.widgets.forEach((c, i) => { if (c.node.classList.contains('jp-deck-mod-onscreen')) onscreen.push(i); });
    return {active: nb.activeCellIndex, onscreen, deck: w.node.classList.contains('jp-Deck'),
            presenting: document.body.dataset.jpDeckMode === 'presenting'};
  }"""

# What one slide shows: its cells' extent on the screen (after any zoom), raw maths left
# untypeset, maths that MathJax did not render, and anything that scrolls sideways.
JS_SLIDE = JS_PANEL + """
  ([path, mathPattern]) => {
    const w = panelFor(path);
    const math = new RegExp(mathPattern);
    const cells = w.content.widgets.filter(c => c.node.classList.contains('jp-deck-mod-onscreen'));
    const out = {cells: [], problems: [], top: Infinity, bottom: -Infinity, left: Infinity, right: -Infinity};
    for (const c of cells) {
      const r = c.node.getBoundingClientRect();
      const index = w.content.widgets.indexOf(c);
      out.cells.push(index);
      if (r.height < 1 || !c.node.classList.contains('jp-deck-mod-visible')) {
        out.problems.push(`cell ${index + 1} is on the slide but not shown`);
        continue;
      }
      out.top = Math.min(out.top, r.top); out.bottom = Math.max(out.bottom, r.bottom);
      out.left = Math.min(out.left, r.left); out.right = Math.max(out.right, r.right);
      if (c.model.type === 'markdown') {
        const rendered = c.node.querySelector('.jp-RenderedMarkdown');
        if (!rendered) { out.problems.push(`markdown cell ${index + 1} is not rendered`); continue; }
        const plain = rendered.cloneNode(true);
        plain.querySelectorAll('code, pre, mjx-container').forEach(e => e.remove());
        if (plain.textContent.includes('$$')) out.problems.push(`cell ${index + 1} shows raw $$ (maths not typeset)`);
        const src = c.model.sharedModel.getSource().replace(/```[\\s\\S]*?```/g, '').replace(/`[^`]*`/g, '');
        if (math.test(src) && !rendered.querySelector('mjx-container')) {
          out.problems.push(`cell ${index + 1} has maths but no MathJax output`);
        }
      }
      for (const e of c.node.querySelectorAll('*')) {
        const overflow = getComputedStyle(e).overflowX;
        if ((overflow === 'auto' || overflow === 'scroll') && e.scrollWidth > e.clientWidth + 2) {
          out.problems.push(`cell ${index + 1} scrolls sideways (${e.scrollWidth} px in ${e.clientWidth} px)`);
          break;
        }
      }
    }
    return out;
  }"""

# What an instructor sees on one slide: the smallest body text and code (rendered px), the
# words on screen, any code source or test marker showing, the slide number, the extent.
JS_SEEN = JS_PANEL + """
  ([path, number, total]) => {
    const w = panelFor(path);
    const cells = w.content.widgets.filter(c => c.node.classList.contains('jp-deck-mod-onscreen'));
    const out = {body: Infinity, code: Infinity, small: '', words: 0, codeCells: [], marker: false, number: false,
                 top: Infinity, bottom: -Infinity, left: Infinity, right: -Infinity};
    const visible = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
    const wordsIn = t => (t.match(/\\p{L}[\\p{L}\\p{N}_'’-]*/gu) || []).length;
    for (const c of cells) {
      const index = w.content.widgets.indexOf(c);
      if (getComputedStyle(c.node, '::after').content.includes(`${number} / ${total}`)) out.number = true;
      const input = c.node.querySelector('.jp-Cell-inputWrapper');
      if (c.model.type === 'code' && input && visible(input)) out.codeCells.push(index);
      for (const e of c.node.querySelectorAll('*')) {
        if (!visible(e) || e.closest('mjx-container, .jp-InputPrompt, .jp-OutputPrompt')) continue;
        const own = [...e.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim())
          .map(n => n.textContent).join(' ');
        if (!own) continue;
        const r = e.getBoundingClientRect();
        out.top = Math.min(out.top, r.top); out.bottom = Math.max(out.bottom, r.bottom);
        out.left = Math.min(out.left, r.left); out.right = Math.max(out.right, r.right);
        if (own.includes('NBVAL')) out.marker = true;
        const size = parseFloat(getComputedStyle(e).fontSize);
        const isCode = e.closest('pre, code, .cm-content, .jupyter-widgets');
        const kind = isCode ? 'code' : (e.closest('.jp-RenderedMarkdown') ? 'body' : null);
        if (kind && size < out[kind]) { out[kind] = size; }
        const printed = e.closest('.jp-OutputArea-output pre') && !(input && visible(input));
        if (kind === 'body' || printed) out.words += wordsIn(own);
        if (kind && size < 22 || kind === 'body' && size < 28) out.small = `${own.trim().slice(0, 40)} (${size} px)`;
      }
      for (const img of c.node.querySelectorAll('img')) {
        if (!visible(img)) continue;
        const r = img.getBoundingClientRect();
        out.top = Math.min(out.top, r.top); out.bottom = Math.max(out.bottom, r.bottom);
        out.left = Math.min(out.left, r.left); out.right = Math.max(out.right, r.right);
      }
    }
    return out;
  }"""
#: Projector sizes and the words a slide may show (issue 21: a class, not a notebook cut into screens)
DECK_BODY_PX, DECK_CODE_PX, DECK_WORDS = nbtools.DECK_TYPE["body"], nbtools.DECK_TYPE["code"], 45
DECK_MINUTES: dict[str, tuple[int, float]] = {}  # slides and minutes per deck (printed at the end)
UNCHECKED: list[str] = []  # what the deck pass could not check (printed at the end)


def _focus_deck(page, name: str) -> None:
    """Command mode, focus on the active cell: where the deck's keys are bound."""
    page.evaluate(JS_PANEL + """
      (path) => { const nb = panelFor(path).content; nb.mode = 'command'; nb.activeCell.node.focus(); }""", name)


def _deck_state(page, name: str) -> dict:
    return page.evaluate(JS_DECK_STATE, name)


def _deck_screenshot(page, name: str, what: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{_stem(name)}-deck-{what}.png", caret="initial")


def _check_seen(page, name: str, where: str, number: int, total: int, slide: dict) -> list[str]:
    """What a marked deck promises on every slide: projector-sized text, few words, no code but
    the code that is the lesson, no test marker, the slide number, nothing off the screen."""
    seen = page.evaluate(JS_SEEN, [name, number, total])
    problems = []
    if seen["body"] < DECK_BODY_PX:
        problems.append(f"{where}: body text {seen['body']:.1f} px, under {DECK_BODY_PX} px: {seen['small']}")
    if seen["code"] < DECK_CODE_PX:
        problems.append(f"{where}: code or printed output {seen['code']:.1f} px, under {DECK_CODE_PX} px: "
                        f"{seen['small']}")
    if seen["words"] > DECK_WORDS:
        problems.append(f"{where}: {seen['words']} words on screen, more than {DECK_WORDS}")
    if seen["marker"]:
        problems.append(f"{where}: shows the test marker NBVAL_IGNORE_OUTPUT")
    extra = [c + 1 for c in seen["codeCells"] if c not in slide["code"]]
    if extra:
        problems.append(f"{where}: shows the code of cell(s) {extra}, not marked as code that is the lesson")
    if not seen["number"]:
        problems.append(f"{where}: no slide number '{number} / {total}' on the screen")
    if seen["bottom"] > DECK_VIEWPORT["height"] or seen["right"] > DECK_VIEWPORT["width"] or seen["top"] < 0:
        problems.append(f"{where}: shows something at ({seen['left']:.0f}..{seen['right']:.0f}, "
                        f"{seen['top']:.0f}..{seen['bottom']:.0f}), past the 1280 × 720 screen")
    return problems


def _check_slide(page, name: str, number: int, slide: dict, cells: list[dict], total: int = 0,
                 marked: bool = False) -> list[str]:
    """One slide, as the deck shows it: rendered, typeset, within 1280 × 720, its live parts working
    (and, in a marked deck, :func:`_check_seen`)."""
    where = f"{name}, slide {number} ({slide['title'][:50] or 'cell ' + str(slide['index'] + 1)})"
    try:  # MathJax typesets asynchronously: give it a moment
        page.wait_for_function(JS_SLIDE.replace("return out;", "return out.problems.length === 0 && out;"),
                               arg=[name, MATH.pattern], timeout=3_000, polling=100)
    except PlaywrightError:
        pass
    shown = page.evaluate(JS_SLIDE, [name, MATH.pattern])
    problems = [f"{where}: {p}" for p in shown["problems"]]
    if shown["cells"] != slide["cells"]:
        problems.append(f"{where}: shows cells {[c + 1 for c in shown['cells']]}, "
                        f"the cut puts {[c + 1 for c in slide['cells']]} on it")
    if shown["cells"] and shown["bottom"] > shown["top"]:
        height, width = shown["bottom"] - shown["top"], shown["right"] - shown["left"]
        if height > DECK_VIEWPORT["height"] or width > DECK_VIEWPORT["width"]:
            problems.append(f"{where}: its content is {width:.0f} × {height:.0f} px, more than the "
                            f"{DECK_VIEWPORT['width']} × {DECK_VIEWPORT['height']} screen")
    if marked:
        problems += _check_seen(page, name, where, number, total, slide)
    for index in slide["cells"]:
        cell = cells[index]
        if cell["type"] != "code":
            continue
        node = page.locator(f'[data-kai-cell="{index}"]')
        code = "\n".join(line.split("#", 1)[0] for line in cell["source"].splitlines())
        if cell["explorers"] or EXPLORE_CALL.search(code):
            problems += _check_explorers(page, node, f"{where} (sliders)", arrival=marked)
            if _deck_state(page, name)["active"] != slide["index"] and index == slide["index"]:
                problems.append(f"{where}: the slider's arrow keys also moved the deck off the slide")
        if cell["players"] or SHOW_CALL.search(code):
            if marked:  # it plays by itself when its slide arrives
                frame = node.locator("img[id^=_anim_img]").first
                try:
                    before = frame.get_attribute("src", timeout=WIDGET_TIMEOUT)
                    page.wait_for_function("([img, src]) => img.src !== src", arg=[frame.element_handle(), before],
                                           timeout=5_000)
                except PlaywrightError:
                    problems.append(f"{where}: the animation did not start by itself when its slide arrived")
            problems += _check_players(page, node, f"{where} (animation)")
    return problems


# The page's prose font, and three glyphs in it at 40 px: two Hangul syllables and U+0378, which no font
# has. Without a Korean font both syllables are drawn as the same missing-glyph box.
JS_GLYPHS = JS_PANEL + """
  (path) => {
    const w = panelFor(path);
    const prose = w.content.node.querySelector('.jp-MarkdownCell .jp-RenderedMarkdown p');
    const box = document.createElement('div');
    box.id = 'kai-glyphs';
    box.style.cssText = 'position:fixed;left:8px;top:8px;z-index:99999;background:#fff;color:#000;'
                        + 'font-size:40px;line-height:1.4;padding:6px';
    box.style.fontFamily = getComputedStyle(prose).fontFamily;
    for (const [i, ch] of ['가', '나', '\u0378'].entries()) {
      const span = document.createElement('span');
      span.id = 'kai-glyph-' + i;
      span.textContent = ch;
      span.style.display = 'inline-block';
      span.style.marginRight = '12px';
      box.appendChild(span);
    }
    document.body.appendChild(box);
    const text = [...w.content.node.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown')]
      .map(e => e.innerText).join(' ');
    return {family: box.style.fontFamily, hangul: (text.match(/[\uac00-\ud7a3]/g) || []).length,
            widths: [0, 1, 2].map(i => document.getElementById('kai-glyph-' + i).getBoundingClientRect().width)};
  }"""


def _check_hangul(page, name: str) -> list[str]:
    """The Korean prose is on the page and drawn in glyphs, not boxes: the syllables 가 and 나 must
    look different from each other and from a missing glyph (a Korean font is installed and found)."""
    found = page.evaluate(JS_GLYPHS, name)
    try:
        shots = [page.locator(f"#kai-glyph-{i}").screenshot() for i in range(3)]
    finally:
        page.evaluate("() => document.getElementById('kai-glyphs').remove()")
    problems = []
    if found["hangul"] < 1000:
        problems.append(f"{name}: its prose shows {found['hangul']} Hangul syllables; the Korean is missing")
    if shots[0] == shots[1] or shots[0] == shots[2]:
        problems.append(f"{name}: Hangul is drawn as missing-glyph boxes in {found['family']!r} (widths "
                        f"{found['widths']}): install a Korean font (Debian: apt-get install fonts-noto-cjk)")
    return problems


def _deck_pass(page, name: str, path: Path, cells: list[dict]) -> list[str]:
    """Start the deck, step through every slide with → and check each; the problems found."""
    nb = nbformat.read(path, as_version=4)
    slides, marked = nbtools.deck(nb), nbtools.has_marks(nb)
    DECK_MINUTES[name] = (len(slides), sum(s["minutes"] for s in slides))
    shown_cells = [i for s in slides for i in s["cells"]]
    slide_of = {i: n for n, s in enumerate(slides) for i in s["cells"]}
    problems, shots = [], {}
    start = time.perf_counter()
    page.set_viewport_size(DECK_VIEWPORT)
    try:
        # from the first slide's cell, as the presenter's page says: a deck started on a skipped
        # cell (the navigation line) may show nothing when another deck ran before it in the tab
        page.evaluate(JS_PANEL + """
          async ([path, first]) => {
            const w = panelFor(path);
            window.jupyterapp.shell.activateById(w.id);
            w.content.activeCellIndex = first;
            await window.jupyterapp.commands.execute('deck:start');
          }""", [name, slides[0]["index"]])
        page.wait_for_function(JS_DECK_STATE.replace("return {", "const s = {").replace(
            "};\n  }", "}; return s.deck && s.presenting && s.onscreen.length > 0;\n  }"), arg=name)
        visited = []
        while True:
            state = _deck_state(page, name)
            n = slide_of.get(state["active"])
            if n is None:
                problems.append(f"{name}: the deck stopped on cell {state['active'] + 1}, which the cut hides")
                break
            if marked and visited and visited[-1] == n:
                problems.append(f"{name}: a → on slide {n + 1} did not change what is shown")
            if not visited or visited[-1] != n:
                if visited and n != visited[-1] + 1:
                    problems.append(f"{name}: → went from slide {visited[-1] + 1} to slide {n + 1}")
                visited.append(n)
                slide = slides[n]
                found = _check_slide(page, name, n + 1, slide, cells, len(slides), marked)
                if found or os.environ.get("KAI_LIB_DECK_SCREENSHOTS"):  # what the instructor sees
                    _deck_screenshot(page, name, f"slide-{n + 1}")
                problems += found
                for what, wanted in (("first", n == 0), ("animation", slide["live"] == "animation"),
                                     ("sliders", slide["live"] == "sliders")):
                    if wanted and what not in shots:
                        shots[what] = n + 1
                        _deck_screenshot(page, name, what)
            if state["active"] == shown_cells[-1]:
                break
            _focus_deck(page, name)
            page.keyboard.press("ArrowRight")
            try:
                moved = "([path, before]) => panelFor(path).content.activeCellIndex !== before"
                page.wait_for_function(JS_PANEL + moved,
                                       arg=[name, state["active"]], timeout=DECK_STEP_TIMEOUT, polling=50)
            except PlaywrightError:
                problems.append(f"{name}: → did not move the deck from cell {state['active'] + 1} "
                                f"(slide {n + 1} of {len(slides)})")
                break
        if len(visited) != len(slides):
            problems.append(f"{name}: the keyboard visited {len(visited)} of the {len(slides)} slides")
        for what in ("first", "animation", "sliders"):
            if what != "first" and any(s["live"] == what for s in slides) and what not in shots:
                problems.append(f"{name}: no screenshot of the {what} slide (it was never reached)")
    finally:
        try:
            page.evaluate("async () => { await window.jupyterapp.commands.execute('deck:stop'); }")
        except PlaywrightError:
            pass
        page.set_viewport_size(VIEWPORT)
        DECK_TIMES[name] = time.perf_counter() - start
    return problems


@pytest.fixture(scope="module", autouse=True)
def report_deck_times():
    yield
    if DECK_TIMES:
        total = sum(DECK_TIMES.values())
        print(f"\ndeck pass: {total:.1f} s for {len(DECK_TIMES)} notebooks "
              + ", ".join(f"{_stem(k).replace(Path(k).stem, Path(k).stem[:2])} {v:.1f} s"
                          for k, v in DECK_TIMES.items()))
        for name, (count, minutes) in DECK_MINUTES.items():
            print(f"deck {_stem(name)}: {count} slides, {minutes:.0f} minutes by nbtools' rule")
        for line in UNCHECKED:
            print(f"not checked: {line}")


@pytest.mark.parametrize("notebook", NOTEBOOKS + KOREAN, ids=_stem)
def test_notebook_runs_in_jupyterlab(runner, lab, notebook):
    name = _name(notebook)
    page = runner.take(name)
    problems = []
    try:
        try:
            _wait_until_run(page, name)
        except PlaywrightError as error:
            pytest.fail(f"{name}: Run All Cells did not finish within {RUN_TIMEOUT} s "
                        f"({str(error).splitlines()[0]})\nserver log:\n{lab.log_tail()}")
        cells = _cells(page, name)
        stopped, explorers = None, []
        for cell in cells:
            if cell["type"] != "code" or not cell["source"].strip():
                continue
            where = _where(name, cell)
            shown = cell["errors"] or cell["tracebacks"]
            for error in shown:
                problems.append(f"{where}: {error}")
            for error in cell["widgetErrors"]:
                problems.append(f"{where}: a widget did not render: {error}")
            if cell["errors"] and stopped is None:
                stopped = cell
            if cell["count"] is None:
                if stopped is None:
                    problems.append(f"{where}: was not run")
                continue
            node = page.locator(f'[data-kai-cell="{cell["index"]}"]')
            code = "\n".join(line.split("#", 1)[0] for line in cell["source"].splitlines())
            if cell["explorers"] or EXPLORE_CALL.search(code):
                explorers.append((node, where))  # moved after the deck pass: see below
            if cell["players"] or SHOW_CALL.search(code):
                problems += _check_players(page, node, where)
        if stopped is not None:
            unrun = sum(1 for c in cells if c["type"] == "code" and c["source"].strip() and c["count"] is None)
            if unrun:
                problems.append(f"{name}: Run All Cells stopped at cell {stopped['index'] + 1}; "
                                f"{unrun} cell(s) after it did not run")
        else:
            if notebook.parent.name == "ko":
                problems += _check_hangul(page, name)
            problems += _deck_pass(page, name, notebook, cells)
        # The sliders are moved only now: the deck's arrival check must meet each widget as Run All
        # Cells left it, its picture drawn by no slider move yet, or it would compare a redraw with a redraw.
        for node, where in explorers:
            problems += _check_explorers(page, node, where)
    finally:
        try:
            shot = _screenshot(page, name)
        except PlaywrightError as error:
            shot = f"(no screenshot: {error})"
        runner.release(name)
    assert not page.writes, f"{name}: the page tried to write the notebook folder (refused): {page.writes}"
    assert not problems, (f"{name}: {len(problems)} problem(s) a learner would see after Run All Cells:\n  "
                          + "\n  ".join(problems) + f"\nscreenshot: {shot}")
