"""A hub with people of every role and packages ready to send, for the pages' tests:
in-process (TestClient) and through the real server (the browser tests)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from boldhub.council.encode import encode
from boldhub.hub.accounts import create_user
from boldhub.hub.store import open_hub
from tests.support.hubworld import COUNCIL_A, COUNCIL_B, PASSWORD, Packages, build_packages

# key -> (organisation, role, name)
PEOPLE = {
    "submitter": (COUNCIL_A, "submitter", "Sam Submitter"),
    "dpo": (COUNCIL_A, "dpo", "Dana Protection"),
    "analyst": (COUNCIL_A, "analyst", "Ann Analyst"),
    "operator": ("HUB", "linkage_operator", "Oli Operator"),
    "admin": ("HUB", "admin", "Ada Admin"),
    "checker1": ("HUB", "output_checker", "Otto Checker"),
    "checker2": ("HUB", "output_checker", "Olga Checker"),
    "central": ("MOJ-PROBATION", "submitter", "Cee Central"),
    "b_submitter": (COUNCIL_B, "submitter", "Bea Bristol"),
}


@dataclass(frozen=True)
class PagesWorld:
    home: Path
    packages: Packages
    short_period: Path  # council A's homelessness again, for a period inside the first


def email(key: str) -> str:
    return f"{key}@example.gov.uk"


def with_period(packages: Packages, source: str, period: str, name: str) -> Path:
    """``source``'s prepared data encoded again with another period: a second current
    submission of the same source, as a council that sends 2019-2020 beside 2019-2025."""
    dataset, org = source.split(":", 1)
    prepared = packages.root / name / "prepared"
    shutil.copytree(packages.root / f"{dataset}-{org}" / "prepared", prepared)
    meta = json.loads((prepared / "meta.json").read_text())
    meta["period"] = period
    (prepared / "meta.json").write_text(json.dumps(meta))
    out = packages.root / name / "package"
    encode(
        prepared,
        packages.key,
        out,
        agreement=packages.trust.agreement,
        signing_key=packages.trust.signing_keys[org],
    )
    return out


def make_world(root: Path, persons: int = 200) -> PagesWorld:
    packages = build_packages(root / "packages", persons=persons, seed=5)
    short = with_period(
        packages, f"homelessness:{COUNCIL_A}", "2019-01-10/2020-12-31", "short-period"
    )
    home = root / "hub"
    hub = open_hub(home, create=True)
    packages.register_agreement(hub)
    with hub.sessions() as s, s.begin():
        for key, (org, role, name) in PEOPLE.items():
            create_user(
                s,
                email=email(key),
                name=name,
                organisation=org,
                role=role,
                password=PASSWORD,
                actor="test",
            )
    hub.engine.dispose()
    return PagesWorld(home, packages, short)
