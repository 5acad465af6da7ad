"""`boldhub prepare` and `boldhub mapping`: run on a data provider's machine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from boldhub.cli.progress import stdout, steps
from boldhub.council import mapping as mapping_mod
from boldhub.council import prepare as prepare_mod
from boldhub.council.read import ReadOptions, read_export
from boldhub.errors import UserError
from boldhub.schemas import get_dataset

mapping_app = typer.Typer(no_args_is_help=True)

_DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}

FILE = typer.Argument(..., help="The export: CSV, Excel (.xlsx), or H-CLIC-style XML case data.")
DATASET = typer.Option(..., "--dataset", help="homelessness, probation, treatment or victims.")
PERSONAL = typer.Option(
    None,
    "--personal-data",
    help="H-CLIC XML only: the personal-data file, joined to the case file by case id.",
)
PROFILES = typer.Option(Path("profiles"), "--profiles", help="Folder of saved mapping profiles.")
ENCODING = typer.Option(
    None, "--encoding", help="CSV encoding (default: detected): utf-8, utf-16, cp1252, latin-1."
)
DELIMITER = typer.Option(
    None, "--delimiter", help="CSV delimiter (default: detected): , ; | or tab."
)
SHEET = typer.Option(None, "--sheet", help="Excel: sheet name or number (default: the first).")
JOIN_KEY = typer.Option(
    None, "--join-key", help="H-CLIC XML: the case id field both files share (default: found)."
)


def _read_options(
    encoding: str | None, delimiter: str | None, sheet: str | None, join_key: str | None
) -> ReadOptions:
    if delimiter is not None:
        delimiter = _DELIMITER_WORDS.get(delimiter.lower(), delimiter)
    return ReadOptions(encoding=encoding, delimiter=delimiter, sheet=sheet, join_key=join_key)


def prepare(
    file: Path = FILE,
    dataset: str = DATASET,
    out: Path = typer.Option(
        ...,
        "--out",
        help=(
            "Folder for prepared.parquet, quarantine.csv, warnings.csv, report.html and meta.json."
        ),
    ),
    org: str | None = typer.Option(
        None,
        "--org",
        help="Submitting organisation's code (a council's GSS code; central bodies default).",
    ),
    mapping: str | None = typer.Option(
        None,
        "--mapping",
        help=(
            "A saved mapping profile: its name (in --profiles) or its JSON file. "
            "Default: the dataset's own export layout."
        ),
    ),
    profiles: Path = PROFILES,
    personal: Path | None = PERSONAL,
    encoding: str | None = ENCODING,
    delimiter: str | None = DELIMITER,
    sheet: str | None = SHEET,
    join_key: str | None = JOIN_KEY,
    date_order: str | None = typer.Option(
        None,
        "--date-order",
        help="dmy or mdy for dates like 03/04/1980 (default: the profile's, else from the data).",
    ),
) -> None:
    """Read, map, standardise and validate an export.

    Prints `rows: input=N accepted=A quarantined=Q`; every row is either accepted or listed
    in quarantine.csv with its row number and reasons. Accepted rows with a missing or
    unusable value are listed in warnings.csv.
    """
    dataset_obj = get_dataset(dataset)
    profile = mapping_mod.load_profile(mapping, profiles) if mapping else None
    if date_order is not None:
        if date_order not in mapping_mod.DATE_ORDERS:
            raise UserError(f"--date-order {date_order} is not one of: dmy, mdy, auto")
        profile = profile or mapping_mod.builtin_mapping(dataset_obj)
        profile = replace(profile, options={**profile.options, "date_order": date_order})
    with steps(f"preparing {file.name}") as step:
        result = prepare_mod.prepare(
            file,
            dataset,
            out,
            org,
            mapping=profile,
            read_options=_read_options(encoding, delimiter, sheet, join_key),
            personal=personal,
            on_step=step,
        )
    stdout.print(
        f"rows: input={result.input_rows} accepted={result.accepted} quarantined={result.quarantined}"
    )


@mapping_app.command("suggest")
def mapping_suggest(
    file: Path = FILE,
    dataset: str = DATASET,
    save: str | None = typer.Option(
        None, "--save", help="Save the suggestion as a profile with this name."
    ),
    profiles: Path = PROFILES,
    personal: Path | None = PERSONAL,
    encoding: str | None = ENCODING,
    delimiter: str | None = DELIMITER,
    sheet: str | None = SHEET,
    join_key: str | None = JOIN_KEY,
) -> None:
    """Suggest which column holds each field; with --save, keep it as a named profile.

    Edit the saved JSON file to change a choice, then use it with `boldhub prepare --mapping`.
    """
    dataset_obj = get_dataset(dataset)
    options = _read_options(encoding, delimiter, sheet, join_key)
    export = read_export(file, options, personal=personal)
    suggested = {s.field: s for s in mapping_mod.suggest(dataset_obj, export.header)}
    for f in mapping_mod.canonical_fields(dataset_obj):
        s = suggested.get(f.name)
        column = f"{s.header}  ({s.score:.0%})" if s else "-"
        need = "required" if f.required else "optional"
        stdout.print(f"{f.name:<30} {need:<9} {column}")
    mapping = mapping_mod.suggested_mapping(dataset_obj, export.header)
    missing = [p for _f, p in mapping_mod.problems(dataset_obj, mapping, export.header)]
    if missing:
        raise UserError(
            f"{file}: {missing[0]}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            + "; map it in `boldhub council`, or write the profile by hand (docs/council.md)"
        )
    if save:
        mapping = replace(
            mapping,
            name=mapping_mod.check_profile_name(save),
            options={
                "encoding": encoding,
                "delimiter": options.delimiter,
                "sheet": export.sheet if export.format == "xlsx" else None,
            },
        )
        path = mapping_mod.save_profile(profiles, mapping)
        stdout.print(f"profile: {path}")


@mapping_app.command("list")
def mapping_list(profiles: Path = PROFILES) -> None:
    """List saved mapping profiles."""
    for m in mapping_mod.list_profiles(profiles):
        stdout.print(f"{m.name}\t{m.dataset}\t{len(m.columns)} columns")
