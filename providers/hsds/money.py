"""Money at the edge: pence in, pounds out, and the JSON text that carries them.

Prices are integer pence; HSDS amounts are pounds, a JSON number. The only Decimal in the
product is here: pence become Decimal pounds exactly, and dumps() writes that Decimal as
its own digits, never through a float. Pounds read in come back through amount_to_pence,
also in Decimal.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from providers.hsds.fields import Problem

CURRENCY = "GBP"

PENCE_PER_POUND = 100


def pence_to_amount(pence: int) -> Decimal:
    """1850 -> Decimal('18.50'): exact, with two places."""
    return Decimal(pence).scaleb(-2)


def amount_to_pence(amount: object) -> int:
    """An HSDS amount in pounds (a JSON number read as Decimal, or CSV text) -> pence."""
    if isinstance(amount, bool) or amount is None or amount == "":
        raise Problem("has no amount")
    if isinstance(amount, float):
        raise Problem("amount was read as a float; read HSDS JSON with parse_float=Decimal")
    try:
        pounds = Decimal(str(amount).strip().removeprefix("£"))
    except InvalidOperation:
        raise Problem(f"amount {amount!r} is not a number") from None
    if not pounds.is_finite():
        raise Problem(f"amount {amount!r} is not a number")
    if pounds < 0:
        raise Problem(f"amount £{pounds} is negative")
    pence = pounds * PENCE_PER_POUND
    if pence != pence.to_integral_value():
        raise Problem(f"amount £{pounds} is not a whole number of pence")
    return int(pence)


def dumps(value: Any) -> str:
    """JSON text in which Decimal amounts are written digit for digit as numbers. (The
    standard library would need a float for that, and a float is not what we mean.)"""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
