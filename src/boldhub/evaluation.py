"""`boldhub evaluate`: linkage quality on an operator's own labelled sample.

A CSV of identifiers with a column holding the true person id goes through BOLD Hub's
whole path (standardise, encode under a throwaway key, link on encodings) and through
clear-text Splink on the same standardised values. Each gives a person per row; both are
scored pairwise against the truth.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on

from boldhub import clock
from boldhub.council import standardise
from boldhub.errors import UserError
from boldhub.linkage.backends import open_backend
from boldhub.linkage.evaluate import GroupRecall, PairwiseScores, group_recall, pairwise_scores
from boldhub.linkage.full import link
from boldhub.linkage.links import person_keys
from boldhub.linkage.records import LinkInput
from boldhub.linkage.training import em_session
from boldhub.privacy.encoding import Encoder, EncodingParams
from boldhub.privacy.prf import ThrowawayPRF
from boldhub.safecsv import write_csv

# Header synonyms, compared after lower-casing and dropping everything but letters.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "forename": ("forename", "firstname", "givenname", "first", "given"),
    "surname": ("surname", "lastname", "familyname", "last"),
    "dob": ("dob", "dateofbirth", "birthdate", "datebirth"),
    "sex": ("sex", "gender"),
    "postcode": ("postcode", "postalcode", "zip"),
    "other_names": ("othernames", "middlename", "middlenames"),
    "nhs_number": ("nhsnumber", "nhs"),
    "ni_number": ("ninumber", "nino", "nationalinsurancenumber"),
    "source": ("source", "dataset"),
}
REQUIRED = ("forename", "surname", "dob")
CLEAR_COLUMNS = ("forename", "surname", "dob", "sex", "postcode", "nhs_number", "ni_number")


@dataclass(frozen=True)
class Labelled:
    """Standardised identifier columns, each row's source, and each row's true person."""

    columns: dict[str, list[str | None]]
    sources: list[str]
    truth: list[str]
    # What could not be used, in one line (None: every value was): the columns that no
    # value of could be standardised, and the count of unusable values in the others.
    ignored: str | None = None
    # SHA-256 of the file: the throwaway key is derived from it, so that one file gives
    # one result (Bloom filter collisions depend on the key).
    digest: bytes = b""
    # Each group's rows (GROUPS): who links worse than the whole is said by group.
    groups: dict[str, list[int]] = default(default_factory=dict)

    def __len__(self) -> int:
        return len(self.truth)


@dataclass(frozen=True)
class SideResult:
    persons: list[str]  # one per row, in row order
    scores: PairwiseScores
    seconds: float


# A group links worse than the whole when its recall is at least this much lower, over at
# least this many true pairs (fewer say little either way).
WORSE_BY = 0.01
WORSE_MIN_PAIRS = 20


@dataclass(frozen=True)
class EvaluationResult:
    rows: int
    boldhub: SideResult
    splink: SideResult
    ignored: str | None = None  # Labelled.ignored
    groups: tuple[tuple[GroupRecall, GroupRecall], ...] = ()  # (boldhub, splink) by group

    def group_lines(self) -> list[str]:
        """Recall by group, both sides, and where a group links worse than the whole (by a
        point or more of recall, over at least 20 true pairs)."""
        lines = [
            f"recall by group: all {self.boldhub.scores.recall:.4f} (boldhub), "
            f"{self.splink.scores.recall:.4f} (splink)"
        ]
        for ours, theirs in self.groups:
            worse = [
                side
                for side, g, whole in (
                    ("boldhub", ours, self.boldhub.scores.recall),
                    ("splink", theirs, self.splink.scores.recall),
                )
                if g.true_pairs >= WORSE_MIN_PAIRS and g.recall <= whole - WORSE_BY
            ]
            flag = f"  links worse than the whole ({', '.join(worse)})" if worse else ""
            lines.append(
                f"  {ours.group}: {ours.records:,} rows, {ours.true_pairs:,} true pairs; "
                f"{ours.recall:.4f} (boldhub), {theirs.recall:.4f} (splink){flag}"
            )
        return lines

    def line(self) -> str:
        return (
            f"boldhub: f1={self.boldhub.scores.f1:.4f} seconds={self.boldhub.seconds:.1f}; "
            f"splink: f1={self.splink.scores.f1:.4f} seconds={self.splink.seconds:.1f}"
        )


def _norm(header: str) -> str:
    return re.sub(r"[^a-z]", "", header.lower())


def read_labelled(path: Path, truth_column: str) -> Labelled:
    """Read and standardise a labelled CSV (UTF-8, header row)."""
    if not path.is_file():
        raise UserError(f"{path} is not a file; give a CSV of identifiers with a header row")
    # Read once: the bytes are parsed and hashed (the throwaway key is derived from them).
    content = path.read_bytes()
    reader = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    header = next(reader, None)
    if header is None:
        raise UserError(f"{path} is empty; it needs a header row and at least two rows")
    rows = list(reader)
    if truth_column not in header:
        raise UserError(
            f"--truth-column {truth_column} is not a column of {path.name}; "
            f"its columns are: {', '.join(header)}"
        )
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        for field, names in SYNONYMS.items():
            if _norm(name) in names and field not in index:
                index[field] = i
    missing = [f for f in REQUIRED if f not in index]
    if missing:
        raise UserError(
            f"{path.name} has no column for {', '.join(missing)}; name them e.g. "
            "forename, surname, dob (and sex, postcode, nhs_number, ni_number when present)"
        )
    truth_at = header.index(truth_column)
    today = clock.now().date()
    cleaners: dict[str, Callable[[str], standardise.Result]] = {
        "forename": standardise.name,
        "surname": standardise.name,
        "other_names": standardise.name,
        "dob": lambda raw: standardise.dob(raw, today),
        "sex": standardise.sex,
        "postcode": standardise.postcode,
        "nhs_number": standardise.nhs_number,
        "ni_number": standardise.ni_number,
    }
    columns: dict[str, list[str | None]] = {f: [] for f in cleaners}
    raw_names: list[str] = []
    given = dict.fromkeys(cleaners, 0)
    problems: dict[str, Counter[str]] = {f: Counter() for f in cleaners}
    sources: list[str] = []
    truth: list[str] = []
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise UserError(
                f"{path.name} line {number} has {len(row)} cells, the header {len(header)}"
            )
        truth.append(row[truth_at].strip())
        source = row[index["source"]].strip() if "source" in index else ""
        sources.append(source or "sample")
        raw_names.append(
            " ".join(
                row[index[f]].strip() for f in ("forename", "surname", "other_names") if f in index
            )
        )
        for field, clean in cleaners.items():
            raw = row[index[field]].strip() if field in index else ""
            value = None
            if raw:
                given[field] += 1
                try:
                    value, problem = clean(raw)
                except ValueError as exc:
                    value, problem = None, str(exc)
                if not value:
                    problems[field][problem or "unreadable"] += 1
            columns[field].append(value or None)
    if len(truth) < 2:
        raise UserError(f"{path.name} has fewer than two rows; nothing to link")
    if any(not t for t in truth):
        raise UserError(f"{path.name}: every row needs a value in {truth_column}")
    digest = hashlib.sha256(content).digest()
    groups = _groups(columns, raw_names, today.isoformat())
    return Labelled(columns, sources, truth, _ignored(given, problems), digest, groups)


def _groups(
    columns: dict[str, list[str | None]], raw_names: list[str], today: str
) -> dict[str, list[int]]:
    """Rows (1 = first data row) of each group whose recall is reported: age band today,
    sex, no date of birth, no postcode, a name with letters outside A-Z, more than two
    name parts. Groups with no row are left out."""
    groups: dict[str, list[int]] = {}

    def add(group: str, row: int) -> None:
        groups.setdefault(group, []).append(row)

    for i, (dob, sex, postcode, names) in enumerate(
        zip(columns["dob"], columns["sex"], columns["postcode"], raw_names, strict=True), start=1
    ):
        if dob:
            add(f"age {standardise.age_band(dob, today)}", i)
        else:
            add("no date of birth", i)
        add({"M": "sex M", "F": "sex F"}.get(sex or "", "sex not recorded"), i)
        if not postcode:
            add("no postcode", i)
        if any(c.isalpha() and not c.isascii() for c in names):
            add("letters outside A-Z in a name", i)
        if len([p for p in re.split(r"[\s\-]+", names) if p]) > 2:
            add("more than two name parts", i)
    return dict(sorted(groups.items()))


def _ignored(given: dict[str, int], problems: dict[str, Counter[str]]) -> str | None:
    """One line on what standardisation could not use: whole columns first."""
    whole, some = [], []
    for field, n in given.items():
        bad = sum(problems[field].values())
        if not bad:
            continue
        why = problems[field].most_common(1)[0][0]
        if bad == n:
            whole.append(f"{field} (none of its {n:,} values could be used: {why})")
        else:
            some.append(f"{field} {bad:,} of {n:,} ({why})")
    parts = []
    if whole:
        parts.append("ignored " + ", ".join(whole) + "; linked on the other columns")
    if some:
        parts.append("values left out: " + ", ".join(some))
    return "; ".join(parts) if parts else None


def run_boldhub(data: Labelled, *, threshold: float, workdir: Path) -> tuple[list[str], float]:
    """Encode under a throwaway key, link on encodings; one person key per row."""
    t0 = time.perf_counter()
    secret = hashlib.sha256(b"boldhub/evaluate-key\x00" + data.digest).digest()
    encoder = Encoder(ThrowawayPRF(secret), EncodingParams())
    record_keys = [f"{i:032x}" for i in range(len(data))]
    inputs: list[LinkInput] = []
    for source in sorted(set(data.sources)):
        rows = [i for i, s in enumerate(data.sources) if s == source]
        columns = {f: [values[i] for i in rows] for f, values in data.columns.items()}
        table = encoder.encode_rows([record_keys[i] for i in rows], columns)
        path = workdir / f"encodings-{len(inputs)}.parquet"
        pq.write_table(table, path)
        inputs.append(LinkInput(source, path))
    result = link(inputs, threshold=threshold)
    person_of = person_keys(result.links)
    return [person_of[k] for k in record_keys], time.perf_counter() - t0


def clear_settings() -> SettingsCreator:
    """A conventional clear-text Splink model (Splink's own comparisons) for comparison."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="row_id",
        comparisons=[
            cl.NameComparison("forename").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("sex"),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("nhs_number"),
            cl.ExactMatch("ni_number"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("dob"),
            block_on("surname", "substr(forename, 1, 1)"),
            block_on("postcode", "substr(surname, 1, 1)"),
            block_on("substr(dob, 6, 5)", "substr(forename, 1, 1)", "substr(surname, 1, 1)"),
            block_on("nhs_number"),
            block_on("ni_number"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def run_splink_clear(
    table: pa.Table, *, threshold: float, seed: int = 1
) -> tuple[dict[Hashable, Hashable], float]:
    """Clear-text Splink on DuckDB over a table with ``row_id`` and CLEAR_COLUMNS;
    returns each row_id's cluster and the seconds taken."""
    t0 = time.perf_counter()
    engine = open_backend("duckdb")
    try:
        linker = Linker(engine.register(table), clear_settings(), log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("dob", "surname", "forename"), block_on("nhs_number")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
        trained = 0
        for rule in (
            block_on("dob"),
            block_on("postcode", "substr(surname, 1, 1)", "substr(forename, 1, 1)"),
            # Stand-ins for a rule that finds no pairs (no dates of birth, no postcodes).
            block_on("nhs_number"),
            block_on("surname", "forename"),
        ):
            if trained < 2 and em_session(linker, rule, estimate_without_term_frequencies=True):
                trained += 1
        predictions = linker.inference.predict(threshold_match_probability=0.05)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        rows = engine.fetch(f"SELECT row_id, cluster_id FROM {clusters.physical_name}")
    finally:
        engine.close()
    found = zip(
        rows.column("row_id").to_pylist(), rows.column("cluster_id").to_pylist(), strict=True
    )
    return dict(found), time.perf_counter() - t0


def evaluate(path: Path, truth_column: str, out: Path, *, threshold: float) -> EvaluationResult:
    if out.suffix.lower() != ".csv":
        raise UserError(f"--out {out} must end in .csv")
    data = read_labelled(path, truth_column)
    truth: dict[Hashable, Hashable] = dict(enumerate(data.truth, start=1))
    with tempfile.TemporaryDirectory(prefix="boldhub-evaluate-") as tmp:
        persons, bh_seconds = run_boldhub(data, threshold=threshold, workdir=Path(tmp))
    ours: dict[Hashable, Hashable] = dict(enumerate(persons, start=1))
    clear = pa.table(
        {"row_id": pa.array(range(1, len(data) + 1), pa.int64())}
        | {c: pa.array(data.columns[c], pa.string()) for c in CLEAR_COLUMNS}
    )
    theirs, sp_seconds = run_splink_clear(clear, threshold=threshold)
    _write_rows(out, persons)
    by_group = []
    for group, rows in data.groups.items():
        members: set[Hashable] = set(rows)
        by_group.append(
            (group_recall(ours, truth, group, members), group_recall(theirs, truth, group, members))
        )
    return EvaluationResult(
        groups=tuple(by_group),
        ignored=data.ignored,
        rows=len(data),
        boldhub=SideResult(persons, pairwise_scores(ours, truth), bh_seconds),
        splink=SideResult(
            [str(theirs[i]) for i in range(1, len(data) + 1)],
            pairwise_scores(theirs, truth),
            sp_seconds,
        ),
    )


def _write_rows(out: Path, persons: list[str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    try:
        write_csv(tmp, ["row", "person_key"], ((i, p) for i, p in enumerate(persons, start=1)))
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
