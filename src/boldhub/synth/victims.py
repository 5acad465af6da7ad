"""Victim referrals (victims' services), more likely around a case with domestic abuse.

About 25% of persons are referred at least once; each referral makes another more likely.
"""

from __future__ import annotations

from datetime import date, timedelta

from boldhub.synth.draws import Draws, yn
from boldhub.synth.homelessness import Case
from boldhub.synth.truth import END, START, Person


def victims(d: Draws, i: int, p: Person, cases: list[Case]) -> None:
    """Person ``i``'s victim referrals, emitted."""
    linked = False
    for applied, _, domestic in cases:
        if domestic and d.chance(0.5):
            when = applied + timedelta(days=d.rng.randint(-90, 60))
            if START <= when <= END:
                _referral(d, i, when, True)
                linked = True
    chance = 0.35 if p.domestic_abuse else 0.16
    if linked:
        chance = 0.1
    # Repeat victimisation is common: each referral makes another more likely.
    while d.chance(chance):
        domestic = p.domestic_abuse and d.chance(0.6)
        _referral(d, i, d.day_between(START, END), domestic)
        chance = 0.12


def _referral(d: Draws, i: int, when: date, domestic: bool) -> None:
    sexual = d.chance(0.25 if domestic else 0.04)
    offence, service = _offence_and_service(d, domestic, sexual)
    outcome = _outcome(d, when)
    d.emit(
        "victims",
        i,
        when,
        {
            "referral_date": when,
            "referral_source": d.pick(
                [
                    ("police", 0.65),
                    ("self", 0.1),
                    ("health", 0.07),
                    ("council", 0.1 + 0.2 * domestic),
                    ("other", 0.08),
                ]
            ),
            "offence_category": offence,
            "domestic_abuse": yn(domestic),
            "sexual_abuse": yn(sexual),
            "consent": yn(d.chance(0.85)),
            "safe_contact": yn(d.chance(0.6 if domestic else 0.05)),
            "service_type": service,
            "outcome": outcome,
        },
    )


def _offence_and_service(d: Draws, domestic: bool, sexual: bool) -> tuple[str, str]:
    """(offence category, service type)."""
    if domestic:
        offence = "sexual offence" if sexual and d.chance(0.5) else "violence"
        service = d.pick(
            [
                ("IDVA/ISVA", 0.5),
                ("advocacy", 0.2),
                ("emotional support", 0.2),
                ("counselling", 0.1),
            ]
        )
        return offence, service
    offence = d.pick(
        [
            ("violence", 0.3),
            ("sexual offence", 0.05 + 0.5 * sexual),
            ("theft", 0.2),
            ("burglary", 0.12),
            ("criminal damage", 0.1),
            ("fraud", 0.13),
            ("other", 0.1),
        ]
    )
    service = d.pick(
        [
            ("emotional support", 0.4),
            ("practical help", 0.3),
            ("advocacy", 0.15),
            ("counselling", 0.1),
            ("IDVA/ISVA", 0.05 + 0.5 * sexual),
        ]
    )
    return offence, service


def _outcome(d: Draws, when: date) -> str:
    # A referral in the last three months is mostly still open at the end of the data.
    if (END - when).days < 90:
        return "ongoing" if d.chance(0.7) else "unable to contact"
    return d.pick(
        [
            ("support completed", 0.5),
            ("declined", 0.2),
            ("unable to contact", 0.2),
            ("ongoing", 0.1),
        ]
    )
