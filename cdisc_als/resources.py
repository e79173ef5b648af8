"""Where the project's data folders live (mappings, templates, the embedded sample study).

In an installed package (wheel) mappings/ and templates/ are package data inside cdisc_als/ (setup.py
copies them there); in a source checkout they are the folders at the top of the tree.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def _data_folder(name: str) -> Path:
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PROJECT_DIR / name


MAPPINGS_DIR = _data_folder("mappings")
TEMPLATES_DIR = _data_folder("templates")
SAMPLE_RAW_DIR = PACKAGE_DIR / "data" / "sample_raw"
SAMPLE_SDTM_DIR = PROJECT_DIR / "sample_sdtm"


def mappings_dir(override: str | Path | None = None) -> Path:
    """Return the mappings folder: the user's override, else the project's own."""
    return Path(override) if override else MAPPINGS_DIR
