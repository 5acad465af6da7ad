"""Every setting is documented in docs/configuration.md, with its environment variable."""

from __future__ import annotations

from pathlib import Path

from boldhub.config import Settings

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text()
    for name, field in Settings.model_fields.items():
        assert f"BOLDHUB_{name.upper()}" in text, name
        assert field.description, name


def test_clock_override(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from boldhub import clock

    monkeypatch.setenv("BOLDHUB_NOW", "2027-04-01T09:00:00+00:00")
    assert clock.now().isoformat() == "2027-04-01T09:00:00+00:00"
