"""Linkage F1 on FEBRL4 with BOLD Hub's Splink model, for one set of encoding parameters:
both files encoded under one key, linked at the default threshold, scored pairwise."""

from __future__ import annotations

import tempfile
from collections.abc import Hashable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.privacy import febrl
from boldhub.config import Settings
from boldhub.linkage.evaluate import PairwiseScores, pairwise_scores
from boldhub.linkage.full import link
from boldhub.linkage.links import person_keys
from boldhub.linkage.records import LinkInput
from boldhub.privacy.encoding import EncodingParams
from boldhub.privacy.keys import LinkageKey


def febrl4_scores(
    params: EncodingParams, key: LinkageKey, threshold: float | None = None
) -> PairwiseScores:
    a, b = febrl.load("a"), febrl.load("b")
    truth: dict[Hashable, Hashable] = {}
    inputs = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, data, offset in (("A", a, 0), ("B", b, 10**6)):
            table = febrl.encode(data, key, params, seed=offset + 1)
            keys = [f"{name}{i:031x}" for i in range(table.num_rows)]
            table = table.set_column(0, "record_key", pa.array(keys))
            path = Path(tmp) / f"{name}.parquet"
            pq.write_table(table, path)
            inputs.append(LinkInput(name, path))
            truth.update(zip(keys, data.person, strict=True))
        if threshold is None:
            threshold = Settings.model_fields["linkage_threshold"].default
        result = link(inputs, threshold=threshold, memory_limit="2GB")
    predicted = person_keys(result.links)
    return pairwise_scores(predicted, {k: truth[k] for k in predicted})
