"""URLs for many rows of a page at once."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

# Stands in for the row's id while the URL is reversed once; any number the pattern accepts.
_MARKER = 987654321


def url_for_each(viewname: str) -> Callable[[int], str]:
    """`reverse(viewname, args=[pk])` for each row of a list: reversed once, after which only the
    number changes. For patterns whose one argument is an `<int:...>`. A list page builds two or
    three URLs a row, and at ~30 µs a reverse that is a fair share of a 50-row page."""
    url = reverse(viewname, args=[_MARKER])
    before, marker, after = url.partition(str(_MARKER))
    if not marker or str(_MARKER) in after:
        raise ValueError(f"{viewname} does not take one integer argument")

    def url_for(pk: int) -> str:
        return f"{before}{int(pk)}{after}"

    return url_for
