"""The clean stage's rules by name: the switch that ablation and cross-validation use.

Every rule that can drop, cut or move a line (or choose how the page is extracted) has
a name here. ``Cleaner(disabled=...)`` turns rules off by name; ``evaluation/extraction.py``
uses that to keep a rule only when it helps on pages of sites it was not chosen on
(leave-one-site-out). A verdict's label (what ``extract --explain`` prints) is the kind
of junk; several rules may share one label (``image-placeholder`` and ``image-credit``
both drop image furniture).
"""

from __future__ import annotations

from collections.abc import Iterable

RULES: dict[str, str] = {
    # extraction (extract.py)
    "favor-precision": "trafilatura in precision mode (else its balanced default)",
    "embedded-posts": "embedded tweets / Instagram posts the extractor dropped put back",
    # line rules (junk.py)
    "ad-marker": "a lone 'Advertisement' / 'Story continues below' marker",
    "image-placeholder": "a lone 'img' / 'Photo 3 of 12' placeholder",
    "image-credit": "a caption credit line: 'Photo: ...', 'Credit: Getty Images'",
    "image-credit-parenthetical": "a short line ending in '(AP Photo/...)'",
    "share-prompt": "a lone share / follow / print / 'x min read' prompt",
    "read-more": "a related-links heading: 'Related stories', 'Most read'",
    "read-more-label": "a labelled link: 'READ MORE: <headline>'",
    "plea-consent": "'By signing up you agree ...'",
    "plea-call": "a short call to action: 'Subscribe now', 'Support our journalism'",
    "plea-account": "'create an account at ...' / 'Remind me next month' in a short line",
    "plea-newsletter": "'subscribe to our newsletters' in a short line",
    "privacy-notice": "a privacy, cookie or terms notice",
    "copyright": "a line starting with '©' / 'Copyright'",
    "copyright-anywhere": "a short line holding '© 2024' or 'All rights reserved'",
    "contact-line": "an author's contact footer: 'Email ... at x@y.com or follow her @x'",
    "comment-tail": "a comment widget after the reporting: it and all after it go",
    "trailing-prompt": "a stray 'Share' glued to the end of a paragraph",
    # head and repeats (textpass.py, header.py)
    "dateline": "a leading 'date 2024-06-13' moved to the publication date",
    "title-repeat": "a first line repeating the page title",
    "headline": "a first line reading as a headline (text with no title)",
    "byline": "a byline line in the head moved to the author",
    "duplicate": "a repeated paragraph of prose kept once",
}

# Off unless asked for: leave-one-site-out cross-validation kept them in fewer than half
# of the folds (``python -m evaluation.extraction --rules``). "plea-newsletter" dropped
# one site's newsletter prompt and another's article about its newsletter.
DEFAULT_OFF = frozenset({"plea-newsletter"})


def check_rules(names: Iterable[str]) -> frozenset[str]:
    """``names`` as a set, or ``ValueError`` naming the unknown ones and the known ones."""
    found = frozenset(names)
    unknown = sorted(found - RULES.keys())
    if unknown:
        raise ValueError(f"unknown clean rule(s) {', '.join(unknown)}; "
                         f"known: {', '.join(RULES)}")
    return found
