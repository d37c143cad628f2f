"""Every example in kai_lib's docstrings runs and prints what it says (the optimizers print their first step)."""

import doctest
import importlib
import pkgutil

import pytest

import kai_lib

MODULES = sorted(m.name for m in pkgutil.walk_packages(kai_lib.__path__, "kai_lib."))
#: kai_lib.studies.tuning is being rewritten; its example still imports it from the old flat place.
PENDING = {"kai_lib.studies.tuning"}


@pytest.mark.parametrize("name", [m for m in MODULES if m not in PENDING])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed"


def test_every_optimizer_example_prints_its_first_step():
    from kai_lib import optimizers

    for cls in {**optimizers.ALL, **optimizers.SECOND_ORDER}.values():
        examples = doctest.DocTestFinder().find(cls, cls.__name__, globs=vars(optimizers))[0].examples
        printed = [e for e in examples if e.want.strip()]
        assert printed and printed[-1].want.startswith("array("), f"{cls.__name__}'s example prints no step"
