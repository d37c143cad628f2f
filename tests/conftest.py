"""Test settings shared by every test file."""

from hypothesis import settings

# Hypothesis draws its examples from a fixed seed, so every run tests the same points
# (and a failure found once is found again); no example database is written.
settings.register_profile("kai_lib", derandomize=True, database=None, deadline=None)
settings.load_profile("kai_lib")
