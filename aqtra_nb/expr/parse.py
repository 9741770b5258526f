"""Parse expression text into a small immutable tree, allowing only a whitelisted subset of Python syntax.

Backticked column names and ``@parameters`` are swapped for placeholder identifiers before ``ast.parse``;
a position map keeps error columns pointing into the user's original text.
"""

from __future__ import annotations

import ast
import functools
import re
import warnings
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from aqtra_nb.errors import ExpressionError, UnknownColumn, did_you_mean
from aqtra_nb.expr.functions import AGGREGATE_FUNCTIONS, FUNCTIONS, INT64
from aqtra_nb.expr.python_ast import python_ast

MAX_LENGTH = 10_000
MAX_DEPTH = 100
LITERAL_NAMES = {"true": True, "false": False, "null": None}
_PLACEHOLDER = "__aqtra_"


# --- the tree -----------------------------------------------------------------------------------------
# ``position`` is the 1-based column in the source; it takes no part in equality.


@dataclass(frozen=True)
class Column:
    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Param:
    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Literal:
    value: Any
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BinOp:
    op: str
    left: Node
    right: Node
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Negate:
    operand: Node
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Compare:
    """``operands[0] ops[0] operands[1] ops[1] ...``: a chain, true where every link is."""

    ops: tuple[str, ...]
    operands: tuple[Node, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BoolOp:
    op: str
    operands: tuple[Node, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    operand: Node
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class In:
    """``operand in (options...)``; a list-valued parameter among the options contributes its items."""

    operand: Node
    options: tuple[Literal | Param, ...]
    negated: bool = False
    position: int = field(default=0, compare=False)


Node = Column | Param | Literal | Call | BinOp | Negate | Compare | BoolOp | Not | In
_NODE_TYPES = (Column, Param, Literal, Call, BinOp, Negate, Compare, BoolOp, Not, In)


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for f in reversed(fields(current)):
            value = getattr(current, f.name)
            if isinstance(value, tuple):
                stack.extend(reversed([v for v in value if isinstance(v, _NODE_TYPES)]))
            elif isinstance(value, _NODE_TYPES):
                stack.append(value)


# --- the public objects -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A parsed row expression: evaluates to a Series aligned to a frame, or a scalar."""

    source: str
    node: Node = field(repr=False)
    columns: frozenset[str]
    parameters: frozenset[str]

    def evaluate(self, frame: Any, params: Mapping[str, Any] | None = None) -> Any:
        from aqtra_nb.expr.evaluate import evaluate  # evaluate imports this module's tree

        return evaluate(self, frame, params or {})

    def check_columns(self, available: Collection[str]) -> None:
        """Raise UnknownColumn for the first referenced column not in ``available`` (any collection with
        ``in``: a list, a set, a pandas Index, which is not copied)."""
        if all(name in available for name in self.columns):  # the common case, without walking the tree
            return
        names = [name for name in available if isinstance(name, str)]
        known = set(names)
        for node in sorted((n for n in walk(self.node) if isinstance(n, Column)), key=_position):
            if node.name not in known:
                raise UnknownColumn(
                    f"unknown column {node.name!r} in expression {self.source!r}."
                    f"{did_you_mean(node.name, names)} Available columns: {', '.join(names)}"
                )

    def __str__(self) -> str:
        return self.source


@dataclass(frozen=True)
class Aggregation:
    """``FUNC(row_expression)`` or ``count()``; the engine applies ``function`` per group."""

    source: str
    function: str
    argument: Expression | None

    @property
    def columns(self) -> frozenset[str]:
        return self.argument.columns if self.argument else frozenset()

    @property
    def parameters(self) -> frozenset[str]:
        return self.argument.parameters if self.argument else frozenset()

    def check_columns(self, available: Collection[str]) -> None:
        if self.argument is not None:
            self.argument.check_columns(available)

    def __str__(self) -> str:
        return self.source


def parse_expression(text: str) -> Expression:
    """Parse a row expression such as ``amount >= @min_amount and status in ('paid', 'shipped')``."""
    return _parse_expression(_checked_text(text))


def parse_aggregation(text: str) -> Aggregation:
    """Parse one aggregate call such as ``sum(amount * (1 - discount))`` or ``count()``."""
    return _parse_aggregation(_checked_text(text))


def _position(node: Node) -> int:
    return node.position


def _checked_text(text: Any) -> str:
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is too long ({len(text)} characters; the limit is {MAX_LENGTH})", source=text
        )
    if not text.strip():
        raise ExpressionError("expression is empty", source=text, position=1)
    return text


@functools.lru_cache(maxsize=4096)
def _parse_expression(text: str) -> Expression:
    return _expression(text, _Converter(_scan(text), aggregates=False).root())


@functools.lru_cache(maxsize=1024)
def _parse_aggregation(text: str) -> Aggregation:
    scanned = _scan(text)
    converter = _Converter(scanned, aggregates=True)
    body = converter.tree.body
    name = body.func.id if isinstance(body, ast.Call) and isinstance(body.func, ast.Name) else ""
    if not isinstance(body, ast.Call) or name not in AGGREGATE_FUNCTIONS:
        hint = ""
        if name and name not in FUNCTIONS:
            hint = f"unknown aggregate function {name!r}.{did_you_mean(name, AGGREGATE_FUNCTIONS)} "
        raise converter.error(
            f"{hint}an aggregation must be one aggregate call such as sum(amount) or count(); "
            f"aggregate functions: {', '.join(AGGREGATE_FUNCTIONS)}",
            body,
        )
    converter.check_call_syntax(body)
    if name == "count" and not body.args:
        return Aggregation(text, name, None)
    if len(body.args) != 1:
        raise converter.error(f"{name}() takes exactly one argument, e.g. {name}(amount)", body)
    argument = body.args[0]
    converter.convert(argument, depth=1)  # validates with positions in the full text
    start, end = scanned.span(argument)
    return Aggregation(text, name, _parse_expression(text[start:end]))


def _expression(text: str, node: Node) -> Expression:
    nodes = list(walk(node))
    columns = frozenset(n.name for n in nodes if isinstance(n, Column))
    parameters = frozenset(n.name for n in nodes if isinstance(n, Param))
    return Expression(text, node, columns, parameters)


# --- pre-processing: backticks, @parameters, position map -----------------------------------------------


@dataclass
class _Scanned:
    """The text handed to ``ast.parse``, with where each of its characters came from in the original."""

    original: str
    parts: list[str] = field(default_factory=list)
    text: str = ""  # set by finish()
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    placeholders: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (kind, name)
    _ids: dict[tuple[str, str], str] = field(default_factory=dict)

    def emit(self, chars: str, start: int, end: int | None = None) -> None:
        """Append ``chars``: one per original character, or all standing for ``original[start:end]``."""
        if end is None:
            self.starts.extend(range(start, start + len(chars)))
            self.ends.extend(range(start + 1, start + len(chars) + 1))
        else:
            self.starts.extend([start] * len(chars))
            self.ends.extend([end] * len(chars))
        self.parts.append(chars)

    def finish(self) -> _Scanned:
        """Join the parts, less leading whitespace (an "indent" to ``ast.parse``)."""
        text = "".join(self.parts)
        self.text = text.lstrip(" \t\f")
        del self.starts[: len(text) - len(self.text)], self.ends[: len(text) - len(self.text)]
        return self

    def placeholder(self, kind: str, name: str, start: int, end: int) -> None:
        key = (kind, name)
        if key not in self._ids:
            self._ids[key] = f"{_PLACEHOLDER}{kind}{len(self._ids)}"
            self.placeholders[self._ids[key]] = key
        self.emit(f" {self._ids[key]} ", start, end)

    def char_index(self, col_offset: int) -> int:
        """ast's col_offset counts UTF-8 bytes; turn it into an index into ``text``."""
        if self.text.isascii():
            return col_offset
        return len(self.text.encode("utf-8")[:col_offset].decode("utf-8", errors="ignore"))

    def position(self, index: int) -> int:
        """1-based column in the original for an index into ``text`` (past the end: just after it)."""
        if index >= len(self.starts):
            return len(self.original) + 1
        return self.starts[max(index, 0)] + 1

    def span(self, node: ast.expr) -> tuple[int, int]:
        start = self.char_index(node.col_offset)
        end = self.char_index(node.end_col_offset or node.col_offset + 1)
        return self.starts[start], self.ends[max(end - 1, start)]


def _scan_error(message: str, text: str, index: int) -> ExpressionError:
    return ExpressionError(message, source=text, position=index + 1)


def _is_name_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_") or ("_" + char).isidentifier()


def _scan(text: str) -> _Scanned:
    """Replace backticked names and @parameters by identifiers, outside string literals."""
    if "\x00" in text:
        raise _scan_error("expression contains a null character", text, text.index("\x00"))
    out = _Scanned(text)
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in "'\"":
            end = _string_end(text, i)
            out.emit(text[i:end], i)
            i = end
        elif char == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise _scan_error("unterminated backtick name: add the closing `", text, i)
            if end == i + 1:
                raise _scan_error("empty column name ``", text, i)
            out.placeholder("col", text[i + 1 : end], i, end + 1)
            i = end + 1
        elif char == "@":
            end = i + 1
            while end < n and _is_name_char(text[end]) and not (end == i + 1 and text[end].isdigit()):
                end += 1
            if end == i + 1:
                raise _scan_error("expected a parameter name after '@', e.g. @min_amount", text, i)
            out.placeholder("par", text[i + 1 : end], i, end)
            i = end
        elif char == "#":
            raise _scan_error("comments (#) are not allowed in expressions", text, i)
        elif char in "\r\n":
            out.emit(" ", i)
            i += 1
        elif _is_name_char(char):
            end = i + 1
            while end < n and _is_name_char(text[end]):
                end += 1
            word = text[i:end]
            if word.startswith("__"):
                raise _scan_error(
                    f"names starting with '__' are not allowed ({word}); quote a column as `{word}`", text, i
                )
            if word.isascii() or char.isdigit():
                out.emit(word, i)
            else:  # ast would NFKC-normalise it; keep the exact spelling
                out.placeholder("col", word, i, end)
            i = end
        else:
            out.emit(char, i)
            i += 1
    return out.finish()


def _string_end(text: str, start: int) -> int:
    """Index just past the string literal opening at ``start``."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        raise _scan_error("triple-quoted strings are not supported; use '...' or \"...\"", text, start)
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] not in ("\r", "\n"):
            i += 2
            continue
        if char in "\r\n":
            break
        if char == quote:
            return i + 1
        i += 1
    raise _scan_error(f"unterminated string: add the closing {quote}", text, start)


# --- conversion: Python ast -> our tree, by whitelist -----------------------------------------------------

_BINARY = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_HINTS = {
    ast.BitAnd: "'&' is not supported; use 'and'",
    ast.BitOr: "'|' is not supported; use 'or'",
    ast.Invert: "'~' is not supported; use 'not'",
    ast.Is: "'is' is not supported; use is_null(x) or not_null(x)",
    ast.IsNot: "'is not' is not supported; use not_null(x)",
    ast.Attribute: "attribute access (x.y) is not allowed",
    ast.Subscript: "indexing (x[i]) is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.IfExp: "'a if c else b' is not supported; use if_else(c, a, b)",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.JoinedStr: "f-strings are not allowed; use concat(...)",
    ast.Starred: "*arguments are not allowed",
    ast.Tuple: "a tuple is only allowed after 'in', e.g. x in (1, 2)",
    ast.List: "a list is only allowed after 'in', e.g. x in (1, 2)",
}
_HINTS |= dict.fromkeys(
    (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp), "comprehensions are not allowed"
)


def _syntax_problem(message: str, source: str, position: int) -> str:
    """Python's own words when they say something ("'(' was never closed"); for its bare "invalid
    syntax", what stands at the column, or that the text stopped too early."""
    message = message.removesuffix(".")
    if message.lower() not in ("invalid syntax", "unexpected eof while parsing"):
        return message
    rest = source[position - 1 :].strip()
    if not rest:
        last = source.rstrip().split()[-1] if source.strip() else ""
        return (
            f"the expression ends after {last!r}; something is missing" if last else "the expression is empty"
        )
    token = re.match(r"\w+|'[^']*'?|\"[^\"]*\"?|[^\w\s]+", rest)
    shown = token.group(0) if token else rest[:10]
    hint = "; compare with '=='" if shown == "=" else ""
    return f"unexpected {shown!r} here{hint}"


class _Converter:
    """Turns the ``ast`` of a scanned text into our tree; anything not whitelisted is an error."""

    def __init__(self, scanned: _Scanned, *, aggregates: bool) -> None:
        self.scanned = scanned
        self.aggregates = aggregates
        self.tree = self._parse()

    def root(self) -> Node:
        return self.convert(self.tree.body, depth=0)

    def _parse(self) -> ast.Expression:
        source = self.scanned.original
        try:
            with warnings.catch_warnings():  # e.g. "invalid escape sequence": the parse stands as is
                warnings.simplefilter("ignore", SyntaxWarning)
                return python_ast(self.scanned.text, mode="eval")
        except SyntaxError as exc:
            position = self.scanned.position((exc.offset or 1) - 1) if exc.offset else len(source) + 1
            message = f"invalid syntax: {_syntax_problem(exc.msg, source, position)}"
            raise ExpressionError(message, source=source, position=position) from None
        except (RecursionError, MemoryError):
            raise ExpressionError("expression is nested too deeply", source=source, position=1) from None
        except ValueError as exc:  # e.g. null bytes on older Pythons
            raise ExpressionError(f"invalid expression: {exc}", source=source, position=1) from None

    def error(self, message: str, node: ast.AST) -> ExpressionError:
        return ExpressionError(message, source=self.scanned.original, position=self.where(node))

    def where(self, node: ast.AST) -> int:
        return self.scanned.position(self.scanned.char_index(getattr(node, "col_offset", 0)))

    def convert(self, node: ast.AST, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error(f"expression is nested too deeply (more than {MAX_DEPTH} levels)", node)
        pos, deeper = self.where(node), depth + 1
        match node:
            case ast.Constant(value=value):
                return Literal(self._constant(value, node), pos)
            case ast.Name(id=name):
                return self._name(name, pos)
            case ast.BinOp(op=op, left=left, right=right) if type(op) in _BINARY:
                return BinOp(_BINARY[type(op)], self.convert(left, deeper), self.convert(right, deeper), pos)
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return Not(self.convert(operand, deeper), pos)
            case ast.UnaryOp(op=ast.USub() | ast.UAdd() as op, operand=operand):
                return self._sign(op, self.convert(operand, deeper), pos)
            case ast.BoolOp(op=op, values=values):
                return BoolOp("and" if isinstance(op, ast.And) else "or", self._all(values, deeper), pos)
            case ast.Compare():
                return self._compare(node, deeper, pos)
            case ast.Call():
                return self._call(node, deeper, pos)
            case ast.BinOp(op=op) | ast.UnaryOp(op=op):
                raise self.error(_HINTS.get(type(op), f"operator {type(op).__name__} is not supported"), node)
        hint = _HINTS.get(type(node), f"{type(node).__name__} is not allowed in an expression")
        raise self.error(hint, node)

    def _all(self, nodes: list[ast.expr], depth: int) -> tuple[Node, ...]:
        return tuple(self.convert(n, depth) for n in nodes)

    def _constant(self, value: Any, node: ast.AST) -> Any:
        if value is None or isinstance(value, (bool, float, str)):
            return value
        if isinstance(value, int):
            if value in INT64:
                return value
            try:
                return float(value)  # beyond 64 bits: a float rather than slow object arithmetic
            except OverflowError:
                raise self.error("number is too large", node) from None
        raise self.error(f"{type(value).__name__} literals are not supported", node)

    def _name(self, name: str, pos: int) -> Node:
        kind, original = self.scanned.placeholders.get(name, ("name", name))
        if kind == "par":
            return Param(original, pos)
        if kind == "name" and name in LITERAL_NAMES:
            return Literal(LITERAL_NAMES[name], pos)
        return Column(original, pos)

    def _sign(self, op: ast.unaryop, operand: Node, pos: int) -> Node:
        if isinstance(op, ast.UAdd):
            return operand
        if isinstance(operand, Literal) and type(operand.value) in (int, float):
            return Literal(-operand.value, pos)  # so that `x in (-1, 2)` holds literals
        return Negate(operand, pos)

    def _compare(self, node: ast.Compare, depth: int, pos: int) -> Node:
        for op in node.ops:
            if type(op) in _HINTS:
                raise self.error(_HINTS[type(op)], node)
        if any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            if len(node.ops) > 1:
                raise self.error("'in' cannot be chained with other comparisons; use 'and'", node)
            options = self._options(node.comparators[0], depth)
            return In(self.convert(node.left, depth), options, isinstance(node.ops[0], ast.NotIn), pos)
        operands = self._all([node.left, *node.comparators], depth)
        for operand in operands:
            if isinstance(operand, Literal) and operand.value is None:
                raise ExpressionError(
                    "comparing with null is never true; use is_null(x) or not_null(x)",
                    source=self.scanned.original,
                    position=operand.position,
                )
        return Compare(tuple(_COMPARE[type(op)] for op in node.ops), operands, pos)

    def _options(self, node: ast.expr, depth: int) -> tuple[Literal | Param, ...]:
        elements = node.elts if isinstance(node, (ast.Tuple, ast.List)) else [node]
        options = self._all(elements, depth)
        for element, option in zip(elements, options, strict=True):
            if not isinstance(option, (Literal, Param)):
                raise self.error("the values after 'in' must be literals or @parameters", element)
        return options  # type: ignore[return-value]

    def check_call_syntax(self, node: ast.Call) -> None:
        if not isinstance(node.func, ast.Name) or node.func.id in self.scanned.placeholders:
            raise self.error("only the built-in functions can be called, e.g. lower(name)", node)
        if node.keywords:
            keyword = node.keywords[0]
            what = "**arguments" if keyword.arg is None else f"keyword argument {keyword.arg}="
            raise self.error(f"{what} not allowed; pass arguments by position", keyword)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error(_HINTS[ast.Starred], arg)

    def _call(self, node: ast.Call, depth: int, pos: int) -> Node:
        self.check_call_syntax(node)
        name = node.func.id  # type: ignore[attr-defined]
        if name in AGGREGATE_FUNCTIONS and name not in FUNCTIONS:
            where = "cannot be nested" if self.aggregates else "are not allowed in a row expression"
            raise self.error(f"aggregate functions such as {name}() {where}", node)
        function = FUNCTIONS.get(name)
        if function is None:
            hint = did_you_mean(name, FUNCTIONS) or did_you_mean(name.lower(), FUNCTIONS)
            raise self.error(f"unknown function {name!r}.{hint}", node)
        if not function.accepts(len(node.args)):
            raise self.error(
                f"wrong number of arguments for {name}(): expected {function.signature}, "
                f"got {len(node.args)}",
                node,
            )
        args = self._all(node.args, depth)
        for index in function.constant_args:
            if index < len(args) and any(isinstance(n, Column) for n in walk(args[index])):
                raise self.error(
                    f"argument {index + 1} of {function.signature} must be a literal or @parameter, "
                    "not refer to columns",
                    node.args[index],
                )
        return Call(name, args, pos)
