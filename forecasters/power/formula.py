"""Symbolic formulas as data: a prefix token list that can be printed for people and evaluated with numpy.

A fitted symbolic-regression program is saved as tokens (function names, feature names, constants), never
as a pickle, so a model file is readable, diffable and loads without gplearn. The functions are the
protected operators of gplearn (division by ~0 gives 1, log of ~0 gives 0, ...), reproduced exactly so
that a saved formula predicts what the fitted program predicted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy.special import expit

Token = str | float


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(b) > 0.001, np.divide(a, b), 1.0)


def _log(a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(a) > 0.001, np.log(np.abs(a)), 0.0)


def _inv(a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(a) > 0.001, 1.0 / a, 0.0)


FUNCTIONS: dict[str, tuple[int, Callable[..., np.ndarray]]] = {
    "add": (2, np.add),
    "sub": (2, np.subtract),
    "mul": (2, np.multiply),
    "div": (2, _div),
    "sqrt": (1, lambda a: np.sqrt(np.abs(a))),
    "log": (1, _log),
    "abs": (1, np.abs),
    "neg": (1, np.negative),
    "inv": (1, _inv),
    "sig": (1, expit),
    "sin": (1, np.sin),
    "cos": (1, np.cos),
    "tan": (1, np.tan),
    "min": (2, np.minimum),
    "max": (2, np.maximum),
}
"""Name -> (arity, numpy function): the published search space ('sig' is the sigmoid made with make_function)
and gplearn's ``min`` and ``max``, which the default search adds."""

INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def evaluate(tokens: Sequence[Token], columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Value of a prefix formula for every row; ``columns`` maps feature names to arrays."""
    value, end = _evaluate(tokens, 0, columns)
    if end != len(tokens):
        raise ValueError(f"formula has {len(tokens) - end} tokens left over after a complete expression")
    length = len(next(iter(columns.values()))) if columns else 1
    return np.broadcast_to(np.asarray(value, dtype=float), (length,)).copy()


def _evaluate(tokens: Sequence[Token], i: int, columns: Mapping[str, np.ndarray]) -> tuple[np.ndarray, int]:
    token = tokens[i]
    if isinstance(token, float | int) and not isinstance(token, bool):
        return np.float64(token), i + 1
    if token in FUNCTIONS:
        arity, function = FUNCTIONS[token]
        args = []
        j = i + 1
        for _ in range(arity):
            arg, j = _evaluate(tokens, j, columns)
            args.append(arg)
        with np.errstate(over="ignore", invalid="ignore"):
            return function(*args), j
    if token in columns:
        return np.asarray(columns[token], dtype=float), i + 1
    raise ValueError(f"unknown token {token!r} in formula")


def to_infix(tokens: Sequence[Token], digits: int = 4) -> str:
    """A formula as a person reads it: ``(batch_size * 0.31) + sqrt(params)``."""
    text, end = _infix(tokens, 0, digits)
    if end != len(tokens):
        raise ValueError("formula has tokens left over after a complete expression")
    return text


def _infix(tokens: Sequence[Token], i: int, digits: int) -> tuple[str, int]:
    token = tokens[i]
    if isinstance(token, float | int) and not isinstance(token, bool):
        return f"{token:.{digits}g}", i + 1
    if token in FUNCTIONS:
        arity = FUNCTIONS[token][0]
        args = []
        j = i + 1
        for _ in range(arity):
            arg, j = _infix(tokens, j, digits)
            args.append(arg)
        if token in INFIX:
            return f"({args[0]} {INFIX[token]} {args[1]})", j
        if token == "neg":
            return f"-({args[0]})", j
        return f"{token}({', '.join(args)})", j
    return str(token), i + 1
