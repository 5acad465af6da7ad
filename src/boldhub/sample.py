"""What you would get back: a sample release, from synthetic data, for a council that has
not joined yet, so that it can see the value before it signs anything.

The sample runs the whole pipeline of ``boldhub demo`` on a small synthetic population (the
same disclosure control, the same release files), then shows one synthetic council's
figures under the asking council's name, beside the synthetic national benchmark, and says
on every page that the figures are synthetic. No real data is read.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

from boldhub import clock
from boldhub.demo import Reporter, run_demo
from boldhub.errors import UserError
from boldhub.outcomes.catalogue import NATIONAL
from boldhub.outcomes.dashboard import ReleaseContext, render_release
from boldhub.outcomes.release import area_name
from boldhub.safecsv import write_csv
from boldhub.schemas import COUNCILS
from boldhub.schemas.organisations import local_authorities

SAMPLE_PERSONS = 3_000
SAMPLE_SEED = 42
# The synthetic council whose figures the sample shows: the first of the synthetic
# population's councils, and the one with the most people (so the fewest [c]).
SOURCE_COUNCIL = COUNCILS[0].code
BASE_FILES = ("national.csv", "national-measures.csv")
_CENTRAL_SOURCES = (
    ("MOJ-PROBATION", "probation"),
    ("DHSC-NDTMS", "treatment"),
    ("MOJ-VICTIMS", "victims"),
)


def check_council(code: str) -> str:
    """The council's name, or a clear error naming what to give."""
    found = local_authorities().get(code.strip().upper())
    if found is None:
        raise UserError(
            f"{code!r} is not an English local authority's GSS code (such as E08000025); "
            "`boldhub agreement catalogue` and the hub's /get-back page list them"
        )
    return found.name


def build_base(folder: Path, *, persons: int = SAMPLE_PERSONS, seed: int = SAMPLE_SEED) -> Path:
    """Run the demo's pipeline on a small synthetic population and keep its approved
    release's files: the base every council's sample is drawn from. Returns the folder
    that holds the release files."""
    with tempfile.TemporaryDirectory(prefix="boldhub-sample-") as tmp:
        run_demo(Path(tmp) / "demo", seed=seed, persons=persons, councils=3, reporter=Reporter())
        folder.mkdir(parents=True, exist_ok=True)
        reports = Path(tmp) / "demo" / "reports"
        for name in (*BASE_FILES, f"{SOURCE_COUNCIL}.csv", f"{SOURCE_COUNCIL}-measures.csv"):
            shutil.copy2(reports / name, folder / name)
    return folder


def sample_for(base: Path, council: str, out: Path) -> list[Path]:
    """The sample release for ``council`` in ``out``: its dashboard, the national one and
    their CSV files, all marked as synthetic."""
    name = check_council(council)
    code = council.strip().upper()
    out.mkdir(parents=True, exist_ok=True)
    for f in BASE_FILES:
        shutil.copy2(base / f, out / f)
    for suffix in ("", "-measures"):
        with (base / f"{SOURCE_COUNCIL}{suffix}.csv").open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = [[code if i == 0 else v for i, v in enumerate(row)] for row in reader]
        write_csv(out / f"{code}{suffix}.csv", tuple(header), rows)
    context = ReleaseContext(
        run_id="sample",
        generated=clock.now().strftime("%-d %B %Y"),
        agreement_id=None,
        agreement_version=None,
        agreement_title=None,
        shared=(
            (code, f"{name} (synthetic)", "homelessness"),
            *((org, f"{area_name(org)} (synthetic)", dataset) for org, dataset in _CENTRAL_SOURCES),
        ),
        sample=True,
    )
    return [
        *render_release(out, out, context, {code: name, NATIONAL: area_name(NATIONAL)}),
        *sorted(out.glob("*.csv")),
    ]


def build_sample(
    out: Path, council: str, *, persons: int = SAMPLE_PERSONS, seed: int = SAMPLE_SEED
) -> list[Path]:
    """Everything at once: the synthetic run, then the council's sample in ``out``."""
    check_council(council)
    if out.exists() and any(out.iterdir()):
        raise UserError(f"--out {out} already exists and is not empty; choose a new folder")
    with tempfile.TemporaryDirectory(prefix="boldhub-sample-base-") as tmp:
        base = build_base(Path(tmp) / "base", persons=persons, seed=seed)
        return sample_for(base, council, out)
