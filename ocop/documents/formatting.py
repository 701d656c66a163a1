"""Pure formatting helpers for Decree 30/2020/NĐ-CP administrative documents.

These return the fixed legal formulas in Vietnamese; they are not translated.
"""

from __future__ import annotations

import datetime

# A blank number left for the clerk to fill in by hand (drafts, documents numbered on
# signature). Non-breaking spaces so that HTML does not collapse them.
_BLANK_NUMBER = "\u00a0" * 7


def _day_part(value: int) -> str:
    """Day of month: zero-padded below 10 (Decree 30, Appendix I)."""
    return f"{value:02d}"


def _month_part(value: int) -> str:
    """Month: zero-padded for January and February only (Decree 30, Appendix I)."""
    return f"{value:02d}" if value < 3 else str(value)


def date_line(place: str, day: datetime.date) -> str:
    """Return the place/date line of a document header.

    >>> date_line("Cần Thơ", datetime.date(2026, 3, 5))
    'Cần Thơ, ngày 05 tháng 3 năm 2026'
    >>> date_line("Cần Thơ", datetime.date(2026, 2, 15))
    'Cần Thơ, ngày 15 tháng 02 năm 2026'
    """
    if isinstance(day, datetime.datetime):
        day = day.date()
    place = place.strip()
    return f"{place}, ngày {_day_part(day.day)} tháng {_month_part(day.month)} năm {day.year}"


def document_number(number: int | str | None, symbol: str) -> str:
    """Return the "Số: …" line of a document, e.g. ``"Số: 123/QĐ-UBND"``.

    ``number`` is the issuer's running number for the year; numbering starts at "01"
    every 1 January (Decree 30, Art. 15), so integers below 10 are zero-padded
    (``"Số: 05/QĐ-UBND"``). A string is used as given. ``None`` (or an empty value)
    leaves a blank to be filled in when the document is numbered, as on drafts:
    ``"Số:       /QĐ-UBND"`` (with non-breaking spaces).
    """
    symbol = symbol.strip().lstrip("/")
    if number is None or str(number).strip() == "":
        return f"Số: {_BLANK_NUMBER}/{symbol}"
    if isinstance(number, int):
        if number < 1:
            raise ValueError("A document number starts at 1.")
        return f"Số: {number:02d}/{symbol}"
    return f"Số: {str(number).strip()}/{symbol}"


#: The kinds of administrative unit a name starts with ("Thành phố Cần Thơ").
_UNIT_KINDS = ("Thành phố ", "Tỉnh ", "Quận ", "Huyện ", "Thị xã ", "Thị trấn ", "Phường ",
               "Xã ", "Đặc khu ")


def place_name(unit_name: str) -> str:
    """The place of the date line: the unit's name without its kind.

    >>> place_name("Thành phố Cần Thơ")
    'Cần Thơ'
    >>> place_name("Phường Ninh Kiều")
    'Ninh Kiều'
    """
    name = unit_name.strip()
    for kind in _UNIT_KINDS:
        if name.startswith(kind):
            return name[len(kind):]
    return name


def in_sentence(unit_name: str) -> str:
    """A unit's name inside a sentence: its kind in lower case.

    >>> in_sentence("Thành phố Cần Thơ")
    'thành phố Cần Thơ'
    """
    name = unit_name.strip()
    return name[:1].lower() + name[1:]

