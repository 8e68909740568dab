"""The lexical side of retrieval: a tokenizer that meets British and American spellings and word forms
halfway, and Okapi BM25 over the chunks, so exact terms ("spoke-wheel", "Breslow") are found even when
the embedding misses them."""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its itself just me more most my no nor not now
of off on once only or other our out over own same she should so some such than that the their them
then there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours tell explain describe mean means meant look like
looks typically typical usually kind sort thing things really actually please give list run me through
goes go get gets got many much ever whether versus vs lot
""".split())

_WORD = re.compile(r"[a-z0-9]+(?:[-_'][a-z0-9]+)*")
_THOUSANDS = re.compile(r"(?<=\d)[,\s](?=\d{3}\b)")
_OE_DIGRAPH = re.compile(r"^oe|(?<=^f)oe|(?<=rrh)oe")
_LATIN_PLURALS = {"nevi": "nevus", "nevu": "nevus", "melanocyti": "melanocyt"}
# A contraction's clitic is no content word: "what's", "isn't", "I've" would otherwise yield the terms "what",
# "isnt" and "ive", which no passage holds (they weigh as the rarest terms and drag a question's coverage down).
_NEGATED_MODAL = re.compile(r"\b(ca|wo|sha)n['’]t\b")
_MODAL = {"ca": "can", "wo": "will", "sha": "shall"}
_CLITIC = re.compile(r"n['’]t\b|['’](s|ve|re|ll|d|m)\b")


def _normalise_word(word: str) -> str:
    # British and American spellings meet in one form: naevus/nevus, oedema/edema, colour/color.
    # ("oe" only where it is the British digraph: oedema, oesophagus, foetal, diarrhoea; not "goes".)
    word = _OE_DIGRAPH.sub("e", word.replace("ae", "e"))
    if len(word) > 5 and word.endswith(("our", "ours")):
        word = word.replace("our", "or")
    word = re.sub(r"is(e|ed|es|ing|ation|ations)$", r"iz\1", word)
    return _stem(word)


def _stem(word: str) -> str:
    """A deliberately small suffix stripper: enough to match plurals and verb forms."""
    if word.isdigit() or len(word) <= 3:
        return word
    if word.endswith("osis") or word.endswith("oses"):
        return word[:-2]
    if word.endswith(("ies", "ied")) and len(word) > 4:
        return word[:-3] + "y"  # classifies, classified -> classify
    if word.endswith(("ification", "ifications")):
        return word[: word.rindex("ification")] + "ify"  # classification -> classify
    for suffix in ("ness", "ations", "ation", "ments", "ment", "ings", "ing", "edly", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # tanning -> tan, scarring -> scar
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    # Final e goes (globule/globules, dose/doses) unless the stem would keep no inner vowel (ABCDE vs ABCD).
    if word.endswith("e") and len(word) >= 4 and re.search(r"[aeiouy]", word[1:-1]):
        word = word[:-1]
    return _LATIN_PLURALS.get(word, word)


def tokenize(text: str, keep_compound: Callable[[str], bool] | None = None) -> list[str]:
    """Lower-cased, normalised content words; 'spoke-wheel' yields 'spokewheel', 'spoke' and 'wheel'.

    `keep_compound` (e.g. "the corpus knows it") decides whether such a joined form is kept: "30-year-old" as
    "30yearold" is in no passage, and an unknown term weighs as the rarest, although its parts say it all."""
    tokens: list[str] = []
    text = text.lower()
    if not text.isascii():  # "Sézary" as "sezary", as people type it
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _CLITIC.sub(" ", _NEGATED_MODAL.sub(lambda m: f"{_MODAL[m.group(1)]} not", text))
    for match in _WORD.finditer(_THOUSANDS.sub("", text)):
        parts = [p for p in re.split(r"[-_']", match.group()) if p]
        if len(parts) > 1:
            joined = _normalise_word("".join(parts))
            if keep_compound is None or keep_compound(joined):
                tokens.append(joined)
        # Checked again once normalised: "whats" and "lots" are "what" and "lot".
        tokens.extend(word for p in parts if p not in STOPWORDS and (len(p) > 1 or p.isdigit())
                      for word in [_normalise_word(p)] if word not in STOPWORDS)
    return tokens


class SpellingCorrector:
    """Query terms unknown to the corpus, one edit away from a known one, are read as that term ("venus lake",
    "fitzpatrik", "freckel"): the symmetric-deletion method (Garbe's SymSpell), edit distance 1 including an adjacent
    swap, the most frequent candidate winning. Short terms (under 5 letters) and terms with digits are left alone:
    too many real words lie one edit from them."""

    MIN_LENGTH = 5

    def __init__(self, document_freq: dict[str, int]) -> None:
        self.document_freq = document_freq
        self._by_deletion: dict[str, list[str]] = {}
        for term in document_freq:
            if term.isalpha() and len(term) >= self.MIN_LENGTH - 1:
                for variant in {term, *self._deletions(term)}:
                    self._by_deletion.setdefault(variant, []).append(term)

    @staticmethod
    def _deletions(term: str) -> set[str]:
        return {term[:i] + term[i + 1:] for i in range(len(term))}

    def correct(self, term: str) -> str:
        if term in self.document_freq or len(term) < self.MIN_LENGTH or not term.isalpha():
            return term
        candidates = {c for variant in {term, *self._deletions(term)} for c in self._by_deletion.get(variant, ())}
        candidates.discard(term)
        if not candidates:
            return term
        return max(sorted(candidates), key=lambda c: self.document_freq[c])


class BM25:
    """Okapi BM25 over pre-tokenised passages (k1 = 1.2, b = 0.75, Lucene-style non-negative IDF)."""

    def __init__(self, corpus: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.term_freqs = [Counter(doc) for doc in corpus]
        self.lengths = [len(doc) for doc in corpus]
        self.avg_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        document_freq: Counter[str] = Counter()
        for tf in self.term_freqs:
            document_freq.update(tf.keys())
        n = len(corpus)
        self.idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in document_freq.items()}
        self.speller = SpellingCorrector(dict(document_freq))
        # A term absent from the corpus is as informative as the rarest possible term.
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    def term_idf(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def scores(self, query_terms: Iterable[str]) -> list[float]:
        terms = [t for t in set(query_terms) if t in self.idf]
        out = []
        for tf, length in zip(self.term_freqs, self.lengths):
            norm = self.k1 * (1 - self.b + self.b * length / self.avg_length) if self.avg_length else self.k1
            out.append(sum(self.idf[t] * tf[t] * (self.k1 + 1) / (tf[t] + norm) for t in terms if t in tf))
        return out

    def coverage(self, query_terms: Sequence[str], doc_terms: Iterable[str]) -> float:
        """IDF-weighted share of the distinct query terms that occur in `doc_terms` (0..1)."""
        query = set(query_terms)
        total = sum(self.term_idf(t) for t in query)
        if not total:
            return 0.0
        present = set(doc_terms)
        return sum(self.term_idf(t) for t in query if t in present) / total
