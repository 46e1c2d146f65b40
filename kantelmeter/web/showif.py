"""Show-if conditions for the browser: the parsed condition as a JSON tree.

``static/showif.js`` evaluates the tree to reveal and hide items while the
respondent answers; the server evaluates the same condition with
:meth:`kantelmeter.Condition.evaluate` and has the last word. A tree of
plain data (never JavaScript source) keeps the page within a content security
policy without ``'unsafe-eval'``. The node shapes are::

    ["and" | "or", node, node, ...]      ["not", node]
    ["item", id]    ["const", value]    ["set", [value, ...]]
    [op, node, node] with op one of == != < <= > >= in notin
"""

from __future__ import annotations

import ast
import json

from kantelmeter.conditions import Condition

__all__ = ["condition_tree"]

_OPS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "notin",
}


def condition_tree(condition: Condition) -> str:
    """The condition as JSON for ``data-show-if``.

    The source is parsed again with :mod:`ast`; :class:`Condition` has already
    checked it against the whitelist of the condition language.

    Examples
    --------
    >>> condition_tree(Condition("got_help == 1 and 3 in help_kind"))
    '["and", ["==", ["item", "got_help"], ["const", 1]], ["in", ["const", 3], ["item", "help_kind"]]]'
    >>> condition_tree(Condition("not (age in (1, 2))"))
    '["not", ["in", ["item", "age"], ["set", [1, 2]]]]'
    """
    return json.dumps(_node(ast.parse(condition.source.strip(), mode="eval").body))


def _node(node: ast.expr) -> list:
    if isinstance(node, ast.BoolOp):
        return ["and" if isinstance(node.op, ast.And) else "or", *(_node(v) for v in node.values)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ["not", _node(node.operand)]
    if isinstance(node, ast.Compare):
        return [_OPS[type(node.ops[0])], _node(node.left), _node(node.comparators[0])]
    if isinstance(node, ast.Name):
        return ["item", node.id]
    if isinstance(node, (ast.Tuple, ast.List)):
        return ["set", [_node(e)[1] for e in node.elts]]
    if isinstance(node, ast.UnaryOp):  # a negative literal, the only other form the language admits
        return ["const", -node.operand.value]
    return ["const", node.value]
