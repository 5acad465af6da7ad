"""Incremental linkage: new records join known persons, untouched person keys never change."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from boldhub.config import get_settings
from boldhub.errors import PackageError
from boldhub.hub.analysis import add_match_rates
from boldhub.hub.ingest import ingest
from boldhub.hub.linking import links_path, options_from, run_linkage
from boldhub.hub.store import Hub, open_hub
from boldhub.hub.store.models import AuditEvent, LinkageRun
from boldhub.linkage.evaluate import pairwise_scores
from boldhub.linkage.full import link
from boldhub.linkage.incremental import link_incremental
from boldhub.linkage.links import LinkResult, person_keys
from boldhub.outcomes.disclosure import control_count
from boldhub.privacy.package import FORMAT_VERSION, read_manifest
from boldhub.schemas.datasets import SEX
from tests.support.hubworld import Packages, as_format_2, build_packages, manifest
from tests.support.linkage import LinkageWorld, build_linkage_world, split_inputs

# The hub's settings as the CLI passes them down to a run.
OPTIONS = options_from(get_settings())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[LinkageWorld, list, list]:  # type: ignore[type-arg]
    root = tmp_path_factory.mktemp("incremental")
    w = build_linkage_world(root, persons=600, seed=5)
    old, new = split_inputs(w.inputs, root, 0.9)
    return w, old, new


def test_untouched_person_keys_never_change(world) -> None:  # type: ignore[no-untyped-def]
    w, old, new = world
    base = link(old, threshold=0.7)
    inc = link_incremental(base.links, old, new, base.model_json, threshold=0.7)
    before, after = person_keys(base.links), person_keys(inc.links)
    new_keys = set(after) - set(before)
    assert len(new_keys) == inc.new_records > 0
    persons_of_new = {after[k] for k in new_keys}
    merged_away = {k for m in inc.changes.merges for k in m["from"]}
    for record, key in before.items():
        if after[record] != key:
            # Only a merge that a new record caused may change an existing key.
            assert key in merged_away
            assert after[record] in persons_of_new
    # Every previous person not merged away keeps its key on every one of its records.
    kept = set(before.values()) - merged_away
    assert all(after[r] == k for r, k in before.items() if k in kept)

    full = link(old + new, threshold=0.7)
    f1_inc = pairwise_scores(person_keys(inc.links), w.truth).f1
    f1_full = pairwise_scores(person_keys(full.links), w.truth).f1
    # The incremental run scores with the model trained on the first 90% of the records,
    # the full run with one trained on all. Since scheme v5 the scoped levels' u come from
    # an EM session within the date-of-birth blocking, which moves more with the training
    # set on 600 people: 0.9872 against 0.9936 here (it was within 0.005 under v4).
    assert f1_inc >= f1_full - 0.01, (f1_inc, f1_full)
    assert f1_inc >= 0.97


def three_runs(
    tmp_path: Path, linkage_terms: Callable[[list[str]], dict[str, Any]] | None = None
) -> tuple[Hub, Packages, list[tuple[str, LinkResult]]]:
    """A hub that links all but the last source, then again once the last has arrived,
    then with ``full``: the three (run id, result). ``linkage_terms`` makes the
    agreement's linkage terms from the sources' names."""
    packages = build_packages(tmp_path / "packages", persons=300, seed=4)
    sources = sorted(packages.by_source)
    if linkage_terms is not None:
        packages.trust.agreement.document["linkage"] = linkage_terms(sources)
    hub = open_hub(tmp_path / "hub", create=True)
    packages.register_agreement(hub)
    for source in sources[:-1]:
        ingest(hub, packages.by_source[source])
    runs = [run_linkage(hub, actor="test", options=OPTIONS)]
    ingest(hub, packages.by_source[sources[-1]])
    runs.append(run_linkage(hub, actor="test", options=OPTIONS))
    runs.append(run_linkage(hub, actor="test", options=OPTIONS, full=True))
    return hub, packages, runs


def test_hub_links_new_submissions_incrementally(tmp_path: Path) -> None:
    hub, packages, runs = three_runs(tmp_path)
    (first_id, first), (second_id, second), (third_id, _third) = runs
    with hub.sessions() as session:
        runs = {r.id: r for r in session.execute(select(LinkageRun)).scalars()}
        events = [
            e.details
            for e in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
            if e.action == "linkage.run"
        ]
    assert runs[first_id].summary["mode"] == "full"
    assert runs[second_id].summary["mode"] == "incremental"
    assert runs[second_id].summary["base_run"] == first_id
    assert runs[third_id].summary["mode"] == "full"
    # The model is saved and versioned per agreement at each full run, with its charts.
    aid = packages.trust.agreement.id
    assert runs[first_id].summary["model_version"] == f"{aid}/v1"
    assert runs[second_id].summary["model_version"] == f"{aid}/v1"
    assert runs[third_id].summary["model_version"] == f"{aid}/v2"
    page = (tmp_path / "hub" / "models" / aid / "v2" / "model.html").read_text()
    assert "match weight" in page and "exact forename" in page
    assert (tmp_path / "hub" / "models" / aid / "v1" / "model.json").exists()
    assert [e["mode"] for e in events] == ["full", "incremental", "full"]
    assert all({"merges", "splits", "new_persons"} <= set(e) for e in events)
    assert second.records > first.records
    # Person keys carry over: most records keep their key through both later runs.
    k1 = person_keys(pq.read_table(links_path(hub, first_id)))
    k2 = person_keys(pq.read_table(links_path(hub, second_id)))
    k3 = person_keys(pq.read_table(links_path(hub, third_id)))
    assert sum(k1[r] == k2[r] for r in k1) >= 0.98 * len(k1)
    assert sum(k2[r] == k3[r] for r in k2) >= 0.98 * len(k2)


def test_every_run_writes_a_disclosure_controlled_quality_report(tmp_path: Path) -> None:
    packages = build_packages(tmp_path / "packages", persons=300, seed=4)
    hub = open_hub(tmp_path / "hub", create=True)
    packages.register_agreement(hub)
    for package in packages.by_source.values():
        ingest(hub, package)
    run_id, _result = run_linkage(hub, actor="test", options=OPTIONS)
    folder = links_path(hub, run_id).parent
    # The linkage side writes no rate by group: those need attributes, which it never reads.
    assert json.loads((folder / "quality.json").read_text())["match_rates"] == {}
    add_match_rates(hub, run_id)
    report = json.loads((folder / "quality.json").read_text())
    assert 0.9 <= report["model"]["estimated_precision"] <= 1.0
    assert 0.5 <= report["model"]["estimated_recall"] <= 1.0
    assert (
        sum(n for _w, n in report["model"]["match_weight_histogram"])
        == report["model"]["scored_pairs"]
    )
    assert list(report["match_rates"]) == ["source", "council", "age_band", "sex", "ethnicity"]
    sexes = {row["group"]: row for row in report["match_rates"]["sex"]}
    assert {"Female", "Male"} <= set(sexes) <= set(SEX)
    assert all(sexes[s]["records"] and sexes[s]["rate_percent"] for s in ("Female", "Male"))
    for rows in report["match_rates"].values():
        for row in rows:
            for count in (row["records"], row["linked"]):
                assert count is None or (count >= 10 and count % 5 == 0)
    assert report["records"] % 5 == 0
    html = (folder / "quality.html").read_text()
    assert "Match rate by ethnicity" in html and "estimated precision" in html
    assert "Match rate by sex" in html


def test_version_2_packages_without_sex_are_still_accepted(tmp_path: Path) -> None:
    """A package from before the sex attribute: ingested, its records' sex not recorded."""
    packages = build_packages(tmp_path / "packages", persons=300, seed=4)
    hub = open_hub(tmp_path / "hub", create=True)
    packages.register_agreement(hub)
    counts = {s: int(str(manifest(p)["record_count"])) for s, p in packages.by_source.items()}
    old_source = max(counts, key=counts.__getitem__)  # the largest: its count is released
    org = old_source.split(":", 1)[1]
    for source, package in packages.by_source.items():
        if source == old_source:
            package = as_format_2(package, tmp_path / "v2", packages.trust.signing_keys[org])
            assert manifest(package)["format_version"] == 2
            assert "sex" not in pq.read_schema(package / "attributes.parquet").names
        ingest(hub, package)
    old_records = counts[old_source]
    run_id, _result = run_linkage(hub, actor="test", options=OPTIONS)
    add_match_rates(hub, run_id)
    report = json.loads((links_path(hub, run_id).parent / "quality.json").read_text())
    sexes = {row["group"]: row for row in report["match_rates"]["sex"]}
    assert {"Female", "Male", "not recorded"} <= set(sexes) <= {*SEX, "not recorded"}
    assert sexes["not recorded"]["records"] == control_count(old_records).value


def test_unknown_package_format_versions_are_refused(tmp_path: Path) -> None:
    packages = build_packages(tmp_path / "packages", persons=60, seed=4)
    package = next(iter(packages.by_source.values()))
    assert manifest(package)["format_version"] == FORMAT_VERSION == 3
    for version in (1, 4):
        doc = manifest(package)
        doc["format_version"] = version
        (package / "manifest.json").write_text(json.dumps(doc))
        with pytest.raises(PackageError, match=f"format version {version} is not supported"):
            read_manifest(package)


def test_a_relink_reuses_the_agreements_saved_model_and_full_retrains(tmp_path: Path) -> None:
    """A run that cannot be incremental (here: a one-to-one source) re-links everything
    with the agreement's saved model; ``full`` trains and saves a new version."""
    hub, packages, runs = three_runs(
        tmp_path,
        lambda sources: {
            "one_to_one_sources": [next(s for s in sources if s.startswith("victims"))]
        },
    )
    (first_id, _), (second_id, second), (third_id, _) = runs
    with hub.sessions() as session:
        runs = {r.id: r.summary for r in session.execute(select(LinkageRun)).scalars()}
    aid = packages.trust.agreement.id
    assert [runs[r]["mode"] for r in (first_id, second_id, third_id)] == ["full"] * 3
    assert [runs[r]["trained"] for r in (first_id, second_id, third_id)] == [True, False, True]
    assert [runs[r]["model_version"] for r in (first_id, second_id, third_id)] == [
        f"{aid}/v1",
        f"{aid}/v1",
        f"{aid}/v2",
    ]
    assert "train" not in second.seconds
    saved = json.loads((tmp_path / "hub" / "models" / aid / "v1" / "model.json").read_text())
    assert second.model_json["probability_two_random_records_match"] == pytest.approx(
        saved["probability_two_random_records_match"]
    )
    assert sorted(p.name for p in (tmp_path / "hub" / "models" / aid).iterdir()) == ["v1", "v2"]
