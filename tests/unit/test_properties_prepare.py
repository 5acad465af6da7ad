"""Property of prepare: every row of an export ends up accepted or quarantined, once.

Exports with the corpus's headers and cells drawn from clean, messy and hostile values
(formulas, impossible dates, repeated ids, empty rows): the rows in prepared.parquet and
quarantine.csv add up to the rows read, each row number appears once across the two, and
no file of the prepared folder repeats an identifier in a reason.
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boldhub.council import mapping as mapping_mod
from boldhub.council.prepare import PREPARED_FILE, QUARANTINE_FILE, WARNINGS_FILE, prepare
from boldhub.schemas import get_dataset
from tests import corpus

DATASET = get_dataset(corpus.DATASET)
MAPPING = mapping_mod.suggested_mapping(DATASET, corpus.HEADER)
# Values of the corpus that are identifiers, and one of our own.
IDENTIFIERS = ("Zebedee", "Quixley", "9434765919", "SW1A 1AA")

_CELLS = st.one_of(
    st.sampled_from(
        ["", " ", "Zebedee", "Quixley", "14/02/1985", "31/02/1985", "2099-01-01", "SW1A 1AA",
         "9434765919", "=cmd|' /C calc'!A0", "HC-1", "HC-1", "prevention", "Y", "N", "Male"]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=8),
)  # fmt: skip
_ROWS = st.lists(
    st.lists(_CELLS, min_size=len(corpus.HEADER), max_size=len(corpus.HEADER)),
    min_size=1,
    max_size=15,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ROWS)
def test_every_row_is_accepted_or_quarantined_once(rows: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        export = corpus.write_delimited(
            Path(folder) / "export.csv", "utf-8", ",", tuple(tuple(r) for r in rows)
        )
        out = Path(folder) / "prepared"
        try:
            result = prepare(export, corpus.DATASET, out, corpus.ORG, mapping=MAPPING)
        except Exception as exc:  # only "no data rows" (every row blank) may stop it
            assert "has a header but no data rows" in str(exc), exc
            assert all(not "".join(r).strip() for r in rows)
            assert not out.exists()
            return
        accepted = pq.read_table(out / PREPARED_FILE).column("row_number").to_pylist()
        with (out / QUARANTINE_FILE).open(newline="", encoding="utf-8") as fh:
            lines = list(csv.reader(fh))[1:]
        quarantined = [int(r[0]) for r in lines]
        assert len(accepted) == result.accepted and len(quarantined) == result.quarantined
        assert result.accepted + result.quarantined == result.input_rows
        assert len(set(accepted) | set(quarantined)) == result.input_rows  # each row once
        blank = sum(1 for r in rows if not "".join(r).strip())
        assert result.input_rows == len(rows) - blank
        # Reasons and warnings name fields, never values.
        text = (out / WARNINGS_FILE).read_text(encoding="utf-8") + str([r[2] for r in lines])
        for value in IDENTIFIERS:
            assert value not in text
