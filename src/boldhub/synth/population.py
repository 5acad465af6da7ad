"""Synthetic persons, their identifier histories and their life events: the known truth.

Everything here is the *true* state of the world. How each body then records it (typos,
nicknames, missing values, out-of-date surnames) is the error model in
:mod:`boldhub.synth.noise`; keeping the two apart means the truth can be rebuilt from the seed
and compared with what the exports say.

Each person has a fixed sex, date of birth, forename, optional middle name, surname (and,
for some women, a second surname taken at a "marriage" date), NHS and NI numbers, and an
address history of one to three postcodes in force from move dates between 2018 and 2025.
Addresses are drawn from a per-council pool of postcodes (300, or one per 40 residents in
a larger population, as in England), so a council's residents share postcode districts;
about one move in ten goes to another of the chosen councils, which is what puts the same
person in two councils' exports.

Life events run from 2019-01-01 to 2025-12-31 and are correlated on purpose, so that the
outcome indicators have something to find:

* probation episodes (about 45% of persons, men and young adults more often); custody
  releases are followed by homelessness applications referred by prison or probation;
* homelessness cases (about 70% of persons, some repeat), in the council of the address in
  force on the application date (``repeat_elsewhere``: the share of repeats that follow a
  move to another council, 0 by default);
* drug and alcohol treatment (about 40%), more likely within six months after a
  homelessness case with a drug or alcohol support need, after a probation drug or alcohol
  requirement, and after release from custody;
* victim referrals (about 25%), more likely around a homelessness case with domestic abuse.

Randomness comes from ``random.Random`` seeded with a string derived from the seed (stable
across processes, unlike ``hash``) and from Faker's own seeded generator, always consumed in
the same order, so a seed gives the same population every time.

This module keeps the entry point, :func:`build_population`, and re-exports the types; the
parts live in:

* :mod:`boldhub.synth.truth`: the dates and the types (:class:`Person`, :class:`Event`,
  :class:`Population`);
* :mod:`boldhub.synth.draws`: the one random stream every builder draws from, in order;
* :mod:`boldhub.synth.places`: each council's postcode pool and population weight;
* :mod:`boldhub.synth.numbers`: NHS and NI numbers, CRNs and PNC ids;
* :mod:`boldhub.synth.people`: persons (names, date of birth, addresses, circumstances);
* :mod:`boldhub.synth.probation`, :mod:`~boldhub.synth.homelessness`,
  :mod:`~boldhub.synth.treatment` and :mod:`~boldhub.synth.victims`: one per dataset, the
  events a person has.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from faker import Faker

from boldhub.schemas.organisations import Organisation
from boldhub.synth.draws import Draws
from boldhub.synth.homelessness import homelessness
from boldhub.synth.numbers import Numbers, nhs_check_digit, pnc_check
from boldhub.synth.people import People
from boldhub.synth.places import Places
from boldhub.synth.probation import probation
from boldhub.synth.treatment import deaths, treatment
from boldhub.synth.truth import (
    END,
    MOVES_FROM,
    START,
    AddressSpell,
    Event,
    Person,
    Population,
    Value,
)
from boldhub.synth.victims import victims

__all__ = [
    "END",
    "MOVES_FROM",
    "START",
    "AddressSpell",
    "Event",
    "Person",
    "Population",
    "Value",
    "build_population",
    "nhs_check_digit",
    "pnc_check",
]


def build_population(
    persons: int,
    councils: Sequence[Organisation],
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    *,
    repeat_elsewhere: float = 0.0,
) -> Population:
    """The persons and their events for ``seed``; the same arguments give the same result.

    ``progress`` is called with ``(persons done, persons)`` every thousand persons and at
    the end. ``repeat_elsewhere`` is the share of repeat homelessness applications made
    after a move to another council (:mod:`boldhub.synth.homelessness`; 0 by default).
    """
    if not 0.0 <= repeat_elsewhere <= 1.0:
        raise ValueError(f"repeat_elsewhere is a share from 0 to 1, not {repeat_elsewhere}")
    chosen = tuple(councils)
    draws = Draws(random.Random(f"boldhub-synth-population-{seed}"))
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    numbers = Numbers(draws.rng)
    people = People(draws, fake, Places(chosen, persons, draws, fake), numbers)
    built: list[Person] = []
    for i in range(persons):
        p = people.person(i)
        built.append(p)
        exits = probation(draws, numbers, i, p)
        cases = homelessness(
            draws, i, p, exits, repeat_elsewhere=repeat_elsewhere, move=people.move_elsewhere
        )
        treatment(draws, i, p, exits, cases)
        victims(draws, i, p, cases)
        if progress is not None and ((i + 1) % 1000 == 0 or i + 1 == persons):
            progress(i + 1, persons)
    deaths(draws)
    return Population(chosen, built, draws.events)
