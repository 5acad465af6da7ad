"""Entry point: `boldhub`. User errors end in one line on stderr and exit code 2."""

from __future__ import annotations

import logging
import sys

import typer

from boldhub import __version__
from boldhub.cli import (
    admin,
    agreement,
    agreement_docs,
    agreement_new,
    council_app,
    demo,
    encode,
    evaluate,
    hub,
    keyservice,
    prepare,
    release,
    retention,
    sample,
    serve,
    synth,
)
from boldhub.errors import UserError

app = typer.Typer(
    name="boldhub",
    help=(
        "BOLD Hub: link council and central-government data about vulnerable people "
        "without the hub ever seeing an identifier, and give every council its outcomes back."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)

app.command("synth", help="Write a synthetic population's exports and truth.csv (tests, demo).")(
    synth.synth
)
app.command("prepare", help="[council] Standardise and validate an export into a prepared folder.")(
    prepare.prepare
)
app.add_typer(
    prepare.mapping_app, name="mapping", help="[council] Suggest and list column mappings."
)
app.command("council", help="[council] Open the local page to prepare and encode exports.")(
    council_app.council
)
app.command("encode", help="[council] Encode a prepared folder into a submission package.")(
    encode.encode
)
app.add_typer(encode.keys_app, name="keys", help="[council] Create and inspect linkage keys.")
app.command("ingest", help="[hub] Verify a submission package and store it in the hub.")(hub.ingest)
app.command(
    "link", help="[hub] Link one agreement's current submissions into persons with Splink."
)(hub.link)
app.command(
    "evaluate", help="[hub] Score linkage on a labelled CSV: BOLD Hub vs clear-text Splink."
)(evaluate.evaluate)
app.add_typer(
    hub.links_app,
    name="links",
    help="[hub] The linkage operator's commands: export links, abandon a dead run.",
)
app.command(
    "report", help="[hub] Draft the latest run's outcome release (two output checkers approve it)."
)(release.report)
app.command(
    "sample", help="See what your council would get back: a sample release from synthetic data."
)(sample.sample)
app.add_typer(
    release.release_app,
    name="release",
    help="[hub] Output releases: list, show, approve or reject a draft.",
)
app.add_typer(hub.audit_app, name="audit", help="[hub] Check the tamper-evident audit log.")
app.add_typer(
    hub.store_app, name="store", help="[hub] Check the stored files against what was signed."
)
app.add_typer(
    agreement.agreement_app,
    name="agreement",
    help=(
        "Agreements as code: draft, validate, render, register, sign, amend, revoke; "
        "rotate their key."
    ),
)
app.command("demo", help="Run the whole pipeline on synthetic data, end to end.")(demo.demo)
agreement_docs.register(agreement.agreement_app)
agreement_new.register(agreement.agreement_app)
app.add_typer(
    retention.retention_app,
    name="retention",
    help="[hub] Delete what is past its agreement's retention period, with an audit record.",
)
app.command("serve", help="[hub] Run the hub web service (API and pages).")(serve.serve)
app.command("submit", help="[council] Upload a package to the hub service.")(serve.submit)
app.add_typer(
    admin.admin_app,
    name="admin",
    help="[hub] Create users and API tokens, change roles, register bodies.",
)
app.add_typer(
    keyservice.keyservice_app,
    name="keyservice",
    help="[key service] Run the OPRF key service; manage its keys, parties and quotas.",
)


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(f"boldhub {__version__}")
        raise typer.Exit()


def run() -> None:
    # Library chatter (Splink's training notes) stays out of a command-line user's way;
    # `boldhub serve` routes it to its JSON log instead.
    logging.getLogger("splink").setLevel(logging.ERROR)
    logging.getLogger("boldhub").setLevel(logging.ERROR)
    # Typer handles usage mistakes itself (exit 2, a pointer to --help); our own user
    # errors arrive here and are shown as one line, without a traceback.
    try:
        app()
    except UserError as exc:
        print(f"boldhub: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("boldhub: interrupted; nothing half-written was kept", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    run()
