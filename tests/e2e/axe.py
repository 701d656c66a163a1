"""The accessibility check of the browser journeys: axe-core (WCAG 2.1 A and AA) on the
current page, through axe-playwright-python, which bundles axe-core (``axe.min.js`` in the
wheel, injected into the page; nothing is fetched from a CDN).

Only violations of impact "serious" or "critical" fail (issue "Every role's front door",
Accessibility); "minor" and "moderate" ones are left to review.
"""

from axe_playwright_python.sync_playwright import Axe

#: axe-core rule tags: WCAG 2.0 and 2.1, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = ("serious", "critical")

_axe = Axe()


def violations(page):
    """The serious and critical WCAG 2.1 A/AA violations on ``page`` (axe-core's dicts)."""
    results = _axe.run(page, options={
        "runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return [v for v in results.response["violations"] if v.get("impact") in FAILING_IMPACTS]


def describe(found, context=""):
    """A readable list: one line per rule, then its elements (selector and HTML)."""
    lines = [f"{len(found)} accessibility violation(s) on {context or 'the page'}:"]
    for violation in found:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} "
                     f"({violation['helpUrl']})")
        for node in violation["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            html = " ".join(node.get("html", "").split())[:160]
            lines.append(f"    {target}  {html}")
            summary = node.get("failureSummary")
            if summary:
                lines.append("      " + " ".join(summary.split())[:240])
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page, context=""):
    """Fail with a readable list when axe-core finds a serious or critical WCAG 2.1 A/AA
    violation on the current page; ``context`` names the page in the message (default:
    its URL)."""
    found = violations(page)
    assert not found, describe(found, context or page.url)
