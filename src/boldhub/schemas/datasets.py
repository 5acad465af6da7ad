"""The four canonical datasets, versioned.

Each dataset names the columns its body's export uses for every canonical field (the
built-in mapping profile), which columns are identifiers (encoded, never sent in clear)
and which are attributes (sent, stored apart from the encodings).

Two coarse attributes are derived from identifiers at the provider and sent with every
dataset's attributes (``DERIVED_ATTRIBUTES``): ``age_band`` (from the date of birth and the
event date) and ``sex`` (the standardised sex code as a category of ``SEX``; unknown or
missing is "Not known"). They serve aggregate breakdowns, such as the linkage quality
report's match rates; the identifiers themselves still travel only as keyed encodings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from boldhub.errors import SchemaError

SCHEMA_VERSION = "1.0"

AGE_BANDS: tuple[str, ...] = ("16-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")

ETHNICITY: tuple[str, ...] = (
    "White",
    "Mixed or multiple",
    "Asian or Asian British",
    "Black, Black British, Caribbean or African",
    "Other ethnic group",
    "Not known",
)

SEX: tuple[str, ...] = ("Female", "Male", "Not known")
"""The ``sex`` attribute's categories: the standardised code F or M, anything else unknown."""

_SEX_CATEGORY = {"F": "Female", "M": "Male"}

DERIVED_ATTRIBUTES: tuple[str, ...] = ("age_band", "sex")
"""Attributes every package carries after the dataset's own, derived from identifiers."""


def sex_category(code: str | None) -> str:
    """The ``sex`` attribute for a standardised sex code (M, F, U or missing)."""
    return _SEX_CATEGORY.get(code or "", "Not known")


@dataclass(frozen=True)
class AttributeField:
    """A non-identifying field that travels to the hub (apart from the encodings).

    kind: ``date`` (ISO 8601), ``category`` (one of ``values``), ``flag`` (Y/N) or ``text``.
    """

    name: str
    kind: str
    header: str
    description: str
    values: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Dataset:
    """One canonical dataset and the export layout its body produces."""

    name: str
    title: str
    version: str
    row_id_header: str
    identifier_headers: dict[str, str]
    attributes: tuple[AttributeField, ...]
    event_date: str
    initials_only: bool = False
    council_level: bool = False
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)

    @property
    def package_attribute_names(self) -> tuple[str, ...]:
        """The columns of a package's attributes file after ``record_key``, in order."""
        return (*self.attribute_names, *DERIVED_ATTRIBUTES)

    @property
    def export_headers(self) -> tuple[str, ...]:
        return (
            self.row_id_header,
            *tuple(self.identifier_headers.values()),
            *tuple(a.header for a in self.attributes),
        )

    def attribute(self, name: str) -> AttributeField:
        for a in self.attributes:
            if a.name == name:
                return a
        raise KeyError(name)


def _yn(name: str, header: str, description: str) -> AttributeField:
    return AttributeField(name, "flag", header, description, ("Y", "N"))


_ETHNICITY = AttributeField(
    "ethnicity", "category", "Ethnicity", "ONS 2021 high-level ethnic group.", ETHNICITY
)

HOMELESSNESS = Dataset(
    name="homelessness",
    title="Homelessness case (after H-CLIC)",
    version=SCHEMA_VERSION,
    row_id_header="CaseRef",
    identifier_headers={
        "forename": "Forename",
        "surname": "Surname",
        "other_names": "OtherNames",
        "dob": "DateOfBirth",
        "sex": "Sex",
        "postcode": "Postcode",
        "nhs_number": "NHSNumber",
        "ni_number": "NINumber",
    },
    attributes=(
        AttributeField(
            "application_date", "date", "AppDate", "Date of application.", required=True
        ),
        AttributeField(
            "duty_type",
            "category",
            "DutyOwed",
            "Duty owed at assessment.",
            ("prevention", "relief", "main", "none"),
            required=True,
        ),
        AttributeField("duty_start", "date", "DutyStart", "Start of the duty."),
        AttributeField("duty_end", "date", "DutyEnd", "End of the duty."),
        AttributeField(
            "duty_end_reason",
            "category",
            "DutyEndReason",
            "Why the duty ended.",
            ("secured accommodation", "lost contact", "refused", "withdrew", "other", ""),
        ),
        AttributeField(
            "reason_loss",
            "category",
            "ReasonLossSettledHome",
            "Main reason for loss of last settled home.",
            (
                "end of private tenancy",
                "family or friends no longer willing",
                "domestic abuse",
                "departure from institution",
                "relationship breakdown",
                "eviction from social housing",
                "other",
            ),
        ),
        AttributeField(
            "accommodation_at_application",
            "category",
            "AccomAtApp",
            "Accommodation at the time of application.",
            (
                "private rented",
                "social rented",
                "living with family",
                "living with friends",
                "no fixed abode",
                "rough sleeping",
                "custody",
                "hospital",
                "other",
            ),
        ),
        AttributeField(
            "referral_agency",
            "category",
            "ReferralAgency",
            "Public body that referred under the duty to refer.",
            ("none", "prison", "probation", "hospital", "jobcentre", "social services", "other"),
        ),
        _yn("sn_drug", "SN_DrugDependency", "Support need: drug dependency."),
        _yn("sn_alcohol", "SN_AlcoholDependency", "Support need: alcohol dependency."),
        _yn("sn_offending", "SN_OffendingHistory", "Support need: offending history."),
        _yn(
            "sn_domestic_abuse",
            "SN_DomesticAbuse",
            "Support need: at risk of/has experienced domestic abuse.",
        ),
        _yn(
            "sn_mental_health",
            "SN_MentalHealth",
            "Support need: history of mental health problems.",
        ),
        _yn("sn_rough_sleeping", "SN_RoughSleeping", "Support need: history of rough sleeping."),
        _yn("sn_care_leaver", "SN_CareLeaver", "Support need: care leaver."),
        AttributeField(
            "household_type",
            "category",
            "HouseholdType",
            "Household composition.",
            ("single adult", "couple", "single parent", "couple with children", "other"),
        ),
        _ETHNICITY,
    ),
    event_date="application_date",
    council_level=True,
    notes="One export per council; the council code comes from the submitting organisation.",
)

PROBATION = Dataset(
    name="probation",
    title="Probation episode (after nDelius)",
    version=SCHEMA_VERSION,
    row_id_header="EventID",
    identifier_headers={
        "forename": "FirstName",
        "surname": "LastName",
        "dob": "DOB",
        "sex": "Gender",
        "postcode": "Postcode",
        "pnc_id": "PNC",
        "crn": "CRN",
    },
    attributes=(
        AttributeField(
            "offence_category",
            "category",
            "OffenceCategory",
            "Principal offence group.",
            (
                "violence",
                "theft",
                "drug offences",
                "criminal damage",
                "public order",
                "burglary",
                "other",
            ),
        ),
        AttributeField("offence_date", "date", "OffenceDate", "Date of the principal offence."),
        AttributeField("sentence_date", "date", "SentenceDate", "Date of sentence."),
        AttributeField(
            "disposal",
            "category",
            "Disposal",
            "Sentence disposal.",
            ("custody", "suspended sentence", "community order"),
            required=True,
        ),
        _yn("req_drug_rehab", "ReqDrugRehab", "Requirement: drug rehabilitation."),
        _yn("req_alcohol_treatment", "ReqAlcoholTreatment", "Requirement: alcohol treatment."),
        AttributeField("start_date", "date", "StartDate", "Start of supervision.", required=True),
        AttributeField("termination_date", "date", "TerminationDate", "End of supervision."),
        AttributeField("release_date", "date", "ReleaseDate", "Release from custody, if any."),
        AttributeField(
            "accommodation_on_release",
            "category",
            "AccommodationOnRelease",
            "Accommodation on release or at start.",
            ("settled", "transient", "rough sleeping", "approved premises", "unknown", ""),
        ),
        _ETHNICITY,
    ),
    event_date="start_date",
)

TREATMENT = Dataset(
    name="treatment",
    title="Drug and alcohol treatment episode (after NDTMS)",
    version=SCHEMA_VERSION,
    row_id_header="EpisodeID",
    identifier_headers={
        "forename": "FirstInitial",
        "surname": "SurnameInitial",
        "dob": "DateBirth",
        "sex": "Sex",
        "postcode": "Postcode",
    },
    attributes=(
        AttributeField("referral_date", "date", "ReferralDate", "Date of referral.", required=True),
        AttributeField(
            "referral_source",
            "category",
            "ReferralSource",
            "Who referred.",
            ("self", "GP", "probation", "prison", "hospital", "other"),
        ),
        AttributeField(
            "substance",
            "category",
            "SubstanceGroup",
            "Substance group.",
            ("opiate", "non-opiate", "alcohol", "alcohol and non-opiate"),
            required=True,
        ),
        _yn("injecting", "Injecting", "Currently or previously injecting."),
        AttributeField(
            "accommodation_need",
            "category",
            "AccommodationNeed",
            "Housing situation at start of treatment.",
            ("no problem", "housing problem", "urgent housing problem"),
        ),
        AttributeField(
            "modality",
            "category",
            "Modality",
            "Main intervention.",
            ("pharmacological", "psychosocial", "recovery support", "inpatient"),
        ),
        AttributeField("discharge_date", "date", "DischargeDate", "Date of discharge."),
        AttributeField(
            "discharge_reason",
            "category",
            "DischargeReason",
            "Why the episode ended.",
            ("completed", "dropped out", "transferred", "prison", "died", ""),
        ),
        _ETHNICITY,
    ),
    event_date="referral_date",
    initials_only=True,
    notes="NDTMS holds initials, date of birth and sex rather than full names.",
)

VICTIMS = Dataset(
    name="victims",
    title="Victim referral",
    version=SCHEMA_VERSION,
    row_id_header="ReferralID",
    identifier_headers={
        "forename": "Forename",
        "surname": "Surname",
        "dob": "DOB",
        "sex": "Sex",
        "postcode": "Postcode",
    },
    attributes=(
        AttributeField("referral_date", "date", "ReferralDate", "Date of referral.", required=True),
        AttributeField(
            "referral_source",
            "category",
            "ReferralSource",
            "Who referred.",
            ("police", "self", "health", "council", "other"),
        ),
        AttributeField(
            "offence_category",
            "category",
            "OffenceCategory",
            "Offence the person is a victim of.",
            (
                "violence",
                "sexual offence",
                "theft",
                "burglary",
                "criminal damage",
                "fraud",
                "other",
            ),
        ),
        _yn("domestic_abuse", "DomesticAbuse", "Domestic abuse flag."),
        _yn("sexual_abuse", "SexualAbuse", "Sexual abuse flag."),
        _yn("consent", "Consent", "Consent to referral recorded."),
        _yn("safe_contact", "SafeContact", "Safe-contact flag: the address must never be exposed."),
        AttributeField(
            "service_type",
            "category",
            "ServiceType",
            "Service provided.",
            ("emotional support", "advocacy", "practical help", "counselling", "IDVA/ISVA"),
        ),
        AttributeField(
            "outcome",
            "category",
            "Outcome",
            "Outcome of the referral.",
            ("support completed", "declined", "unable to contact", "ongoing"),
        ),
        _ETHNICITY,
    ),
    event_date="referral_date",
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (HOMELESSNESS, PROBATION, TREATMENT, VICTIMS)}


def get_dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise SchemaError(f"unknown dataset {name!r}; use one of: {', '.join(DATASETS)}") from None
