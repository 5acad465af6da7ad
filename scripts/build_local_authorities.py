"""Rebuild src/boldhub/schemas/local_authorities.csv from mySociety's register.

Usage: python scripts/build_local_authorities.py PATH/TO/uk_local_authorities.csv COMMIT

PATH is data/uk_local_authorities.csv from github.com/mysociety/uk_local_authority_names_and_codes
at COMMIT. Keeps the current English local authorities whose GSS code is a local authority
district's (E06, E07, E08, E09), so that every code a council can submit under is here.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).parents[1] / "src/boldhub/schemas/local_authorities.csv"
PREFIXES = ("E06", "E07", "E08", "E09")


def main(source: Path, commit: str) -> None:
    with source.open(encoding="utf-8", newline="") as f:
        rows = [
            r
            for r in csv.DictReader(f)
            if r["nation"] == "England"
            and r["current-authority"] == "True"
            and r["gss-code"][:3] in PREFIXES
        ]
    rows.sort(key=lambda r: r["gss-code"])
    with OUT.open("w", encoding="utf-8", newline="") as out:
        out.write(
            "# English local authorities that hold a local authority district GSS code (E06 unitary,\n"
            "# E07 non-metropolitan district, E08 metropolitan district, E09 London borough and the\n"
            "# City of London): 296 rows. See README.md beside this file for the source and date.\n"
            f"# Built by scripts/build_local_authorities.py from mysociety/uk_local_authority_names_and_codes\n"
            f"# data/uk_local_authorities.csv at commit {commit}.\n"
        )
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["gss_code", "name", "area", "type"])
        for r in rows:
            writer.writerow(
                [r["gss-code"], r["official-name"], r["nice-name"], r["local-authority-type-name"]]
            )
    print(f"{len(rows)} local authorities -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
