"""Emerging-topic discovery: clusters of recent notes that fit no topic (free text, low confidence).

Notes are reduced to word stems (Snowball, Russian and English) so word forms meet, weighted by TF-IDF,
and grouped by average-linkage agglomerative clustering on cosine distance. Each cluster of at least
``min_size`` notes is reported with its keywords (the most common surface form of its top stems), its
size, how many notes fell in the recent window versus the window before it (growth), and example
indices; callers mask personal data before examples leave the operator's screen.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import Stemmer
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.features import normalise

MAX_NOTES = 2000
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_CYR = re.compile(r"[а-я]")
STOP = set(
    [
        "абонент",
        "абонентка",
        "клиент",
        "клиентка",
        "говорит",
        "сообщил",
        "сообщила",
        "просит",
        "помочь",
        "звонит",
        "звонил",
        "жалуется",
        "что",
        "как",
        "это",
        "уже",
        "еще",
        "все",
        "или",
        "так",
        "его",
        "она",
        "они",
        "мне",
        "меня",
        "мой",
        "моя",
        "нет",
        "для",
        "при",
        "без",
        "над",
        "под",
        "про",
        "чтобы",
        "если",
        "когда",
        "здравствуйте",
        "пожалуйста",
        "хочет",
        "хочу",
        "можно",
        "нужно",
        "надо",
        "очень",
        "тоже",
        "только",
        "был",
        "была",
        "было",
        "были",
        "есть",
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "have",
        "has",
        "not",
        "but",
        "are",
        "was",
        "were",
        "you",
        "your",
        "customer",
        "says",
        "caller",
        "calling",
        "about",
        "please",
        "help",
        "hello",
        "wants",
    ]
)


@dataclass
class Cluster:
    keywords: list[str]
    members: list[int]  # indices into the input
    recent: int
    previous: int
    examples: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def growth(self) -> float | None:
        """recent / previous window count; None when nothing came before (a new cluster)."""
        return round(self.recent / self.previous, 2) if self.previous else None


class _Stems:
    def __init__(self) -> None:
        self.ru = Stemmer.Stemmer("russian")
        self.en = Stemmer.Stemmer("english")
        self.surface: dict[str, Counter[str]] = defaultdict(Counter)

    def __call__(self, text: str) -> list[str]:
        out = []
        for w in _WORD.findall(normalise(text)):
            if w in STOP:
                continue
            s = (self.ru if _CYR.search(w) else self.en).stemWord(w)
            self.surface[s][w] += 1
            out.append(s)
        return out


def find_clusters(
    texts: Sequence[str],
    times: Sequence[datetime],
    now: datetime,
    *,
    recent_window: timedelta = timedelta(days=1),
    min_size: int = 3,
    distance_threshold: float = 0.75,
    n_keywords: int = 5,
    n_examples: int = 3,
) -> list[Cluster]:
    """Clusters of ``texts`` (largest first). ``times`` are the notes' times, for growth."""
    texts, times = list(texts)[-MAX_NOTES:], list(times)[-MAX_NOTES:]
    stems = _Stems()
    docs = [stems(t) for t in texts]
    usable = [i for i, d in enumerate(docs) if d]
    if len(usable) < min_size:
        return []
    vec = TfidfVectorizer(analyzer=lambda d: d, min_df=2, max_features=3000, sublinear_tf=True)
    try:
        x = vec.fit_transform([docs[i] for i in usable])
    except ValueError:  # no stem occurs twice
        return []
    keep = np.flatnonzero(np.asarray(x.sum(axis=1)).ravel() > 0)
    if len(keep) < min_size:
        return []
    dense = x[keep].toarray()
    labels = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance_threshold
    ).fit_predict(dense)
    vocab = np.asarray(vec.get_feature_names_out())
    clusters = []
    for lab in np.unique(labels):
        rows = np.flatnonzero(labels == lab)
        if len(rows) < min_size:
            continue
        members = [usable[keep[r]] for r in rows]
        weights = dense[rows].mean(axis=0)
        top = [str(vocab[j]) for j in np.argsort(-weights)[:n_keywords] if weights[j] > 0]
        keywords = [stems.surface[s].most_common(1)[0][0] for s in top]
        recent = sum(1 for m in members if times[m] >= now - recent_window)
        previous = sum(1 for m in members if now - 2 * recent_window <= times[m] < now - recent_window)
        # examples: the notes closest to the cluster centre
        centre = weights / (np.linalg.norm(weights) or 1.0)
        closeness = dense[rows] @ centre
        examples = [usable[keep[rows[j]]] for j in np.argsort(-closeness)[:n_examples]]
        clusters.append(Cluster(keywords, members, recent, previous, examples))
    clusters.sort(key=lambda c: -c.size)
    return clusters
