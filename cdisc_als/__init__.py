"""cdisc_als: raw ALS trial data to CDISC SDTM/ADaM, validation, submission files and TLFs."""

__version__ = "0.1.0"
