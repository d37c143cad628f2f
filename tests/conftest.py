"""Test settings shared by every test file."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Hypothesis draws its examples from a fixed seed, so every run tests the same points
# (and a failure found once is found again); no example database is written.
settings.register_profile("kai_lib", derandomize=True, database=None, deadline=None)
settings.load_profile("kai_lib")


@pytest.fixture
def no_show_and_close(monkeypatch):
    """Fail a test whose kai_lib call shows a figure (helpers return what they drew); close its figures."""
    def forbidden(*args, **kwargs):
        raise AssertionError("kai_lib must not call plt.show()")

    monkeypatch.setattr(plt, "show", forbidden)
    yield
    plt.close("all")
