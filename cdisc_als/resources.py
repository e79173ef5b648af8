"""Where the project's data folders live (mappings, templates, the embedded sample study)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
MAPPINGS_DIR = PROJECT_DIR / "mappings"
TEMPLATES_DIR = PROJECT_DIR / "templates"
SAMPLE_RAW_DIR = PACKAGE_DIR / "data" / "sample_raw"
SAMPLE_SDTM_DIR = PROJECT_DIR / "sample_sdtm"


def mappings_dir(override: str | Path | None = None) -> Path:
    """Return the mappings folder: the user's override, else the project's own."""
    return Path(override) if override else MAPPINGS_DIR
