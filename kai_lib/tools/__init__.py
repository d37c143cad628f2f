"""For maintainers: the notebooks' tooling (``nbtools``) and the benchmarks (``bench``).

The top floor: they may import anything in kai_lib, and nothing in kai_lib imports them.
"""
