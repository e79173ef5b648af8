"""Study facts that mapping specs refer to by name ($study_id, $baseline_visit, ...), substituted in
one place so that a spec never types them.

  $study_id $registry_id $country $title $sponsor   from study.yaml
  $baseline_visit $first_visit                      visit names of study.yaml
  $cutoff_date                                      survival.cutoff_date (ISO 8601)
  $domain                                           the domain being mapped
"""

from __future__ import annotations

import re
from typing import Any

from cdisc_als.study import Study

PLACEHOLDER = re.compile(r"\$[a-z_]+")


def placeholder_values(study: Study, domain: str = "") -> dict[str, str]:
    return {"$study_id": study.study_id, "$registry_id": study.registry_id, "$country": study.country,
            "$title": study.title, "$sponsor": study.sponsor, "$baseline_visit": study.baseline_visit.visit,
            "$first_visit": study.first_visit.visit, "$cutoff_date": study.survival_cutoff.isoformat(),
            "$domain": domain}


def substitute(value: Any, study: Study, domain: str = "") -> Any:
    """value with every known $placeholder replaced, recursing into lists and mappings; an unknown
    placeholder raises KeyError naming it."""
    if isinstance(value, str):
        if "$" not in value:
            return value
        values = placeholder_values(study, domain)

        def replace(match: re.Match[str]) -> str:
            if match.group(0) not in values:
                raise KeyError(f"unknown placeholder {match.group(0)!r}; known: {', '.join(values)}")
            return values[match.group(0)]
        return PLACEHOLDER.sub(replace, value)
    if isinstance(value, dict):
        return {k: substitute(v, study, domain) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, study, domain) for v in value]
    return value
