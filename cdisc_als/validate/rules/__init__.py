"""The conformance rule catalogue: vectorised checks over whole columns.

Each rule has an id (ALSnnnn), a severity, the standard it applies to (SDTM, ADAM or ALL), a
category, a message and, where one corresponds, the Pinnacle 21 id of the same check. The
registry and shared helpers live in `registry`; the rules in `common` (every dataset),
`sdtm_general`, `sdtm_subject`, `sdtm_findings`, `relationship` (SUPP--, RELREC, CO),
`trial_design` (TA, TE, TV, TI, TS, SE), `define` (define.xml) and `adam`. Importing this package
registers them all; RULES is kept in rule-id order.
"""

from cdisc_als.validate.rules import (  # noqa: F401  (registers the rules)
    adam,
    common,
    define,
    relationship,
    sdtm_findings,
    sdtm_general,
    sdtm_subject,
    trial_design,
)
from cdisc_als.validate.rules.registry import RULES, Context, Hits, Rule

RULES.sort(key=lambda item: item.id)
ids = [r.id for r in RULES]
assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})

__all__ = ["RULES", "Context", "Hits", "Rule"]
