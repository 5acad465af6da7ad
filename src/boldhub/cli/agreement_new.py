"""`boldhub agreement new`: draft a complete agreement file from a few plain questions
(the same ones as the hub's wizard page, from ``agreements.wizard``), or from a JSON file
of answers when no one is at the keyboard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from boldhub.agreements import wizard
from boldhub.agreements.draft import usual_dataset
from boldhub.cli.progress import stderr, stdout
from boldhub.errors import InputFileError, UserError
from boldhub.schemas import DATASETS


def _ask_text(q: wizard.Question, answers: dict[str, Any]) -> str:
    default = wizard.default_for(q.key, answers)
    if q.multiline and default:
        # A paragraph is too long to show as a prompt's default: show it, then keep it on
        # a bare Enter.
        stdout.print(f"  Suggested: {' / '.join(default.splitlines())}")
        reply = typer.prompt(
            f"{q.prompt} (Enter keeps the suggestion)", default="", show_default=False
        )
        return str(reply).strip() or default
    if not q.required:
        return str(typer.prompt(q.prompt, default="", show_default=False)).strip()
    return str(typer.prompt(q.prompt, default=default or None)).strip()


def _ask_choice(q: wizard.Question, answers: dict[str, Any]) -> str | list[str]:
    for n, (value, words) in enumerate(q.choices, start=1):
        stdout.print(f"  {n}. {value}: {words}")
    default = wizard.default_for(q.key, answers) or None
    what = "one or more, separated by commas" if q.kind == "multi" else "a name or number"
    reply = str(typer.prompt(f"{q.prompt} ({what})", default=default)).strip()
    # A choice may be given by its number in the list, as well as by its name.
    by_number = {str(n): value for n, (value, _) in enumerate(q.choices, start=1)}
    if q.kind == "choice":
        return by_number.get(reply, reply.lower())
    return [by_number.get(item, item) for item in wizard.normalise({q.key: reply})[q.key]]


def _ask_parties(answers: dict[str, Any]) -> list[dict[str, str]]:
    parties: list[dict[str, str]] = []
    while True:
        n = len(parties) + 1
        code = str(
            typer.prompt(
                f"Other party {n}: organisation code (Enter when there are no more)",
                default="",
                show_default=False,
            )
        ).strip()
        if not code:
            return parties
        dataset = str(
            typer.prompt(
                f"Other party {n}: the dataset it supplies ({', '.join(DATASETS)})",
                default=usual_dataset(code.upper()),
            )
        ).strip()
        key = str(typer.prompt(f"Other party {n}: its public signing key (ed25519:...)")).strip()
        row = {"organisation": code, "dataset": dataset, "signing_key": key}
        trial = wizard.normalise({**answers, "parties": [*parties, row]})
        mine = [m for k, m in wizard.party_problems(trial) if k.startswith(f"party-{n}-")]
        if mine:
            for message in mine:
                stderr.print(f"  {message}; enter this party again", soft_wrap=True)
            continue
        parties.append(trial["parties"][-1])


def ask() -> dict[str, Any]:
    """Every question at the prompt, each asked again until its answer is usable."""
    answers: dict[str, Any] = {}
    for q in wizard.QUESTIONS:
        stdout.print(f"\n{q.prompt}\n  {q.help}", highlight=False)
        if q.kind == "parties":
            answers[q.key] = _ask_parties(answers)
            continue
        while True:
            reply: Any = _ask_choice(q, answers) if q.choices else _ask_text(q, answers)
            value = wizard.normalise({**answers, q.key: reply})[q.key]
            found = wizard.problem(q.key, value, {**answers, q.key: value})
            if found is None:
                answers[q.key] = value
                break
            stderr.print(f"  {found}", soft_wrap=True)
    return answers


def _read_answers(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputFileError(f"answers file {path.name} not found; check the path")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InputFileError(
            f"{path.name} is not a JSON file; write the answers as a JSON object such as "
            '{"id": "bold-pilot-2026", "title": "...", ...}'
        ) from None
    if not isinstance(data, dict):
        raise InputFileError(f"{path.name} must hold one JSON object of answers")
    return data


def _print_suggestions(result: wizard.Result) -> None:
    stdout.print("\nLawful bases suggested from the catalogue (check each before relying on it):")
    for party in result.suggestions:
        stdout.print(f"\n{party.name} ({party.organisation})")
        for words, entry in party.entries:
            stdout.print(f"  {words}: {entry.title} ({entry.citation})")
            stdout.print(f"    {entry.plain}")


def new(
    out: Path = typer.Option(..., "--out", help="Where to write the draft agreement (YAML)."),
    answers: Path | None = typer.Option(
        None,
        "--answers",
        help="Take the answers from this JSON file instead of asking (keys as the "
        "questions': id, title, organisation, role, datasets, signing_key, parties, purpose, "
        "benefits, linkage_key_fingerprint, start, years).",
    ),
) -> None:
    """Draft a complete agreement from a few plain questions: who the parties are, what
    each supplies, why. Lawful bases are suggested from the catalogue and explained."""
    if out.exists():
        raise UserError(f"--out {out.name} already exists; choose a new file name")
    raw = _read_answers(answers) if answers is not None else ask()
    result = wizard.run(raw, out.name)
    if result.document is None:
        names = {q.key: q.prompt for q in wizard.QUESTIONS}
        for key, message in result.problems:
            what = names.get(key, key.replace("-", " ").replace("_", " "))
            stderr.print(f"{what}: {message}", soft_wrap=True)
        raise typer.Exit(2)
    _print_suggestions(result)
    out.write_text(result.yaml, encoding="utf-8")
    stdout.print(f"\nwritten: {out.name}")
    if result.problems:
        for _key, message in result.problems:
            stderr.print(f"{out.name}: {message}", soft_wrap=True)
        stdout.print(f"next: fix these in {out.name}, then boldhub agreement validate {out.name}")
        raise typer.Exit(2)
    stdout.print(
        f"next: boldhub agreement validate {out.name}, then register it at the hub and have "
        "every party sign"
    )


def register(app: typer.Typer) -> None:
    """Add ``new`` to ``boldhub agreement``."""
    app.command("new")(new)
