"""Drug and alcohol treatment episodes (NDTMS), and the few that end in death.

About 40% of persons are treated at some point. Treatment is more likely within six months
after a homelessness case with a drug or alcohol support need, after a probation drug or
alcohol requirement, and after release from custody.
"""

from __future__ import annotations

from datetime import date

from boldhub.synth.draws import Draws, yn
from boldhub.synth.homelessness import Case
from boldhub.synth.probation import Exit
from boldhub.synth.truth import END, START, Event, Person

_Referral = tuple[date, str, str]
"""(referral date, referral source, accommodation need)."""


def treatment(d: Draws, i: int, p: Person, exits: list[Exit], cases: list[Case]) -> None:
    """Person ``i``'s treatment episodes, emitted (only people with a dependency have any)."""
    episodes: list[_Referral] = []
    if p.drug or p.alcohol:
        episodes += _after_homelessness(d, cases)
        episodes += _after_probation(d, p, exits)
        # Most people with a dependency come to treatment at some point anyway, and some
        # come back after an earlier episode.
        chance = 0.75 if not episodes else 0.15
        while d.chance(chance):
            source = d.pick([("self", 0.45), ("GP", 0.25), ("hospital", 0.1), ("other", 0.2)])
            episodes.append((d.day_between(START, END), source, "no problem"))
            chance = 0.15
    for when, source, need in episodes:
        if when <= END:
            housing = need if need != "no problem" or d.chance(0.8) else "housing problem"
            _episode(d, i, p, when, source, housing)


def _after_homelessness(d: Draws, cases: list[Case]) -> list[_Referral]:
    referrals: list[_Referral] = []
    for applied, substance_need, _ in cases:
        # The hypothesis the outcome reports test: a homelessness case that records a
        # drug or alcohol need is often followed by treatment within six months.
        if substance_need and d.chance(0.4):
            when = d.after(applied, 7, 180)
            need = "urgent housing problem" if d.chance(0.5) else "housing problem"
            source = d.pick([("self", 0.45), ("GP", 0.2), ("hospital", 0.1), ("other", 0.25)])
            referrals.append((when, source, need))
    return referrals


def _after_probation(d: Draws, p: Person, exits: list[Exit]) -> list[_Referral]:
    referrals: list[_Referral] = []
    for when, kind in exits:
        if kind == "requirement" and d.chance(0.7):
            referrals.append((d.after(when, 0, 60), "probation", "no problem"))
        elif kind == "custody" and p.drug and d.chance(0.3):
            referrals.append((d.after(when, 0, 21), "prison", "housing problem"))
    return referrals


def _episode(d: Draws, i: int, p: Person, when: date, source: str, housing: str) -> None:
    substance = _substance(d, p)
    injecting = d.chance(0.45 if substance == "opiate" else 0.04)
    modality = _modality(d, substance)
    discharge: date | None = d.after(when, 30, 540)
    reason = ""
    if discharge is not None and discharge > END:
        discharge = None
    else:
        reason = d.pick(
            [("completed", 0.47), ("dropped out", 0.36), ("transferred", 0.1), ("prison", 0.07)]
        )
    d.emit(
        "treatment",
        i,
        when,
        {
            "referral_date": when,
            "referral_source": source,
            "substance": substance,
            "injecting": yn(injecting),
            "accommodation_need": housing,
            "modality": modality,
            "discharge_date": discharge,
            "discharge_reason": reason,
        },
    )


def _substance(d: Draws, p: Person) -> str:
    if p.drug and p.alcohol:
        return "alcohol and non-opiate" if d.chance(0.6) else "opiate"
    if p.drug:
        return "opiate" if d.chance(0.4) else "non-opiate"
    return "alcohol"


def _modality(d: Draws, substance: str) -> str:
    if substance == "opiate":
        return d.pick(
            [
                ("pharmacological", 0.75),
                ("psychosocial", 0.15),
                ("recovery support", 0.07),
                ("inpatient", 0.03),
            ]
        )
    return d.pick(
        [
            ("pharmacological", 0.1),
            ("psychosocial", 0.65),
            ("recovery support", 0.2),
            ("inpatient", 0.05),
        ]
    )


def deaths(d: Draws) -> None:
    """A few treatment episodes end in death, but only ones after which nothing happens."""
    last: dict[int, Event] = {}
    for e in d.events:
        when = e.when
        if e.dataset == "treatment" and isinstance(e.attrs["discharge_date"], date):
            when = e.attrs["discharge_date"]
        current = last.get(e.person)
        if current is None or when >= _last_date(current):
            last[e.person] = e
    for e in last.values():
        if e.dataset == "treatment" and e.attrs["discharge_reason"] and d.chance(0.04):
            e.attrs["discharge_reason"] = "died"


def _last_date(e: Event) -> date:
    discharge = e.attrs.get("discharge_date")
    return discharge if e.dataset == "treatment" and isinstance(discharge, date) else e.when
