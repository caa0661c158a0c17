"""axe-core in the browser tests, from its npm package (package.json at the repository root,
installed into node_modules/ by `npm ci`; `python3 dev.py test` does that), never from a CDN.

axe runs in an isolated world of the page (CDP Page.createIsolatedWorld): it shares the page's
DOM but not its JavaScript globals, so neither the page's scripts nor its Content-Security-Policy
(which would refuse an injected <script>) get in its way, and the CSP watcher of conftest.py still
sees everything the page itself does. Chromium runs no timers in such a world while the context's
JavaScript is switched off, so "JavaScript off" here means the page's own scripts are blocked
(`block_own_scripts`) while axe runs.
"""

import json
from pathlib import Path

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA: gated. axe's best-practice rules: reported only.
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BEST_PRACTICE = "best-practice"
TIMEOUT_MS = 30_000


def axe_source() -> str:
    require_or_skip(AXE.exists(), f"{AXE.relative_to(ROOT)} is missing: run `npm ci` in {ROOT} (Node.js 20)",
                    "WINGMAN_REQUIRE_BROWSER")
    return AXE.read_text()


def block_own_scripts(page, base_url: str) -> None:
    """The page as with JavaScript off: every script the site serves is refused (axe is not one of them)."""
    page.route(f"{base_url}/**/*.js", lambda route: route.abort("blockedbyclient"))


_RUN = """
Promise.race([
  axe.run(document, %(options)s),
  new Promise((_, fail) => setTimeout(() => fail(new Error("axe took longer than %(timeout)d ms")), %(timeout)d)),
]).then((result) => JSON.stringify(result.violations.map((v) => ({
  id: v.id, impact: v.impact, tags: v.tags, help: v.help,
  nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary})),
}))))
"""


def run_axe(page, *, cssom: bool = True) -> list[dict]:
    """axe's violations on the page as it is now, WCAG and best-practice rules alike (see `split`).

    cssom=False: axe does not re-read the page's stylesheets (its css-orientation-lock rule needs them),
    which it does by inserting a <style> per @import it finds, refused under the strict CSP: the admin's
    forms.css imports widgets.css. Our own stylesheets import nothing."""
    source = axe_source()
    cdp = page.context.new_cdp_session(page)
    try:
        frame = cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
        world = cdp.send("Page.createIsolatedWorld", {"frameId": frame, "worldName": "axe"})["executionContextId"]
        _evaluate(cdp, world, source)
        options = json.dumps({"runOnly": {"type": "tag", "values": [*WCAG, BEST_PRACTICE]},
                              "resultTypes": ["violations"], "preload": cssom})
        answer = _evaluate(cdp, world, _RUN % {"options": options, "timeout": TIMEOUT_MS}, awaitPromise=True,
                           returnByValue=True)
        return json.loads(answer["value"])
    finally:
        cdp.detach()


def _evaluate(cdp, world: int, expression: str, **options) -> dict:
    answer = cdp.send("Runtime.evaluate", {"expression": expression, "contextId": world, **options})
    if "exceptionDetails" in answer:
        details = answer["exceptionDetails"]
        raise AssertionError(f"axe failed in the page: {details.get('exception', {}).get('description', details)}")
    return answer["result"]


def split(violations: list[dict]) -> tuple[list[dict], list[dict]]:
    """(WCAG A/AA violations, best-practice-only violations)."""
    wcag = [v for v in violations if set(v["tags"]) & set(WCAG)]
    return wcag, [v for v in violations if v not in wcag]


def counts(violations: list[dict]) -> dict[str, int]:
    """Rule id -> how many elements break it."""
    return {v["id"]: len(v["nodes"]) for v in sorted(violations, key=lambda v: v["id"])}


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}, {len(v['nodes'])} element(s)")
        for node in v["nodes"][:3]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {' '.join(node['target'])}: {summary[:300]}")
    return "\n".join(lines)
