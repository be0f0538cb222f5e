"""A short passage of an article around its first match, matches marked ``[[like this]]``."""

from __future__ import annotations

Evidence = tuple[str, str, int, int]


def snippet(text: str, evidence: list[Evidence], width: int = 220) -> str:
    spans = sorted({(s, e) for f, _w, s, e in evidence if f == "text"})
    if not spans:
        head = " ".join(text[:width].split())
        return head + ("…" if len(text) > width else "")
    first = spans[0][0]
    start = max(0, text.rfind(" ", 0, max(0, first - width // 3)) + 1)
    end = min(len(text), start + width)
    end = text.find(" ", end) if text.find(" ", end) != -1 else len(text)
    out, cursor = [], start
    for s, e in spans:
        if s < cursor or e > end:
            continue
        out += [text[cursor:s], "[[", text[s:e], "]]"]
        cursor = e
    out.append(text[cursor:end])
    body = " ".join("".join(out).split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
