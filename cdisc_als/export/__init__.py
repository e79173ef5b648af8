"""Submission formats: Dataset-JSON now; XPT v5 and define.xml land with the export issue."""
