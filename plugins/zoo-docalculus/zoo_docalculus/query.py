"""Causal queries as people write them.

``P(Y | do(X), Z)``, ``P(Y, W | do(X1, X2), Z)``, with values ``P(Y=1 | do(X=0), Z=1)``;
expectations ``E[Y | do(X=1)]`` and contrasts ``E[Y | do(X=1)] - E[Y | do(X=0)]`` (an
average treatment effect). Values are kept as the text written; estimation matches them to
the data (numerically when both are numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NoReturn

from zoo_core import InputError

__all__ = ["Query", "Contrast", "parse_query", "parse_query_or_contrast"]

_NAME = re.compile(r"[^\W\d]\w*")  # as in graphs: letters of any script, digits and _
_BARE = re.compile(r"[\w.+-]+")
#: One token: a quoted value, a bare word (a name or a value), punctuation, an unclosed quote, anything else.
_TOKEN = re.compile(r"""\s*(?:(?P<quoted>"[^"]*"|'[^']*')|(?P<word>[\w.+-]+)|(?P<punct>[()\[\]|,=])"""
                    r"""|(?P<open>["'])|(?P<other>\S))""")
_EXAMPLES = "write e.g. 'P(Y | do(X), Z)', 'P(Y=1 | do(X=0))' or 'E[Y | do(X=1)] - E[Y | do(X=0)]'"


@dataclass
class Query:
    """P(outcomes | do(treatments), conditions); a value of None means 'every value'."""

    outcomes: dict[str, str | None]
    treatments: dict[str, str | None] = field(default_factory=dict)
    conditions: dict[str, str | None] = field(default_factory=dict)
    expectation: bool = False  # E[outcome | ...] rather than P(...)

    @property
    def variables(self) -> dict[str, str | None]:
        return {**self.outcomes, **self.treatments, **self.conditions}

    def __str__(self) -> str:
        def show(items: dict[str, str | None]) -> str:
            return ", ".join(k if v is None else f"{k}={_shown(v)}" for k, v in items.items())

        right = []
        if self.treatments:
            right.append(f"do({show(self.treatments)})")
        if self.conditions:
            right.append(show(self.conditions))
        inner = show(self.outcomes) + (" | " + ", ".join(right) if right else "")
        return f"E[{inner}]" if self.expectation else f"P({inner})"


@dataclass
class Contrast:
    """E[Y | do(X=a), ...] - E[Y | do(X=b), ...]: an average treatment effect."""

    treated: Query
    control: Query

    def __str__(self) -> str:
        return f"{self.treated} - {self.control}"


def _shown(value: str) -> str:
    """A value as it must be written to be read back: quoted unless it is a bare token."""
    if _BARE.fullmatch(value):
        return value
    return f"'{value}'" if "'" not in value else f'"{value}"'


@dataclass
class _Token:
    kind: str  # "quoted", "word" (a name or a bare value) or "punct"
    text: str
    start: int  # offsets into the whole --query text
    end: int


_ROLES = {"outcomes": "an outcome", "treatments": "a treatment", "conditions": "a condition"}


class _Reader:
    """Reads one ``P(...)`` or ``E[...]`` in ``text[start:end]``. Every error that concerns one
    place says where: ``--query: cannot read '<the text>' at column N: <what is wrong there>``,
    N counting from 1 in the text as written (so inside a contrast, in the whole contrast)."""

    def __init__(self, text: str, where: str, start: int, end: int) -> None:
        self.text, self.where, self.start, self.end = text, where, start, end
        self.pos = start
        self.ahead: list[_Token] = []
        self.roles: dict[str, str] = {}
        self.places: dict[str, tuple[int, int | None]] = {}  # name -> (column of the name, of its value)
        self.close = ")"

    def fail(self, at: int, message: str) -> NoReturn:
        raise InputError(f"{self.where}: cannot read {self.text!r} at column {at + 1}: {message}")

    def _next(self) -> _Token | None:
        match = _TOKEN.match(self.text, self.pos, self.end)
        if not match:  # nothing but spaces left
            return None
        kind = match.lastgroup or ""
        token = _Token(kind, match[kind], match.start(kind), match.end(kind))
        if kind == "open":
            self.fail(token.start, f"the quote {token.text} opened here is never closed")
        if kind == "other":
            self.fail(token.start, f"unexpected {token.text!r}; separate variables with commas and write values "
                                   "as X=1 (quote values that hold other characters: X='a b')")
        self.pos = match.end()
        return token

    def peek(self, n: int = 0) -> _Token | None:
        while len(self.ahead) <= n:
            token = self._next()
            if token is None:
                return None
            self.ahead.append(token)
        return self.ahead[n]

    def take(self) -> _Token:
        token = self.peek()
        assert token is not None
        return self.ahead.pop(0)

    def is_punct(self, token: _Token | None, text: str) -> bool:
        return token is not None and token.kind == "punct" and token.text == text

    def ends_early(self) -> NoReturn:
        self.fail(len(self.text[:self.end].rstrip()), f"the query ends before its closing '{self.close}'")

    def query(self) -> Query:
        head = re.compile(r"\s*(P\s*\(|E\s*\[)").match(self.text, self.start, self.end)
        if not head:
            first = re.compile(r"\s*").match(self.text, self.start, self.end)
            self.fail(first.end() if first else self.start, f"a query is P(...) or E[...]; {_EXAMPLES}")
        expectation = head[1].startswith("E")
        self.close = "]" if expectation else ")"
        self.pos = head.end()
        outcomes: dict[str, str | None] = {}
        treatments: dict[str, str | None] = {}
        conditions: dict[str, str | None] = {}
        self.elements(outcomes, treatments, "outcomes", "left")
        bar = self.take()  # '|' or the closing bracket: elements stops only there
        if not outcomes:
            self.fail(bar.start, f"the query names no outcome before the '{bar.text}'; write e.g. P(Y | do(X))")
        if bar.text == "|":
            self.elements(conditions, treatments, "conditions", "right")
            self.take()
        extra = self.peek()
        if extra is not None:
            self.fail(extra.start, f"unexpected {extra.text!r} after the closing '{self.close}'")
        if expectation and len(outcomes) != 1:
            self.fail(self.places[list(outcomes)[1]][0], f"E[...] takes one outcome, not {len(outcomes)}")
        if expectation:
            (name, value), = outcomes.items()
            if value is not None:
                self.fail(self.places[name][1] or 0, "E[...] averages the outcome, so the outcome takes no value")
        return Query(outcomes, treatments, conditions, expectation)

    def elements(self, items: dict[str, str | None], treatments: dict[str, str | None], what: str,
                 side: str) -> None:
        """Comma-separated items (and, right of the '|', do(...) groups) up to the token that ends
        them: '|' or the closing bracket on the left, the closing bracket on the right, ')' in do()."""
        stops = {"left": {"|", self.close}, "right": {self.close}, "do": {")"}}[side]
        last_end: int | None = None  # where the previous element ended, until a comma follows it
        while True:
            token = self.peek()
            if token is None:
                self.ends_early()
            if token.kind == "punct" and token.text in stops:
                return
            if self.is_punct(token, ","):
                self.take()
                last_end = None
                continue
            if token.kind == "punct":
                self.stray(token, side)
            if last_end is not None:
                if token.kind == "word" and _NAME.fullmatch(token.text):
                    fixed = self.text[:last_end] + "," + self.text[last_end:]
                    self.fail(token.start, f"separate the {what} with commas: {fixed.strip()}")
                self.fail(token.start, f"unexpected {token.text!r}; separate the {what} with commas "
                                       "and write values as X=1")
            if token.text == "do" and self.is_punct(self.peek(1), "("):
                if side == "left":
                    self.fail(token.start, "do(...) belongs after the '|': P(Y | do(X))")
                if side == "do":
                    self.fail(token.start, "do(...) inside do(...); list the treatments once: do(X, Z)")
                self.take(), self.take()
                self.elements(treatments, treatments, "treatments", "do")
                last_end = self.take().end
            else:
                last_end = self.item(items, what, side)

    def stray(self, token: _Token, side: str) -> NoReturn:
        if token.text == "|" and side == "right":
            self.fail(token.start, "more than one '|'; write every condition after one '|': P(Y | do(X), Z)")
        if side == "do" and token.text == self.close:
            self.fail(token.start, f"this {token.text!r} comes before do(...) is closed with ')'")
        if token.text in "()":
            self.fail(token.start, f"unexpected {token.text!r}; write interventions as do(X, Z=1)")
        self.fail(token.start, f"unexpected {token.text!r}; write a variable name, optionally with a value: X or X=1")

    def item(self, items: dict[str, str | None], what: str, side: str) -> int:
        """One ``X`` or ``X=value``; returns where it ends."""
        token = self.take()
        if token.kind != "word" or not _NAME.fullmatch(token.text):
            shown = token.text if token.kind == "quoted" else repr(token.text)
            self.fail(token.start, f"{shown} is not a variable name; write the {what} as names, "
                                   "optionally with values: X or X=1")
        name = token.text
        if self.is_punct(self.peek(), "("):
            self.fail(token.start, f"{name}(...) is not an intervention; write interventions as do(X, Z=1)")
        if name == "do" and side != "left":
            self.fail(token.start, "do needs its parentheses; write interventions as do(X, Z=1)")
        role = _ROLES[what]
        if name in self.roles:
            before = self.roles[name]
            self.fail(token.start, f"{name} appears twice among the {what}" if before == role else
                      f"{name} is both {before} and {role}; each variable plays one role")
        end, value, value_at = token.end, None, None
        if self.is_punct(self.peek(), "="):
            equals = self.take()
            written = self.peek()
            if written is None or written.kind not in ("word", "quoted"):
                self.fail(equals.end if written is None else written.start, f"{name}= needs a value: {name}=1")
            self.take()
            value = written.text[1:-1] if written.kind == "quoted" else written.text
            end, value_at = written.end, written.start
        self.roles[name] = role
        self.places[name] = (token.start, value_at)
        items[name] = value
        return end


def parse_query(text: str, where: str = "--query") -> Query:
    """Parse one ``P(...)`` or ``E[...]`` query; one-line errors say where and what to write."""
    return _Reader(text, where, 0, len(text)).query()


_MINUS = re.compile(r"\]\s*-\s*E\s*\[")


def parse_query_or_contrast(text: str, where: str = "--query") -> Query | Contrast:
    """A query, or ``E[...] - E[...]`` with the same outcome and conditions and differing treatment values."""
    signs = list(_MINUS.finditer(text))
    if not signs:
        return parse_query(text, where)
    if len(signs) > 1:
        second = signs[1].start() + signs[1][0].index("-")
        raise InputError(f"{where}: cannot read {text!r} at column {second + 1}: a contrast is two expectations: "
                         "'E[Y | do(X=1)] - E[Y | do(X=0)]'")
    sign = signs[0]
    treated = _Reader(text, where, 0, sign.start() + 1).query()
    control = _Reader(text, where, sign.start() + sign[0].rindex("E"), len(text)).query()
    if not (treated.expectation and control.expectation):
        raise InputError(f"{where}: a contrast is two expectations: 'E[Y | do(X=1)] - E[Y | do(X=0)]'")
    if (treated.outcomes, set(treated.treatments), treated.conditions) != (control.outcomes, set(control.treatments), control.conditions):
        raise InputError(f"{where}: both sides of the contrast need the same outcome, treatments and conditions; "
                         "only the treatment values differ")
    if any(v is None for v in treated.treatments.values()) or any(v is None for v in control.treatments.values()):
        raise InputError(f"{where}: a contrast needs a value for every treatment on both sides: do(X=1) and do(X=0)")
    return Contrast(treated, control)
