"""The conformance rule catalogue: vectorised checks over whole columns.

Each rule has an id (ALSnnnn), a severity, the standard it applies to (SDTM, ADAM or ALL), a
category, a message and, where one corresponds, the Pinnacle 21 id (P21) of the same check. The
registry and shared helpers live in `registry`; the rules themselves in `common` (every dataset),
`sdtm` and `adam`. Importing this package registers them all; RULES is kept in rule-id order.
"""

from cdisc_als.validate.rules import adam, common, sdtm  # noqa: F401  (registers the rules)
from cdisc_als.validate.rules.registry import RULES, Context, Rule

RULES.sort(key=lambda item: item.id)

__all__ = ["RULES", "Context", "Rule"]
