"""The formula language of ``formula`` rules: safe arithmetic over column names.

A formula is parsed with :func:`ast.parse` and every node is checked against a
short allow-list (numbers, column names, parentheses, ``+ - * / // % **``);
nothing is ever evaluated by Python. Evaluation uses numpy on float arrays.

>>> e = parse_formula("net + `sales-tax`")
>>> e.names
('net', 'sales-tax')
>>> e.evaluate({"net": np.array([100.0]), "sales-tax": np.array([7.5])}).tolist()
[107.5]
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from privsynth._checks import is_number
from privsynth._types import FloatArray
from privsynth.errors import ConstraintError

#: Longest formula text accepted.
MAX_FORMULA_CHARS = 1000

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide,
    ast.FloorDiv: np.floor_divide, ast.Mod: np.mod, ast.Pow: np.power,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: np.positive, ast.USub: np.negative,
}


@dataclass(frozen=True)
class FormulaExpression:
    """A parsed arithmetic expression over column names (no calls, no attributes).

    Column names that are not Python identifiers are written in backticks.

    >>> e = parse_formula("`capital-gain` - 2 * loss")
    >>> e.names
    ('capital-gain', 'loss')
    >>> e.evaluate({"capital-gain": np.array([10.0]), "loss": np.array([3.0])}).tolist()
    [4.0]
    """

    text: str
    tree: ast.expr
    aliases: tuple[tuple[str, str], ...]  # (identifier in the tree, column name)

    @property
    def names(self) -> tuple[str, ...]:
        """Column names the expression reads, in order of first use."""
        alias = dict(self.aliases)
        seen: dict[str, None] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name):
                seen[alias.get(node.id, node.id)] = None
        return tuple(seen)

    def evaluate(self, values: Mapping[str, FloatArray]) -> FloatArray:
        """The expression on float arrays; NaN where undefined (x/0, overflow, missing)."""
        alias = dict(self.aliases)

        def ev(node: ast.expr) -> Any:
            if isinstance(node, ast.Constant):
                return np.float64(float(node.value))  # type: ignore[arg-type]
            if isinstance(node, ast.Name):
                return np.asarray(values[alias.get(node.id, node.id)], dtype=np.float64)
            if isinstance(node, ast.UnaryOp):
                return _UNARY[type(node.op)](ev(node.operand))
            assert isinstance(node, ast.BinOp)
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))

        with np.errstate(all="ignore"):
            out = np.asarray(ev(self.tree), dtype=np.float64)
            if out.ndim == 0:
                n = len(next(iter(values.values()))) if values else 1
                out = np.full(n, float(out))
            out = np.where(np.isfinite(out), out, np.nan)
        return out


def parse_formula(text: str) -> FormulaExpression:
    """Parse an arithmetic formula safely: numbers, column names, ``+ - * / // % **``.

    The text is parsed with :func:`ast.parse` and every node is checked
    against a short allow-list; nothing is ever evaluated by Python. Calls,
    attributes, subscripts, comparisons, lambdas, strings and imports are
    refused with a :class:`~privsynth.errors.ConstraintError`.

    >>> parse_formula("a + b * 2").names
    ('a', 'b')
    >>> parse_formula("abs(x)")
    Traceback (most recent call last):
    ...
    privsynth.errors.ConstraintError: formula 'abs(x)': a Call is not allowed; ...
    """
    if not isinstance(text, str) or not text.strip():
        raise ConstraintError("a formula must be a non-empty text such as 'a + b'")
    if len(text) > MAX_FORMULA_CHARS:
        raise ConstraintError(f"a formula is limited to {MAX_FORMULA_CHARS} characters")
    # `quoted names` become placeholders, so any column name can be used
    aliases: list[tuple[str, str]] = []
    parts = text.split("`")
    if len(parts) % 2 == 0:
        raise ConstraintError(f"formula {text!r}: unbalanced backtick")
    source = []
    for i, part in enumerate(parts):
        if i % 2:
            ident = f"_privsynth_col_{len(aliases)}"
            aliases.append((ident, part))
            source.append(f" {ident} ")
        else:
            source.append(part)
    try:
        tree = ast.parse("".join(source).strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ConstraintError(f"formula {text!r} is not a valid arithmetic expression") from exc
    for node in ast.walk(tree.body):
        ok = (isinstance(node, ast.BinOp) and type(node.op) in _BINOPS) \
            or (isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY) \
            or (isinstance(node, ast.Constant) and is_number(node.value)) \
            or (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                and not node.id.startswith("__")) \
            or isinstance(node, ast.operator | ast.unaryop | ast.expr_context)
        if not ok:
            what = type(node.op).__name__ if isinstance(node, ast.BinOp | ast.UnaryOp) \
                else type(node).__name__
            if isinstance(node, ast.Name):
                what = f"name {node.id!r}"
            raise ConstraintError(
                f"formula {text!r}: a {what} is not allowed; formulas use numbers, column "
                "names, parentheses and + - * / // % ** only")
    return FormulaExpression(text, tree.body, tuple(aliases))


__all__ = ["MAX_FORMULA_CHARS", "FormulaExpression", "parse_formula"]
