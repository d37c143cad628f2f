"""The Korean edition: the English notebooks' prose as gettext catalogues, and the Korean notebooks built from them.

    python -m kai_lib.tools.i18n extract [NN ...]     # English units -> notebooks/ko/po/NN-name.po
    python -m kai_lib.tools.i18n status               # units, translated, fuzzy, untranslated, per catalogue
    python -m kai_lib.tools.i18n export NN FILE       # the units still to translate, as a plain text file
    python -m kai_lib.tools.i18n import NN FILE       # a filled-in text file back into the catalogue
    python -m kai_lib.tools.i18n check [NN ...]       # the drift checks, unit by unit
    python -m kai_lib.tools.i18n build [NN ...]       # notebooks/ko/NN-name.ipynb (make notebooks runs it)

The English notebooks are the one source. Each markdown cell is cut into **units** (:func:`split`):
a heading, a paragraph, a list item (with the lines that continue it), a table row, a block quote.
A unit is small, so editing one English sentence makes only its own translation stale. Display
maths standing alone, fenced code, blank lines, table rules and the navigation cells are not units:
they are copied as they are. Each unit is one ``msgid`` of the notebook's catalogue
``notebooks/ko/po/NN-name.po`` (gettext PO, read and written with Babel, the library Sphinx uses;
Poedit or Weblate open it too), and its Korean is the ``msgstr``. A unit's list marker, heading
hashes, quote marks and indentation are kept by the builder, never by the translator.

The workflow is gettext's. ``extract`` merges the English units into the catalogue: a new unit comes
in untranslated; a changed one keeps its old Korean marked ``fuzzy`` with the old English beside it
(``#| msgid``), so the translator sees what changed; a deleted one becomes obsolete (``#~``).
Translate (any PO editor, or ``export`` / ``import``, which wrap the units in a plain text file that
needs no escaping). ``build`` writes ``notebooks/ko/NN-name.ipynb``: the executed English notebook
with every unit replaced by its translation; code cells, outputs and the slide cut exactly the
English ones (no second execution); links to other files re-pointed from ``notebooks/ko/``; the
navigation cells in Korean with an "English | 한국어" switch. A unit still untranslated or fuzzy is
built in English and counted; ``tests/test_korean.py`` fails on it.

:func:`problems` is the drift check a translation must pass: the same maths (every ``$…$`` and
``$$…$$``), inline code, link targets and HTML tags as its English, every number of the English,
the same block structure, and the glossary's Korean for every glossary term the English uses
(``notebooks/ko/glossary.tsv``; an exception is a translator comment ``glossary: TERM — why`` on
the unit in the catalogue).
"""

from __future__ import annotations

import argparse
import copy
import io
import re
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from .. import checks
from . import nbtools

KOREAN = nbtools.NOTEBOOKS / "ko"
CATALOGUES = KOREAN / "po"
GLOSSARY = KOREAN / "glossary.tsv"
README = nbtools.ROOT / "README.md"
README_KO = nbtools.ROOT / "README.ko.md"
#: The README's sections for learners and instructors, translated; the rest is for developers.
README_SECTIONS = ("Set up and run", "The slide figures", "The notebooks", "The reading edition")
LANGUAGE = "ko"
CONTENTS = "목차"
README_SWITCH = "English | [한국어](README.ko.md)"  # under README.md's title; README.ko.md has the way back
README_SWITCH_KO = "[English](README.md) | 한국어"
HEADER = ("# The Korean translation of {name}, one English unit per msgid.\n"
          "# Written by python -m kai_lib.tools.i18n extract; translate the msgstr lines\n"
          "# (a PO editor, or export/import). The module docstring of kai_lib/tools/i18n.py says how.\n#")
FIXED_DATE = datetime(2026, 12, 7, tzinfo=UTC)  # the catalogues' header dates: no churn in git

# --- units ---------------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6} )")
_ITEM = re.compile(r"^(\s*(?:[-*+]|\d{1,2}[.)]) +)")
_ROW = re.compile(r"^\s*\|")
_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_QUOTE = re.compile(r"^(\s*> ?)")
_MATH = re.compile(r"\$\$[\s\S]+?\$\$|(?<![\\$])\$(?!\$)(?:[^$\\]|\\.)+?\$")
_CODE = re.compile(r"`[^`\n]+(?:\n[^`\n]+)*`")  # a code span may run over a line break
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_URL = re.compile(r"https?://\S+")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])[-−]?\d+(?:[.,]\d+)*(?:e[-−]?\d+)?")


@dataclass
class Unit:
    """One translatable piece of a markdown cell: ``prefix`` + the text's first line, and
    ``indent`` + each further line (``prefix``/``indent`` are kept by the builder)."""
    text: str
    prefix: str = ""
    indent: str = ""

    def render(self, text: str | None = None) -> str:
        lines = (self.text if text is None else text).split("\n")
        return "\n".join([self.prefix + lines[0], *(self.indent + line for line in lines[1:])])


def _translatable(text: str) -> bool:
    """Prose is left once maths, code, tags and link targets are taken out."""
    bare = _URL.sub(" ", _LINK.sub("]", _TAG.sub(" ", _CODE.sub(" ", _MATH.sub(" ", text)))))
    return bool(re.search(r"[^\W\d_]", bare))  # even "`kai_lib`'s `Adam.step`:" has words to translate


def _continued(line: str, indent: str) -> str:
    """A continuation line with its unit's indent taken off (exactly that indent, or none)."""
    return line[len(indent):] if indent and line.startswith(indent) else line


def split(source: str) -> list[Unit | str]:
    """``source`` cut into units and literal lines; ``"\\n".join`` of the rendered pieces is ``source``."""
    lines = source.split("\n")
    pieces: list[Unit | str] = []
    unit: Unit | None = None
    math = False  # inside a $$ ... $$ display spread over lines: never a unit boundary
    fence = ""

    def close():
        nonlocal unit
        if unit is not None:
            pieces.append(unit if _translatable(unit.text) else unit.render())
        unit = None

    for line in lines:
        if fence:
            pieces.append(line)
            if line.strip().startswith(fence):
                fence = ""
            continue
        if not math and _FENCE.match(line):
            close()
            fence = _FENCE.match(line).group(1)
            pieces.append(line)
            continue
        starts = None
        if not math:
            if not line.strip():
                close()
                pieces.append(line)
                continue
            if _HEADING.match(line):
                starts = Unit(line[len(_HEADING.match(line).group(1)):], _HEADING.match(line).group(1))
            elif _ROW.match(line):
                if _RULE.match(line):
                    close()
                    pieces.append(line)
                    continue
                starts = Unit(line)
            elif _QUOTE.match(line) and not (unit is not None and unit.prefix.lstrip().startswith(">")):
                marker = _QUOTE.match(line).group(1)
                starts = Unit(line[len(marker):], marker, marker)
            elif _ITEM.match(line):
                marker = _ITEM.match(line).group(1)
                starts = Unit(line[len(marker):], marker, " " * len(marker))
        if starts is not None:
            close()
            unit = starts
            if _HEADING.match(line) or _ROW.match(line):  # one line each
                close()
        elif unit is None:
            indent = re.match(r"\s*", line).group(0)
            unit = Unit(line[len(indent):], indent, indent)
        else:
            if unit.prefix.lstrip().startswith(">"):
                line = line[len(_QUOTE.match(line).group(1)):] if _QUOTE.match(line) else line
            unit.text += "\n" + _continued(line, unit.indent)
        math ^= line.count("$$") % 2 == 1
    close()
    return pieces


def join(pieces: list[Unit | str], translate=None) -> str:
    """The source again, each unit's text replaced by ``translate(text)`` (when given and not ``None``)."""
    out = []
    for piece in pieces:
        if isinstance(piece, Unit):
            text = translate(piece.text) if translate else None
            out.append(piece.render(text))
        else:
            out.append(piece)
    return "\n".join(out)


def units(nb) -> list[tuple[int, str]]:
    """``(cell index, unit text)`` for every unit of ``nb``'s markdown, navigation cells left out."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and not _is_nav(cell):
            found += [(i, p.text) for p in split(cell.source) if isinstance(p, Unit)]
    return found


def _is_nav(cell) -> bool:
    return nbtools.NAV_TAG in cell.get("metadata", {}).get("tags", [])


def readme_part(text: str) -> str:
    """The README's title and introduction, and the sections in :data:`README_SECTIONS`."""
    text = text.replace(f"\n\n{README_SWITCH}\n\n", "\n\n", 1)  # the switch is not prose: the builder writes it
    parts = re.split(r"(?m)^(?=## )", text)
    return "".join([parts[0], *(p for p in parts[1:] if p[3:].split("\n")[0].strip().startswith(README_SECTIONS))])


# --- catalogues ------------------------------------------------------------------------------------

def catalogue_path(name: str) -> Path:
    return CATALOGUES / f"{name}.po"


def sources(names: list[str] | None = None) -> dict[str, tuple[Path, list[tuple[int, str]]]]:
    """Every source the edition translates, or those ``names``: ``{name: (English file, [(cell, unit), ...])}``."""
    found = {p.stem: (p, units(nbtools._read(p))) for p in nbtools.notebook_paths() if not names or p.stem in names}
    if not names or "README" in names:
        found["README"] = (README, [(0, p.text) for p in split(readme_part(README.read_text()))
                                    if isinstance(p, Unit)])
    return found


def _template(name: str, found: list[tuple[int, str]], source: Path):
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale=LANGUAGE, project="Kai.Lib", version="notebooks", creation_date=FIXED_DATE,
                      revision_date=FIXED_DATE, language_team="Kai.Lib <ko>", last_translator="Kai.Lib",
                      msgid_bugs_address="the project's issues", fuzzy=False, header_comment=HEADER.format(name=name))
    for cell, text in found:
        message = catalog.get(text)
        location = (source.name, cell)
        if message is None:
            catalog.add(text, locations=[location])
        elif location not in message.locations:
            message.locations.append(location)
    return catalog


def read(name: str):
    from babel.messages.pofile import read_po

    with catalogue_path(name).open("rb") as f:
        return read_po(f, locale=LANGUAGE)


def write(name: str, catalog) -> None:
    from babel.messages.pofile import write_po

    catalog.revision_date = FIXED_DATE
    catalog.creation_date = FIXED_DATE
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_previous=True, sort_output=False)
    CATALOGUES.mkdir(parents=True, exist_ok=True)
    catalogue_path(name).write_bytes(buffer.getvalue())


def extract(names: list[str] | None = None) -> dict[str, Counter]:
    """Merge each source's English units into its catalogue (gettext's msgmerge); return each one's status."""
    report = {}
    for name, (source, found) in sources(names).items():
        template = _template(name, found, source)
        if catalogue_path(name).exists():
            catalog = read(name)
            catalog.update(template, update_creation_date=False)
        else:
            catalog = template
        write(name, catalog)
        report[name] = status(catalog)
    return report


def status(catalog) -> Counter:
    counts = Counter()
    for message in catalog:
        if not message.id:
            continue
        counts["units"] += 1
        counts["fuzzy" if message.fuzzy else "translated" if message.string else "untranslated"] += 1
    return counts


def translations(name: str) -> dict[str, str]:
    """``{English unit: Korean}`` for the catalogue's units that are translated and not fuzzy."""
    if not catalogue_path(name).exists():
        return {}
    return {m.id: m.string for m in read(name) if m.id and m.string and not m.fuzzy}


# --- the drift checks ------------------------------------------------------------------------------

def glossary() -> list[tuple[list[str], list[str], str]]:
    """``[(English forms, Korean forms, note)]`` from ``glossary.tsv``, longest English first."""
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip() and not line.startswith("#"):
            english, korean, note = (line.split("\t") + ["", ""])[:3]
            rows.append(([e.strip() for e in english.split("|")], [k.strip() for k in korean.split("|")], note))
    return sorted(rows, key=lambda r: -max(len(e) for e in r[0]))


def _prose(text: str) -> str:
    """``text`` without its maths, code (inline or in ``<code>`` tags), tags and link targets."""
    text = re.sub(r"<code>[\s\S]*?</code>", " ", text)
    return _URL.sub(" ", _LINK.sub("]", _TAG.sub(" ", _CODE.sub(" ", _MATH.sub(" ", text)))))


def _numbers(text: str) -> Counter:
    return Counter(n.replace("−", "-").replace(",", "") for n in _NUMBER.findall(_prose(text)))


def glossary_terms(english: str, terms=None) -> list[tuple[str, list[str]]]:
    """The glossary terms ``english`` uses (a longer term hides the shorter ones inside it)."""
    text = _prose(english)
    used = []
    for forms, korean, _ in terms if terms is not None else glossary():
        pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(f) for f in forms) + r")(?:s|es)?(?![\w-])",
                             re.IGNORECASE if not any(f[:1].isupper() and f[1:2].isupper() for f in forms) else 0)
        if pattern.search(text):
            used.append((forms[0], korean))
            text = pattern.sub(" ", text)
    return used


def _exempt(message) -> set[str]:
    """Glossary terms a translator comment exempts on this unit: ``glossary: TERM — why``."""
    return {m.group(1).strip().lower() for c in message.user_comments
            for m in [re.match(r"glossary:\s*(.+?)\s+[—-]\s+\S", c)] if m}


def problems(english: str, korean: str, exempt: set[str] = frozenset(), terms=None) -> list[str]:
    """Why ``korean`` is not a faithful translation of the unit ``english`` ([] when it is)."""
    found = []
    for what, pattern in (("maths", _MATH), ("inline code", _CODE), ("HTML tags", _TAG)):
        a, b = Counter(pattern.findall(english)), Counter(pattern.findall(korean))
        if a != b:
            found.append(f"{what} differ: missing {sorted((a - b).elements())}, extra {sorted((b - a).elements())}")
    a, b = Counter(_LINK.findall(english)), Counter(_LINK.findall(korean))
    if a != b:
        found.append(f"link targets differ: missing {sorted((a - b).elements())}, extra {sorted((b - a).elements())}")
    missing = _numbers(english) - _numbers(korean)
    if missing:
        found.append(f"numbers of the English missing: {sorted(missing.elements())}")
    if "\n\n" in korean.strip("\n") or korean != korean.strip():
        found.append("a blank line or edge whitespace would change the cell's blocks")
    if english.count("|") != korean.count("|") and english.lstrip().startswith("|"):
        found.append("a table row with a different number of cells")
    squeezed = re.sub(r"\s+", "", _prose(korean)).lower()
    for term, korean_forms in glossary_terms(english, terms):
        if term.lower() in exempt:
            continue
        if not any(re.sub(r"\s+", "", k).lower() in squeezed for k in korean_forms):
            found.append(f"glossary: {term!r} should be {' or '.join(korean_forms)!r}")
    return found


def check(name: str) -> list[str]:
    """Every problem of catalogue ``name``: untranslated, fuzzy, and :func:`problems` per unit."""
    if not catalogue_path(name).exists():
        return [f"{name}: no catalogue ({catalogue_path(name).relative_to(nbtools.ROOT)}); run extract"]
    terms = glossary()
    _, found = sources([name])[name]
    wanted = {text for _, text in found}
    out = []
    catalog = read(name)
    for text in sorted(wanted - {m.id for m in catalog if m.id}):
        out.append(f"{name}: not in the catalogue (run extract): {text[:60]!r}")
    for message in catalog:
        if not message.id or message.id not in wanted:
            continue
        where = f"{name}:{message.locations[0][1] if message.locations else '?'}"
        if not message.string:
            out.append(f"{where}: untranslated: {message.id[:60]!r}")
        elif message.fuzzy:
            out.append(f"{where}: fuzzy (the English changed): {message.id[:60]!r}")
        else:
            out += [f"{where}: {p} in {message.id[:50]!r}"
                    for p in problems(message.id, message.string, _exempt(message), terms)]
    return out


# --- export / import: the units in a plain text file ---------------------------------------------

_MARK = "=== unit {n} ==="
_KO = "--- ko ---"
_NOTE = "%% glossary: "  # a line of the Korean block: an exception to the glossary, "TERM — why"


def export(name: str, everything: bool = False) -> str:
    """The units of ``name`` still to translate (all of them with ``everything``), one block each."""
    blocks = []
    for n, message in enumerate(m for m in read(name) if m.id):
        if everything or not message.string or message.fuzzy:
            notes = "".join(f"{_NOTE}{c[len('glossary:'):].strip()}\n" for c in message.user_comments
                            if c.startswith("glossary:"))
            blocks.append(f"{_MARK.format(n=n)}\n{message.id}\n{_KO}\n{notes}{message.string}\n")
    return "\n".join(blocks)


def import_(name: str, text: str) -> int:
    """Put the Korean of an :func:`export` file into the catalogue; return how many units changed."""
    catalog = read(name)
    messages = [m for m in catalog if m.id]
    changed = 0
    parts = re.split(r"(?m)^=== unit (\d+) ===\n", text)
    for number, body in zip(parts[1::2], parts[2::2], strict=True):
        english, sep, korean = ("", _KO, body[len(_KO) + 1:]) if body.startswith(_KO + "\n") \
            else body.partition(f"\n{_KO}\n")
        if not sep:
            checks.fail("text", f"blocks of '=== unit N ===', the English (or nothing), '{_KO}', the Korean",
                        got=f"unit {number} with no '{_KO}' line")
        if int(number) >= len(messages):
            checks.fail("text", f"units 0 to {len(messages) - 1} of {name}", got=f"unit {number}")
        message = messages[int(number)]
        if english and english != message.id:  # the English may be left out: the number says which unit
            checks.fail("text", f"the English of each unit as exported from {name}, or none",
                        got=f"unit {number}: {english[:60]!r}, which the English differs from (re-export)")
        lines = korean.strip("\n").split("\n")
        notes = [f"glossary: {line[len(_NOTE):].strip()}" for line in lines if line.startswith(_NOTE)]
        korean = "\n".join(line for line in lines if not line.startswith(_NOTE)).strip("\n")
        if notes != [c for c in message.user_comments if c.startswith("glossary:")]:
            message.user_comments = [c for c in message.user_comments if not c.startswith("glossary:")] + notes
            changed += not (korean and (korean != message.string or message.fuzzy))
        if korean and (korean != message.string or message.fuzzy):
            message.string = korean
            message.flags.discard("fuzzy")
            message.previous_id = ()
            changed += 1
    write(name, catalog)
    return changed


# --- build ---------------------------------------------------------------------------------------

def _relink(text: str) -> str:
    """Links from ``notebooks/`` re-pointed for ``notebooks/ko/``: notebooks to their twins, the rest up one."""
    def target(match):
        url = match.group(1)
        if re.match(r"[a-z]+:|#|/", url) or re.match(r"\d\d-[\w-]+\.ipynb", url):
            return match.group(0)
        if url.split("#")[0].endswith("README.md"):
            url = url.replace("README.md", "README.ko.md")
        return f"]({'../' + url})"

    return _LINK.sub(target, text)


def korean_title(path: Path) -> str:
    """The Korean of the English notebook ``path``'s title (the title itself while it is untranslated)."""
    title = nbtools.title_of(nbtools._read(path))
    return translations(path.stem).get(title, title)


def korean_nav(paths: list[Path], i: int, titles: list[str]) -> str:
    """Notebook ``i``'s Korean navigation line: Korean neighbours, 목차, and the way back to English."""
    source = nbtools.nav_source(paths, i, titles, nbtools.language_switch(f"../{paths[i].name}", None))
    return source.replace("[Contents](", f"[{CONTENTS}](").replace("\nContents", f"\n{CONTENTS}")


def build_notebook(path: Path) -> tuple[object, Counter]:
    """The Korean twin of the English notebook ``path``, and how many units were (not) translated."""
    nb = nbtools._read(path)
    found = translations(path.stem)
    counts = Counter()

    def translate(text):
        korean = found.get(text)
        counts["translated" if korean else "english"] += 1
        return _relink(korean if korean else text)

    ko = copy.deepcopy(nb)
    for cell in ko.cells:
        if cell.cell_type == "markdown" and not _is_nav(cell):
            cell.source = join(split(cell.source), translate)
    ko.metadata["kai_lib"] = {"language": LANGUAGE, "source": f"../{path.name}"}
    return ko, counts


def build(names: list[str] | None = None) -> dict[str, Counter]:
    """Write ``notebooks/ko/NN-name.ipynb`` for every English notebook with a catalogue (or those named),
    then ``README.ko.md``; the navigation of both editions gets the language switch."""
    paths = [p for p in nbtools.notebook_paths() if catalogue_path(p.stem).exists()]
    built, nbs = {}, {}
    for path in paths:
        if not names or path.stem in names:
            nbs[path], built[path.stem] = build_notebook(path)
    # each neighbour by its Korean title: from the twin just built, else from its catalogue
    titles = [(nbtools.title_of(nbs[p]) if p in nbs else korean_title(p)) or p.stem for p in paths]
    KOREAN.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(paths):
        if path.stem in built:
            nb = nbtools.with_navigation(nbs[path], korean_nav(paths, i, titles))
            nbtools.with_slides(nb)
            nbformat.write(nb, KOREAN / path.name)
            nbtools.clean(KOREAN / path.name)
    nbtools.update_navigation()  # the English notebooks' switch to their new twins
    if catalogue_path("README").exists() and (not names or "README" in names):
        text, built["README"] = readme_ko()
        README_KO.write_text(text)
    return built


def readme_ko() -> tuple[str, Counter]:
    """``README.ko.md`` as the catalogue builds it (its links to notebooks go to the Korean ones), and the counts."""
    found, counts = translations("README"), Counter()

    def translate(text):
        counts["translated" if text in found else "english"] += 1
        return re.sub(r"\]\(notebooks/(\d\d-[\w-]+\.ipynb)", r"](notebooks/ko/\1", found.get(text, text))

    return _readme_ko(join(split(readme_part(README.read_text())), translate)), counts


def _readme_ko(body: str) -> str:
    switch = README_SWITCH_KO
    tail = ("\n\n## 개발자를 위한 내용\n\n테스트, 개발 규칙, 측정값은 영어 README의 [Tests](README.md#tests)와 "
            "[For developers](README.md#for-developers) 절에 있습니다.\n")
    lines = body.rstrip("\n").split("\n")
    return "\n".join([lines[0], "", switch, *lines[1:]]) + tail


# --- the command line ----------------------------------------------------------------------------

def every_name() -> list[str]:
    """The name of every source the edition translates: the notebooks' stems, then ``README``."""
    return [*(p.stem for p in nbtools.notebook_paths()), "README"]


def _names(only: list[str], parser) -> list[str]:
    every = every_name()
    names = []
    for o in only:
        match = [n for n in every if n.startswith(o)]
        if not o.strip() or not match:
            parser.error(f"no notebook matches {o!r}; names: {', '.join(every)}")
        names += match
    return names


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kai_lib.tools.i18n", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for command, what in (("extract", "merge the English units into the catalogues"),
                          ("check", "print every untranslated, fuzzy or unfaithful unit"),
                          ("build", "write notebooks/ko/ and README.ko.md from the catalogues")):
        sub.add_parser(command, help=what).add_argument("only", nargs="*", help="notebook numbers, e.g. 03 README")
    sub.add_parser("status", help="units, translated, fuzzy and untranslated per catalogue")
    ex = sub.add_parser("export", help="the units still to translate, as a plain text file")
    ex.add_argument("name")
    ex.add_argument("file", type=Path)
    ex.add_argument("--all", action="store_true", help="every unit, translated or not")
    im = sub.add_parser("import", help="a filled-in export file back into its catalogue")
    im.add_argument("name")
    im.add_argument("file", type=Path)
    args = parser.parse_args(argv)

    if args.command in ("export", "import"):
        (name,) = _names([args.name], parser)
        if args.command == "export":
            try:
                args.file.write_text(export(name, args.all), encoding="utf-8")
            except OSError as error:
                parser.error(f"file: cannot write {args.file} ({error.strerror})")
            print(f"{args.file}: {args.file.read_text().count('=== unit ')} units of {name}")
        else:
            if not args.file.is_file():
                parser.error(f"file must be an export file to read, got {str(args.file)!r}, which is not a file")
            try:
                print(f"{name}: {import_(name, args.file.read_text(encoding='utf-8'))} units updated")
            except (ValueError, UnicodeDecodeError) as error:
                parser.error(str(error))
        return 0
    names = _names(args.__dict__.get("only") or [], parser)
    if args.command == "extract":
        for name, counts in extract(names).items():
            print(f"{name}: {dict(counts)}")
    elif args.command == "status":
        for name in every_name():
            if catalogue_path(name).exists():
                print(f"{name}: {dict(status(read(name)))}")
    elif args.command == "check":
        found = [p for name in (names or every_name()) for p in check(name)]
        print("\n".join(found) or "no problems")
        return 1 if found else 0
    elif args.command == "build":
        for name, counts in build(names).items():
            print(f"{name}: {counts['translated']} units in Korean, {counts['english']} still in English")
    return 0


if __name__ == "__main__":
    sys.exit(main())
