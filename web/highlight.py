"""Search matches as highlighted HTML: the view side of the search seam, which
answers ids and tiers only. Everything is HTML-escaped; matching is width- and
case-blind (``analysis.fold`` keeps offsets)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from search_index.analysis import docno_key, fold


def _spans(text: str, parts: Sequence[str]) -> list[tuple[int, int]]:
    folded = fold(text)
    spans = []
    for part in parts:
        if not part:
            continue
        start = folded.find(part)
        while start >= 0:
            spans.append((start, start + len(part)))
            start = folded.find(part, start + 1)
    if len(spans) < 2:  # nothing to sort or merge (most fields of most results)
        return spans
    spans.sort()
    merged: list[tuple[int, int]] = []
    for begin, end in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


def _marked(text: str, spans: list[tuple[int, int]]) -> Markup:
    # Escaped pieces joined as plain text and wrapped once: a page has hundreds.
    if not spans:
        return escape(text)
    out = []
    last = 0
    for begin, end in spans:
        out.append(escape(text[last:begin]))
        out.append("<mark>")
        out.append(escape(text[begin:end]))
        out.append("</mark>")
        last = end
    out.append(escape(text[last:]))
    return Markup("".join(out))


def highlight(text: str | None, parts: Sequence[str]) -> Markup:
    """``text`` HTML-escaped, with every occurrence of a part in <mark>."""
    text = text or ""
    return _marked(text, _spans(text, parts))


def highlight_whole(text: str | None, matched: bool) -> Markup:
    """The whole value in <mark> when it matched (codes and decision numbers,
    which match bracket- and space-blind)."""
    if matched and text:
        return Markup("<mark>") + escape(text) + Markup("</mark>")
    return escape(text or "")


def docno_matches(document_no: str | None, parts: Sequence[str]) -> bool:
    key = docno_key(document_no)
    return bool(key) and any(part_key and part_key in key for part_key in map(docno_key, parts))


def snippet(text: str | None, parts: Sequence[str], width: int = 90) -> Markup:
    """A window of ``text`` around its first match (or its start), highlighted."""
    text = " ".join((text or "").split())
    spans = _spans(text, parts)
    if len(text) <= width:
        return _marked(text, spans)
    start = 0
    if spans:
        start = max(0, min(spans[0][0] - width // 3, len(text) - width))
    piece = text[start : start + width]
    body = highlight(piece, parts)
    return (Markup("…") if start else Markup("")) + body + (Markup("…") if start + width < len(text) else Markup(""))
