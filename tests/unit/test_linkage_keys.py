"""Person keys carried through a full run, with merges and splits named."""

from __future__ import annotations

import pyarrow as pa

from boldhub.linkage.keys import attach, carry_keys
from boldhub.linkage.links import LINKS_SCHEMA, person_keys


def _links(pairs: list[tuple[str, str]]) -> pa.Table:
    return pa.table(
        {
            "record_key": [r for r, _ in pairs],
            "source": ["s"] * len(pairs),
            "person_key": [p for _, p in pairs],
            "match_probability": [None] * len(pairs),
        },
        schema=LINKS_SCHEMA,
    )


def test_carry_keys_keeps_keys_and_records_merges_and_splits() -> None:
    previous = _links(
        [("a", "PA"), ("b", "PA"), ("c", "PA"), ("d", "PD"), ("e", "PE"), ("f", "PF")]
    )
    # a, b stay together; c splits off; d and e merge (d's cluster larger? equal: smaller key wins);
    # f unchanged; g is new.
    current = _links(
        [("a", "x1"), ("b", "x1"), ("c", "x2"), ("d", "x3"), ("e", "x3"), ("f", "x4"), ("g", "x5")]
    )
    carried, changes = carry_keys(current, previous)
    keys = person_keys(carried)
    assert keys["a"] == keys["b"] == "PA"
    assert keys["f"] == "PF"
    assert keys["d"] == keys["e"] == "PD"
    assert keys["c"] == "x2" and keys["g"] == "x5"
    assert changes.merges == [{"into": "PD", "from": ["PE"]}]
    assert changes.splits == [{"from": "PA", "into": ["x2"]}]
    assert changes.new_persons == 2


def test_attach_merges_only_the_persons_a_new_record_touches() -> None:
    previous = _links([("a", "PA"), ("b", "PA"), ("c", "PC"), ("d", "PD")])
    edges = pa.table(
        {
            "record_key_l": ["a", "c", "n2", "d"],
            "record_key_r": ["n1", "n1", "n3", "n4"],
            "match_probability": [0.99, 0.95, 0.9, 0.5],  # the last is under the threshold
        }
    )
    new = pa.table({"record_key": ["n1", "n2", "n3", "n4"], "source": ["s"] * 4})
    links, changes = attach(previous, new, edges, threshold=0.7)
    keys = person_keys(links)
    assert keys["a"] == keys["b"] == keys["c"] == keys["n1"] == "PA"  # PA has more records
    assert keys["d"] == "PD"
    assert keys["n2"] == keys["n3"] != keys["n4"]
    assert changes.merges == [{"into": "PA", "from": ["PC"]}]
    assert changes.new_persons == 2
