"""Money is integer pence everywhere; this module turns pounds text into pence and back."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_MAX_PENCE = 10**13


def parse_pounds(text: str) -> int:
    """'1,234.50' or '£12' -> pence. Raises ValueError with a message fit for a person."""
    cleaned = text.strip().replace(",", "").removeprefix("£").strip()
    if not cleaned:
        raise ValueError("Enter an amount in pounds, for example 120.50")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter an amount in pounds, for example 120.50") from None
    # The exponent is an int for a finite number, a letter for NaN and Infinity.
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        raise ValueError("Enter an amount in pounds and pence, for example 120.50")
    pence = int(amount * 100)
    if pence < 0:
        raise ValueError("Enter an amount of £0 or more")
    if pence >= _MAX_PENCE:
        raise ValueError("Enter a smaller amount")
    return pence


def format_pence(pence: int) -> str:
    """1234567 -> '£12,345.67'; negative amounts keep their sign in front of the pound sign."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}£{pounds:,}.{rest:02d}"


def pence_to_pounds_text(pence: int) -> str:
    """1234567 -> '12345.67', the form a money field is edited in."""
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    return f"{sign}{pounds}.{rest:02d}"
