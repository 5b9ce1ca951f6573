"""Amounts as people type them in the page's language: "1.249,50" and "1249,50" in Dutch, "1,249.50"
in English, and the neutral "1249.50" in either. The services read only the neutral form, so the
screens turn a typed amount into it first; one they cannot read is named in the page's language
with an example of what works, before anything is sent on."""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping
from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask_babel import gettext as _

from web.support.formatting import locale

NEUTRAL = re.compile(r"^-?[0-9]+(\.[0-9]{1,2})?$")  # what the services read: 1249.50
EXAMPLE = Decimal("1249.50")


def neutral_amount(text: str) -> str | None:
    """``text`` as the neutral amount the services read, or None when it is not an amount in
    the page's language nor in the neutral form. Blank stays blank."""
    cleaned = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    if not cleaned or NEUTRAL.match(cleaned):
        return cleaned
    try:
        # Strict: a separator in the wrong place is asked again, never read as another number.
        amount = parse_decimal(cleaned, locale=locale(), strict=True)
    except NumberFormatError:
        return None
    return format(amount, "f")


def amount_problem(text: str) -> str:
    """What is wrong with a typed amount, and what works, in the page's language."""
    return _("'%(text)s' is not an amount: write it as %(example)s (or %(neutral)s)",
             text=text.strip()[:40],
             example=format_decimal(EXAMPLE, format="#,##0.00", locale=locale()),
             neutral=f"{EXAMPLE:.2f}")


def neutralise(values: MutableMapping[str, str], names: Iterable[str]) -> dict[str, list[str]]:
    """Turn the amounts ``names`` of ``values`` into the neutral form in place; the problems, by
    input name, of those that are not amounts (left as typed, so the form shows them again)."""
    problems: dict[str, list[str]] = {}
    for name in names:
        typed = values.get(name)
        if not typed:
            continue
        neutral = neutral_amount(typed)
        if neutral is None:
            problems[name] = [amount_problem(typed)]
        else:
            values[name] = neutral
    return problems
