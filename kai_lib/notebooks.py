"""Keep the notebook collection in shape: navigation cells, execution, clean outputs.

    python -m kai_lib.notebooks nav              # rewrite the navigation cells
    python -m kai_lib.notebooks execute [NN ...] # nav, then run and clean (make notebooks)

Every notebook in ``notebooks/`` is named ``NN-name.ipynb``; its first markdown H1 is its
title. The navigation cells (previous | Contents | next), first and last in each
notebook and tagged ``nav``, are generated here so they stay right when notebooks are
added. ``execute`` runs each notebook headless with animations as small GIFs
(``KAI_LIB_ANIMATION=gif``) and cleans it with ``nbstripout --keep-output --keep-count``,
which is what gets committed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAV_TAG = "nav"
INDEX = "00-index.ipynb"


def notebook_paths(folder: Path = NOTEBOOKS) -> list[Path]:
    """The collection, in order: ``NN-name.ipynb`` files."""
    return sorted(p for p in folder.glob("[0-9][0-9]-*.ipynb"))


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
    nbs = [nbformat.read(p, as_version=4) for p in paths]
    titles = [title_of(nb) for nb in nbs]
    changed = []
    for i, (path, nb) in enumerate(zip(paths, nbs, strict=True)):
        if only is not None and path not in only:
            continue
        before = nbformat.writes(nb)
        with_navigation(nb, nav_source(paths, i, titles))
        after = nbformat.writes(nb)
        if after != before:
            path.write_text(after)
            changed.append(path)
    return changed


def execute(path: Path, timeout: int = 60) -> float:
    """Run ``path`` top to bottom in a fresh kernel, animations as GIFs; clean it; return seconds."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ["KAI_LIB_ANIMATION"] = "gif"  # the kernel inherits it
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    seconds = time.perf_counter() - start
    nbformat.write(_repeatable(nb, path.stem), path)
    subprocess.run([sys.executable, "-m", "nbstripout", "--keep-output", "--keep-count", str(path)], check=True)
    return seconds


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
    parser = argparse.ArgumentParser(prog="python -m kai_lib.notebooks", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("nav", help="rewrite the navigation cells")
    ex = sub.add_parser("execute", help="nav, then execute and clean notebooks (all, or those named)")
    ex.add_argument("only", nargs="*", help="notebook numbers or names, e.g. 03 04-nag")
    args = parser.parse_args(argv)

    paths = [p for p in notebook_paths() if not args.__dict__.get("only") or
             any(p.name.startswith(o) for o in args.only)]
    if not paths:
        names = ", ".join(p.name for p in notebook_paths())
        parser.error(f"no notebook matches {args.only}; notebooks: {names}")
    for path in update_navigation(only=paths):
        print(f"navigation updated: {path.name}")
    if args.command == "execute":
        for path in paths:
            seconds = execute(path)
            print(f"{path.name}: {seconds:.1f} s, {path.stat().st_size / 1024:.0f} KiB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
