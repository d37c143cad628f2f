"""Every number the prose of a notebook quotes comes from a cell near it.

A learner who checks a sentence against the output beside it must find the number there.
For each markdown cell this test takes the numbers it quotes and looks for each one in the
text outputs of the code cells around it (``WINDOW`` cells before and after), allowing for
rounding: "0.28" is found in an output "0.2834", "72" in "71.8", "3.2e-3" in "0.00316".
The Summary and Exercises sections recap the whole notebook: their numbers may come from
any output of it.

A number is not checked when it is a setting rather than a result:
- it appears in the source of any code cell of the notebook (``lr=0.1``, ``steps=200``);
- it is an integer below 10, a year, or part of a link, an arXiv id or inline code;
- it is listed in :data:`ALLOWED` for that notebook, with the reason.
"""

from __future__ import annotations

import re
from decimal import Decimal

import nbformat
import pytest

from kai_lib.tools import nbtools as nbtools

PATHS = nbtools.notebook_paths()
#: The Korean edition's notebooks: their prose quotes the same outputs (tests/test_korean.py builds them).
KOREAN_PATHS = nbtools.notebook_paths(nbtools.NOTEBOOKS / "ko")

#: Code cells before and after a markdown cell whose outputs may hold its numbers.
WINDOW = 6

#: Numbers that are not results, per notebook stem: {number as written: why it is allowed}.
#: Keys are the prose spelling with thousands separators removed.
ALLOWED: dict[str, dict[str, str]] = {
    "*": {},
    "10-neural-network": {
        "200": "the moons set's size: the full-batch setting of the batch-size slider, suggested to try",
    },
    "05-adagrad": {
        "0.9": "γ of Momentum and NAG in the race: their default, the Momentum slide's value",
    },
    "06-rmsprop": {
        "0.999": "a value of γ an exercise asks about",
        "600": "the number of steps an exercise asks for",
    },
    "07-adadelta": {
        "0.5": "the y of Beale's minimiser (3, 0.5), a property of the surface, in an exercise",
        "0.05": "1 − ρ for the paper's ρ = 0.95, in an exercise's hint",
    },
    "08-adam": {
        "0.9999": "a slider value of β₂ the text suggests trying",
        "10000": "1/(1 − β₂) for that slider value, the memory it gives",
        "0.0985": "0.9²², the Momentum slide's constant",
        "2.3": "ln 10, in an exercise's hint",
        "49": "an exercise's worked answer in its hint: g²/ε for a step of 0.99 η",
        "99": "an exercise's worked answer in its hint: g/ε for a step of 0.99 η",
        "7e-4": "an exercise's worked answer in its hint: √(49 ε)",
    },
    "09-comparison": {
        "2.25": "a constant of Beale's function's formula",
        "2.625": "a constant of Beale's function's formula",
        "0.999": "β₂, the Adam slide's default, kept in the sweep",
        "0.9": "γ and β₁, the slides' defaults, kept in the sweep",
    },
    "00-index": {
        "2.5": "the size of a notebook saved after a live run (2.5–12 MB), measured by saving one, not a cell's result",
        "0.0985": "the slide's 0.9^22, quoted in the list of notebooks; notebook 03 computes it",
        "0.999": "Adam's default beta2, a slide constant in the table of symbols",
        "10": "the base of 10^-8 and 10^-6, the slides' default epsilons, in the table of symbols",
        "12": "the number of the last notebook, in the reading order (01 → 12) and the run times (09–12)",
        "11": "a notebook's number in the run times (notebooks 09, 11 and 12 take tens of seconds)",
    },
    "01-gradient-descent": {
        "0.49": "a slider value to try, in Try it",
        "0.51": "a slider value to try, in Try it",
        "4.2": "exercise 3's hint works out its answer, eta = 2/4.2",
        "0.476": "exercise 3's hint works out its answer, eta = 2/4.2",
        "300": "exercise 4's setting: steps to run",
        "280": "what exercise 4's hint has the learner print (281.5): the exercise's answer",
    },
    "02-sgd-minibatch": {
        "3000": "exercise 3's setting: steps to run",
    },
    "03-momentum": {
        "1.4": "exercise 1's hint works out 1 - eta h = 1 - 0.6 * 4",
        "0.81": "exercise 4's hint writes out 0.9^2 in the sum the learner computes",
        "0.729": "exercise 4's hint writes out 0.9^3 in the sum the learner computes",
    },
    "04-nag": {
        "300": "exercise 2's setting: steps to run",
    },
    "11-second-order": {
        "7.4": "Nocedal & Wright's Algorithm 7.4, a reference",
        "6.20": "Nocedal & Wright's equation 6.20, a reference",
        "2.13": "the PyTorch version that wrote the reference file",
        "6000": "an exercise's setting",
        # A chaotic run's outcome depends on the BLAS kernel's rounding, so no cell prints it: the prose quotes
        # the spread measured once on three kernels (README, "Checked outputs that hold on every machine").
        "0.065": "the chaotic mini-batch L-BFGS run's final loss under one BLAS kernel (a one-off measurement)",
        "0.078": "the same run under another BLAS kernel (a one-off measurement)",
        "22": "the same run's share of skipped pairs under one kernel (a one-off measurement)",
        "37": "the same run's share of skipped pairs under another kernel (a one-off measurement)",
        "40": "the step after which the chaotic torch comparison drifts above 1e-9, measured once",
    },
    "12-after-adam": {
        "11": "the number of notebook 11, the one this notebook continues",
        "90": "β = 0.9 of Schedule-Free SGD as a percentage: y lies 90 % of the way from z to x",
        "4096": "the size of a large layer, an example in an argument about Shampoo's memory",
        "15": "an angle an exercise asks for",
        "1e-12": "the tolerance the reference tests aim at over 200 steps, a setting of tests/test_after_adam.py",
    },
}

_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.^{])"      # not inside a word, a version, a LaTeX exponent or subscript
    r"(\d{1,3}(?:,\d{3})+|\d+)"  # integer part, maybe with thousands separators
    r"(\.\d+)?"                  # decimals
    r"(?:\s*(?:e|E|×\s*10\^?\{?)([−-]?\d+)\}?)?"  # exponent: 3.2e-3, 3 × 10^{-3}
    r"(?![A-Za-z0-9_])"          # a Korean particle may follow: "0.0056으로"
)
_STRIP = [
    re.compile(r"<!--.*?-->", re.S),         # comments, the navigation marker
    re.compile(r"^\s*\d+\.(?=\s)", re.M),      # the numbers of an ordered list ("11. Second order")
    re.compile(r"`[^`]*`"),                  # inline code
    re.compile(r"\]\([^)]*\)"),              # link targets
    re.compile(r"https?://\S+"),             # bare URLs
    re.compile(r"arXiv[:\s]*\d{4}\.\d{4,5}", re.I),
    re.compile(r"(?<![\d.,])(?:19|20)\d{2}[a-z]?(?![\d.,]\d|[A-Za-z])"),  # years (2019, 2019a, 2020년)
    re.compile(r"\^\{?[−\d.-]+\}?"),          # LaTeX exponents (0.9^{22})
    re.compile(r"_\{?[\w−-]+\}?"),            # LaTeX subscripts (\theta_{t-1})
    re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+"),             # unicode superscripts
]


#: "3.2\cdot10^{-3}", "3.2 \times 10^{-3}", "3.2 × 10^{-3}" in LaTeX or text: read as 3.2e-3
#: before the exponents are stripped (which would leave "3.2" and "10").
_TIMES_TEN = re.compile(r"(\d(?:\.\d+)?)\s*(?:\\cdot|\\times|×|·)\s*10\^\{?([−-]?\d+)\}?")


def quoted_numbers(text: str) -> list[tuple[str, Decimal, Decimal]]:
    """``(as written, value, half a unit of the last digit written)`` for each number in ``text``."""
    text = _TIMES_TEN.sub(lambda m: f"{m.group(1)}e{m.group(2).replace('−', '-')}", text)
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    out = []
    for m in _NUMBER.finditer(text):
        whole, frac, exp = m.group(1).replace(",", ""), m.group(2) or "", m.group(3)
        written = whole + frac + (f"e{exp.replace('−', '-')}" if exp else "")
        value = Decimal(whole + frac)
        unit = Decimal(1).scaleb(-max(len(frac) - 1, 0))  # frac includes the point
        if exp:
            e = int(exp.replace("−", "-"))
            value, unit = value.scaleb(e), unit.scaleb(e)
        out.append((written, value, unit / 2))
    return out


def output_numbers(cell) -> list[Decimal]:
    """Every number in a code cell's text outputs (stdout and text/plain)."""
    texts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            texts.append(out.text)
        elif "data" in out:
            texts.append(out.data.get("text/plain", ""))
            texts.append(out.data.get("text/markdown", ""))
    values = []
    for m in re.finditer(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?", "\n".join(texts).replace(",", "")):
        values.append(Decimal(m.group(0)))
    return values


def _found(value: Decimal, half_unit: Decimal, candidates: list[Decimal], percent: bool) -> bool:
    tolerance = half_unit * Decimal("1.000001")
    for c in candidates:
        if abs(c - value) <= tolerance:
            return True
        if percent and abs(100 * c - value) <= tolerance:  # "95 %" quoted from 0.951
            return True
    return False


def unmatched(nb, stem: str) -> list[str]:
    """The prose numbers of ``nb`` that no nearby output holds, as readable lines."""
    cells = nb.cells
    code_text = "\n".join(c.source for c in cells if c.cell_type == "code")
    settings = {w for w, _, _ in quoted_numbers(code_text)}
    settings |= {m.group(0) for m in re.finditer(r"\d+(?:\.\d+)?(?:e-?\d+)?", code_text)}
    allowed = {**ALLOWED["*"], **ALLOWED.get(stem, {})}
    everywhere = [c for c in cells if c.cell_type == "code"]
    problems = []
    recap = False
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown" or nbtools.NAV_TAG in cell.metadata.get("tags", []):
            continue
        heading = re.search(r"^## (.+)$", cell.source, flags=re.M)
        if heading:
            recap = heading.group(1).strip().lower().startswith(("summary", "exercises", "요약", "연습 문제"))
        near = everywhere if recap else [c for c in cells[max(0, i - WINDOW): i + WINDOW + 1]
                                         if c.cell_type == "code"]
        candidates = [v for c in near for v in output_numbers(c)]
        for written, value, half_unit in quoted_numbers(cell.source):
            if written in settings or written in allowed:
                continue
            if "." not in written and "e" not in written and value < 10:
                continue
            percent = bool(re.search(re.escape(written) + r"\s*%", cell.source.replace(",", "")))
            if not _found(value, half_unit, candidates, percent):
                problems.append(f"cell {i}: {written!r} is in no output of the cells around it")
    return problems



@pytest.mark.parametrize("path", PATHS + KOREAN_PATHS, ids=lambda p: str(p.relative_to(nbtools.NOTEBOOKS)))
def test_prose_numbers_come_from_the_cells_around_them(path):
    nb = nbformat.read(path, as_version=4)
    problems = unmatched(nb, path.stem)
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_the_check_reads_numbers_as_a_learner_does():
    found = {w: (v, h) for w, v, h in quoted_numbers(
        "RMSProp ends 0.28 away; a factor of 72; ε = 3.2e-3; 1,797 images; 95 % accurate; "
        r"$0.9^{22} \approx 0.0985$; see [09](09-comparison.ipynb) and `lr=0.5`, in 2019.")}
    # "09" and the base 0.9 are read too; the test skips integers below 10, and 0.9 is a setting
    assert set(found) == {"0.28", "72", "3.2e-3", "1797", "95", "0.9", "0.0985", "09"}
    assert found["0.28"][1] == Decimal("0.005")
    assert found["3.2e-3"][0] == Decimal("0.0032")
    assert _found(Decimal("0.28"), Decimal("0.005"), [Decimal("0.2834")], percent=False)
    assert not _found(Decimal("70"), Decimal("0.5"), [Decimal("72.0")], percent=False)
    assert _found(Decimal("95"), Decimal("0.5"), [Decimal("0.951")], percent=True)
    assert _found(Decimal("3.2e-3"), Decimal("0.00005"), [Decimal("0.00316")], percent=False)


def test_a_number_times_a_power_of_ten_is_read_as_one_number():
    found = {w: v for w, v, _ in quoted_numbers(
        r"$s \approx 1.2\cdot10^{-5}$, an $\epsilon$ of $3.2 \times 10^{-6}$, and 4.5 × 10^{-3}; $10^{-4}$ alone")}
    assert found == {"1.2e-5": Decimal("0.000012"), "3.2e-6": Decimal("0.0000032"), "4.5e-3": Decimal("0.0045"),
                     "10": Decimal(10)}


def test_the_items_of_a_numbered_list_are_not_quoted_numbers():
    found = [w for w, _, _ in quoted_numbers("10. A network\n11. Second order: 2410 parameters, 12.5 s")]
    assert found == ["2410", "12.5"]


def test_a_number_the_output_does_not_hold_is_reported():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(round(d, 2))")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="distance 0.20\n")]
    nb.cells = [code, nbformat.v4.new_markdown_cell("SGD ends 0.20 away, RMSProp 0.28.")]
    assert unmatched(nb, "x") == ["cell 1: '0.28' is in no output of the cells around it"]


def test_a_korean_particle_after_a_number_does_not_hide_it():
    found = [w for w, _, _ in quoted_numbers("손실은 0.0056으로 가장 낮고, 37 %의 쌍이 1,866개 중 12.5초에")]
    assert found == ["0.0056", "37", "1866", "12.5"]
