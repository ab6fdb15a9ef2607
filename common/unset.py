"""`UNSET`, the default of a service's optional keyword argument meaning "leave this field as it
is". None cannot say that where None is a value the caller may mean (clearing a date)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Final


class Unset(Enum):
    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


def passed_values(arguments: Mapping[str, object], names: Iterable[str]) -> dict[str, object]:
    """Of a service's `arguments` (its `locals()`), the ones among `names` its caller passed."""
    return {name: arguments[name] for name in names if arguments[name] is not UNSET}
