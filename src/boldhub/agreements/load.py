"""Read an agreement file, remembering the line of every value, so that each problem can
be reported as ``FILE:LINE: field: what is wrong and what to do``.

YAML is read with ruamel.yaml's round-trip loader, which keeps each key's line; JSON is
YAML too, so the older JSON agreements go through the same reader. Values come back as
plain JSON data (dates as ISO text): the canonical bytes that parties sign are made from
that data, so the file's layout and comments never change what is signed.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from boldhub.errors import AgreementFileError as AgreementFileError
from boldhub.errors import RepeatedYaml

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an agreement file, where it is and what to do about it."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field or '(file)'}: {self.message}"


@dataclass
class Loaded:
    """An agreement file's data and the line of each of its values (1-based)."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """The line of ``path``, or of its nearest parent that has one (a missing field is
        reported at the object that should hold it)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def problem(self, path: Path_, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), message)


def dotted(path: Path_) -> str:
    """``("parties", 0, "role")`` as ``parties[0].role``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _plain(node: Any, path: Path_, lines: dict[Path_, int], seen: set[int]) -> Any:
    if isinstance(node, CommentedMap | CommentedSeq):
        # An alias of a mapping or list copies it here; nested aliases multiply (YAML's
        # "billion laughs": a few hundred bytes that expand to gigabytes). An agreement
        # is written out in full, so a second visit is refused before anything expands.
        if id(node) in seen:
            raise RepeatedYaml(path, dotted(path))
        seen.add(id(node))
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            child = (*path, str(key))
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                lines[child] = node.lc.key(key)[0] + 1
            out[str(key)] = _plain(value, child, lines, seen)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            child = (*path, i)
            with contextlib.suppress(KeyError, TypeError, AttributeError):
                lines[child] = node.lc.item(i)[0] + 1
            items.append(_plain(value, child, lines, seen))
        return items
    if isinstance(node, datetime | date):
        return node.isoformat()
    # ruamel's scalar subclasses (ScalarFloat, ScalarInt, ...) become the plain types.
    if node is None or isinstance(node, bool):
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return str(node)


class _Constructor(RoundTripConstructor):
    """Dates stay text: the schema checks them, so a date such as 2026-13-01 is a problem
    on its line, not a crash of the reader."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)


def load_text(text: str, file: str) -> Loaded:
    """Parse agreement text (YAML or JSON); AgreementFileError naming the line if it is
    not YAML at all."""
    yaml = YAML(typ="rt", pure=True)
    yaml.Constructor = _Constructor
    try:
        raw = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = (exc.problem or "not valid YAML").strip()
        opened = exc.context_mark
        if exc.context and opened is not None and opened.line + 1 != line:
            # Say where the unfinished thing began: an unclosed bracket or quote is
            # reported where the reader gave up, often far below it.
            what += f" ({exc.context.strip()} on line {opened.line + 1})"
        raise AgreementFileError(
            Problem(
                file,
                line,
                "yaml",
                f"YAML syntax error: {what}; check the indentation, brackets and quoting "
                "here and above",
            )
        ) from None
    except YAMLError as exc:
        raise AgreementFileError(
            Problem(file, 1, "yaml", f"not a YAML file ({exc.__class__.__name__})")
        ) from None
    lines: dict[Path_, int] = {(): 1}
    try:
        data = _plain(raw, (), lines, set())
    except RepeatedYaml as exc:
        line = next((lines[exc.path[:end]] for end in range(len(exc.path), -1, -1)
                     if exc.path[:end] in lines), 1)  # fmt: skip
        raise AgreementFileError(
            Problem(
                file,
                line,
                dotted(exc.path),
                "repeats an earlier part of the file through a YAML alias (*name); write "
                "the value out in full: agreement files use no anchors or aliases",
            )
        ) from None
    return Loaded(file, data, lines)


def load_path(path: Path) -> Loaded:
    """Read an agreement file (YAML, or the older JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise AgreementFileError(
            Problem(path.name, 1, "yaml", "not UTF-8 text; save the agreement as UTF-8 YAML")
        ) from None
    return load_text(text, str(path))


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """The bytes every party signs: the agreement's data as JSON with sorted keys and no
    spaces, UTF-8. The same data gives the same bytes whatever the file's layout."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def dump_yaml(document: dict[str, Any]) -> str:
    """An agreement document as the YAML file a DPO reads and edits (block style)."""
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    # Long texts stay on one line: folding them leaves trailing spaces in the file.
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(_pairs_inline(document), buffer)
    return buffer.getvalue()


def _pairs_inline(value: Any) -> Any:
    """A copy in which each two-name list (a linked pair) is written ``[a, b]``."""
    if isinstance(value, dict):
        return {k: _pairs_inline(v) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) == 2 and all(isinstance(v, str) and " " not in v for v in value):
            pair = CommentedSeq(value)
            pair.fa.set_flow_style()
            return pair
        return [_pairs_inline(v) for v in value]
    return value


# Signatures over an agreement cover its canonical bytes behind this context, so that a
# signature made for an agreement can never be taken for one over anything else the same
# key signs (an organisation's key also signs its packages' manifests).
SIGNING_CONTEXT = b"boldhub-agreement-signature v1\n"


def signed_message(document: dict[str, Any]) -> bytes:
    """What a party's sign-off signs: the context, then the canonical bytes."""
    return SIGNING_CONTEXT + canonical_bytes(document)
