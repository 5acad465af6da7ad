"""One adjustment to Splink 5, applied on import of boldhub.linkage.model.

Splink 5 refuses an m or u probability below 1e-300 (``M_U_CLAMP_MIN``) as soon as it is
set, so that ``log2(m / u)`` stays finite. But EM sets them too: a level that no true pair
shows (a name entered surname-first in data where nobody does that, an initial-only level
in data without initials) has its m driven towards zero iteration by iteration, and the
first value under the floor abandons the whole training session, with every other
comparison's estimates. Here such values are raised to the floor instead, which is the
value Splink itself uses when it computes match weights; a NaN (0/0 in an EM step, a
level with no pairs at all) leaves the value as it was.
"""

from __future__ import annotations

import math
from typing import Any

from splink.internals import comparison_level as _cl

FLOOR: float = _cl.M_U_CLAMP_MIN


def _clamped(prop: property) -> property:
    setter = prop.fset
    assert setter is not None

    def fset(self: Any, value: Any) -> None:
        if isinstance(value, float):
            if math.isnan(value):
                return  # 0/0 in an EM step: no information, keep the current value
            if value < FLOOR:
                value = FLOOR
        setter(self, value)

    return property(prop.fget, fset, prop.fdel, prop.__doc__)


def install() -> None:
    level: Any = _cl.ComparisonLevel
    if getattr(level, "_boldhub_clamped", False):
        return
    for name in ("m_probability", "u_probability"):
        setattr(level, name, _clamped(vars(level)[name]))
    level._boldhub_clamped = True
