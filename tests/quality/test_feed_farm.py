"""Quality gate: real feed entries become articles (the feed farm of ../shared/eval/feeds).

``python -m evaluation.feeds`` serves the farm over HTTP, runs ``newswire run --once`` on
it and counts the entries carrying at least 300 characters of text that became articles.
The floor is pinned under the measured share; every entry that did not become one must
be accounted for by a dead letter naming its feed and entry, never lost.
"""

from __future__ import annotations

from evaluation.feeds import evaluate, report
from evaluation.paths import eval_dir
from tests.conftest import require_path

SHARE_FLOOR = 0.97  # measured 1.000 (371 of 371) on the development farm; 0.725 before


def test_feed_entries_become_articles() -> None:
    root = require_path(eval_dir() / "feeds" / "manifest.tsv", "the eval feeds").parent
    outcomes = evaluate(root)
    result = report(outcomes)
    assert result["entries"] >= 300, result["entries"]  # the farm was read, entries counted
    refused = "\n".join(f"{r['feed']} :: {r['entry']}: {r['reason']}" for r in result["refused"])
    assert result["share"] >= SHARE_FLOOR, f"share {result['share']:.3f}:\n{refused}"
    lost = [o for o in outcomes if not o.article and o.reason.startswith("lost")]
    assert not lost, refused
