"""The population's one random stream, and the events drawn from it.

Every builder (:mod:`~boldhub.synth.people`, :mod:`~boldhub.synth.probation`, ...) draws
from the same :class:`Draws`, one person at a time, so the order of the calls *is* the
population: moving a draw, even one whose value is thrown away, changes every person after
it. That is also why :meth:`Draws.emit` lives here: each event takes a draw for its
tie-break.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TypeVar

from boldhub.synth.truth import Event, Value

T = TypeVar("T")


def yn(flag: bool) -> str:
    return "Y" if flag else "N"


class Draws:
    """Weighted choices, chances and dates from ``rng``; the events emitted so far."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.events: list[Event] = []

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, weighted: Sequence[tuple[T, float]]) -> T:
        total = sum(w for _, w in weighted)
        r = self.rng.random() * total
        for value, w in weighted:
            r -= w
            if r < 0:
                return value
        return weighted[-1][0]

    def day_between(self, first: date, last: date) -> date:
        return date.fromordinal(self.rng.randint(first.toordinal(), last.toordinal()))

    def after(self, when: date, low: int, high: int) -> date:
        return when + timedelta(days=self.rng.randint(low, high))

    def emit(
        self,
        dataset: str,
        person: int,
        when: date,
        attrs: dict[str, Value],
        crn: str = "",
        council: int = -1,
    ) -> None:
        self.events.append(Event(dataset, person, when, council, attrs, self.rng.random(), crn))
