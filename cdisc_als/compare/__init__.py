"""Dataset and ARD comparison (PROC COMPARE / diffdf for Python)."""

from cdisc_als.compare.ard import compare_ard
from cdisc_als.compare.core import (
    BITS,
    CompareError,
    CompareResult,
    DuplicateKeyError,
    compare_datasets,
    decode_sysinfo,
)
from cdisc_als.compare.report import write_workbook
from cdisc_als.compare.sources import ComparableDataset, VariableAttrs, from_frame, read_xpt

__all__ = ["BITS", "ComparableDataset", "CompareError", "CompareResult", "DuplicateKeyError", "VariableAttrs",
           "compare_ard", "compare_datasets", "decode_sysinfo", "from_frame", "read_xpt", "write_workbook"]
