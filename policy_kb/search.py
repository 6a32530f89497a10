"""Ranking clauses and sentences for a question.

Two signals are combined:

* keyword hits: the clause keywords of clauses.yml (plus glossary terms of the
  clauses they relate to, at a low weight) found in the question, longest
  match first without overlaps; a parent clause's keywords count for its
  paragraphs;
* BM25 (rank-bm25) over the clause titles and texts, tokenised with a private
  jieba tokenizer that knows every KB term.

Words every clause shares (山区县, 支持, 倾斜 …) are stopwords for BM25, and
department names are blanked out of the question (responsibility is answered
from the units lines, not by ranking).  Both signals are squashed into [0, 1) and combined as a noisy-or::

    kw   = 1 - exp(-keyword_weight_sum / KW_SCALE)
    bm   = 1 - exp(-bm25 / BM25_SCALE)
    score = (1 - (1 - kw) * (1 - bm)) * (COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * coverage)

where coverage is the share of the question's content words (jieba precise
mode, stopwords dropped) that occur anywhere in the knowledge base: a question
about 高考分数线 shares one word with 第三条 but is mostly about something
else.  So scores are comparable across questions.  Thresholds (see also README.md):
``score >= CONFIDENT`` (0.5) answer from the top clause; ``PLAUSIBLE`` (0.3) to
0.5 answer but offer the runner-up / ask to confirm; below 0.3 treat the
question as not covered by this document.
"""
from __future__ import annotations

import math
import re
import threading
from difflib import SequenceMatcher
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import jieba
from rank_bm25 import BM25Okapi

from .facts import is_denied
from .lexicon import LongestMatch
from .models import Clause, GlossaryEntry, SearchHit
from .text import CLAUSE_OR_SPACE, normalise

KW_SCALE = 4.0
BM25_SCALE = 10.0
CONFIDENT = 0.5
PLAUSIBLE = 0.3
GLOSSARY_WEIGHT = 1.5
# Where a message's last clause starts (the one that asks, after a description).
# The one something is asked of again, before "也" ("那高级职称也是…").
_ALSO_OF = re.compile(r"^(?:那|那么|那要是|那如果)?(.+?)(?:是不是|能不能)?也")
COVERAGE_FLOOR = 0.4

STOPWORDS = frozenset(
    """
    的 了 吗 呢 吧 啊 呀 么 嘛 哦 哈 是 不是 有 没有 有没有 能 能否 能不能 可以 可不可以 会 要 想 该 应该
    什么 怎么 怎么样 怎样 如何 哪些 哪个 哪里 哪儿 多少 几 为什么 为何 啥 咋 吗 么
    我 我们 你 你们 您 他 她 它 他们 自己 这 那 这个 那个 这些 那些 这里 这块 这项 一下 一些
    和 与 及 以及 或 或者 在 对 给 为 被 把 就 都 也 还 又 再 而 但 但是 如果 因为 所以 的话
    请问 请 问 麻烦 谢谢 你好 您好 政策 规定 文件 意见 本 条 项 里 中 上 下 个 等 方面 情况
    浙江 浙江省 中共 中国 山区县 山区 区县 县 省 省里 省级 全省 工作 支持 给予 适当 倾斜 相关 有关
    """.split()
)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
QUOTE_MIN_CHARS = 8  # a run of six ("高校毕业生到") is common wording, not a quotation


class _KeywordMatcher:
    """Longest-first, non-overlapping matching of terms in a text."""

    def __init__(self, terms: Iterable[str]) -> None:
        self._forms = LongestMatch({t: None for t in terms if t})

    def find(self, text: str) -> List[Tuple[str, int]]:
        return [(form, start) for start, _, form, _ in self._forms.scan(text)]


class SearchIndex:
    def __init__(
        self,
        clauses: Dict[str, Clause],
        glossary: Dict[str, GlossaryEntry],
        user_words: Sequence[str],
        blocking_terms: Iterable[str] = (),
    ) -> None:
        self.clauses = clauses
        self._user_words = [w for w in user_words if w and not any(ch.isspace() for ch in w)]
        # term -> {clause id: weight}
        self.term_weights: Dict[str, Dict[str, float]] = {}
        for clause in clauses.values():
            for kw in clause.keywords:
                self.term_weights.setdefault(normalise(kw.term), {})[clause.id] = kw.weight
        for entry in glossary.values():
            for name in entry.all_names:
                for cid in entry.related:
                    weights = self.term_weights.setdefault(normalise(name), {})
                    weights.setdefault(cid, GLOSSARY_WEIGHT)
        # Department names and similar are matched (so that they do not leave
        # fragments behind) but credit no clause.
        self._blocking = {normalise(t) for t in blocking_terms} - set(self.term_weights)
        self._matcher = _KeywordMatcher([*self.term_weights, *self._blocking])
        self._inner_weights: Dict[str, Dict[str, float]] = {}
        self.leaf_ids = [cid for cid, c in clauses.items() if not c.is_parent]
        self._lock = threading.Lock()
        self._tokenizer: Optional[jieba.Tokenizer] = None
        self._bm25: Optional[BM25Okapi] = None
        self._sentence_tokens: Dict[str, List[List[str]]] = {}
        self._idf: Dict[str, float] = {}
        self._vocabulary: set = set()
        # Each clause's text as `quoted` compares it, with the matcher that has read it (a
        # SequenceMatcher indexes its second text once); one question at a time uses them.
        self._quote_matchers: Optional[List[Tuple[str, "SequenceMatcher"]]] = None
        self._quote_lock = threading.Lock()

    # ------------------------------------------------------------------ tokenising

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        self._build()
        assert self._tokenizer is not None
        return self._tokenizer

    def _build(self) -> None:
        if self._bm25 is not None:
            return
        with self._lock:
            if self._bm25 is not None:
                return
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for word in self._user_words:
                tokenizer.add_word(word)
            self._tokenizer = tokenizer
            corpus = []
            for cid in self.leaf_ids:
                clause = self.clauses[cid]
                corpus.append(self._tokens(clause.title + "。" + clause.text, tokenizer))
                self._sentence_tokens[cid] = [self._tokens(s, tokenizer) for s in clause.sentences]
            sentences = [set(t) for toks in self._sentence_tokens.values() for t in toks]
            n = len(sentences)
            vocab = set().union(*sentences) if sentences else set()
            self._idf = {
                t: math.log(1 + (n - df + 0.5) / (df + 0.5))
                for t in vocab
                for df in [sum(1 for s in sentences if t in s)]
            }
            self._bm25 = BM25Okapi(corpus)
            self._vocabulary = set(vocab) | {t for doc in corpus for t in doc} | set(self.term_weights)
            self._vocabulary |= {normalise(w) for w in self._user_words}

    def _tokens(self, text: str, tokenizer: Optional[jieba.Tokenizer] = None) -> List[str]:
        tokenizer = tokenizer or self.tokenizer
        out = []
        for tok in tokenizer.cut_for_search(normalise(text), HMM=False):
            tok = tok.strip()
            if not tok or tok in STOPWORDS or _PUNCT.match(tok):
                continue
            out.append(tok)
        return out

    def mask_blocking(self, text: str) -> str:
        """Blank out department names: who is responsible is answered from the units, not by ranking."""
        norm = normalise(text)
        for term, pos in self._matcher.find(norm):
            if term in self._blocking:
                norm = norm[:pos] + " " * len(term) + norm[pos + len(term):]
        return norm

    def tokenize(self, text: str) -> List[str]:
        """The query tokens used for BM25 (KB terms kept whole, stopwords dropped)."""
        return self._tokens(text)

    # ------------------------------------------------------------------ signals

    def keyword_hits(self, text: str) -> Dict[str, float]:
        """Summed keyword weight per clause id (parents included). A word denied where it stands
        ("乡村老师（不是挂职来的那种）") names nothing asked about."""
        scores: Dict[str, float] = {}
        norm = normalise(text)
        for term, pos in self._matcher.find(norm):
            if is_denied(norm, pos):
                continue
            for cid, weight in self._weights_within(term).items():
                scores[cid] = scores.get(cid, 0.0) + weight
        return scores

    def echoes(self, text: str, clause_text: str) -> bool:
        """Every keyword the text names stands in ``clause_text`` (itself or a keyword inside it:
        "评职称" by its "职称"), and the text names at least one."""
        norm, own = normalise(text), normalise(clause_text)
        terms = self._echo_terms(norm)
        return bool(terms) and all(self._echoed(term, own) for term in terms)

    def _echo_terms(self, norm: str) -> List[str]:
        self._build()
        assert self._tokenizer is not None
        terms = [term for term, pos in self._matcher.find(norm) if not is_denied(norm, pos)]
        # (and the words of the document's vocabulary: "评高级", "优先")
        return terms + [w for w in self._tokenizer.cut(norm, HMM=True)
                        if len(w) >= 2 and w in self._vocabulary and w not in STOPWORDS and w not in terms]

    def _echoed(self, word: str, own: str) -> bool:
        """``word`` stands in ``own``: itself or its end ("评职称": 职称), or a keyword inside it."""
        return any(word[i:] in own for i in range(len(word) - 1)) or any(
            other in word and other in own for other in self.term_weights if len(other) >= 2)

    def echoed_phrase(self, text: str, clause_text: str) -> Optional[str]:
        """The phrase of ``clause_text`` (between its commas and stops) that holds most of the
        words the text names ("服务经历作为职称、岗位优先晋升的依据" for "回来评职称能不能优先")."""
        terms = self._echo_terms(normalise(text))
        phrases = [p for p in re.split(r"[，。；：]", clause_text) if p.strip()]
        scored = [(sum(self._echoed(t, normalise(p)) for t in terms), -i, p) for i, p in enumerate(phrases)]
        best = max(scored, default=(0, 0, None))
        return best[2].strip() if best[0] > 0 else None

    def without_topics(self, text: str, keep: Iterable[Tuple[int, int]] = ()) -> str:
        """The normalised text with every keyword of a clause blanked out (same length), but those
        inside a longer span of ``keep`` (the words of a fact: "技校毕业" holds m5's "技校")."""
        norm = normalise(text)
        chars = list(norm)
        keep = list(keep)
        for term, pos in self._matcher.find(norm):
            if any(s <= pos and pos + len(term) <= e and e - s > len(term) for s, e in keep):
                continue
            chars[pos:pos + len(term)] = " " * len(term)
        return "".join(chars)

    def term_starts(self, text: str, leaving_out: str = "") -> List[int]:
        """Where in the normalised text each keyword of a clause begins, but the words that weigh
        only on the clause `leaving_out` (the scope's "山区县", which every measure speaks of)."""
        return [pos for term, pos in self._matcher.find(normalise(text))
                if any(cid in self.clauses and cid != leaving_out for cid in self._weights_within(term))]

    def _weights_within(self, term: str) -> Dict[str, float]:
        """A term's weight per clause, at least that of any keyword inside it: the longest match
        "卫生高级自主评聘" (a glossary name) counts as much as "卫生高级" and "自主评聘" do."""
        cached = self._inner_weights.get(term)
        if cached is None:
            cached = dict(self.term_weights.get(term, {}))
            for other, weights in self.term_weights.items():
                if other != term and other in term:
                    for cid, weight in weights.items():
                        cached[cid] = max(cached.get(cid, 0.0), weight)
            self._inner_weights[term] = cached
        return cached

    def topic(self, text: str) -> List[Tuple[Clause, float]]:
        scores = self.keyword_hits(text)
        order = list(self.clauses)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
        return [(self.clauses[cid], score) for cid, score in ranked]

    def scores(self, text: str) -> Dict[str, float]:
        """Combined score in [0, 1) for every searchable (paragraph-level) clause."""
        self._build()
        assert self._bm25 is not None
        kw = self.keyword_hits(text)
        for cid, clause in self.clauses.items():
            if clause.is_parent and cid in kw:
                for part in clause.composed_of:
                    kw[part] = kw.get(part, 0.0) + kw[cid]
        tokens = self.tokenize(self.mask_blocking(text))
        bm = self._bm25.get_scores(tokens) if tokens else [0.0] * len(self.leaf_ids)
        damp = COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * self.coverage(text)
        out = {}
        for idx, cid in enumerate(self.leaf_ids):
            kw_part = 1 - math.exp(-kw.get(cid, 0.0) / KW_SCALE)
            bm_part = 1 - math.exp(-max(float(bm[idx]), 0.0) / BM25_SCALE)
            out[cid] = (1 - (1 - kw_part) * (1 - bm_part)) * damp
        return out

    def coverage(self, text: str) -> float:
        """Share of the question's content words the knowledge base knows (1.0 for an empty question)."""
        self._build()
        assert self._tokenizer is not None
        words = [
            w.strip()
            for w in self._tokenizer.cut(normalise(text), HMM=True)
            if w.strip() and w.strip() not in STOPWORDS and not _PUNCT.match(w.strip())
        ]
        if not words:
            return 1.0
        known = sum(1 for w in words if w in self._vocabulary)
        return known / len(words)

    def search(self, text: str, k: int = 3) -> List[SearchHit]:
        if not normalise(text):
            return []
        scores = self.scores(text)
        order = {cid: i for i, cid in enumerate(self.leaf_ids)}
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))
        hits = []
        for cid, score in ranked[: max(k, 0)]:
            if score <= 0:
                break
            hits.append(SearchHit(clause=self.clauses[cid], score=round(score, 4), sentence=self.best_sentence(cid, text)))
        return hits

    def quoted(self, text: str, min_chars: int = QUOTE_MIN_CHARS) -> Optional[Clause]:
        """The one clause a question quotes word for word ("推动技能人才提质增量"), if any.

        The longest run of the question found verbatim in a clause's text must be at least
        ``min_chars`` long and longer than the longest run found in any other clause.
        """
        query = _NON_WORD.sub("", normalise(text))
        if len(query) < min_chars:
            return None
        runs = []
        with self._quote_lock:
            if self._quote_matchers is None:
                self._quote_matchers = [
                    (cid, SequenceMatcher(None, "", _NON_WORD.sub("", normalise(self.clauses[cid].text)), autojunk=False))
                    for cid in self.leaf_ids]
            for cid, matcher in self._quote_matchers:
                matcher.set_seq1(query)
                m = matcher.find_longest_match(0, len(query), 0, len(matcher.b))
                runs.append((m.size, cid))
        runs.sort(reverse=True)
        best, cid = runs[0]
        if best >= min_chars and (len(runs) == 1 or runs[1][0] < best):
            return self.clauses[cid]
        return None

    def best_sentence(self, cid: str, text: str) -> str:
        """The clause sentence (verbatim) that shares the most with the question."""
        return self.sentence_and_score(cid, text)[0]

    def sentence_and_score(self, cid: str, text: str) -> Tuple[str, float]:
        """The clause sentence that shares the most with the text, and how much it shares (0 when
        nothing: then the sentence is the clause's first of substance)."""
        self._build()
        clause = self.clauses[cid]
        if clause.is_parent:
            parts = [self.clauses[p] for p in clause.composed_of]
            best = max(parts, key=lambda p: self._sentence_score(p, self.best_sentence(p.id, text), text))
            return self.sentence_and_score(best.id, text)
        sentences = clause.sentences
        if not sentences:
            return clause.text, 0.0
        scores = self._sentence_scores(clause, text)
        # The clause of the message that asks counts twice ("我是…村卫生室的乡村医生 卫生高级评聘那块
        # 重点看啥": the sentence on 高级评聘, not the one on 村卫生室 that the description shares).
        pieces = [p for p in CLAUSE_OR_SPACE.split(text) if p]
        if len(pieces) > 1 and len(pieces[-1]) >= 4:
            scores = [a + b for a, b in zip(scores, self._sentence_scores(clause, pieces[-1]))]
        # What "也" carries over to counts twice too ("那高级职称也是单独划线吗": the sentence on 高级,
        # not the one on the 中级 pass mark it asks the same of).
        also = _ALSO_OF.match(pieces[-1]) if pieces else None
        if also and len(also.group(1)) >= 2:
            scores = [a + b for a, b in zip(scores, self._sentence_scores(clause, also.group(1)))]
        title_first = clause.opens_with_title
        best_idx, best_score = (1 if title_first else 0), 0.0
        for idx, score in enumerate(scores):
            if title_first and idx == 0:
                continue
            if score > best_score:
                best_idx, best_score = idx, score
        return sentences[best_idx], best_score

    def _sentence_scores(self, clause: Clause, text: str) -> List[float]:
        """How much each sentence of a clause shares with a text: the words' weight, the sentence's
        own keywords, the clause's terms."""
        cid = clause.id
        query_tokens = set(self.tokenize(text))
        query_terms = {t for t, _ in self._matcher.find(normalise(text))}
        norm_query = normalise(text)
        scores = []
        for idx, sentence in enumerate(clause.sentences):
            score = sum(self._idf.get(t, 0.0) for t in query_tokens & set(self._sentence_tokens[cid][idx]))
            norm_sentence = normalise(sentence)
            score += sum(3.0 for w in clause.sentence_keywords.get(sentence, []) if normalise(w) in norm_query)
            score += sum(self.term_weights[t].get(cid, 1.0) for t in query_terms if t in norm_sentence and t in self.term_weights)
            scores.append(score)
        return scores

    def _sentence_score(self, clause: Clause, sentence: str, text: str) -> float:
        query_tokens = set(self.tokenize(text))
        tokens = set(self._tokens(sentence))
        return sum(self._idf.get(t, 0.0) for t in query_tokens & tokens) + self.keyword_hits(text).get(clause.id, 0.0)
