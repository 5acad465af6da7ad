"""The indicators of the tidy release files, declared once as data.

Each :class:`Indicator` says whose people it counts (a :class:`Cohort`: a dataset's people,
indexed at one event), what it looks for around each person's index date (an
:class:`Outcome`: another event inside a window of days, or the number of days to the
nearest one, a magnitude), how it is broken down, what it means in plain English, why it
matters, and which parties' areas receive it. :mod:`boldhub.outcomes.tidy` computes,
protects and writes them; nothing here touches data.

Areas ("recipients"): ``COUNCILS`` is every council that sent homelessness data (each gets
its own residents' cohort), ``NATIONAL`` everyone across them, and an organisation's code
(``MOJ-PROBATION``) the people in that organisation's own submission of the cohort dataset.
"""

from __future__ import annotations

from dataclasses import dataclass

from boldhub.schemas.datasets import AGE_BANDS, ETHNICITY

COUNCILS = "councils"
NATIONAL = "national"
UNKNOWN = "Unknown"
ALL = "All"

# Event kinds per dataset: the SQL (over one submission's attributes) of the event's first
# and last date. A custody sentence starts before the person is back in the community, so
# the probation cohort's "release or start" is the release for custody and the start
# otherwise; a custody episode without a release yet has no such event.
EVENT_KINDS: dict[str, dict[str, tuple[str, str]]] = {
    "homelessness": {"application": ("application_date", "NULL")},
    "probation": {
        "supervision": ("start_date", "termination_date"),
        "release": ("release_date", "NULL"),
        "release_or_start": (
            "CASE WHEN disposal = 'custody' THEN release_date ELSE start_date END",
            "NULL",
        ),
    },
    "treatment": {"referral": ("referral_date", "discharge_date")},
    "victims": {"referral": ("referral_date", "NULL")},
}


@dataclass(frozen=True)
class Breakdown:
    """A per-person attribute (taken from the cohort record at the index event) and its
    categories; anything else, missing or "Not known" included, is ``Unknown``, so the
    categories always add up to the total."""

    id: str
    attribute: str
    categories: tuple[str, ...]

    @property
    def all_categories(self) -> tuple[str, ...]:
        return (*self.categories, UNKNOWN)

    def category(self, value: str | None) -> str:
        return value if value in self.categories else UNKNOWN


BREAKDOWNS: dict[str, Breakdown] = {
    b.id: b
    for b in (
        Breakdown("age_band", "age_band", AGE_BANDS),
        Breakdown("sex", "sex", ("Female", "Male")),
        Breakdown("ethnicity", "ethnicity", tuple(e for e in ETHNICITY if e != "Not known")),
        Breakdown(
            "accommodation_on_release",
            "accommodation_on_release",
            ("settled", "transient", "rough sleeping", "approved premises"),
        ),
    )
}
PERSON_BREAKDOWNS = ("age_band", "sex", "ethnicity")
# The overlaps table's one breakdown: which datasets a person appears in.
COMBINATION = "combination"


@dataclass(frozen=True)
class Cohort:
    """The people of ``dataset``, each indexed at their first ``event`` (per area)."""

    id: str
    dataset: str
    event: str
    description: str


@dataclass(frozen=True)
class Outcome:
    """What is looked for around a cohort member's index date.

    ``window`` is in days relative to the index date, both ends included (``(1, 365)``:
    the next day to a year after). A ``spell`` (supervision, treatment) counts when any
    part of it, from its start to its end or still open, falls inside the window; other
    events count when their date does. ``flag`` names a Y/N attribute the event must have
    as Y. ``place`` compares the event's organisation with the index record's: ``same`` or
    ``other`` council (``any``: either). A ``magnitude`` measures the days from the latest
    such event to the index date instead of counting who has one.
    """

    dataset: str
    event: str
    window: tuple[int, int]
    spell: bool = False
    flag: str | None = None
    place: str = "any"
    magnitude: bool = False


@dataclass(frozen=True)
class Indicator:
    """One indicator of the tidy release. ``cohort`` and ``outcome`` are None only for the
    dataset overlaps, which count every linked person by the datasets they appear in."""

    id: str
    title: str
    explanation: str
    why: str
    cohort: Cohort | None
    outcome: Outcome | None
    breakdowns: tuple[str, ...]
    recipients: tuple[str, ...]

    @property
    def kind(self) -> str:
        """``rate`` (people with the outcome out of the cohort), ``measure`` or ``overlaps``."""
        if self.outcome is None:
            return "overlaps"
        return "measure" if self.outcome.magnitude else "rate"

    @property
    def datasets(self) -> frozenset[str]:
        """The datasets the run must hold for the indicator to be released: a zero without
        one of them would claim data nobody sent."""
        found = set()
        if self.cohort is not None:
            found.add(self.cohort.dataset)
        if self.outcome is not None:
            found.add(self.outcome.dataset)
        return frozenset(found)


HOMELESS = Cohort(
    "homeless",
    "homelessness",
    "application",
    "People who applied to the council as homeless, from their first application there "
    "(nationally: their first application at any participating council).",
)
PROBATION = Cohort(
    "probation",
    "probation",
    "release_or_start",
    "People supervised by probation, from their first release from custody or, for a "
    "community sentence, its start.",
)
TREATMENT = Cohort(
    "treatment", "treatment", "referral", "People referred to drug or alcohol treatment."
)
VICTIMS = Cohort("victims", "victims", "referral", "People referred to victims' services.")

_HOMELESS_AREAS = (COUNCILS, NATIONAL)
_DAYS_12M = 365


def _homeless(id: str, title: str, explanation: str, why: str, outcome: Outcome) -> Indicator:
    return Indicator(
        id, title, explanation, why, HOMELESS, outcome, PERSON_BREAKDOWNS, _HOMELESS_AREAS
    )


INDICATORS: tuple[Indicator, ...] = (
    _homeless(
        "homeless_probation_before",
        "Under probation supervision in the 12 months before applying",
        "People whose probation supervision was active at any time in the 12 months before "
        "their first homelessness application.",
        "Shows how many applicants the probation service already knew, and so where joint "
        "work on accommodation before or at release could prevent homelessness.",
        Outcome("probation", "supervision", (-_DAYS_12M, -1), spell=True),
    ),
    _homeless(
        "homeless_release_before",
        "Released from custody in the 3 months before applying",
        "People released from prison in the 91 days before (or on the day of) their first "
        "homelessness application.",
        "Prison leavers who become homeless soon after release are the people the duty to "
        "refer is meant to reach in time.",
        Outcome("probation", "release", (-91, 0)),
    ),
    _homeless(
        "homeless_treatment_after",
        "Entered drug or alcohol treatment within 6 months after applying",
        "People referred to drug or alcohol treatment in the 182 days from their first "
        "homelessness application.",
        "Treatment is far harder to sustain without a home; this shows how often the two "
        "services meet the same people, and when.",
        Outcome("treatment", "referral", (0, 182)),
    ),
    _homeless(
        "homeless_victim_around",
        "Referred to victims' services within 12 months before or after applying",
        "People with a victims' service referral in the 365 days either side of their first "
        "homelessness application.",
        "Victimisation and homelessness feed each other; housing officers and victims' "
        "services can plan support together when they know how often they overlap.",
        Outcome("victims", "referral", (-_DAYS_12M, _DAYS_12M)),
    ),
    _homeless(
        "homeless_victim_da_around",
        "Referred to victims' services for domestic abuse within 12 months either side",
        "People with a victims' service referral flagged as domestic abuse in the 365 days "
        "either side of their first homelessness application.",
        "Domestic abuse is a leading cause of homelessness and brings its own duties; this "
        "counts the applicants a specialist service also supported.",
        Outcome("victims", "referral", (-_DAYS_12M, _DAYS_12M), flag="domestic_abuse"),
    ),
    _homeless(
        "homeless_repeat_same",
        "Applied as homeless again at the same council within 12 months",
        "People with another homelessness application at the same council in the 365 days "
        "after their first one (nationally: at the council of their first application).",
        "A repeat application means the first response did not last; councils see these in "
        "their own records too, which makes this a check on the linkage as well.",
        Outcome("homelessness", "application", (1, _DAYS_12M), place="same"),
    ),
    _homeless(
        "homeless_repeat_other",
        "Applied as homeless again at a different council within 12 months",
        "People with a homelessness application at another participating council in the 365 "
        "days after their first one at this council.",
        "Only linkage across councils can see people who move on and apply elsewhere: no "
        "council's own records show it.",
        Outcome("homelessness", "application", (1, _DAYS_12M), place="other"),
    ),
    _homeless(
        "homeless_days_from_release",
        "Days from release from custody to applying as homeless",
        "For people released from prison in the 365 days before their first homelessness "
        "application, the days from their latest release to the application: the median "
        "and the quartiles.",
        "How soon prison leavers reach the council shows how much time there is to act, and "
        "whether accommodation arranged on release holds.",
        Outcome("probation", "release", (-_DAYS_12M, 0), magnitude=True),
    ),
    Indicator(
        "probation_homeless_after",
        "Applied as homeless within 12 months of release or the start of supervision",
        "People supervised by probation with a homelessness application at any participating "
        "council from 56 days before their first release (or community sentence start) to "
        "365 days after it; broken down also by accommodation on release.",
        "Settled accommodation reduces reoffending; this shows how often supervision ends "
        "in a homelessness application, and for which accommodation on release. The 56 "
        "days before release are when prisons refer under the duty to refer.",
        PROBATION,
        Outcome("homelessness", "application", (-56, _DAYS_12M)),
        (*PERSON_BREAKDOWNS, "accommodation_on_release"),
        ("MOJ-PROBATION",),
    ),
    Indicator(
        "treatment_homeless_around",
        "Applied as homeless within 12 months before or after a treatment referral",
        "People referred to drug or alcohol treatment with a homelessness application in the "
        "365 days either side of their first referral.",
        "Housing problems are among the strongest predictors of dropping out of treatment; "
        "this shows how many in treatment also needed a council's help with housing.",
        TREATMENT,
        Outcome("homelessness", "application", (-_DAYS_12M, _DAYS_12M)),
        PERSON_BREAKDOWNS,
        ("DHSC-NDTMS",),
    ),
    Indicator(
        "treatment_probation_around",
        "Under probation supervision within 12 months before or after a treatment referral",
        "People referred to drug or alcohol treatment whose probation supervision was active "
        "at any time in the 365 days either side of their first referral.",
        "Treatment and probation share many of the same people; knowing how many helps "
        "commission joint pathways such as treatment requirements.",
        TREATMENT,
        Outcome("probation", "supervision", (-_DAYS_12M, _DAYS_12M), spell=True),
        PERSON_BREAKDOWNS,
        ("DHSC-NDTMS",),
    ),
    Indicator(
        "victims_homeless_after",
        "Applied as homeless within 12 months after a victims' service referral",
        "People referred to victims' services with a homelessness application at any "
        "participating council in the 365 days from their first referral.",
        "Losing a home often follows victimisation, domestic abuse above all; this shows "
        "how often victims' services could have flagged a housing need early.",
        VICTIMS,
        Outcome("homelessness", "application", (0, _DAYS_12M)),
        PERSON_BREAKDOWNS,
        ("MOJ-VICTIMS",),
    ),
    Indicator(
        "dataset_overlaps",
        "People in each combination of the datasets",
        "Every linked person counted once, under the combination of datasets they appear in "
        "(for example homelessness and probation but neither of the others).",
        "The overlaps are the reason for linking at all: they show how many people several "
        "services hold in common, and which combinations are most common (an UpSet chart).",
        None,
        None,
        (COMBINATION,),
        (NATIONAL,),
    ),
)


def get_indicator(indicator_id: str) -> Indicator:
    for ind in INDICATORS:
        if ind.id == indicator_id:
            return ind
    raise KeyError(indicator_id)
