"""The budget planner (issue 19): predicted release quality per epsilon, from public numbers.

:func:`plan` returns a :class:`Plan`; :func:`plan_html` renders it as a
self-contained page with the error-against-epsilon curve. See ``docs/planner.md``
for the model and its validity range.
"""

from privsynth.planner.html import plan_html
from privsynth.planner.planning import DEFAULT_EPSILONS, EpsilonPlan, Plan, plan

__all__ = ["DEFAULT_EPSILONS", "EpsilonPlan", "Plan", "plan", "plan_html"]
