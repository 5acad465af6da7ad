"""Organisations that take part: councils by ONS GSS code, and central bodies.

Councils come from the register of English local authorities shipped beside this module
(``local_authorities.csv``; its source and date are in ``README.md`` there). Central bodies
are fixed here; the hub may register further bodies (central bodies, providers) in its own
database (``boldhub admin add-organisation``), which callers at the hub pass in as
``registered``. Display names live in the package or the hub, so stored data only holds
codes.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from boldhub.errors import SchemaError


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    kind: str  # "council", "central" or "provider" (and "hub" for the hub's own team)
    # For councils: the type of authority (unitary, metropolitan district, ...).
    type: str = ""


GSS_RE = re.compile(r"^E0[6-9]\d{6}$")
# Bodies other than councils have upper-case codes with at least one hyphen
# (MOJ-PROBATION), so that a mistyped GSS code is never taken for one.
BODY_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,15}(-[A-Z0-9]{1,15}){1,3}$")
REGISTER_FILE = "local_authorities.csv"


@cache
def local_authorities() -> Mapping[str, Organisation]:
    """The register of English local authorities, by GSS code."""
    text = resources.files("boldhub.schemas").joinpath(REGISTER_FILE).read_text("utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return {
        row["gss_code"]: Organisation(row["gss_code"], row["name"], "council", row["type"])
        for row in csv.DictReader(lines)
    }


# The councils the synthetic population is placed in (the first K of them), by code.
_SYNTH_COUNCILS = (
    "E08000025",  # Birmingham
    "E06000023",  # Bristol
    "E07000178",  # Oxford
    "E08000003",  # Manchester
    "E06000018",  # Nottingham
    "E08000021",  # Newcastle upon Tyne
    "E06000043",  # Brighton and Hove
    "E07000008",  # Cambridge
    "E06000010",  # Kingston upon Hull
    "E08000035",  # Leeds
)
COUNCILS: tuple[Organisation, ...] = tuple(local_authorities()[c] for c in _SYNTH_COUNCILS)

CENTRAL_BODIES: tuple[Organisation, ...] = (
    Organisation("MOJ-PROBATION", "HM Prison and Probation Service (nDelius)", "central"),
    Organisation("DHSC-NDTMS", "National Drug Treatment Monitoring System", "central"),
    Organisation("MOJ-VICTIMS", "Ministry of Justice victims' services", "central"),
)
_CENTRAL = {o.code: o for o in CENTRAL_BODIES}


def unknown_code_message(code: str) -> str:
    central = ", ".join(sorted(_CENTRAL))
    return (
        f"unknown organisation code {code!r}; use the ONS GSS code of an English local "
        "authority (E06, E07, E08 or E09 and six digits, e.g. E08000025 for Birmingham), "
        f"a central body ({central}), or a body the hub has registered with "
        "`boldhub admin add-organisation`"
    )


def get_organisation(
    code: str, registered: Mapping[str, Organisation] | None = None
) -> Organisation:
    """The organisation with ``code``: a local authority, a central body, or one of the
    bodies the hub has ``registered``."""
    found = local_authorities().get(code) or _CENTRAL.get(code)
    if found is None and registered is not None:
        found = registered.get(code)
    if found is None:
        raise SchemaError(unknown_code_message(code))
    return found


def check_party_code(code: str) -> str:
    """A code an agreement may name offline: a known organisation, or a well-formed code
    of a body only the hub knows (the hub checks those when it registers the agreement)."""
    if code in local_authorities() or code in _CENTRAL or BODY_CODE_RE.match(code):
        return code
    raise SchemaError(unknown_code_message(code))
