"""Every log line written during the whole test run is scanned for secrets and
identifiers (issue 17): API tokens, the tests' passwords, NHS numbers, National Insurance
numbers and postcodes. A line holding one fails the run, naming the test and the kind
found (never the value).

Two sources are scanned: every record any logger in the test processes handles (caught
where all records pass, ``Logger.callHandlers``, so that loggers that do not propagate are
seen too; ``boldhub`` logs from INFO, the level the service runs at), and every ``*.log``
file that servers started as subprocesses wrote under the run's temporary folders. With
pytest-xdist each worker scans its own and leaves its findings in a folder the controller
reads at the end.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stdnum.gb import nhs

TESTS = Path(__file__).resolve().parents[1]
_ENV = "BOLDHUB_LOG_SCAN_DIR"

_TOKEN = re.compile(r"bh_[A-Za-z0-9_-]{40,}")
_NHS = re.compile(r"(?<![\w.-])(\d{3}[ -]?\d{3}[ -]?\d{4})(?![\w.-])")
_NI = re.compile(
    r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
)
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}\b")
_PASSWORD = re.compile(r'^\s*\w*PASSWORD\w*\s*=\s*"([^"]{8,})"', re.MULTILINE)


def _passwords() -> set[str]:
    found: set[str] = set()
    for path in TESTS.rglob("*.py"):
        found.update(_PASSWORD.findall(path.read_text(encoding="utf-8")))
    return found


PASSWORDS = _passwords()


def kinds_in(text: str) -> list[str]:
    """The kinds of secret or identifier ``text`` holds."""
    kinds = []
    if _TOKEN.search(text):
        kinds.append("an API token")
    if any(p in text for p in PASSWORDS):
        kinds.append("a password")
    if any(nhs.is_valid(re.sub(r"[ -]", "", m)) for m in _NHS.findall(text)):
        kinds.append("an NHS number")
    if _NI.search(text):
        kinds.append("a National Insurance number")
    if _POSTCODE.search(text):
        kinds.append("a postcode")
    return kinds


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _text(record: logging.LogRecord) -> str:
    """The record as any handler could write it: message, extras and traceback."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string is the logging module's own problem
        message = str(record.msg)
    extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
    parts = [message, json.dumps(extras, default=str)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


class LogScan:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.findings: list[dict[str, Any]] = []
        self.test = "(outside any test)"

    def record(self, record: logging.LogRecord) -> None:
        kinds = kinds_in(_text(record))
        if kinds:
            self.findings.append(
                {"test": self.test, "logger": record.name, "kinds": kinds, "where": "log record"}
            )

    def scan_files(self, root: Path) -> None:
        for path in sorted(root.rglob("*.log")):
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                kinds = kinds_in(line)
                if kinds:
                    where = f"{path.relative_to(root)} line {number}"
                    self.findings.append(
                        {"test": "(a server's log)", "logger": "", "kinds": kinds, "where": where}
                    )

    def save(self, name: str) -> None:
        (self.out / f"{name}.json").write_text(json.dumps(self.findings))


_scan: LogScan | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _scan
    if hasattr(config, "workerinput"):
        out = Path(config.workerinput[_ENV])
    else:
        out = Path(os.environ.get(_ENV) or tempfile.mkdtemp(prefix="boldhub-log-scan-"))
        os.environ[_ENV] = str(out)
    _scan = LogScan(out)
    original = logging.Logger.callHandlers

    def handled(self: logging.Logger, record: logging.LogRecord) -> None:
        if _scan is not None:
            _scan.record(record)
        original(self, record)

    logging.Logger.callHandlers = handled  # type: ignore[method-assign]
    boldhub = logging.getLogger("boldhub")
    if boldhub.level == logging.NOTSET or boldhub.level > logging.INFO:
        boldhub.setLevel(logging.INFO)


def pytest_configure_node(node: Any) -> None:  # pytest-xdist: the controller's folder
    node.workerinput[_ENV] = os.environ[_ENV]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    if _scan is not None:
        _scan.test = item.nodeid
    try:
        return (yield)
    finally:
        if _scan is not None:
            _scan.test = "(outside any test)"


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _scan is None:
        return
    config = session.config
    worker = getattr(config, "workerinput", {}).get("workerid")
    controller = worker is None and config.pluginmanager.getplugin("dsession") is not None
    if not controller:  # the controller runs no test: its workers scanned their folders
        _scan.scan_files(config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
    _scan.save(worker or "main")
    if worker is not None:
        return  # the controller reports
    findings = [
        f for path in sorted(_scan.out.glob("*.json")) for f in json.loads(path.read_text())
    ]
    if findings:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"log scan: {len(findings)} log lines hold a secret or an identifier:"]
        lines += [
            f"  {f['test']} {f['logger']} {f['where']}: {', '.join(f['kinds'])}"
            for f in findings[:50]
        ]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
