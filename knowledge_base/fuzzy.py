"""Typo tolerance for short queries: unknown words are replaced by the nearest word of the articles.

The vocabulary is every word of the (non-archived) articles with its frequency. A query word is
*known* when it, or its stem, occurs in the articles; an unknown word of three letters or more is
replaced by the vocabulary word at the smallest Levenshtein distance (at most 1 for words up to five
letters, 2 for longer ones) that starts with the same letter (typos rarely hit the first letter, and
this keeps the comparison to a small slice of a large vocabulary), the most frequent on a tie. Long queries are left alone: with many words
the AND/OR search already copes, and a "correction" is more likely to be wrong.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from knowledge_base import text as kbtext

SHORT_QUERY_WORDS = 3


class Vocabulary:
    def __init__(self, texts: Iterable[str] = ()):
        self.freq: Counter[str] = Counter()
        for t in texts:
            self.freq.update(w for w in kbtext.words(t) if len(w) >= 2)
        self.stems = {kbtext.stem(w) for w in self.freq}
        self._by_key: dict[tuple[str, int], list[str]] = defaultdict(list)
        for w in self.freq:
            self._by_key[(w[0], len(w))].append(w)

    def __len__(self) -> int:
        return len(self.freq)

    def known(self, word: str) -> bool:
        return word in self.freq or word in kbtext.STOPWORDS or kbtext.stem(word) in self.stems

    def nearest(self, word: str) -> str | None:
        """The closest vocabulary word within the allowed distance, or None."""
        limit = 1 if len(word) <= 5 else 2
        choices: list[str] = []
        for n in range(len(word) - limit, len(word) + limit + 1):
            choices.extend(self._by_key.get((word[0], n), ()))
        hits = process.extract(word, choices, scorer=Levenshtein.distance, score_cutoff=limit, limit=None)
        if not hits:
            return None
        best = min(hits, key=lambda h: (h[1], -self.freq[h[0]], h[0]))
        return str(best[0])

    def correct(self, query: str) -> str | None:
        """The corrected query when a short query has unknown words that could be fixed, else None."""
        ws = kbtext.words(query)
        if not ws or len([w for w in ws if w not in kbtext.STOPWORDS]) > SHORT_QUERY_WORDS:
            return None
        changed = False
        out = []
        for w in ws:
            if len(w) >= 3 and not w.isdigit() and not self.known(w):
                fixed = self.nearest(w)
                if fixed:
                    out.append(fixed)
                    changed = True
                    continue
            out.append(w)
        return " ".join(out) if changed else None
