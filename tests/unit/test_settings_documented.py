"""Every setting is documented in docs/configuration.md, with its environment variable."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_clock_follows_a_changed_override(monkeypatch: pytest.MonkeyPatch) -> None:
    from boldhub import clock

    monkeypatch.setenv("BOLDHUB_NOW", "2027-04-01T09:00:00")
    assert clock.now().isoformat() == "2027-04-01T09:00:00+00:00"  # no offset: UTC
    monkeypatch.setenv("BOLDHUB_NOW", "2028-01-02T03:04:05+01:00")
    assert clock.now().isoformat() == "2028-01-02T03:04:05+01:00"
    monkeypatch.setenv("BOLDHUB_NOW", "")
    assert clock.now().year != 2028
    monkeypatch.delenv("BOLDHUB_NOW")
    assert clock.now().tzinfo is not None


def test_clock_override_that_is_not_iso_8601_is_a_user_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from boldhub import clock
    from boldhub.errors import UserError

    monkeypatch.setenv("BOLDHUB_NOW", "yesterday")
    with pytest.raises(UserError, match=r"BOLDHUB_NOW='yesterday' is not an ISO 8601 timestamp"):
        clock.now()
