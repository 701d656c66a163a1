"""Vietnamese text helpers."""

import unicodedata

_D = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text):
    """Lower-case, accent-free form for search: "Bưởi Năm Roi" → "buoi nam roi".

    The same mapping PostgreSQL's ``unaccent`` applies (NFD, drop combining marks, đ→d),
    so it can be computed once in Python and indexed on any database.
    """
    decomposed = unicodedata.normalize("NFD", (text or "").translate(_D))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())
