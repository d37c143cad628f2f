"""The Korean edition cannot drift: every English unit translated, faithfully, and the Korean notebooks
the English ones with only their prose changed (``kai_lib/tools/i18n.py``, DESIGN "The Korean edition").

A changed English sentence fails :func:`test_every_unit_is_translated_and_faithful` until its
translation is updated (``make translations`` marks it fuzzy); a translation whose maths, inline code,
link targets, HTML tags or numbers differ from its English fails it too, and so does a glossary term
translated otherwise than ``notebooks/ko/glossary.tsv`` says. The Korean notebooks are checked against
the English ones cell by cell, and against what ``make notebooks`` would build from the catalogues now.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib
import pytest

from kai_lib.tools import i18n, nbtools

ENGLISH = nbtools.notebook_paths()
KOREAN = nbtools.notebook_paths(i18n.KOREAN)
NAMES = i18n.every_name()


# --- units ---------------------------------------------------------------------------------------

CELL = """## The update rule

Momentum keeps one extra vector, the velocity $v$,
starting at $v_0 = 0$:

$$
v_t = \\gamma v_{t-1} + \\eta g
$$

- $\\eta$ is the learning rate;
- $\\gamma$ is the **momentum term**, "usually 0.9":
  $\\gamma = 0$ gives back plain SGD.

| | rule |
|---|---|
| SGD | $\\theta - \\eta g$ |

```python
opt = Momentum(lr=0.1)   # a comment is code
```
1. Try it.
   <details><summary>Hint</summary>Use `run`.</details>
> 지수 평균으로 바꾸어
> 대체."""


def test_a_cell_is_cut_into_headings_paragraphs_items_and_rows():
    pieces = i18n.split(CELL)
    units = [p for p in pieces if isinstance(p, i18n.Unit)]
    assert [u.text for u in units] == [
        "The update rule",
        "Momentum keeps one extra vector, the velocity $v$,\nstarting at $v_0 = 0$:",
        "$\\eta$ is the learning rate;",
        "$\\gamma$ is the **momentum term**, \"usually 0.9\":\n$\\gamma = 0$ gives back plain SGD.",
        "| | rule |",
        "| SGD | $\\theta - \\eta g$ |",
        "Try it.\n<details><summary>Hint</summary>Use `run`.</details>",
        "지수 평균으로 바꾸어\n대체.",
    ]
    assert [u.prefix for u in units] == ["## ", "", "- ", "- ", "", "", "1. ", "> "]
    # the display maths, the table rule, the fence and the blank lines are copied, never translated
    assert "$$\nv_t = \\gamma v_{t-1} + \\eta g\n$$" in pieces and "|---|---|" in pieces
    assert "opt = Momentum(lr=0.1)   # a comment is code" in pieces
    assert i18n.join(pieces) == CELL


def test_the_builder_keeps_markers_and_indents_and_the_translator_writes_only_text():
    pieces = i18n.split(CELL)
    korean = {"$\\gamma$ is the **momentum term**, \"usually 0.9\":\n$\\gamma = 0$ gives back plain SGD.":
              "$\\gamma$는 **모멘텀 항**으로, \"보통 0.9\"입니다.\n$\\gamma = 0$이면 평범한 SGD입니다.",
              "Try it.\n<details><summary>Hint</summary>Use `run`.</details>":
              "해 보세요.\n<details><summary>힌트</summary>`run`을 쓰세요.</details>"}
    built = i18n.join(pieces, korean.get)
    assert "- $\\gamma$는 **모멘텀 항**으로, \"보통 0.9\"입니다.\n  $\\gamma = 0$이면 평범한 SGD입니다." in built
    assert "1. 해 보세요.\n   <details><summary>힌트</summary>`run`을 쓰세요.</details>" in built
    assert nbtools._blocks(built) and len(nbtools._blocks(built)) == len(nbtools._blocks(CELL))


@pytest.mark.parametrize("path", [*ENGLISH, i18n.README], ids=lambda p: p.name)
def test_cutting_and_joining_gives_the_source_back(path):
    if path == i18n.README:
        sources = [i18n.readme_part(path.read_text())]
    else:
        sources = [c.source for c in nbtools._read(path).cells if c.cell_type == "markdown"]
    for source in sources:
        assert i18n.join(i18n.split(source)) == source


# --- the drift checks ------------------------------------------------------------------------------

UNIT = ("Adam's first step is $\\eta$ in every coordinate (0.1 here, see [notebook 08](08-adam.ipynb)); "
        "`run` prints 37 % of the <kbd>→</kbd> presses.")
GOOD = ("Adam의 첫 스텝은 모든 좌표에서 $\\eta$입니다(여기서는 0.1, [노트북 08](08-adam.ipynb) 참고). "
        "`run`은 <kbd>→</kbd> 누름의 37 %를 출력합니다.")


def test_a_faithful_translation_has_no_problems():
    assert i18n.problems(UNIT, GOOD) == []


@pytest.mark.parametrize("broken, complaint", [
    (GOOD.replace("$\\eta$", "$\\alpha$"), "maths differ"),
    (GOOD.replace("`run`", "run"), "inline code differ"),
    (GOOD.replace("08-adam.ipynb", "07-adadelta.ipynb"), "link targets differ"),
    (GOOD.replace("<kbd>→</kbd>", "→"), "HTML tags differ"),
    (GOOD.replace("0.1", "0.01"), "numbers of the English missing: ['0.1']"),
    (GOOD.replace("37 %", "절반"), "numbers of the English missing: ['37']"),
    (GOOD.replace(" `run`", "\n\n`run`"), "blank line"),
    (GOOD.replace("Adam의", "아담의"), "glossary: 'Adam' should be 'Adam'"),
])
def test_an_unfaithful_translation_is_named(broken, complaint):
    found = i18n.problems(UNIT, broken)
    assert any(complaint in p for p in found), found


def test_the_glossary_wants_its_korean_and_a_longer_term_hides_a_shorter_one():
    english = "Gradient descent follows the gradient; the learning rate sets the step size."
    assert [t for t, _ in i18n.glossary_terms(english)] == ["gradient descent", "learning rate", "step size",
                                                             "gradient"]
    good = "경사 하강법은 기울기를 따라가고, 학습률이 스텝 크기를 정합니다."
    assert i18n.problems(english, good) == []
    found = i18n.problems(english, good.replace("학습률", "러닝 레이트"))
    assert found == ["glossary: 'learning rate' should be '학습률'"]
    # an exception is a translator comment on the unit, with its reason
    assert i18n.problems(english, good.replace("학습률", "러닝 레이트"), exempt={"learning rate"}) == []


def test_the_glossary_is_a_table_of_three_columns_with_every_korean_filled():
    lines = i18n.GLOSSARY.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "english\tkorean\tnote"
    seen = set()
    for line in lines[1:]:
        english, korean, note = line.split("\t")
        assert english and korean and note, line
        for form in english.split("|"):
            assert form.lower() not in seen, f"{form!r} twice in the glossary"
            seen.add(form.lower())
    assert len(lines) - 1 >= 80


@pytest.mark.parametrize("name", NAMES)
def test_every_unit_is_translated_and_faithful(name):
    found = i18n.check(name)
    assert not found, f"{len(found)} problems (python -m kai_lib.tools.i18n check {name}):\n" + "\n".join(found[:30])


# --- the workflow: extract, translate, build -------------------------------------------------------

def test_a_changed_english_sentence_makes_only_its_translation_fuzzy(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "CATALOGUES", tmp_path)
    notebook = tmp_path / "01-first.ipynb"
    units = ["Gradient descent", "It steps against the gradient, by $\\eta$ times its size.", "A new sentence."]

    def sources(found):
        monkeypatch.setattr(i18n, "sources", lambda names=None: {"01-first": (notebook, [(1, u) for u in found])})
        return i18n.extract(["01-first"])["01-first"]

    assert sources(units[:2]) == {"units": 2, "untranslated": 2}
    export = i18n.export("01-first")
    assert export.count("=== unit ") == 2 and units[1] in export
    korean = ("=== unit 0 ===\n--- ko ---\n경사 하강법\n\n"
              "=== unit 1 ===\n--- ko ---\n기울기의 반대로, 그 크기의 $\\eta$배만큼 갑니다.\n")
    assert i18n.import_("01-first", korean) == 2
    assert i18n.check("01-first") == []
    # one English sentence changes, one is added: the first unit keeps its Korean
    changed = ["Gradient descent", "It steps against the gradient, by $\\eta$ times its length.", units[2]]
    assert sources(changed) == {"units": 3, "translated": 1, "fuzzy": 1, "untranslated": 1}
    catalog = i18n.read("01-first")
    assert catalog.get(changed[1]).fuzzy
    # the translator sees what changed: the old English beside the new, gettext's "#| msgid"
    assert '#| msgid "It steps against the gradient, by $\\\\eta$ times its size."' in \
        (tmp_path / "01-first.po").read_text()
    assert i18n.translations("01-first") == {"Gradient descent": "경사 하강법"}  # a fuzzy unit builds in English
    problems = i18n.check("01-first")
    assert [p.split(": ")[1] for p in problems] == ["fuzzy (the English changed)", "untranslated"]


def test_an_import_that_names_a_wrong_unit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "CATALOGUES", tmp_path)
    fake = {"01-first": (tmp_path / "01-first.ipynb", [(1, "Momentum")])}
    monkeypatch.setattr(i18n, "sources", lambda names=None: fake)
    i18n.extract()
    with pytest.raises(ValueError, match="text must be units 0 to 0 of 01-first, got unit 3"):
        i18n.import_("01-first", "=== unit 3 ===\n--- ko ---\n모멘텀\n")
    with pytest.raises(ValueError, match="which the English differs from"):
        i18n.import_("01-first", "=== unit 0 ===\nMomentun\n--- ko ---\n모멘텀\n")


# --- the Korean notebooks ---------------------------------------------------------------------------

def test_every_english_notebook_has_its_korean_twin():
    assert [p.name for p in KOREAN] == [p.name for p in ENGLISH]


def _is_nav(cell) -> bool:
    return nbtools.NAV_TAG in cell.metadata.get("tags", [])


@pytest.mark.parametrize("path", ENGLISH, ids=lambda p: p.name)
def test_a_korean_notebook_is_its_english_one_with_only_the_prose_changed(path):
    english, korean = nbtools._read(path), nbtools._read(i18n.KOREAN / path.name)
    assert len(korean.cells) == len(english.cells)
    for i, (en, ko) in enumerate(zip(english.cells, korean.cells, strict=True)):
        where = f"{path.name} cell {i}"
        assert ko.cell_type == en.cell_type, where
        assert ko.metadata == en.metadata, f"{where}: the slide cut or the tags differ"
        if en.cell_type == "code":
            assert ko.source == en.source, f"{where}: code"
            assert ko.outputs == en.outputs, f"{where}: outputs"
            assert ko.execution_count == en.execution_count, where
        elif not _is_nav(en):
            assert len(nbtools._blocks(ko.source)) == len(nbtools._blocks(en.source)), f"{where}: blocks"
            assert [nbtools._is_formula(b) for b in nbtools._blocks(ko.source)] == \
                [nbtools._is_formula(b) for b in nbtools._blocks(en.source)], f"{where}: formulas"
    assert {k: v for k, v in korean.metadata.items() if k != "kai_lib"} == english.metadata
    assert korean.metadata["kai_lib"] == {"language": "ko", "source": f"../{path.name}"}


@pytest.mark.parametrize("path", ENGLISH, ids=lambda p: p.name)
def test_the_committed_korean_notebook_is_what_the_catalogue_builds_now(path):
    built, counts = i18n.build_notebook(path)
    committed = nbtools._read(i18n.KOREAN / path.name)
    stale = [i for i, (b, c) in enumerate(zip(built.cells, committed.cells, strict=True))
             if b.cell_type == "markdown" and not _is_nav(b) and b.source != c.source]
    assert not stale, f"{path.name}: cells {stale} differ from the catalogue's build: run make notebooks"
    assert counts["english"] == 0, f"{path.name}: {counts['english']} units still in English"


def test_the_navigation_joins_each_pair_and_the_korean_neighbours():
    for i, path in enumerate(ENGLISH):
        english, korean = nbtools._read(path), nbtools._read(i18n.KOREAN / path.name)
        en_nav = [c.source for c in english.cells if _is_nav(c)]
        ko_nav = [c.source for c in korean.cells if _is_nav(c)]
        assert len(en_nav) == len(ko_nav) == 2 and en_nav[0] == en_nav[1] and ko_nav[0] == ko_nav[1]
        assert en_nav[0].endswith(f"English | [한국어](ko/{path.name})"), en_nav[0]
        assert ko_nav[0].endswith(f"[English](../{path.name}) | 한국어"), ko_nav[0]
        assert "Contents" not in ko_nav[0] and "목차" in ko_nav[0]
        if i + 1 < len(ENGLISH):  # the next notebook by its Korean title, in the same folder
            title = nbtools.title_of(nbtools._read(i18n.KOREAN / ENGLISH[i + 1].name))
            assert f"[{title}]({ENGLISH[i + 1].name}) >" in ko_nav[0]


LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("path", KOREAN, ids=lambda p: p.name)
def test_every_link_of_a_korean_notebook_lands_on_a_file(path):
    for cell in nbtools._read(path).cells:
        if cell.cell_type != "markdown":
            continue
        for target in LINK.findall(cell.source):
            if re.match(r"[a-z]+:|#", target):
                continue
            assert (path.parent / target.split("#")[0]).exists(), f"{path.name}: {target}"


def test_the_readmes_link_each_other_and_the_korean_one_is_built_from_its_catalogue():
    assert i18n.README_SWITCH in i18n.README.read_text()
    text = i18n.README_KO.read_text()
    assert i18n.README_SWITCH_KO in text.split("\n")[2]
    built, counts = i18n.readme_ko()
    assert text == built, "README.ko.md differs from its catalogue's build: run make notebooks"
    assert counts["english"] == 0 and counts["translated"] == len(i18n.sources(["README"])["README"][1])
    assert re.search(r"[가-힣]", text)
    assert not re.search(r"\]\(notebooks/\d\d-", text), "README.ko.md links the English notebooks"


# --- Hangul in a picture ---------------------------------------------------------------------------

def test_a_picture_with_hangul_loses_no_glyph():
    from kai_lib.pictures import styles

    family = styles.font_family()
    if len(family) < 2:
        pytest.skip("no Korean font installed (Debian: apt-get install fonts-noto-cjk; .ci/run installs it)")
    assert family[0] == "DejaVu Sans" and family[1] in styles.KOREAN_FONTS
    assert list(matplotlib.rcParams["font.family"]) == family
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_title("학습률 η = 0.1에서 −1, θ₀, γᵏ ✕, ∇J, ε, β")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        fig.canvas.draw()
    plt.close(fig)


def test_the_korean_fonts_come_after_dejavu_which_has_every_symbol():
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    dejavu = FT2Font(font_manager.findfont("DejaVu Sans", fallback_to_default=False))
    for symbol in "−ηθ∇εγβᵏ₀✕":
        assert dejavu.get_char_index(ord(symbol)), f"DejaVu Sans lacks {symbol!r}"
    assert Path(font_manager.findfont("DejaVu Sans")).name.startswith("DejaVuSans")


def test_the_korean_speaker_notes_speak_korean_and_number_the_same_slides():
    english = nbtools.notes_page(nbtools.NOTEBOOKS / "03-momentum.ipynb")
    korean = nbtools.notes_page(i18n.KOREAN / "03-momentum.ipynb")
    assert "<html lang='ko'>" in korean and "Momentum: 발표자 노트" in korean and "speaker notes" not in korean
    assert korean.count("<section>") == english.count("<section>") > 20
    assert "관성" in korean and "inertia" in english


def test_the_command_refuses_a_missing_or_unwritable_file_in_one_line(cli_error, tmp_path):
    assert "file must be an export file to read" in cli_error(i18n.main, ["import", "03", str(tmp_path / "nope.txt")])
    assert "file: cannot write" in cli_error(i18n.main, ["export", "03", str(tmp_path / "no" / "such" / "x.txt")])
    assert "no notebook matches '99'" in cli_error(i18n.main, ["check", "99"])
