"""Metadata layer: datasets, variables and codelists (see loader.py)."""

from cdisc_als.metadata.loader import (
    Codelist,
    Dataset,
    Metadata,
    MetadataError,
    Term,
    Variable,
    default_metadata,
    load_metadata,
)

__all__ = ["Codelist", "Dataset", "Metadata", "MetadataError", "Term", "Variable", "default_metadata", "load_metadata"]
