"""The house: kai_lib is built in floors, and a module imports only from its own floor or below.

    ground    checks optimizers surfaces schedules data   the maths a learner opens
    loops     runner nn                                  the two loops that step an optimizer
    pictures  kai_lib/pictures/                          everything that draws
    studies   kai_lib/studies/                           one module per experiment a notebook runs
    top       figures, kai_lib/tools/                    the figure CLI and the maintainers' tools

The imports are read from the source (``ast``), so an import inside a function counts too.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kai_lib"
FLOORS = ["ground", "loops", "pictures", "studies", "top"]
GROUND = {"checks", "optimizers", "surfaces", "schedules", "data"}
LOOPS = {"runner", "nn"}


def floor_of(module: str) -> str:
    """The floor of a dotted module name inside kai_lib (``"pictures.plotting"``, ``"runner"``)."""
    head = module.split(".")[0]
    if head in GROUND:
        return "ground"
    if head in LOOPS:
        return "loops"
    if head in ("pictures", "studies"):
        return head
    if head in ("figures", "tools"):
        return "top"
    raise AssertionError(f"kai_lib.{module} has no floor: add it to tests/test_house.py before writing it")


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts == ["__init__"]:
            continue  # the public face imports from every floor
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def imported(module: str, path: Path):
    """The kai_lib modules that ``module`` imports, as dotted names relative to kai_lib."""
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "kai_lib":
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:  # a name may be a module (from .pictures import plotting) or not
                as_module = target + [alias.name]
                is_module = (PACKAGE.joinpath(*as_module).with_suffix(".py").exists()
                             or PACKAGE.joinpath(*as_module).is_dir())
                yield ".".join(as_module if is_module else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("kai_lib."):
                    yield alias.name[len("kai_lib."):]


MODULES = dict(modules())


def test_every_module_has_a_floor():
    assert {floor_of(m) for m in MODULES} == set(FLOORS)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_from_its_floor_or_below(module):
    mine = FLOORS.index(floor_of(module))
    upward = [f"kai_lib.{target} ({floor_of(target)})" for target in imported(module, MODULES[module])
              if target and FLOORS.index(floor_of(target)) > mine]
    assert not upward, f"kai_lib.{module} ({floor_of(module)}) imports from a floor above it: {upward}"


def test_the_check_reads_imports_as_python_does():
    """The reader itself: relative imports of every depth resolve to the module they name."""
    got = set(imported("studies.moons", MODULES["studies.moons"]))
    assert {"data", "nn", "optimizers", "pictures.animation"} <= got
    got = set(imported("pictures.plotting", MODULES["pictures.plotting"]))
    assert {"checks", "pictures.styles", "runner", "surfaces"} <= got


def test_an_upward_import_is_caught(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from .pictures import plotting\n")
    ups = [t for t in imported("optimizers", bad) if FLOORS.index(floor_of(t)) > FLOORS.index("ground")]
    assert ups == ["pictures.plotting"]
