"""Extractive summary: the sentences that carry the text's most frequent content words, in order."""

from __future__ import annotations

import re
from collections import Counter

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STOPWORDS = frozenset(
    "a an and are as at be been but by for from had has have he her his i if in into is it its of on or our "
    "she so than that the their them then there these they this to was we were what when which who will with "
    "would you your not no can could should do does did also more most such only over about after before".split()
)


def sentences(text: str) -> list[str]:
    """The text split into sentences (paragraph breaks end a sentence too)."""
    parts: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        flat = " ".join(paragraph.split())
        parts.extend(s.strip() for s in _SENTENCE_END.split(flat) if s.strip())
    return parts


def summarise(text: str, max_sentences: int = 3) -> str:
    """The `max_sentences` highest-scoring sentences of `text`, kept in their original order.

    A sentence scores the mean frequency (over the whole text) of its content words, so sentences
    about what the text keeps returning to win; ties go to the earlier sentence."""
    if max_sentences < 1:
        raise ValueError("max_sentences must be at least 1")
    found = sentences(text)
    if len(found) <= max_sentences:
        return " ".join(found)
    words = lambda s: [w.lower() for w in _WORD.findall(s) if w.lower() not in _STOPWORDS]  # noqa: E731
    frequency = Counter(w for s in found for w in words(s))

    def score(sentence: str) -> float:
        content = words(sentence)
        return sum(frequency[w] for w in content) / len(content) if content else 0.0

    ranked = sorted(range(len(found)), key=lambda i: (-score(found[i]), i))[:max_sentences]
    return " ".join(found[i] for i in sorted(ranked))
