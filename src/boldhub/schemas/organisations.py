"""Organisations that take part: councils by ONS GSS code, and central bodies.

Display names live here, in the package, so that the hub's storage only holds codes.
"""

from __future__ import annotations

from dataclasses import dataclass

from boldhub.errors import SchemaError


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    kind: str  # "council" or "central"


# A handful of real English councils (GSS codes from the ONS register); the synthetic
# population is placed in the first K of them.
COUNCILS: tuple[Organisation, ...] = (
    Organisation("E08000025", "Birmingham City Council", "council"),
    Organisation("E06000023", "Bristol City Council", "council"),
    Organisation("E07000178", "Oxford City Council", "council"),
    Organisation("E08000003", "Manchester City Council", "council"),
    Organisation("E06000018", "Nottingham City Council", "council"),
    Organisation("E08000021", "Newcastle upon Tyne City Council", "council"),
    Organisation("E06000043", "Brighton and Hove City Council", "council"),
    Organisation("E07000008", "Cambridge City Council", "council"),
    Organisation("E06000010", "Hull City Council", "council"),
    Organisation("E08000035", "Leeds City Council", "council"),
)

CENTRAL_BODIES: tuple[Organisation, ...] = (
    Organisation("MOJ-PROBATION", "HM Prison and Probation Service (nDelius)", "central"),
    Organisation("DHSC-NDTMS", "National Drug Treatment Monitoring System", "central"),
    Organisation("MOJ-VICTIMS", "Ministry of Justice victims' services", "central"),
)

_BY_CODE = {o.code: o for o in COUNCILS + CENTRAL_BODIES}


def get_organisation(code: str) -> Organisation:
    try:
        return _BY_CODE[code]
    except KeyError:
        known = ", ".join(sorted(_BY_CODE))
        raise SchemaError(f"unknown organisation code {code!r}; use one of: {known}") from None
