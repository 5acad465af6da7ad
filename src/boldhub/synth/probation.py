"""Probation episodes (nDelius): sentences, custody releases and treatment requirements.

About 45% of persons offend, men and young adults more often (see :mod:`.people`). What
follows a sentence is returned as :class:`Exit` items, which the homelessness and treatment
builders hang later events on.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from boldhub.synth.draws import Draws, yn
from boldhub.synth.numbers import Numbers, pnc_id
from boldhub.synth.truth import END, START, Person


class Exit(NamedTuple):
    """A custody release, or the start of a community sentence or of a drug or alcohol
    requirement (``kind`` is "custody", "community" or "requirement")."""

    when: date
    kind: str


def probation(d: Draws, numbers: Numbers, i: int, p: Person) -> list[Exit]:
    """Person ``i``'s probation episodes, emitted; returns what later events hang on.

    Sets the person's PNC id and case references (CRNs) as a side effect.
    """
    if not p.offender:
        return []
    exits: list[Exit] = []
    episodes = d.pick([(1, 0.75), (2, 0.2), (3, 0.05)])
    sentences = sorted(d.day_between(START + timedelta(days=30), END) for _ in range(episodes))
    crn = numbers.crn()
    p.crns.append(crn)
    for n, sentence in enumerate(sentences):
        if n == 0:
            p.pnc_id = pnc_id(d.rng, p.dob.year, sentence.year)
        elif d.chance(0.04):
            # Duplicate offender records happen in nDelius: a second CRN for the same person.
            crn = numbers.crn()
            p.crns.append(crn)
        exits += _episode(d, i, p, n, sentence, crn)
    return exits


def _episode(d: Draws, i: int, p: Person, n: int, sentence: date, crn: str) -> list[Exit]:
    """The ``n``-th (from 0) sentence of person ``i``, emitted; returns its exits."""
    # Not an event date: an offence in 2018 sentenced in 2019 is ordinary.
    offence = sentence - timedelta(days=d.rng.randint(14, 300))
    disposal = d.pick(
        [
            ("custody", 0.3 + 0.1 * n),
            ("suspended sentence", 0.25),
            ("community order", 0.45),
        ]
    )
    start, release, termination = _dates(d, sentence, disposal)
    drug_req = disposal != "custody" and p.drug and d.chance(0.4)
    alcohol_req = disposal != "custody" and p.alcohol and d.chance(0.35)
    accom = _accommodation(d, disposal == "custody")
    offence_cat = _offence_category(d, p)
    d.emit(
        "probation",
        i,
        start,
        {
            "offence_category": offence_cat,
            "offence_date": offence,
            "sentence_date": sentence,
            "disposal": disposal,
            "req_drug_rehab": yn(drug_req),
            "req_alcohol_treatment": yn(alcohol_req),
            "start_date": start,
            "termination_date": termination,
            "release_date": release,
            "accommodation_on_release": accom,
        },
        crn=crn,
    )
    exits = [Exit(release, "custody") if release is not None else Exit(start, "community")]
    if drug_req or alcohol_req:
        exits.append(Exit(start, "requirement"))
    return exits


def _dates(d: Draws, sentence: date, disposal: str) -> tuple[date, date | None, date | None]:
    """(start, release from custody, termination); release and termination None if after END."""
    start = d.after(sentence, 0, 10)
    release: date | None = None
    end_base = start
    if disposal == "custody":
        release = d.after(sentence, 56, 730)
        end_base = release
    termination: date | None = d.after(end_base, 180, 900)
    if release is not None and release > END:
        release = None
        termination = None
    if termination is not None and termination > END:
        termination = None
    if start > END:
        start = END
    return start, release, termination


def _accommodation(d: Draws, custody: bool) -> str:
    if custody:
        return d.pick(
            [
                ("settled", 0.4),
                ("transient", 0.2),
                ("rough sleeping", 0.1),
                ("approved premises", 0.12),
                ("unknown", 0.12),
                ("", 0.06),
            ]
        )
    return d.pick(
        [
            ("settled", 0.65),
            ("transient", 0.15),
            ("rough sleeping", 0.04),
            ("unknown", 0.1),
            ("", 0.06),
        ]
    )


def _offence_category(d: Draws, p: Person) -> str:
    return d.pick(
        [
            ("violence", 0.3),
            ("theft", 0.2),
            ("drug offences", 0.15 + 0.15 * p.drug),
            ("criminal damage", 0.07),
            ("public order", 0.08),
            ("burglary", 0.08),
            ("other", 0.12),
        ]
    )
