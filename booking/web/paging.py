"""Page numbers from a query string: one reading for every paged staff list."""

from __future__ import annotations

# Far beyond any real list, and small enough that the OFFSET it makes stays an ordinary number.
MAX_PAGE = 10_000


def page_number(args, name: str = "page") -> int:
    """The page asked for, 1 when missing or not a plain positive number."""
    value = args.get(name, "")
    return min(int(value), MAX_PAGE) if value.isdigit() and int(value[:6]) > 0 else 1
