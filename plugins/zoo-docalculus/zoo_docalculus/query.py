"""Causal queries as people write them.

``P(Y | do(X), Z)``, ``P(Y, W | do(X1, X2), Z)``, with values ``P(Y=1 | do(X=0), Z=1)``;
expectations ``E[Y | do(X=1)]`` and contrasts ``E[Y | do(X=1)] - E[Y | do(X=0)]`` (an
average treatment effect). Values are kept as the text written; estimation matches them to
the data (numerically when both are numbers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from zoo_core import InputError

__all__ = ["Query", "Contrast", "parse_query", "parse_query_or_contrast"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_VALUE = r"(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.+-]+)"
_ITEM = re.compile(rf"^\s*(?P<name>{_NAME})\s*(?:=\s*(?P<value>{_VALUE}))?\s*$")
_DO = re.compile(r"do\s*\(([^()]*)\)")
_PART = re.compile(r"(?:\"[^\"]*\"|'[^']*'|[^,])+")  # a comma inside a quoted value does not split
_BARE = re.compile(r"[A-Za-z0-9_.+-]+")


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


def _items(text: str, what: str, where: str) -> dict[str, str | None]:
    items: dict[str, str | None] = {}
    for part in filter(None, (p.strip() for p in _PART.findall(text))):
        match = _ITEM.match(part)
        if not match:
            raise InputError(f"{where}: cannot read {part!r} among the {what}; write a variable name, "
                             "optionally with a value: X or X=1")
        name, value = match["name"], match["value"]
        if value is not None and value[:1] in "\"'":
            value = value[1:-1]
        if name in items:
            raise InputError(f"{where}: {name} appears twice among the {what}")
        items[name] = value
    return items


def parse_query(text: str, where: str = "--query") -> Query:
    """Parse one ``P(...)`` or ``E[...]`` query; one-line errors say what to write."""
    stripped = text.strip()
    match = re.fullmatch(r"P\s*\((?P<body>.*)\)", stripped, re.S) or re.fullmatch(r"E\s*\[(?P<body>.*)\]", stripped, re.S)
    if not match:
        raise InputError(f"{where}: cannot read {text!r}; write e.g. 'P(Y | do(X), Z)', 'P(Y=1 | do(X=0))' "
                         "or 'E[Y | do(X=1)] - E[Y | do(X=0)]'")
    expectation = stripped.startswith("E")
    body = match["body"]
    if body.count("|") > 1:
        raise InputError(f"{where}: {text!r} has more than one '|'")
    left, _, right = body.partition("|")
    if "do" in left and _DO.search(left):
        raise InputError(f"{where}: do(...) belongs after the '|': P(Y | do(X))")
    outcomes = _items(left, "outcomes", where)
    if not outcomes:
        raise InputError(f"{where}: {text!r} names no outcome before the '|'")
    treatments: dict[str, str | None] = {}
    for do in _DO.findall(right):
        for name, value in _items(do, "treatments", where).items():
            if name in treatments:
                raise InputError(f"{where}: {name} appears twice among the treatments")
            treatments[name] = value
    rest = _DO.sub("", right)
    if "do" in re.findall(_NAME, rest) or "(" in rest or ")" in rest:
        raise InputError(f"{where}: cannot read {right.strip()!r}; write interventions as do(X, Z=1)")
    conditions = _items(rest, "conditions", where)
    seen: dict[str, str] = {}
    for role, items in (("an outcome", outcomes), ("a treatment", treatments), ("a condition", conditions)):
        for name in items:
            if name in seen:
                raise InputError(f"{where}: {name} is both {seen[name]} and {role}; each variable plays one role")
            seen[name] = role
    if expectation and len(outcomes) != 1:
        raise InputError(f"{where}: E[...] takes one outcome, not {len(outcomes)}")
    if expectation and next(iter(outcomes.values())) is not None:
        raise InputError(f"{where}: E[...] averages the outcome, so the outcome takes no value")
    return Query(outcomes, treatments, conditions, expectation)


def parse_query_or_contrast(text: str, where: str = "--query") -> Query | Contrast:
    """A query, or ``E[...] - E[...]`` with the same outcome and conditions and differing treatment values."""
    parts = re.split(r"\]\s*-\s*E\s*\[", text.strip())
    if len(parts) == 1:
        return parse_query(text, where)
    if len(parts) != 2:
        raise InputError(f"{where}: a contrast is two expectations: 'E[Y | do(X=1)] - E[Y | do(X=0)]'")
    treated = parse_query(parts[0] + "]", where)
    control = parse_query("E[" + parts[1], where)
    if not (treated.expectation and control.expectation):
        raise InputError(f"{where}: a contrast is two expectations: 'E[Y | do(X=1)] - E[Y | do(X=0)]'")
    if (treated.outcomes, set(treated.treatments), treated.conditions) != (control.outcomes, set(control.treatments), control.conditions):
        raise InputError(f"{where}: both sides of the contrast need the same outcome, treatments and conditions; "
                         "only the treatment values differ")
    if any(v is None for v in treated.treatments.values()) or any(v is None for v in control.treatments.values()):
        raise InputError(f"{where}: a contrast needs a value for every treatment on both sides: do(X=1) and do(X=0)")
    return Contrast(treated, control)
