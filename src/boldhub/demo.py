"""The whole pipeline on synthetic data, playing every party in turn.

    DIR/council/exports/    what each body exports (and truth.csv, known only to the demo)
    DIR/council/<org>/      per provider: prepared/ (stays local, with keymap.csv), package/
    DIR/council/linkage.key the agreement's key, shared by the providers, never the hub
    DIR/council/<org>/signing.key  each provider's Ed25519 signing key (.pub registered)
    DIR/council/agreement.yaml  the agreement: parties, lawful bases, fields, retention, ...
    DIR/hub/                the hub's home: only packages' encodings and attributes arrive
    DIR/links.csv           the linkage operator's export
    DIR/reports/            the approved release: per party a dashboard (<area>.html) and
                            the tidy CSV files (<area>.csv, <area>-measures.csv)

Only the demo can score the linkage, because only it holds both the truth and the
providers' keymaps: it joins them to the hub's person keys at the end.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from boldhub import clock
from boldhub.agreements.draft import Answers, PartyAnswer, draft, usual_dataset
from boldhub.agreements.load import dump_yaml, signed_message
from boldhub.config import get_settings
from boldhub.council.encode import KEYMAP_FILE, encode
from boldhub.council.prepare import prepare
from boldhub.errors import UserError
from boldhub.hub import agreements, releases
from boldhub.hub.accounts import HUB_ORG, Principal, create_user, principal_of
from boldhub.hub.analysis import add_match_rates
from boldhub.hub.ingest import ingest
from boldhub.hub.linking import (
    add_truth_to_quality_report,
    export_links,
    options_from,
    run_linkage,
)
from boldhub.hub.store import Hub, open_hub
from boldhub.keyservice.client import local_key_function
from boldhub.linkage.evaluate import PairwiseScores, pairwise_scores
from boldhub.privacy.agreement import AgreementSpec, load_agreement
from boldhub.privacy.encoding import EncodingParams
from boldhub.privacy.keys import LinkageKey, create_key
from boldhub.privacy.signing import create_signing_key, public_key_text, sign
from boldhub.synth import SynthSummary, generate


@dataclass(frozen=True)
class DemoResult:
    scores: PairwiseScores
    records: int
    persons: int
    reports: list[Path]


@dataclass(frozen=True)
class Trust:
    """An agreement and the signing keys of its parties, as the demo and tests make them."""

    agreement: AgreementSpec
    agreement_file: Path
    signing_keys: dict[str, Ed25519PrivateKey]


def create_trust(
    folder: Path,
    key: LinkageKey,
    organisations: Iterable[str],
    *,
    agreement_id: str = "bold-demo",
    encoding: EncodingParams | None = None,
) -> Trust:
    """A signing key per organisation (``folder/<org>/signing.key``) and a complete
    agreement file (``folder/agreement.yaml``, drafted as ``boldhub agreement new`` drafts)
    naming them all, under ``key``'s fingerprint. Every party still has to sign it at the
    hub (:func:`sign_all`) before anything is accepted under it."""
    signing_keys = {}
    parties = []
    for org in sorted(set(organisations)):
        signer = create_signing_key(folder / org / "signing.key")
        signing_keys[org] = signer
        text = public_key_text(signer.public_key())
        parties.append(PartyAnswer(org, text, (usual_dataset(org),)))
    defaults = EncodingParams().as_dict()
    chosen = (encoding or EncodingParams()).as_dict()
    doc = draft(
        Answers(
            id=agreement_id,
            title="BOLD Hub demonstration on synthetic data",
            linkage_key_fingerprint=key.fingerprint,
            parties=tuple(parties),
            # The agreement is in force from the start of this year for three years, so
            # that the demo's packages, received today, fall inside it.
            start=date(clock.today().year, 1, 1),
            encoding={k: v for k, v in chosen.items() if defaults[k] != v},
        )
    )
    path = folder / "agreement.yaml"
    path.write_text(dump_yaml(doc), encoding="utf-8")
    return Trust(load_agreement(path), path, signing_keys)


def sign_all(hub: Hub, trust: Trust, *, actor: str = "demo") -> None:
    """Every party signs the registered agreement with its organisation's key, as each
    DPO would with ``boldhub agreement sign``; the agreement becomes active."""
    data = signed_message(trust.agreement.document)
    for org, signer in sorted(trust.signing_keys.items()):
        if trust.agreement.party(org) is not None:
            agreements.sign(hub, trust.agreement.id, org, sign(signer, data), actor=actor)


def register_signed(hub: Hub, trust: Trust, *, actor: str = "demo") -> None:
    """Register the agreement and have every party sign it."""
    agreements.register(hub, trust.agreement, actor=actor)
    sign_all(hub, trust, actor=actor)


class Reporter:
    """How the demo shows progress; the CLI passes Rich bars, tests pass nothing."""

    def bar(self, description: str, total: int) -> Callable[[int], None]:
        return lambda _n: None

    def done(self, description: str) -> None:
        return None

    def step(self, description: str) -> Callable[[str], None]:
        return lambda _s: None

    def line(self, text: str) -> None:
        return None


def _synthesise(
    rep: Reporter,
    exports_dir: Path,
    persons: int,
    councils: int,
    seed: int,
    *,
    profile: str,
    repeat: float,
) -> SynthSummary:
    advance = rep.bar("synthesising people", persons)
    seen = [0]

    def synth_progress(n: int, _total: int) -> None:
        advance(n - seen[0])
        seen[0] = n

    summary = generate(
        exports_dir,
        persons=persons,
        councils=councils,
        seed=seed,
        progress=synth_progress,
        profile=profile,
        repeat_elsewhere=repeat,
    )
    rep.done("synthesising people")
    return summary


def run_demo(
    out: Path,
    *,
    seed: int = 42,
    persons: int = 14_000,
    councils: int = 3,
    reporter: Reporter | None = None,
    encoding: EncodingParams | None = None,
    repeat_elsewhere: float = 0.0,
    profile: str = "default",
) -> DemoResult:
    """Every party's steps on a synthetic population of ``persons`` (``boldhub demo``).

    ``profile`` and ``repeat_elsewhere`` go to :func:`boldhub.synth.exports.generate`: the
    CLI keeps their defaults, tests change them (a population in which many people apply
    again at another council, for the cross-council indicator).
    """
    rep = reporter or Reporter()
    if out.exists() and any(out.iterdir()):
        raise UserError(f"--out {out} already exists and is not empty; choose a new folder")
    council_dir, hub_home = out / "council", out / "hub"
    exports_dir = council_dir / "exports"

    summary = _synthesise(
        rep, exports_dir, persons, councils, seed, profile=profile, repeat=repeat_elsewhere
    )
    # Synthetic data and keys that follow the seed: one seed gives one output.
    key = create_key(council_dir / "linkage.key", secret=np.random.default_rng([seed, 0]).bytes(32))
    orgs = [source.split(":", 1)[1] for source in summary.files]
    trust = create_trust(council_dir, key, orgs, encoding=encoding)

    # The key service runs locally, in process: every party's secrets come from it, and
    # the encoder never touches the key (privacy/prf.py).
    key_service = local_key_function(key, trust.agreement.id)
    packages: list[Path] = []
    prepared_dirs: dict[str, Path] = {}
    total_rows = sum(summary.records.values())
    advance = rep.bar("preparing and encoding exports", 2 * total_rows)
    for index, (source, export) in enumerate(summary.files.items()):
        dataset, org = source.split(":", 1)
        provider = council_dir / org / dataset
        prepared = prepare(export, dataset, provider / "prepared", org, progress=advance)
        if prepared.quarantined:
            rep.line(f"{source}: {prepared.quarantined} rows quarantined (see quarantine.csv)")
        result = encode(
            provider / "prepared",
            key_service,
            provider / "package",
            advance,
            agreement=trust.agreement,
            signing_key=trust.signing_keys[org],
            seed=seed * 1000 + index,
        )
        if result.withheld:
            rep.line(
                f"{source}: {result.withheld} rows left out without consent "
                f"({result.withheld_by}): neither linked nor counted"
            )
        packages.append(result.package)
        prepared_dirs[source] = provider / "prepared"
    rep.done("preparing and encoding exports")

    hub = open_hub(hub_home, create=True)
    register_signed(hub, trust, actor="demo")
    advance = rep.bar("ingesting packages at the hub", len(packages))
    for package in packages:
        ingest(hub, package, actor="demo")
        advance(1)
    rep.done("ingesting packages at the hub")

    # The demo's person keys follow its seed, so that one seed gives one output.
    options = replace(options_from(get_settings()), key_seed=seed)
    run_id, linked = run_linkage(
        hub, actor="demo", on_step=rep.step("linking with Splink"), options=options
    )
    add_match_rates(hub, run_id)
    links_file = out / "links.csv"
    export_links(hub, links_file, actor="demo")
    draft = releases.draft_release(hub, actor="demo", run_id=run_id)
    rep.line(
        f"release {draft.id}: drafted ({draft.summary['suppressed']} of "
        f"{draft.summary['cells']} cells suppressed); two output checkers approve it"
    )
    for checker in demo_output_checkers(hub):
        releases.decide(
            hub, draft.id, checker, "approve", "demo: every table checked by the disclosure module"
        )
    reports_dir = out / "reports"
    releases.copy_release(releases.folder_of(hub, draft.id), reports_dir)
    reports = sorted(reports_dir.glob("*.html"))

    scores = score_against_truth(links_file, summary.truth, prepared_dirs)
    # Only the demo holds the truth: its run's quality report gets the true scores too.
    add_truth_to_quality_report(hub, run_id, scores.precision, scores.recall, scores.f1)
    return DemoResult(scores, linked.records, linked.persons, reports)


# The demo's two output checkers: hub accounts with no password (they cannot sign in;
# `boldhub admin` gives a real checker one), named so the release says who approved it.
DEMO_CHECKERS = (
    ("checker.one@bold-hub.example", "Output checker one (demo)"),
    ("checker.two@bold-hub.example", "Output checker two (demo)"),
)


def demo_output_checkers(hub: Hub) -> list[Principal]:
    out = []
    with hub.sessions() as session, session.begin():
        for email, name in DEMO_CHECKERS:
            user = create_user(
                session,
                email=email,
                name=name,
                organisation=HUB_ORG,
                role="output_checker",
                password=None,
                actor="demo",
            )
            out.append(principal_of(session, user))
    return out


def score_against_truth(
    links_file: Path, truth_file: Path, prepared_dirs: dict[str, Path]
) -> PairwiseScores:
    """Pairwise F1 of the hub's person keys against the synthetic truth.

    Quarantined rows never reached the hub, so they are scored on neither side.
    """
    truth: dict[tuple[str, str], str] = {}
    with truth_file.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            truth[(row["source"], row["source_row_id"])] = row["person_id"]
    row_of_key: dict[str, tuple[str, str]] = {}
    for source, prepared in prepared_dirs.items():
        with (prepared / KEYMAP_FILE).open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                row_of_key[row["record_key"]] = (source, row["source_row_id"])
    predicted: dict[tuple[str, str], str] = {}
    with links_file.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            predicted[row_of_key[row["record_key"]]] = row["person_key"]
    return pairwise_scores(predicted, {k: truth[k] for k in predicted})
