"""One argument checker for the whole package: say the argument, what is allowed, what came.

Every public function of kai_lib checks its arguments up front with these helpers, so
a bad value fails at once, in the caller's terms, with the same kind of message:

>>> from kai_lib import checks
>>> checks.number("lr", 0.1, low=0, low_open=True)
0.1
>>> checks.number("lr", True, low=0, low_open=True)
Traceback (most recent call last):
...
kai_lib.checks.WrongType: lr must be a finite number > 0, got True (a bool)

The rules, the same everywhere:

- a *number* is an ``int``, a ``float``, a numpy integer or float scalar, or a 0-d
  numpy array of those (``np.array(0.1)`` is 0.1); a ``bool`` is not a number
  (``lr=True`` is refused), nor is a string, a list or an array of several values;
- a *boolean* is ``True`` or ``False`` (or a numpy bool): ``"False"`` is refused
  rather than read as true, and so are 0 and 1;
- a value of the wrong type raises :class:`WrongType`, which is both a ``TypeError``
  and a ``ValueError``; a value of the right type outside the allowed range raises a
  ``ValueError``. Either way the message names the argument.

This module is the ground floor's own ground: it imports nothing from kai_lib.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import NoReturn

import numpy as np

__all__ = ["WrongType", "UnknownName", "unknown", "number", "integer", "count", "seed", "boolean", "choice",
           "limits", "size", "function", "instance", "real_array", "points", "shown", "fail", "keys"]


class WrongType(TypeError, ValueError):
    """An argument of the wrong type.

    A ``TypeError`` as Python's convention has it, and a ``ValueError`` too, so that
    ``except ValueError`` catches every bad argument of kai_lib.
    """


class UnknownName(KeyError, ValueError):
    """A name that is not in a registry (a surface, an optimizer, a race).

    A ``KeyError`` as a dict lookup's, and a ``ValueError`` too; its message lists the known names.
    """

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


def unknown(name: str, value, known: Iterable[str], what: str) -> NoReturn:
    """Refuse ``value`` of argument ``name``, not one of the ``known`` names of ``what``.

    >>> unknown("surface", "bael", ["beale", "saddle"], "surface")
    Traceback (most recent call last):
    ...
    kai_lib.checks.UnknownName: surface must be a known surface name (known: beale, saddle), got 'bael'
    """
    raise UnknownName(f"{name} must be a known {what} name (known: {', '.join(known)}), got {value!r}")


def keys(name: str, given: Iterable[str], known: Iterable[str], what: str) -> None:
    """Refuse the names in ``given`` that are not ``known`` names of ``what`` (keyword arguments, dict keys).

    A :class:`WrongType`, as Python refuses an unexpected keyword argument with a ``TypeError``;
    the message names the argument (``name``), the unknown names and the known ones:

    >>> keys("initial", {"lr": 0.1}, ["lr", "steps"], "slider")
    >>> keys("initial", {"gamma": 0.9, "beta": 1}, ["lr", "steps"], "slider")
    Traceback (most recent call last):
    ...
    kai_lib.checks.WrongType: initial: no slider named 'beta', 'gamma'; sliders: lr, steps
    """
    known = list(known)
    extra = sorted(set(given) - set(known), key=str)
    if extra:
        raise WrongType(f"{name}: no {what} named {', '.join(repr(n) for n in extra)}; {what}s: {', '.join(known)}")


def shown(value, width: int = 60) -> str:
    """How a message shows ``value``: its repr (cut to ``width``), and its type where that is the problem."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return f"an array of shape {value.shape}"
    text = repr(value)
    if len(text) > width:
        text = text[: width - 3] + "..."
    if isinstance(value, (bool, np.bool_)):
        return f"{text} (a bool)"
    if isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, np.ndarray):
        return text
    return f"{text} (a {type(value).__name__})"


def _fail(name: str, allowed: str, value, error: type[Exception] = ValueError, verb: str = "be",
          got: str | None = None) -> NoReturn:
    raise error(f"{name} must {verb} {allowed}, got {shown(value) if got is None else got}")


def fail(name: str, allowed: str, value=None, wrong_type: bool = False, verb: str = "be",
         got: str | None = None) -> NoReturn:
    """Refuse ``value`` of argument ``name`` in the house's words: ``"<name> must be <allowed>, got <value>"``
    (``verb="have"``: ``"<name> must have <allowed>, ..."``; ``got`` describes what came, instead of ``value``).

    For a check no helper here makes (a shape that depends on another argument, a relation
    between two arguments): a ``ValueError``, or a :class:`WrongType` with ``wrong_type=True``.

    >>> fail("y", "one label per row of X", [1, 2])
    Traceback (most recent call last):
    ...
    ValueError: y must be one label per row of X, got [1, 2] (a list)
    """
    _fail(name, allowed, value, WrongType if wrong_type else ValueError, verb, got)


def _g(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    return f"{'(' if low_open else '['}{_g(low)}, {_g(high)}{')' if high_open else ']'}"


def _real(value):
    """``value`` as a Python int or float if it is a real number (not a bool), else ``None``."""
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or value.dtype.kind not in "iuf":
            return None
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    return value


def number(name: str, value, low: float | None = None, high: float | None = None, *, low_open: bool = False,
           high_open: bool = False) -> float:
    """``value`` as a finite float, checked against ``low`` and ``high`` (closed unless ``*_open``).

    >>> number("gamma", 0.9, low=0, high=1, high_open=True)
    0.9
    """
    if low is not None and high is not None:
        allowed = f"in {_interval(low, high, low_open, high_open)}"
    elif low is not None:
        allowed = f"a finite number {'>' if low_open else '>='} {_g(low)}"
    elif high is not None:
        allowed = f"a finite number {'<' if high_open else '<='} {_g(high)}"
    else:
        allowed = "a finite number"
    real = _real(value)
    if real is None:
        _fail(name, allowed, value, WrongType)
    try:
        x = float(real)
    except OverflowError:  # an int too large for a float
        x = math.inf if real > 0 else -math.inf
    if not math.isfinite(x):
        _fail(name, allowed, value)
    if low is not None and (x < low or (low_open and x == low)):
        _fail(name, allowed, value)
    if high is not None and (x > high or (high_open and x == high)):
        _fail(name, allowed, value)
    return x


def integer(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (either end may be ``None``).

    Floats are refused, even whole ones (``steps=1e3``): a count is an integer.

    >>> integer("steps", 200, low=0)
    200
    """
    if low is not None and high is not None:
        allowed = f"an integer in [{low}, {high}]"
    elif low is not None:
        allowed = f"an integer >= {low}"
    elif high is not None:
        allowed = f"an integer <= {high}"
    else:
        allowed = "an integer"
    real = _real(value)
    if real is None or not isinstance(real, numbers.Integral):
        _fail(name, allowed, value, WrongType)
    n = int(real)
    if (low is not None and n < low) or (high is not None and n > high):
        _fail(name, allowed, value)
    return n


def count(name: str, value, low: int, ceiling: int, why: str) -> int:
    """An integer >= ``low`` and at most ``ceiling``, a limit on work or memory that ``why`` names.

    The message states the ceiling and where it lives, so a typo (one zero too many) is
    refused before anything is allocated, in words the learner can act on:

    >>> count("steps", 10**9, 0, 100_000, "kai_lib.runner.MAX_STEPS, a ceiling on work")
    Traceback (most recent call last):
    ...
    ValueError: steps must be at most 100,000 (kai_lib.runner.MAX_STEPS, a ceiling on work), got 1000000000
    """
    n = integer(name, value, low=low)
    if n > ceiling:
        _fail(name, f"at most {ceiling:,} ({why})", value)
    return n


def seed(name: str, value) -> int:
    """A seed of ``numpy.random.default_rng``: an integer >= 0.

    >>> seed("seed", 0)
    0
    """
    return integer(name, value, low=0)


def boolean(name: str, value) -> bool:
    """``value`` if it is ``True`` or ``False`` (a numpy bool too); anything else is refused.

    >>> boolean("eps_inside_sqrt", False)
    False
    """
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "b":
        value = value.item()
    if not isinstance(value, (bool, np.bool_)):
        _fail(name, "True or False", value, WrongType)
    return bool(value)


def choice(name: str, value, options: Iterable):
    """``value`` if it is one of ``options`` (compared by type and ``==``).

    >>> choice("mode", "gif", ("jshtml", "gif"))
    'gif'
    """
    options = list(options)
    for option in options:
        if type(value) is type(option) and value == option:
            return value
    quoted = [repr(o) for o in options]
    allowed = " or ".join(quoted) if len(quoted) <= 2 else "one of " + ", ".join(quoted)
    _fail(name, allowed, value, ValueError if isinstance(value, tuple(type(o) for o in options)) else WrongType)


def limits(name: str, value) -> tuple[float, float]:
    """A view or a range ``(low, high)``: two finite numbers with ``low < high``.

    >>> limits("xlim", (-1, 2))
    (-1.0, 2.0)
    """
    allowed = "a pair (low, high) of finite numbers with low < high"
    if isinstance(value, (str, bytes)) or not _is_pair(value):
        _fail(name, allowed, value, WrongType)
    low, high = (_real(v) for v in value)
    if low is None or high is None:
        _fail(name, allowed, value, WrongType)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        _fail(name, allowed, value)
    return float(low), float(high)


def size(name: str, value, high: float = 100.0) -> tuple[float, float]:
    """A figure size ``(width, height)`` in inches: two numbers in ``(0, high]``.

    >>> size("figsize", (7, 5.2))
    (7.0, 5.2)
    """
    allowed = f"a pair (width, height) of numbers in (0, {_g(high)}]"
    if isinstance(value, (str, bytes)) or not _is_pair(value):
        _fail(name, allowed, value, WrongType)
    out = []
    for v in value:
        real = _real(v)
        if real is None:
            _fail(name, allowed, value, WrongType)
        if not (math.isfinite(real) and 0 < real <= high):
            _fail(name, allowed, value)
        out.append(float(real))
    return out[0], out[1]


def _is_pair(value) -> bool:
    try:
        return len(value) == 2 and np.ndim(value) == 1
    except (TypeError, ValueError):
        return False


def function(name: str, value, allowed: str = "a function"):
    """``value`` if it can be called; ``allowed`` says what it should be (e.g. ``"a function theta -> J"``)."""
    if not callable(value):
        _fail(name, allowed, value, WrongType)
    return value


def instance(name: str, value, cls: type, allowed: str):
    """``value`` if it is an instance of ``cls``; a class itself is refused with a hint to call it.

    >>> from kai_lib.optimizers import SGD, Optimizer
    >>> instance("optimizer", SGD, Optimizer, "a kai_lib optimizer instance")
    Traceback (most recent call last):
    ...
    kai_lib.checks.WrongType: optimizer must be a kai_lib optimizer instance, got the class SGD (call it: SGD(...))
    """
    if isinstance(value, cls):
        return value
    if isinstance(value, type):
        raise WrongType(f"{name} must be {allowed}, got the class {value.__name__} (call it: {value.__name__}(...))")
    _fail(name, allowed, value, WrongType)


def real_array(name: str, value) -> np.ndarray:
    """A float copy of ``value``, an array (or nested lists) of real numbers; not checked for finiteness.

    >>> real_array("theta", [1, 2])
    array([1., 2.])
    """
    allowed = "an array of real numbers"
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        _fail(name, allowed, value, WrongType)
    if arr.dtype.kind not in "iuf":
        _fail(name, allowed, value, WrongType)
    return np.array(arr, dtype=float)


def points(name: str, value) -> np.ndarray:
    """One point ``(2,)`` or a batch ``(..., 2)`` of finite numbers, as a float copy.

    >>> points("start", [1, 2])
    array([1., 2.])
    """
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested lists
        arr = np.asarray(None)
    if arr.dtype.kind not in "iuf":  # not bools, strings, complex numbers or objects
        _fail(name, "an array of numbers of shape (..., 2)", value, WrongType)
    arr = np.array(arr, dtype=float)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (2,) or (..., 2), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        _fail(name, "finite", value)
    return arr
