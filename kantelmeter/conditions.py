"""Show-if conditions: a small, safe expression language over earlier answers.

A condition is written as a Python-like expression, for example
``household == 2 and age >= 65`` or ``3 in interventions``. It is parsed with
:mod:`ast` and checked against a whitelist of node types; it is never handed
to :func:`eval`. Names refer to item ids; the value of a multiple-choice item
is the set of its chosen codes. A comparison with an unanswered item is false,
so an item that depends on a skipped question stays hidden.

The same parsed condition renders as an XLSForm ``relevant`` expression and as
REDCap branching logic, so one declaration serves every collection channel.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field

from kantelmeter.errors import KantelmeterError

__all__ = ["Condition", "ConditionError"]

_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_XLSFORM_OP = {ast.Eq: "=", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_REDCAP_OP = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
ALLOWED = "item ids, numbers, quoted strings, tuples, ==, !=, <, <=, >, >=, in, not in, and, or, not, ( )"


class ConditionError(KantelmeterError, ValueError):
    """A show-if expression that is not valid in the condition language."""


@dataclass(frozen=True)
class Condition:
    """A parsed show-if condition.

    Parameters
    ----------
    source : str
        The expression as written in the instrument file.

    Examples
    --------
    >>> c = Condition("household == 2 and age >= 65")
    >>> sorted(c.items)
    ['age', 'household']
    >>> c.evaluate({"household": 2, "age": 70})
    True
    >>> c.evaluate({"household": 2})            # age unanswered: hidden
    False
    >>> Condition("3 in interventions").evaluate({"interventions": {1, 3}})
    True
    >>> Condition("household in (1, 2)").to_xlsform()
    '(${household} = 1 or ${household} = 2)'
    >>> Condition("3 in interventions").to_redcap()
    '[interventions(3)] = "1"'
    >>> Condition("not (household == 2 or age < 18)").to_redcap()
    '([household] <> "2" and [age] >= 18)'
    """

    source: str
    _tree: ast.expr = field(init=False, repr=False, compare=False)
    items: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        try:
            tree = ast.parse(self.source.strip(), mode="eval").body
        except SyntaxError as exc:
            raise ConditionError(f"cannot parse {self.source!r}: {exc.msg}; allowed: {ALLOWED}") from None
        names: set[str] = set()
        _check(tree, self.source, names)
        object.__setattr__(self, "_tree", tree)
        object.__setattr__(self, "items", frozenset(names))

    def evaluate(self, answers: Mapping[str, object]) -> bool:
        """Whether the condition holds for one respondent's answers.

        Parameters
        ----------
        answers : mapping
            Item id to answer; a missing key or ``None`` means unanswered.
            Multiple-choice answers are sets (or lists) of codes.
        """
        return bool(_evaluate(self._tree, answers))

    def renamed(self, names: Mapping[str, str]) -> Condition:
        """The same condition with item ids replaced, as a repeated section asks it.

        Examples
        --------
        >>> Condition("network_involved == 1 and age > 65").renamed({"network_involved": "network_involved__2"}).source
        'network_involved__2 == 1 and age > 65'
        """
        tree = ast.parse(self.source.strip(), mode="eval")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in names:
                node.id = names[node.id]
        return Condition(ast.unparse(tree))

    def to_xlsform(self) -> str:
        """The condition as an XLSForm ``relevant`` expression."""
        return _render(self._tree, _XLSFORM)

    def to_redcap(self) -> str:
        """The condition as REDCap branching logic."""
        return _render(self._tree, _REDCAP)


def _check(node: ast.AST, source: str, names: set[str]) -> None:
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, source, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, source, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        _check(node.operand, source, names)
    elif isinstance(node, ast.Compare):
        if len(node.ops) != 1:
            raise ConditionError(f"chained comparison in {source!r}; write 'a < x and x < b'")
        if not isinstance(node.ops[0], (*_COMPARE, ast.In, ast.NotIn)):
            raise ConditionError(f"operator {type(node.ops[0]).__name__} in {source!r}; allowed: {ALLOWED}")
        if isinstance(node.ops[0], (ast.In, ast.NotIn)):
            _check_membership(node.left, node.comparators[0], source)
        _check(node.left, source, names)
        _check(node.comparators[0], source, names)
    elif isinstance(node, ast.Name):
        names.add(node.id)
    elif (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float, str))
        and not isinstance(node.value, bool)
    ):
        pass
    elif isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            if not isinstance(element, ast.Constant):
                raise ConditionError(f"a list in {source!r} may hold only literal values")
            _check(element, source, names)
    else:
        raise ConditionError(f"{ast.unparse(node)!r} in {source!r} is not allowed; allowed: {ALLOWED}")


def _check_membership(left: ast.expr, right: ast.expr, source: str) -> None:
    # Only the two forms every channel can render: an item in a tuple of codes,
    # and a code in a multiple-choice item.
    item_in_codes = isinstance(left, ast.Name) and isinstance(right, (ast.Tuple, ast.List))
    code_in_item = isinstance(left, ast.Constant) and isinstance(right, ast.Name)
    if not (item_in_codes or code_in_item):
        raise ConditionError(f"'in' in {source!r} must read 'item in (1, 2)' or '3 in multiple_choice_item'")


def _value(node: ast.expr, answers: Mapping[str, object]) -> object:
    if isinstance(node, ast.Name):
        value = answers.get(node.id)
        if isinstance(value, (list, tuple)):
            return set(value)
        return None if _is_missing(value) else value
    if isinstance(node, (ast.Tuple, ast.List)):
        return {_value(e, answers) for e in node.elts}
    if isinstance(node, ast.UnaryOp):  # a negative literal
        return -node.operand.value
    if isinstance(node, ast.Constant):
        return node.value
    return _evaluate(node, answers)


def _is_missing(value: object) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # pandas.NA has no truth value: it is missing
        return True


def _evaluate(node: ast.expr, answers: Mapping[str, object]) -> bool:
    if isinstance(node, ast.BoolOp):
        results = (_evaluate(v, answers) for v in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _evaluate(node.operand, answers)
    if isinstance(node, ast.Compare):
        left, right, op = _value(node.left, answers), _value(node.comparators[0], answers), node.ops[0]
        if left is None or right is None:
            return False
        if isinstance(op, (ast.In, ast.NotIn)):
            inside = left in right if isinstance(right, set) else False
            return inside if isinstance(op, ast.In) else not inside
        try:
            return bool(_COMPARE[type(op)](left, right))
        except TypeError:  # e.g. a set compared with a number
            return False
    return not _is_missing(_value(node, answers))


@dataclass(frozen=True)
class _Dialect:
    """How one collection channel writes references, operators and literals."""

    ref: str  # format of an item reference, e.g. "${{{}}}"
    ops: dict
    chosen: str  # format of 'code is ticked' in a multiple-choice item
    not_chosen: str
    blank: str  # an empty answer
    quote_equality: bool  # REDCap wants quoted values with = and <>

    def literal(self, node: ast.expr, op: type | None = None) -> str:
        value = -node.operand.value if isinstance(node, ast.UnaryOp) else node.value
        if isinstance(value, str) or (self.quote_equality and op in (ast.Eq, ast.NotEq)):
            return f"'{value}'" if not self.quote_equality else f'"{value}"'
        return str(value)

    def operand(self, node: ast.expr, op: type) -> str:
        return self.ref.format(node.id) if isinstance(node, ast.Name) else self.literal(node, op)


_XLSFORM = _Dialect(
    ref="${{{}}}",
    ops=_XLSFORM_OP,
    chosen="selected(${{{0}}}, '{1}')",
    not_chosen="not(selected(${{{0}}}, '{1}'))",
    blank="''",
    quote_equality=False,
)
_REDCAP = _Dialect(
    ref="[{}]",
    ops=_REDCAP_OP,
    chosen='[{0}({1})] = "1"',
    not_chosen='[{0}({1})] = "0"',
    blank='""',
    quote_equality=True,
)
_NEGATED = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.LtE: ast.Gt, ast.Gt: ast.LtE, ast.GtE: ast.Lt}


def _render(node: ast.expr, dialect: _Dialect, negate: bool = False) -> str:
    """Render in negation normal form: REDCap has no 'not', so negations are
    pushed down to the comparisons (De Morgan) for every channel alike."""
    if isinstance(node, ast.BoolOp):
        conjunction = isinstance(node.op, ast.And) != negate
        joiner = " and " if conjunction else " or "
        return "(" + joiner.join(_render(v, dialect, negate) for v in node.values) + ")"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _render(node.operand, dialect, not negate)
    if isinstance(node, ast.Compare):
        op, left, right = node.ops[0], node.left, node.comparators[0]
        if isinstance(op, (ast.In, ast.NotIn)):
            inside = isinstance(op, ast.In) != negate
            if isinstance(right, ast.Name):  # a code ticked in a multiple-choice item
                return (dialect.chosen if inside else dialect.not_chosen).format(right.id, left.value)
            compare, joiner = (ast.Eq, " or ") if inside else (ast.NotEq, " and ")
            reference = dialect.ref.format(left.id)
            return (
                "("
                + joiner.join(f"{reference} {dialect.ops[compare]} {dialect.literal(e, compare)}" for e in right.elts)
                + ")"
            )
        compare = _NEGATED[type(op)] if negate else type(op)
        return f"{dialect.operand(left, compare)} {dialect.ops[compare]} {dialect.operand(right, compare)}"
    # A bare item id: 'answered'.
    return f"{dialect.ref.format(node.id)} {dialect.ops[ast.Eq if negate else ast.NotEq]} {dialect.blank}"
