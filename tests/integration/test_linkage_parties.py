"""Many parties: only the source pairs an agreement allows are linked; one-to-one sources
never hold two records of one person."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from boldhub.errors import ModelMismatch
from boldhub.linkage.evaluate import pairwise_scores
from boldhub.linkage.full import link
from boldhub.linkage.links import LinkResult, person_keys
from boldhub.linkage.records import LinkInput
from tests.support.linkage import LinkageWorld, build_linkage_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> LinkageWorld:
    return build_linkage_world(tmp_path_factory.mktemp("parties"), persons=400, seed=5)


def test_only_allowed_source_pairs_link(world: LinkageWorld) -> None:
    allowed = frozenset({("homelessness", "probation")})
    result = link(world.inputs, threshold=0.7, allowed_pairs=allowed)
    datasets: dict[str, set[str]] = defaultdict(set)
    for source, person in zip(
        result.links.column("source").to_pylist(),
        result.links.column("person_key").to_pylist(),
        strict=True,
    ):
        datasets[person].add(source.split(":")[0])
    mixed = [d for d in datasets.values() if len(d) > 1]
    assert mixed, "homelessness and probation records of one person should link"
    assert all(d <= {"homelessness", "probation"} for d in mixed)
    # Within a source, deduplication still happens.
    assert result.persons < result.records


def one_per_person(
    world: LinkageWorld, tmp_path: Path, datasets: tuple[str, ...]
) -> list[LinkInput]:
    """The world's inputs, with the sources of ``datasets`` cut to each person's first
    record, so that they really are one record per person."""
    inputs = []
    for item in world.inputs:
        if item.source.startswith(datasets):
            table = pq.read_table(item.encodings)
            seen: set[str] = set()
            keep = []
            for key in table.column("record_key").to_pylist():
                keep.append(world.truth[key] not in seen)
                seen.add(world.truth[key])
            path = tmp_path / f"{item.source.replace(':', '-')}.parquet"
            pq.write_table(table.filter(pa.array(keep)), path)
            item = LinkInput(item.source, path)
        inputs.append(item)
    return inputs


def test_one_to_one_source_never_holds_two_records_of_a_person(
    world: LinkageWorld, tmp_path: Path
) -> None:
    # Probation holds several events per person.
    inputs = one_per_person(world, tmp_path, ("probation",))
    source = next(i.source for i in inputs if i.source.startswith("probation"))
    result = link(inputs, threshold=0.7, one_to_one=[source])
    probation = result.links.filter(pc.equal(result.links.column("source"), source))
    per_person = Counter(probation.column("person_key").to_pylist())
    assert max(per_person.values()) == 1
    keys = person_keys(result.links)
    assert pairwise_scores(keys, {k: world.truth[k] for k in keys}).f1 >= 0.97


def test_hub_applies_the_agreements_linkage_terms(tmp_path: Path) -> None:
    from boldhub.config import get_settings
    from boldhub.hub.ingest import ingest
    from boldhub.hub.linking import links_path, options_from, run_linkage
    from boldhub.hub.store import open_hub
    from tests.support.hubworld import build_packages

    options = options_from(get_settings())

    packages = build_packages(tmp_path / "packages", persons=300, seed=4)
    # Across datasets only homelessness and treatment may link; each other dataset may
    # only be deduplicated (a dataset no pair names would be refused at ingest).
    packages.trust.agreement.document["linkage"] = {
        "allowed_source_pairs": [
            ["homelessness", "treatment"],
            ["probation", "probation"],
            ["victims", "victims"],
        ]
    }
    hub = open_hub(tmp_path / "hub", create=True)
    packages.register_agreement(hub)
    for package in packages.by_source.values():
        ingest(hub, package)
    run_id, _result = run_linkage(hub, actor="test", options=options)
    links = pq.read_table(links_path(hub, run_id))
    datasets: dict[str, set[str]] = defaultdict(set)
    for source, person in zip(
        links.column("source").to_pylist(), links.column("person_key").to_pylist(), strict=True
    ):
        datasets[person].add(source.split(":")[0])
    mixed = [d for d in datasets.values() if len(d) > 1]
    assert mixed and all(d <= {"homelessness", "treatment"} for d in mixed)


def test_the_one_to_one_threshold_applies_only_between_one_to_one_sources(
    world: LinkageWorld, tmp_path: Path
) -> None:
    inputs = one_per_person(world, tmp_path, ("probation", "treatment"))
    sources = sorted(i.source for i in inputs if i.source.startswith(("probation", "treatment")))
    strict = link(inputs, threshold=0.999, one_to_one=sources)
    eased = link(inputs, threshold=0.999, one_to_one=sources, one_to_one_threshold=0.5)
    source_of = dict(
        zip(
            strict.links.column("record_key").to_pylist(),
            strict.links.column("source").to_pylist(),
            strict=True,
        )
    )
    before, after = partition(strict), partition(eased)
    assert len(after) < len(before), "weaker probation-treatment links should be taken"
    # Every person of the eased run is whole persons of the strict run, joined only by
    # new links between the two one-to-one sources: each merged part holds a probation
    # or treatment record, and the merged person holds both.
    for person in after:
        parts = [p for p in before if p <= person]
        assert frozenset().union(*parts) == person
        if len(parts) > 1:
            held = [{source_of[k] for k in part} & set(sources) for part in parts]
            assert all(held) and set().union(*held) == set(sources)
    keys = person_keys(eased.links)
    assert pairwise_scores(keys, {k: world.truth[k] for k in keys}).precision >= 0.99


def partition(result: LinkResult) -> set[frozenset[str]]:
    """The persons of a run, each as its set of record keys."""
    persons: dict[str, set[str]] = defaultdict(set)
    for k, p in person_keys(result.links).items():
        persons[p].add(k)
    return {frozenset(v) for v in persons.values()}


def test_a_saved_model_scores_as_the_run_that_trained_it(world: LinkageWorld) -> None:
    trained = link(world.inputs, threshold=0.7)
    again = link(world.inputs, threshold=0.7, trained=trained.model_json)
    assert "train" in trained.seconds and "train" not in again.seconds
    assert again.pairs_scored == trained.pairs_scored
    assert partition(again) == partition(trained)


def test_a_saved_model_with_other_comparisons_is_refused(world: LinkageWorld) -> None:
    trained = link(world.inputs[:1], threshold=0.7).model_json
    trained["comparisons"] = [c for c in trained["comparisons"] if c["output_column_name"] != "dob"]
    with pytest.raises(ModelMismatch, match="dob"):
        link(world.inputs[:1], threshold=0.7, trained=trained)
