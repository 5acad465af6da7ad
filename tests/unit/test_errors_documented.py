"""docs/errors.md lists every error a user can meet: checked against the source itself.

Every call in ``src/boldhub`` that makes a user-facing exception (a ``UserError`` or
``Refused`` of ``boldhub.errors``, or an agreement ``Problem``) is found with ``ast``. Its
message is read as a template, with each placeholder (``{path}``) as a gap, from an
f-string, a concatenation, a module constant or a small helper that returns one; the
message's *stable text* is its first gap-free stretch of three words or more, up to the
first ``;`` or ``(`` and at most eight words. That text must appear in docs/errors.md.

So a new message fails this test until it is documented, while rewording the advice after
the ``;`` or a placeholder does not. A message with no literal text at all can be
documented only by hand: each such call is listed in ``BUILT_ELSEWHERE`` by module and
function, with where its words come from.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import boldhub.errors as errors

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "boldhub"
DOC = ROOT / "docs" / "errors.md"
GAP = "\0"

USER_FACING = {
    name
    for name, cls in vars(errors).items()
    if inspect.isclass(cls) and issubclass(cls, errors.UserError | errors.Refused)
}
# Calls whose message is made elsewhere (another exception's text, a list of problems, a
# parameter): (module, function) -> where the words come from, documented there.
BUILT_ELSEWHERE = {
    ("privacy/agreement.py", "_parties"): "`bad` wraps a message written at the call",
    ("privacy/agreement.py", "bad"): "the agreement's id, then the problem of the call",
    ("privacy/agreement.py", "parse_agreement"): "the problems of agreements/validate.py",
    ("privacy/agreement.py", "load_agreement"): "the problems of agreements/validate.py",
    ("hub/upload.py", "unpack_tar"): "UploadTooLarge's own sentence",
    ("hub/throttle.py", "check"): "TooManyAttempts's own sentence",
    ("hub/agreements.py", "require_active"): "the agreement status's reason",
    ("keyservice/service.py", "evaluate_as"): "keyservice/protocol.py's domain problem",
    ("keyservice/service.py", "set_cap"): "keyservice/protocol.py's domain problem",
    ("hub/agreements.py", "_checked_terms"): "the agreement's problems, after its id",
    ("privacy/agreement.py", "_checked"): "the problems of agreements/validate.py",
}


@dataclass(frozen=True)
class Raised:
    where: str  # file:line
    module: str
    function: str
    templates: tuple[str, ...]  # the message(s), GAP for each placeholder; () if none


Texts = Mapping[str, list[str]]


def _templates(node: ast.AST | None, known: Texts) -> list[str]:
    """The message templates an expression can be (several for a name assigned in several
    branches, or ``a if c else b``); [] when it has no literal text."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value if isinstance(v, ast.Constant) else GAP for v in node.values)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _templates(node.left, known), _templates(node.right, known)
        if not left and not right:
            return []
        return [a + b for a in (left or [GAP]) for b in (right or [GAP])]
    if isinstance(node, ast.IfExp):
        return _templates(node.body, known) + _templates(node.orelse, known)
    if isinstance(node, ast.Name):
        return known.get(node.id, [])
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return known.get(node.func.id + "()", [])
    return []


def _assigned(body: list[ast.stmt] | ast.AST, known: Texts) -> Texts:
    """Names assigned a text in ``body`` (module constants, or a function's locals), and
    functions defined there that return texts (as ``name()``)."""
    found: dict[str, list[str]] = {}
    nodes = body if isinstance(body, list) else list(ast.walk(body))
    for node in nodes:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    texts = _templates(node.value, ChainMap(found, known))
                    found.setdefault(target.id, []).extend(texts)
        elif isinstance(node, ast.FunctionDef) and isinstance(body, list):
            returns = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
            texts = [t for r in returns for t in _templates(r, ChainMap(found, known))]
            if texts:
                found[node.name + "()"] = texts
    return found


def _own_nodes(func: ast.FunctionDef) -> list[ast.AST]:
    """The nodes of ``func`` outside the functions nested in it (each is scanned itself)."""
    found: list[ast.AST] = []
    todo: list[ast.AST] = list(ast.iter_child_nodes(func))
    while todo:
        node = todo.pop()
        found.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))
    return found


def _class_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _passes_through(call: ast.Call, func: ast.FunctionDef) -> bool:
    """A call that passes on a message made elsewhere (a parameter, ``str(exc)``, or
    another error made just there): it is checked where it was written."""
    params = {a.arg for a in (*func.args.args, *func.args.kwonlyargs)}
    return any(
        (isinstance(arg, ast.Name) and arg.id in params)
        or (isinstance(arg, ast.Call) and _class_name(arg) in {*USER_FACING, "Problem", "str"})
        for arg in call.args
    )


def _is_error(call: ast.Call) -> bool:
    """A user-facing error, or an agreement file's problem (``loaded.problem(...)``)."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "problem":
        return isinstance(func.value, ast.Name) and func.value.id == "loaded"
    return _class_name(call) in USER_FACING


@functools.cache
def raised_messages() -> tuple[Raised, ...]:
    """Every construction of a user-facing error in the package, with its templates."""
    found: list[Raised] = []
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))}
    own = {p: _assigned(tree.body, {}) for p, tree in trees.items()}
    helpers = {k: v for texts in own.values() for k, v in texts.items() if k.endswith("()")}
    for path, tree in trees.items():
        module = str(path.relative_to(PACKAGE))
        constants = ChainMap(own[path], helpers)
        for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            calls = [n for n in _own_nodes(func) if isinstance(n, ast.Call) and _is_error(n)]
            if not calls:
                continue
            known = ChainMap(_assigned(func, constants), constants)
            for call in calls:
                texts = [t for arg in call.args for t in _templates(arg, known)]
                if not call.args or (not texts and _passes_through(call, func)):
                    continue
                # The message is the longest text argument (Problem also has a title).
                longest = max(map(len, texts), default=0)
                kept = tuple(t for t in texts if len(t) == longest or len(t) > 40)
                found.append(Raised(f"{module}:{call.lineno}", module, func.name, kept))
    return tuple(found)


def stable_text(template: str) -> list[str] | None:
    """The message's literal words up to its first ``;`` or ``(``, as the stretches between
    its placeholders, eight words at most in all; None with fewer than two words."""
    head = re.split(r";|\s\(", template, maxsplit=1)[0]
    if len(head.replace(GAP, " ").split()) < 2:
        head = template  # "{what}; this version reads...": the advice is the stable part
    chunks: list[str] = []
    words = 0
    for part in head.split(GAP):
        part_words = part.strip(" :,.'\"`-").split()
        if not part_words:
            continue
        part_words = part_words[: 8 - words]
        chunks.append(" ".join(part_words))
        words += len(part_words)
        if words >= 8:
            break
    return chunks if words >= 2 else None


def _normal(text: str) -> str:
    return " ".join(text.replace("`", "").replace("\\", "").lower().split())


def documented(chunks: list[str], doc: str) -> bool:
    """The chunks appear in order on one line of the (normalised) doc, each placeholder
    standing for a few words (``FILE``, ``NAME``...)."""
    pattern = r"[^\n]{0,80}?".join(re.escape(_normal(c)) for c in chunks)
    return re.search(pattern, doc) is not None


def undocumented(doc_text: str) -> list[str]:
    doc = "\n".join(_normal(line) for line in doc_text.splitlines())
    missing = []
    for raised in raised_messages():
        stable = [s for s in map(stable_text, raised.templates) if s is not None]
        if not stable:
            if (raised.module, raised.function) not in BUILT_ELSEWHERE:
                missing.append(f"{raised.where}: a message with no stable text; document it")
            continue
        for chunks in stable:
            if not documented(chunks, doc):
                missing.append(f"{raised.where}: {' … '.join(chunks)!r}")
    return missing


def test_every_user_error_message_is_in_docs_errors_md() -> None:
    missing = undocumented(DOC.read_text(encoding="utf-8"))
    assert not missing, "add these to docs/errors.md:\n" + "\n".join(missing)


def test_every_user_facing_exception_class_is_in_docs_errors_md() -> None:
    doc = DOC.read_text(encoding="utf-8")
    absent = sorted(name for name in USER_FACING if f"`{name}`" not in doc)
    assert not absent, absent


def test_the_scan_finds_what_it_should() -> None:
    """The checker itself: it reads messages in every form they are written, and fails on
    one the page does not hold."""
    found = raised_messages()
    assert len(found) > 250
    templates = [t for r in found for t in r.templates]
    assert any(t.startswith("hash check failed") for t in templates)  # an f-string
    assert any("the body is not an uncompressed tar" in t for t in templates)  # a constant
    assert any("unknown organisation code" in t for t in templates)  # a helper's return
    assert any("must be a date written as" in t for t in templates)  # a local, by branch
    assert stable_text(f"{GAP}: file not found; check the path") == ["file not found"]
    assert stable_text(f"key file {GAP} is damaged (the key") == ["key file", "is damaged"]
    assert stable_text(f"{GAP}: {GAP}") is None
    doc = DOC.read_text(encoding="utf-8")
    assert undocumented(doc) == []
    assert any("hash check failed" in m for m in undocumented(doc.replace("hash check", "")))
    for module, function in BUILT_ELSEWHERE:
        assert any(r.module == module and r.function == function for r in found), module
