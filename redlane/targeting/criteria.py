"""The criteria language: one boolean SQL expression over the field catalogue.

    origin_country IN LIST('cocaine_source_countries') AND hs4 IN LIST('perishable_cover_hs4')
        AND consignee_first_seen_days < 90 AND NOT container_check_digit_valid

Criteria are data written by analysts, so they are parsed (sqlglot), checked against a
whitelist of node types, fields, functions and types, and compiled by our own emitter to the
engine's SQL; nothing an analyst writes reaches an engine as text. Anything that is not exactly
one expression, names an unknown field, list or function, mixes types or rests on nationality
alone is refused with the profile id, the position (line and column) and the reason.

Functions: lower, upper, length, abs, coalesce, and three over list fields:
`has(list_field, 'value')`, `has_any(list_field, LIST('name') | ('a', 'b'))`,
`any_like(list_field, 'pattern%')`. `x IN LIST('name')` tests a named reference list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from redlane.targeting.catalogue import (
    CATALOGUE,
    NATIONALITY_FIELDS,
    PROTECTED_ATTRIBUTES,
    FieldType,
    TargetKind,
)

Dialect = Literal["duckdb", "spark"]
ReferenceLists = Mapping[str, Sequence[str]]


class CriteriaError(ValueError):
    """A criterion that cannot run: names the profile, the position and the reason."""

    def __init__(self, profile_id: str, line: int, column: int, reason: str) -> None:
        self.profile_id = profile_id
        self.line = line
        self.column = column
        self.reason = reason
        super().__init__(f"profile {profile_id}: criteria line {line}, column {column}: {reason}")


@dataclass(frozen=True)
class Criteria:
    """A validated criterion: its text, the fields it reads, and its compiled SQL per dialect."""

    text: str
    target: TargetKind
    fields: frozenset[str]
    tree: exp.Expression
    lists: ReferenceLists

    def sql(self, dialect: Dialect = "duckdb") -> str:
        return _Emitter(dialect, self.lists, self.target).emit(self.tree)


_NUMERIC = ("integer", "number")
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_LIST_FUNCTIONS = ("has", "has_any", "any_like")

Type = FieldType | Literal["null", "reference"]


def _position(node: exp.Expression, text: str) -> tuple[int, int]:
    """Line and column (1-based) of a node: its own token or its first token that has one."""
    starts = [int(n.meta["start"]) for n in node.walk() if "start" in n.meta]
    if not starts:
        return 1, 1
    start = min(starts)
    before = text[:start]
    return before.count("\n") + 1, start - (before.rfind("\n") + 1) + 1


def parse_criteria(
    text: str, target: TargetKind, lists: ReferenceLists, profile_id: str = "?"
) -> Criteria:
    """Parse and validate `text` for targets of kind `target`; raises CriteriaError."""
    if not text or not text.strip():
        raise CriteriaError(profile_id, 1, 1, "the criteria are empty")
    try:
        trees = [cast(exp.Expression, t) for t in sqlglot.parse(text) if t is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        reason = str(first.get("description") or exc).split("\n")[0]
        if reason.startswith("Required keyword"):
            reason = f"incomplete expression after {first.get('highlight')!r}"
        raise CriteriaError(
            profile_id, int(first.get("line") or 1), int(first.get("col") or 1), reason
        ) from exc
    except TokenError as exc:
        raise CriteriaError(profile_id, 1, 1, f"cannot read the text: {exc}") from exc
    if len(trees) != 1:
        second = text.find(";")
        line = text[:second].count("\n") + 1 if second >= 0 else 1
        column = second - (text[:second].rfind("\n") + 1) + 1 if second >= 0 else 1
        raise CriteriaError(
            profile_id, line, column, f"must be exactly one expression, found {len(trees)}"
        )
    tree = trees[0]
    checker = _Checker(text, target, lists, profile_id)
    kind = checker.type_of(tree)
    if kind != "boolean":
        line, column = _position(tree, text)
        raise CriteriaError(profile_id, line, column, f"must be true or false, not {kind}")
    checker.no_nationality_alone(tree)
    return Criteria(text, target, frozenset(checker.fields), tree, lists)


def _fields_in(node: exp.Expression) -> set[str]:
    return {c.name.lower() for c in node.find_all(exp.Column)}


class _Checker:
    def __init__(
        self, text: str, target: TargetKind, lists: ReferenceLists, profile_id: str
    ) -> None:
        self.text = text
        self.catalogue = CATALOGUE[target]
        self.target = target
        self.lists = lists
        self.profile_id = profile_id
        self.fields: set[str] = set()

    def fail(self, node: exp.Expression, reason: str) -> CriteriaError:
        line, column = _position(node, self.text)
        return CriteriaError(self.profile_id, line, column, reason)

    def no_nationality_alone(self, tree: exp.Expression) -> None:
        """Nationality may narrow a criterion, never carry it: every alternative (OR branch)
        that tests nationality must test something else too."""
        branches = [tree]
        while branches:
            node = branches.pop()
            while isinstance(node, exp.Paren):
                node = node.this
            if isinstance(node, exp.Or):
                branches.extend([node.this, node.expression])
                continue
            used = _fields_in(node)
            if used & NATIONALITY_FIELDS and not used - NATIONALITY_FIELDS:
                raise self.fail(
                    node, "nationality alone is never a targeting criterion; combine it"
                )

    def reference(self, node: exp.Expression) -> list[str]:
        """The values of LIST('name')."""
        args = node.expressions
        if len(args) != 1 or not isinstance(args[0], exp.Literal) or not args[0].is_string:
            raise self.fail(node, "LIST takes one quoted list name, e.g. LIST('name')")
        name = args[0].this
        if name not in self.lists:
            known = ", ".join(sorted(self.lists)) or "none"
            raise self.fail(node, f"unknown reference list {name!r} (known: {known})")
        return list(self.lists[name])

    def same(self, node: exp.Expression, a: Type, b: Type, what: str) -> None:
        if "null" in (a, b) or a == b or (a in _NUMERIC and b in _NUMERIC):
            return
        raise self.fail(node, f"type mismatch: {what} compares {a} with {b}")

    def type_of(self, node: exp.Expression) -> Type:
        if isinstance(node, exp.Paren):
            return self.type_of(node.this)
        if isinstance(node, exp.Column):
            if node.table:
                raise self.fail(node, f"qualified names are not allowed: {node.sql()}")
            name = node.name.lower()
            if name in PROTECTED_ATTRIBUTES:
                raise self.fail(node, f"{name!r} is a protected attribute, never a targeting field")
            field = self.catalogue.get(name)
            if field is None:
                raise self.fail(node, f"unknown field {name!r} for {self.target} targets")
            self.fields.add(name)
            return field.type
        if isinstance(node, exp.Literal):
            if node.is_string:
                return "string"
            return "integer" if node.this.lstrip("-").isdigit() else "number"
        if isinstance(node, exp.Boolean):
            return "boolean"
        if isinstance(node, exp.Null):
            return "null"
        if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
            if node.to.this == exp.DataType.Type.DATE and node.this.is_string:
                try:
                    date.fromisoformat(node.this.this)
                except ValueError as exc:
                    raise self.fail(node, f"not a date: {node.this.this!r}") from exc
                return "date"
            raise self.fail(node, "only DATE 'YYYY-MM-DD' literals may be typed")
        if isinstance(node, exp.Neg):
            if self.type_of(node.this) not in _NUMERIC:
                raise self.fail(node, "minus needs a number")
            return "number"
        if isinstance(node, (exp.And, exp.Or)):
            for side in (node.this, node.expression):
                if self.type_of(side) != "boolean":
                    raise self.fail(side, f"{node.key.upper()} needs true/false on both sides")
            return "boolean"
        if isinstance(node, exp.Not):
            if self.type_of(node.this) not in ("boolean", "null"):
                raise self.fail(node, "NOT needs true/false")
            return "boolean"
        if isinstance(node, _COMPARISONS):
            left, right = self.type_of(node.this), self.type_of(node.expression)
            if "list" in (left, right):
                raise self.fail(node, "a list field cannot be compared; use has() or has_any()")
            self.same(node.expression, left, right, node.key.upper())
            return "boolean"
        if isinstance(node, _ARITHMETIC):
            for side in (node.this, node.expression):
                if self.type_of(side) not in _NUMERIC:
                    raise self.fail(side, "arithmetic needs numbers")
            return "number"
        if isinstance(node, (exp.Like, exp.ILike)):
            if self.type_of(node.this) != "string":
                raise self.fail(node, "LIKE needs a text field")
            pattern = node.expression
            if not (isinstance(pattern, exp.Literal) and pattern.is_string):
                raise self.fail(node, "LIKE needs a quoted pattern")
            return "boolean"
        if isinstance(node, exp.In):
            if node.args.get("query") is not None or node.args.get("unnest") is not None:
                raise self.fail(node, "subqueries are not allowed")
            left = self.type_of(node.this)
            if left == "list":
                raise self.fail(node, "IN needs a single value; use has_any() for list fields")
            field = node.args.get("field")
            if field is not None:
                if not isinstance(field, exp.List):
                    raise self.fail(node, "IN takes a list of values or LIST('name')")
                self.same(node, left, "string", "IN LIST")
                self.reference(field)
                return "boolean"
            for item in node.expressions:
                if not isinstance(item, (exp.Literal, exp.Neg, exp.Null, exp.Boolean)):
                    raise self.fail(item, "IN lists take literal values only")
                self.same(item, left, self.type_of(item), "IN")
            return "boolean"
        if isinstance(node, exp.Between):
            left = self.type_of(node.this)
            for bound in (node.args["low"], node.args["high"]):
                self.same(bound, left, self.type_of(bound), "BETWEEN")
            return "boolean"
        if isinstance(node, exp.Is):
            self.type_of(node.this)
            if not isinstance(node.expression, (exp.Null, exp.Boolean)):
                raise self.fail(node, "IS takes NULL, TRUE or FALSE")
            return "boolean"
        if isinstance(node, (exp.Lower, exp.Upper)):
            if self.type_of(node.this) != "string":
                raise self.fail(node, f"{node.key}() needs text")
            return "string"
        if isinstance(node, exp.Length):
            if self.type_of(node.this) not in ("string", "list"):
                raise self.fail(node, "length() needs text or a list")
            return "integer"
        if isinstance(node, exp.Abs):
            if self.type_of(node.this) not in _NUMERIC:
                raise self.fail(node, "abs() needs a number")
            return "number"
        if isinstance(node, exp.Coalesce):
            kinds = [self.type_of(a) for a in [node.this, *node.expressions]]
            known = [k for k in kinds if k != "null"]
            for k in known[1:]:
                self.same(node, known[0], k, "coalesce()")
            return known[0] if known else "null"
        if isinstance(node, exp.Anonymous) and node.name.lower() in _LIST_FUNCTIONS:
            return self.list_function(node)
        if isinstance(node, (exp.Func, exp.Anonymous)):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            raise self.fail(node, f"function {name.lower()}() is not allowed")
        if isinstance(node, (exp.Select, exp.Subquery, exp.Query)):
            raise self.fail(node, "subqueries are not allowed")
        raise self.fail(node, f"{node.key.upper()} is not allowed in criteria")

    def list_function(self, node: exp.Anonymous) -> Type:
        name = node.name.lower()
        args = node.expressions
        if len(args) != 2 or not isinstance(args[0], exp.Column):
            raise self.fail(node, f"{name}() takes a list field and a value")
        if self.type_of(args[0]) != "list":
            raise self.fail(args[0], f"{name}() needs a list field first")
        second = args[1]
        if name == "has_any":
            if isinstance(second, exp.List):
                self.reference(second)
            elif isinstance(second, (exp.Tuple, exp.Paren)):
                items = second.expressions if isinstance(second, exp.Tuple) else [second.this]
                if not all(isinstance(i, exp.Literal) and i.is_string for i in items):
                    raise self.fail(second, "has_any() takes quoted values")
            else:
                raise self.fail(second, "has_any() takes LIST('name') or ('a', 'b')")
        elif not (isinstance(second, exp.Literal) and second.is_string):
            raise self.fail(second, f"{name}() takes a quoted value")
        return "boolean"


class _Emitter:
    """Validated trees to engine SQL; only the node types the checker lets through."""

    def __init__(self, dialect: Dialect, lists: ReferenceLists, target: TargetKind) -> None:
        self.dialect = dialect
        self.lists = lists
        self.catalogue = CATALOGUE[target]

    @staticmethod
    def quote(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    def values(self, node: exp.Expression) -> list[str]:
        if isinstance(node, exp.List):
            return [self.quote(v) for v in self.lists[node.expressions[0].this]]
        items = node.expressions if isinstance(node, exp.Tuple) else [node.this]
        return [self.emit(i) for i in items]

    def array(self, items: list[str]) -> str:
        inner = ", ".join(items)
        return f"[{inner}]" if self.dialect == "duckdb" else f"array({inner})"

    def emit(self, node: exp.Expression) -> str:
        e = self.emit
        if isinstance(node, exp.Paren):
            return f"({e(node.this)})"
        if isinstance(node, exp.Column):
            return f"`{node.name.lower()}`" if self.dialect == "spark" else f'"{node.name.lower()}"'
        if isinstance(node, exp.Literal):
            if node.is_string:
                return self.quote(node.this)
            # Decimals as doubles, so that SQL and the single-record closures compute alike.
            return str(node.this) if node.this.isdigit() else f"CAST({node.this} AS DOUBLE)"
        if isinstance(node, exp.Boolean):
            return "TRUE" if node.this else "FALSE"
        if isinstance(node, exp.Null):
            return "NULL"
        if isinstance(node, exp.Cast):
            return f"DATE {self.quote(node.this.this)}"
        if isinstance(node, exp.Neg):
            return f"(-{e(node.this)})"
        arithmetic: dict[type[exp.Expression], str] = {
            exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%",
        }  # fmt: skip
        if type(node) in arithmetic:
            # In doubles, so nothing overflows; a zero divisor gives NULL instead of an error
            # that would stop the whole batch.
            left = f"CAST({e(node.this)} AS DOUBLE)"
            right = f"CAST({e(node.expression)} AS DOUBLE)"
            if isinstance(node, (exp.Div, exp.Mod)):
                right = f"nullif({right}, 0)"
            return f"({left} {arithmetic[type(node)]} {right})"
        binary: dict[type[exp.Expression], str] = {
            exp.And: "AND", exp.Or: "OR", exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">",
            exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=",
        }  # fmt: skip
        for kind, op in binary.items():
            if type(node) is kind:
                return f"({e(node.this)} {op} {e(node.expression)})"
        if isinstance(node, exp.Not):
            return f"(NOT {e(node.this)})"
        if isinstance(node, (exp.Like, exp.ILike)):
            op = "LIKE" if isinstance(node, exp.Like) else "ILIKE"
            negate = "NOT " if node.args.get("negate") else ""
            return f"({e(node.this)} {negate}{op} {e(node.expression)})"
        if isinstance(node, exp.In):
            negate = "NOT " if node.args.get("negate") else ""
            field = node.args.get("field")
            items = self.values(field) if field is not None else [e(i) for i in node.expressions]
            if not items:
                return "FALSE" if not negate else "TRUE"
            return f"({e(node.this)} {negate}IN ({', '.join(items)}))"
        if isinstance(node, exp.Between):
            low, high = e(node.args["low"]), e(node.args["high"])
            return f"({e(node.this)} BETWEEN {low} AND {high})"
        if isinstance(node, exp.Is):
            return f"({e(node.this)} IS {e(node.expression)})"
        simple: dict[type[exp.Expression], str] = {
            exp.Lower: "lower",
            exp.Upper: "upper",
            exp.Abs: "abs",
        }
        for kind, name in simple.items():
            if isinstance(node, kind):
                return f"{name}({e(node.this)})"
        if isinstance(node, exp.Length):
            if self.dialect == "duckdb":
                return f"len({e(node.this)})"
            arg = node.this
            is_list = (
                isinstance(arg, exp.Column) and self.catalogue[arg.name.lower()].type == "list"
            )
            return f"{'size' if is_list else 'length'}({e(arg)})"
        if isinstance(node, exp.Coalesce):
            return f"coalesce({', '.join(e(a) for a in [node.this, *node.expressions])})"
        if isinstance(node, exp.Anonymous):
            return self.list_function(node)
        raise AssertionError(f"unchecked node {node.key}")  # the checker refuses these first

    def list_function(self, node: exp.Anonymous) -> str:
        name = node.name.lower()
        field, second = node.expressions
        column = self.emit(field)
        if name == "has":
            fn = "list_contains" if self.dialect == "duckdb" else "array_contains"
            return f"coalesce({fn}({column}, {self.emit(second)}), FALSE)"
        if name == "has_any":
            fn = "list_has_any" if self.dialect == "duckdb" else "arrays_overlap"
            return f"coalesce({fn}({column}, {self.array(self.values(second))}), FALSE)"
        pattern = self.emit(second)
        if self.dialect == "duckdb":
            matches = f"list_transform({column}, lambda x_: x_ LIKE {pattern})"
            return f"coalesce(list_bool_or({matches}), FALSE)"
        return f"coalesce(exists({column}, x_ -> x_ LIKE {pattern}), FALSE)"
