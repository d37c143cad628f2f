"""python -m kai_lib.tools.bench: the maintainers' timings run, and answer bad arguments with one line."""

import pytest

from kai_lib.tools import bench

pytestmark = pytest.mark.filterwarnings("error")


def test_bench_with_five_steps_runs(capsys):
    assert bench.main(["--steps", "5"]) == 0
    assert "5-step run" in capsys.readouterr().out


@pytest.mark.parametrize("steps,match", [("0", "--steps must be an integer in [1, 100000], got 0"),
                                         ("-3", "got -3"), ("1000000", "got 1000000"),
                                         ("2.5", "invalid int value: '2.5'")])
def test_bench_bad_steps_is_one_line(steps, match, cli_error):
    assert match in cli_error(bench.main, ["--steps", steps])
