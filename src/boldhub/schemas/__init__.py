"""Canonical, versioned schemas: the four datasets and the identifier block.

Nothing in this package imports from any other part of boldhub: every stage depends on it.
"""

from boldhub.schemas.datasets import (
    DATASETS,
    SCHEMA_VERSION,
    AttributeField,
    Dataset,
    get_dataset,
)
from boldhub.schemas.identifiers import IDENTIFIER_FIELDS, IdentifierField
from boldhub.schemas.organisations import CENTRAL_BODIES, COUNCILS, Organisation, get_organisation

__all__ = [
    "CENTRAL_BODIES",
    "COUNCILS",
    "DATASETS",
    "IDENTIFIER_FIELDS",
    "SCHEMA_VERSION",
    "AttributeField",
    "Dataset",
    "IdentifierField",
    "Organisation",
    "get_dataset",
    "get_organisation",
]
