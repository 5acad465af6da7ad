"""Who may prepare which dataset: councils their own, central bodies and the providers a
hub registered theirs."""

from __future__ import annotations

import pytest

from boldhub.council.prepare import check_organisation
from boldhub.errors import SchemaError, UserError
from boldhub.schemas import get_dataset


def test_a_provider_registered_at_the_hub_prepares_its_data() -> None:
    # The council side cannot ask the hub; a well-formed body code is taken, and the hub
    # checks it against its registrations when the package arrives.
    org = check_organisation(get_dataset("treatment"), "PROVIDER-STMUNGOS")
    assert org.code == "PROVIDER-STMUNGOS"


def test_any_english_council_prepares_homelessness_but_no_body_does() -> None:
    assert check_organisation(get_dataset("homelessness"), "E06000001").code == "E06000001"
    with pytest.raises(SchemaError):
        check_organisation(get_dataset("homelessness"), "PROVIDER-STMUNGOS")
    with pytest.raises(SchemaError):
        check_organisation(get_dataset("treatment"), "not a code")
    with pytest.raises(UserError, match="not a council"):
        check_organisation(get_dataset("homelessness"), "MOJ-PROBATION")
