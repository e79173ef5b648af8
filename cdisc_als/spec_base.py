"""Building blocks shared by the study specification models (cdisc_als.study, cdisc_als.study_design):
the immutable, strict pydantic base model and the constrained text types with the messages their
patterns produce."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

NAME_PATTERN = r"^[A-Z][A-Z0-9_]{0,7}$"           # SAS/XPT v5 variable name
CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_\-]{0,19}$"     # ARMCD and other short codes (SDTMIG: <= 20 characters)
SHORT_CODE_PATTERN = r"^[A-Z][A-Z0-9]{0,7}$"      # ETCD, IETESTCD, TSPARMCD: <= 8 letters/digits, no digit first
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"                # no control characters (they break XML, RTF and XLSX)

PATTERN_TEXT = {
    NAME_PATTERN: "must be a SAS name: an upper-case letter, then up to 7 upper-case letters, digits or _",
    CODE_PATTERN: "must be a code of up to 20 upper-case letters, digits, _ or -",
    SHORT_CODE_PATTERN: "must be a code of 1-8 upper-case letters or digits starting with a letter",
    PRINTABLE: "must not contain control characters (tab, line feed, NUL, \\x01-\\x1f)",
}

Text = Annotated[str, StringConstraints(pattern=PRINTABLE, max_length=200)]
Label = Annotated[str, StringConstraints(pattern=PRINTABLE, min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
ShortCode = Annotated[str, StringConstraints(pattern=SHORT_CODE_PATTERN)]


class SpecModel(BaseModel):
    """Unknown keys are errors, instances are immutable, text is stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
