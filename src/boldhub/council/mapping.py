"""Column mapping: which column of an export holds which canonical field.

Each case management system names its columns its own way ("Forename", "First name",
"GIVEN_NAME"). A mapping says, for every canonical field of a dataset, which header holds
it (or that the export has no such column). :func:`suggest` proposes one from the headers,
by synonyms and fuzzy matching; the data officer confirms or changes it and saves it as a
named *profile*, so next quarter's export from the same system needs no questions.

Profiles are small JSON files::

    {"format": "boldhub-mapping-profile", "version": 1, "name": "civica-quarterly",
     "dataset": "homelessness",
     "columns": {"source_row_id": "Case Ref", "forename": "First name", ...},
     "options": {"delimiter": null, "encoding": null, "sheet": null, "date_order": "auto"},
     "saved_at": "2026-04-01T09:00:00+00:00"}

Each dataset's *built-in* profile maps its fields to the headers of the body's own export
layout (``Dataset.export_headers``), matched without regard to case; it needs no file.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boldhub import clock
from boldhub.errors import SchemaError, UserError
from boldhub.schemas import Dataset, get_dataset
from boldhub.schemas.identifiers import IDENTIFIER_FIELDS

PROFILE_FORMAT = "boldhub-mapping-profile"
PROFILE_VERSION = 1
ROW_ID = "source_row_id"
BUILTIN = "built-in"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")
DATE_ORDERS = ("auto", "dmy", "mdy")

# Identifier fields every dataset can map beyond its own layout.
EXTRA_IDENTIFIERS: dict[str, str] = {"uprn": "Unique Property Reference Number (UPRN)."}
# Without these a row cannot be linked at all: a profile must map them.
REQUIRED_IDENTIFIERS = ("forename", "surname", "dob")

_LABELS: dict[str, str] = {
    ROW_ID: "Row id (case or record reference)",
    "forename": "Forename",
    "surname": "Surname",
    "other_names": "Other names",
    "dob": "Date of birth",
    "sex": "Sex",
    "postcode": "Postcode",
    "nhs_number": "NHS number",
    "ni_number": "National Insurance number",
    "pnc_id": "PNC id",
    "crn": "Case reference number (CRN)",
    "prison_number": "Prison number",
    "uprn": "UPRN",
}

# Normalised (lower case, letters and digits only) header names that mean each field.
SYNONYMS: dict[str, tuple[str, ...]] = {
    ROW_ID: (
        "caseref", "caseid", "casereference", "casenumber", "caseno", "reference", "ref",
        "recordid", "recordref", "id", "uniqueid", "applicationid", "applicationref",
        "eventid", "episodeid", "referralid", "referralref",
    ),
    "forename": (
        "forename", "forenames", "firstname", "givenname", "givennames", "christianname",
        "fname", "first", "firstinitial", "forenameinitial", "clientforename",
        "applicantforename", "personforename",
    ),
    "surname": (
        "surname", "lastname", "familyname", "lname", "sname", "last", "surnameinitial",
        "lastnameinitial", "clientsurname", "applicantsurname", "personsurname",
    ),
    "other_names": (
        "othernames", "othername", "middlename", "middlenames", "secondname", "alias",
        "aliases", "aka", "previousname", "previousnames", "previoussurname", "maidenname",
        "formername", "formernames",
    ),
    "dob": (
        "dateofbirth", "dob", "birthdate", "datebirth", "birthdt", "dobdate", "born",
        "clientdob", "applicantdob", "persondob",
    ),
    "sex": ("sex", "gender", "sexcode", "gendercode", "legalsex", "genderidentity"),
    "postcode": (
        "postcode", "postalcode", "pcode", "postcodeofaddress", "addresspostcode",
        "currentpostcode", "homepostcode", "zip", "zipcode",
    ),
    "nhs_number": ("nhsnumber", "nhsno", "nhs", "nhsnum", "nhsid"),
    "ni_number": (
        "ninumber", "nino", "ni", "nationalinsurancenumber", "nationalinsuranceno",
        "nationalinsurance", "nin",
    ),
    "pnc_id": ("pnc", "pncid", "pncnumber", "pncno", "policenationalcomputerid"),
    "crn": ("crn", "deliuscrn", "ndeliuscrn", "offendercrn", "probationcrn"),
    "prison_number": ("prisonnumber", "prisonno", "nomsnumber", "nomsno", "bookingnumber"),
    "uprn": ("uprn", "uniquepropertyreferencenumber", "propertyuprn", "addressuprn"),
}  # fmt: skip

_ATTRIBUTE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "application_date": ("appdate", "applicationdate", "dateofapplication", "applied"),
    "duty_type": ("dutyowed", "duty", "dutytype", "dutyowedatassessment"),
    "referral_date": ("referraldate", "dateofreferral", "referred", "referreddate"),
    "start_date": ("startdate", "supervisionstart", "datestarted", "commencementdate"),
    "ethnicity": ("ethnicity", "ethnicgroup", "ethnicorigin", "ethnicitycode"),
}


@dataclass(frozen=True)
class CanonicalField:
    """One field a mapping can fill: the row id, an identifier or an attribute."""

    name: str
    label: str
    kind: str  # "row_id", "identifier" or "attribute"
    required: bool
    layout_header: str | None  # the header in the body's own export layout
    synonyms: tuple[str, ...]
    description: str = ""


def normalise(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def canonical_fields(dataset: Dataset) -> list[CanonicalField]:
    """Every field of a dataset, in the order the mapping page shows them."""
    out = [
        CanonicalField(
            ROW_ID,
            _LABELS[ROW_ID],
            "row_id",
            True,
            dataset.row_id_header,
            (normalise(dataset.row_id_header), *SYNONYMS[ROW_ID]),
            "Each row's own reference in your system; it stays on your machine.",
        )
    ]
    descriptions = {f.name: f.description for f in IDENTIFIER_FIELDS}
    for name, header in dataset.identifier_headers.items():
        out.append(
            CanonicalField(
                name,
                _LABELS.get(name, name),
                "identifier",
                name in REQUIRED_IDENTIFIERS,
                header,
                (normalise(header), *SYNONYMS.get(name, ())),
                descriptions.get(name, ""),
            )
        )
    for name, description in EXTRA_IDENTIFIERS.items():
        if name not in dataset.identifier_headers:
            out.append(
                CanonicalField(
                    name, _LABELS[name], "identifier", False, None, SYNONYMS[name], description
                )
            )
    for attr in dataset.attributes:
        words = normalise(attr.description.rstrip("."))
        out.append(
            CanonicalField(
                attr.name,
                attr.description.rstrip("."),
                "attribute",
                attr.required,
                attr.header,
                (
                    normalise(attr.header),
                    normalise(attr.name),
                    words,
                    *_ATTRIBUTE_SYNONYMS.get(attr.name, ()),
                ),
                attr.description,
            )
        )
    return out


@dataclass
class Mapping:
    """Canonical field name -> header in the export (absent: the export has no such column)."""

    dataset: str
    columns: dict[str, str]
    name: str = "custom"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def date_order(self) -> str:
        value = str(self.options.get("date_order") or "auto")
        return value if value in DATE_ORDERS else "auto"

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "name": self.name,
            "dataset": self.dataset,
            "columns": dict(self.columns),
            "options": {
                "delimiter": self.options.get("delimiter"),
                "encoding": self.options.get("encoding"),
                "sheet": self.options.get("sheet"),
                "date_order": self.date_order,
            },
            "saved_at": clock.now().isoformat(),
        }


def builtin_mapping(dataset: Dataset) -> Mapping:
    return Mapping(
        dataset.name,
        {f.name: f.layout_header for f in canonical_fields(dataset) if f.layout_header},
        BUILTIN,
    )


@dataclass(frozen=True)
class Suggestion:
    field: str
    header: str
    score: float  # 1.0: a known name for the field; below: a fuzzy match


def _score(f: CanonicalField, header: str) -> float:
    h = normalise(header)
    if not h:
        return 0.0
    if h in f.synonyms:
        return 1.0
    best = max(difflib.SequenceMatcher(None, h, s).ratio() for s in f.synonyms if s)
    # "clientdateofbirth", "dob_ddmmyyyy": a header that contains a distinctive name.
    if any(len(s) >= 5 and (s in h or h in s) for s in f.synonyms):
        best = max(best, 0.9)
    return best


def suggest(dataset: Dataset, header: Sequence[str], threshold: float = 0.78) -> list[Suggestion]:
    """The best one-to-one matching of fields to headers, strongest matches first."""
    fields = canonical_fields(dataset)
    pairs = sorted(
        (
            (_score(f, h), -fi, -hi, f.name, h)
            for fi, f in enumerate(fields)
            for hi, h in enumerate(header)
        ),
        reverse=True,
    )
    taken_fields: set[str] = set()
    taken_headers: set[str] = set()
    out: list[Suggestion] = []
    for score, _fi, _hi, name, h in pairs:
        if score < threshold:
            break
        if name in taken_fields or h in taken_headers:
            continue
        taken_fields.add(name)
        taken_headers.add(h)
        out.append(Suggestion(name, h, round(score, 3)))
    return out


def suggested_mapping(dataset: Dataset, header: Sequence[str]) -> Mapping:
    return Mapping(
        dataset.name, {s.field: s.header for s in suggest(dataset, header)}, name="suggested"
    )


@dataclass(frozen=True)
class ResolvedMapping:
    """A mapping checked against one export: canonical field -> column index."""

    mapping: Mapping
    indices: dict[str, int]
    unmapped: tuple[str, ...]  # optional fields the export does not have


def problems(dataset: Dataset, mapping: Mapping, header: Sequence[str]) -> list[tuple[str, str]]:
    """(field, plain-English problem) for every way the mapping does not fit the export."""
    fields = {f.name: f for f in canonical_fields(dataset)}
    lower = {h.lower(): h for h in header}
    out: list[tuple[str, str]] = []
    used: dict[str, str] = {}
    for name, h in mapping.columns.items():
        if name not in fields:
            out.append((name, f"'{name}' is not a field of the {dataset.name} dataset"))
            continue
        if h.lower() not in lower:
            out.append((name, f"{fields[name].label}: the export has no column '{h}'"))
            continue
        actual = lower[h.lower()]
        if actual in used:
            other = fields[used[actual]].label
            out.append(
                (name, f"{fields[name].label}: column '{actual}' is already used for {other}")
            )
        used[actual] = name
    for f in fields.values():
        if f.required and not mapping.columns.get(f.name):
            out.append((f.name, f"{f.label} is required: choose the column that holds it"))
    return out


def resolve(
    dataset: Dataset, mapping: Mapping, header: Sequence[str], file: Path
) -> ResolvedMapping:
    """Check a mapping against an export's header; unmapped required fields are an error."""
    if mapping.name == BUILTIN:
        # The body's own layout: optional columns may be absent, required ones may not.
        lower = {h.lower() for h in header}
        fields = canonical_fields(dataset)
        present = {n: h for n, h in mapping.columns.items() if h.lower() in lower}
        missing = [
            f.layout_header
            for f in fields
            if f.required and f.layout_header and f.name not in present
        ]
        if missing:
            shown = ", ".join(m for m in missing[:4] if m) + (", ..." if len(missing) > 4 else "")
            raise SchemaError(
                f"{file}: {len(missing)} required columns of a {dataset.name} export are missing "
                f"({shown}); check --dataset, or map your columns with "
                f"`boldhub mapping suggest {file.name} --dataset {dataset.name} --save NAME`"
            )
        mapping = Mapping(dataset.name, present, BUILTIN, mapping.options)
    found = problems(dataset, mapping, header)
    if found:
        first = found[0][1]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise SchemaError(
            f"{file}: mapping profile '{mapping.name}' does not fit this export: {first}{more}; "
            "fix the profile, or map the columns again in `boldhub council`"
        )
    index = {h.lower(): i for i, h in reversed(list(enumerate(header)))}
    indices = {name: index[h.lower()] for name, h in mapping.columns.items()}
    unmapped = tuple(f.name for f in canonical_fields(dataset) if f.name not in indices)
    return ResolvedMapping(mapping, indices, unmapped)


# -- profiles -------------------------------------------------------------------------------


def check_profile_name(name: str) -> str:
    name = name.strip()
    if not _PROFILE_NAME.match(name) or name == BUILTIN:
        raise UserError(
            f"'{name}' cannot name a mapping profile; use up to 64 letters, digits, spaces, "
            "dots, dashes or underscores"
        )
    return name


def profile_path(profiles_dir: Path, name: str) -> Path:
    return profiles_dir / f"{check_profile_name(name)}.json"


def save_profile(profiles_dir: Path, mapping: Mapping, *, overwrite: bool = True) -> Path:
    path = profile_path(profiles_dir, mapping.name)
    if path.exists() and not overwrite:
        raise UserError(
            f"a mapping profile named '{mapping.name}' already exists; choose another name"
        )
    profiles_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(mapping.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def list_profiles(profiles_dir: Path, dataset: str | None = None) -> list[Mapping]:
    out: list[Mapping] = []
    if not profiles_dir.is_dir():
        return out
    for path in sorted(profiles_dir.glob("*.json")):
        try:
            mapping = _parse_profile(path)
        except UserError:
            continue
        if dataset is None or mapping.dataset == dataset:
            out.append(mapping)
    return out


def load_profile(spec: str | Path, profiles_dir: Path) -> Mapping:
    """A profile by name (in ``profiles_dir``) or by path to its JSON file."""
    text = str(spec)
    candidate = Path(text)
    if text.endswith(".json") or "/" in text or candidate.is_file():
        if not candidate.is_file():
            raise UserError(f"mapping profile {candidate} not found; check the path")
        return _parse_profile(candidate)
    path = profile_path(profiles_dir, text)
    if not path.is_file():
        names = [m.name for m in list_profiles(profiles_dir)]
        known = f"saved profiles: {', '.join(names)}" if names else "no profiles are saved there"
        raise UserError(
            f"mapping profile '{text}' not found in {profiles_dir} ({known}); give its name or path"
        )
    return _parse_profile(path)


def _parse_profile(path: Path) -> Mapping:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise UserError(f"mapping profile {path} is not valid JSON; save it again") from None
    if not isinstance(data, dict) or data.get("format") != PROFILE_FORMAT:
        raise UserError(f"{path} is not a BOLD Hub mapping profile; save the mapping again")
    columns = data.get("columns")
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str | None) for k, v in columns.items()
    ):
        raise UserError(f"mapping profile {path} has no valid 'columns'; save the mapping again")
    dataset = get_dataset(str(data.get("dataset")))
    options = data.get("options") if isinstance(data.get("options"), dict) else {}
    for name in ("delimiter", "encoding", "sheet"):
        # These reach the readers as given: a number there would fail as a bug, not a message.
        if not isinstance((options or {}).get(name), str | None):
            raise UserError(
                f"mapping profile {path}: options.{name} must be text; save the mapping again"
            )
    return Mapping(
        dataset.name,
        {k: v for k, v in columns.items() if v},
        str(data.get("name") or path.stem),
        dict(options or {}),
    )
