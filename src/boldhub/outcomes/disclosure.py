"""Statistical disclosure control: the one module every output path calls.

The default is ONS's "10-5 rule": a count under 10 (zero included, since a zero can be
disclosive too) is suppressed, and every other count is rounded to the nearest 5. Rates
are computed from the *released* (rounded) counts, so a rate never reveals more than the
counts beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

THRESHOLD = 10
ROUNDING_BASE = 5
SUPPRESSED = "[c]"  # the GSS convention for "confidential"


@dataclass(frozen=True)
class ReleasedCount:
    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        return SUPPRESSED if self.value is None else f"{self.value:,}"


@dataclass(frozen=True)
class ReleasedRate:
    percent: float | None

    def __str__(self) -> str:
        return SUPPRESSED if self.percent is None else f"{self.percent:.0f}%"


def control_count(
    n: int, *, threshold: int = THRESHOLD, base: int = ROUNDING_BASE
) -> ReleasedCount:
    if n < 0:
        raise ValueError("counts are never negative")
    if n < threshold:
        return ReleasedCount(None)
    # Round half up: 12 -> 10, 13 -> 15, 15 -> 15.
    return ReleasedCount(int((n + base / 2) // base) * base)


def control_rate(numerator: ReleasedCount, denominator: ReleasedCount) -> ReleasedRate:
    if numerator.value is None or denominator.value is None or denominator.value == 0:
        return ReleasedRate(None)
    return ReleasedRate(100.0 * numerator.value / denominator.value)
