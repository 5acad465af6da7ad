"""The identifier block: every field that can identify a person.

These fields are read and standardised at the data provider, encoded there, and never
leave it in clear. The hub only ever receives their encodings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IdentifierField:
    """One identifier in the canonical block."""

    name: str
    description: str


IDENTIFIER_FIELDS: tuple[IdentifierField, ...] = (
    IdentifierField("forename", "First given name; may be an initial only (NDTMS)."),
    IdentifierField("surname", "Family name; may be an initial only (NDTMS)."),
    IdentifierField("other_names", "Middle names, previous or alternative surnames."),
    IdentifierField("dob", "Date of birth (ISO 8601 after standardisation)."),
    IdentifierField("sex", "M, F or U (unknown) after standardisation."),
    IdentifierField("postcode", "UK postcode of the address at the event, normalised 'AB1 2CD'."),
    IdentifierField("nhs_number", "Ten-digit NHS number with a valid check digit."),
    IdentifierField("ni_number", "National Insurance number, e.g. QQ123456C."),
    IdentifierField("pnc_id", "Police National Computer id (justice data only)."),
    IdentifierField("crn", "Probation case reference number (nDelius)."),
    IdentifierField("prison_number", "Prison number (justice data only)."),
)

IDENTIFIER_NAMES: tuple[str, ...] = tuple(f.name for f in IDENTIFIER_FIELDS)
