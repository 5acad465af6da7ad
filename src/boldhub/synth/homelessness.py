"""Homelessness cases (H-CLIC), each in the council of the address in force when applying.

About 70% of persons have a case, some repeatedly. Releases from custody and community
sentences (:class:`~boldhub.synth.probation.Exit`) are followed by applications referred
by prison or probation. Each case is returned as a :class:`Case`, which the treatment and
victims builders hang later events on.

A repeat application is made wherever the person lives by then, which is another council
only if one of their own moves (:mod:`boldhub.synth.people`) happens to fall in between:
a handful of people in a population of thousands. ``repeat_elsewhere`` (0 by default, which
draws nothing and leaves a seed's population as it always was) is the share of repeat
applications that follow a move to another council instead, for tests of the
cross-council indicators, which need more such people than that.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import NamedTuple

from boldhub.synth.draws import Draws, yn
from boldhub.synth.probation import Exit
from boldhub.synth.truth import END, START, Person


class Case(NamedTuple):
    """A homelessness application and whether it recorded a drug or alcohol need or
    domestic abuse (as a support need or as the reason for the loss of home)."""

    applied: date
    substance_need: bool
    domestic: bool


# Moves person p to another council after the first date, by the second.
Mover = Callable[[Person, date, date], None]


def homelessness(
    d: Draws,
    i: int,
    p: Person,
    exits: list[Exit],
    *,
    repeat_elsewhere: float = 0.0,
    move: Mover | None = None,
) -> list[Case]:
    """Person ``i``'s homelessness cases, emitted. A share ``repeat_elsewhere`` of repeat
    applications come after ``move`` takes the person to another council (between the
    previous application and this one); with the default 0 nothing is drawn for it."""
    cases: list[Case] = []
    for when, kind in exits:
        if kind == "custody" and d.chance(0.45):
            # Duty to refer: prisons refer up to 56 days before release.
            applied = when + timedelta(days=d.rng.randint(-56, 120))
            if START <= applied <= END:
                cases.append(_case(d, i, p, applied, True, False))
        elif kind == "community" and d.chance(0.12):
            applied = d.after(when, 0, 365)
            if applied <= END:
                cases.append(_case(d, i, p, applied, False, True))
    base = 0.62 + 0.08 * (p.drug or p.alcohol or p.rough_sleeping)
    if d.chance(base):
        # Repeat homelessness: a geometric number of further cases, months apart.
        when = d.day_between(START, END)
        cases.append(_case(d, i, p, when, False, False))
        repeat = 0.3 if (p.drug or p.alcohol or p.rough_sleeping) else 0.15
        while d.chance(repeat):
            before, when = when, d.after(when, 90, 900)
            if when > END:
                break
            if repeat_elsewhere > 0.0 and move is not None and d.chance(repeat_elsewhere):
                move(p, before, when)
            cases.append(_case(d, i, p, when, False, False))
    return cases


def _case(
    d: Draws, i: int, p: Person, when: date, after_custody: bool, referred_by_probation: bool
) -> Case:
    def need(latent: bool) -> bool:
        # Support needs are assessed imperfectly: most true needs recorded, a few spurious.
        return d.chance(0.8) if latent else d.chance(0.03)

    sn_drug = need(p.drug)
    sn_alcohol = need(p.alcohol)
    sn_da = need(p.domestic_abuse)
    sn_rough = need(p.rough_sleeping)
    if after_custody:
        referral, accom, reason = _leaving_custody(d)
    else:
        referral, accom, reason = _from_the_community(d, referred_by_probation, sn_rough, sn_da)
    duty, start, end, end_reason = _duty(d, when, accom)
    household = (
        p.household
        if d.chance(0.85)
        else d.rng.choice(
            ("single adult", "couple", "single parent", "couple with children", "other")
        )
    )
    # Three needs are drawn inside the literal: taking them out would change the draw order.
    d.emit(
        "homelessness",
        i,
        when,
        {
            "application_date": when,
            "duty_type": duty,
            "duty_start": start,
            "duty_end": end,
            "duty_end_reason": end_reason,
            "reason_loss": reason,
            "accommodation_at_application": accom,
            "referral_agency": referral,
            "sn_drug": yn(sn_drug),
            "sn_alcohol": yn(sn_alcohol),
            "sn_offending": yn(d.chance(0.85) if p.offender else d.chance(0.02)),
            "sn_domestic_abuse": yn(sn_da),
            "sn_mental_health": yn(need(p.mental_health)),
            "sn_rough_sleeping": yn(sn_rough),
            "sn_care_leaver": yn(need(p.care_leaver)),
            "household_type": household,
        },
        council=p.address_at(when).council,
    )
    return Case(when, sn_drug or sn_alcohol, sn_da or reason == "domestic abuse")


def _leaving_custody(d: Draws) -> tuple[str, str, str]:
    """(referral agency, accommodation at application, reason for loss of home)."""
    referral = d.pick([("prison", 0.6), ("probation", 0.3), ("none", 0.1)])
    accom = (
        "custody"
        if d.chance(0.7)
        else d.pick(
            [("no fixed abode", 0.5), ("living with friends", 0.3), ("rough sleeping", 0.2)]
        )
    )
    reason = "departure from institution" if d.chance(0.75) else "other"
    return referral, accom, reason


def _from_the_community(
    d: Draws, referred_by_probation: bool, sn_rough: bool, sn_da: bool
) -> tuple[str, str, str]:
    """(referral agency, accommodation at application, reason for loss of home)."""
    referral = d.pick(
        [
            ("none", 0.7),
            ("prison", 0.005),
            ("probation", 0.25 if referred_by_probation else 0.02),
            ("hospital", 0.05),
            ("jobcentre", 0.07),
            ("social services", 0.08),
            ("other", 0.05),
        ]
    )
    accom = d.pick(
        [
            ("private rented", 0.26),
            ("social rented", 0.1),
            ("living with family", 0.25),
            ("living with friends", 0.14),
            ("no fixed abode", 0.08),
            ("rough sleeping", 0.15 if sn_rough else 0.02),
            ("custody", 0.005),
            ("hospital", 0.03),
            ("other", 0.05),
        ]
    )
    reason = d.pick(
        [
            ("end of private tenancy", 0.26),
            ("family or friends no longer willing", 0.27),
            ("domestic abuse", 0.6 if sn_da else 0.02),
            ("departure from institution", 0.03),
            ("relationship breakdown", 0.12),
            ("eviction from social housing", 0.06),
            ("other", 0.14),
        ]
    )
    return referral, accom, reason


def _duty(d: Draws, when: date, accom: str) -> tuple[str, date | None, date | None, str]:
    """(duty type, start, end, end reason); no end while the duty is still in force at END."""
    duty = d.pick(
        [
            ("prevention", 0.3 if accom in ("rough sleeping", "no fixed abode") else 0.47),
            ("relief", 0.38),
            ("main", 0.09),
            ("none", 0.06),
        ]
    )
    start: date | None = None
    end: date | None = None
    end_reason = ""
    if duty != "none":
        start = d.after(when, 0, 14)
        end = d.after(start, 21, 500 if duty == "main" else 250)
        if start > END:
            start, end = END, None
        elif end > END:
            end = None
        if end is not None:
            end_reason = d.pick(
                [
                    ("secured accommodation", 0.55),
                    ("lost contact", 0.18),
                    ("refused", 0.05),
                    ("withdrew", 0.12),
                    ("other", 0.1),
                ]
            )
    return duty, start, end, end_reason
