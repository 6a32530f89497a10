"""Latin letters in a question, read as the Chinese they stand for.

People type pinyin ("boshihou chuzhan butie", "shanqu xian", "bó shì hòu", "bo2shi4hou4"),
pinyin initials ("bsh", "cydbdk") and English or mixed questions ("postdoc subsidy in Lishui?",
"我是PhD graduate想在开化startup"). Before the NLU and the knowledge base read a message, each
run of Latin letters is rewritten:

* English phrases listed in ``data/english.yml`` -> their Chinese (case-insensitive, longest
  phrase first, a plural of the last word included);
* the full pinyin of a knowledge-base term, with or without spaces, tone marks or tone digits
  -> the term. The lexicon is the knowledge base's own (``KnowledgeBase.user_words()``: places,
  departments, clause keywords, fact synonyms, glossary terms; plus the clause titles) and the
  keys are generated from it with pypinyin; a key two terms share is left out;
* the pinyin initials of a term of three or more characters -> the term, when no other term
  has the same initials, the initials hold no vowel (English words nearly always do) and the
  word is not written in capitals (HR, GDP are codes);
* everything else stays as typed: ordinary English (a one-syllable word such as "an", "he",
  "ben" is never a term: every term has two characters or more), numbers, URLs, e-mail
  addresses, codes mixing letters and digits, and the words listed under ``keep``.

A rewrite never makes the text longer (a Chinese rendering is at most as long as its English,
one character stands for at least one letter) and rewriting repeats until nothing changes, so
``romanize(romanize(t)) == romanize(t)``.
"""
from __future__ import annotations

import itertools
import re
import threading
import unicodedata
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from pydantic import root_validator, validator

from .models import _Model
from .repository import _check_unique, _fail, _parse, _read_yaml
from .text import normalise

if TYPE_CHECKING:  # pragma: no cover
    from .kb import KnowledgeBase

ENGLISH_FILE = "english.yml"
MIN_INITIALS = 3  # "sq" could be anything; "sqx" is 山区县
MAX_READINGS = 16  # heteronym combinations tried per term
MAX_ROUNDS = 8

_CJK_TERM = re.compile(r"^[\u3400-\u9fff]{2,}$")
# Letters that touch a Chinese character on either side, with no space ("评职cheng", "zc评审").
_TOUCHING_LETTERS = re.compile(r"(?<=[\u3400-\u9fff])[A-Za-z]+|[A-Za-z]+(?=[\u3400-\u9fff])")
_ALL_CJK = re.compile(r"^[\u3400-\u9fff]+$")
_ZH = re.compile(r"^(?=.*[\u3400-\u9fff])[\u3400-\u9fff0-9]+$")
_EN_PHRASE = re.compile(r"^[a-z0-9][a-z0-9'.]*(?:[ -][a-z0-9][a-z0-9'.]*)*$")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LETTERS = "A-Za-z\u00c0-\u024f\u0300-\u036f"
# A chunk: letters, digits and apostrophes, joined by inner punctuation ("a.com", "x-1", "a@b").
# Punctuation at its end is not part of it ("boshihou." is the chunk "boshihou").
_CHUNK = re.compile(rf"[{_LETTERS}0-9_'’]+(?:[\-./@:#&+\\][{_LETTERS}0-9_'’]+)*")
# A chunk that may be pinyin: letters, a tone digit after a syllable, apostrophes between syllables.
# Each repetition starts with a tone digit or an apostrophe, so a failing match cannot backtrack
# through every split of a long word.
_PINYIN_CHUNK = re.compile(rf"^[{_LETTERS}]+(?:(?:[1-5]['’]?|['’])[{_LETTERS}]+)*[1-5]?$")
# Web addresses and e-mail addresses are never rewritten.
_PROTECTED = re.compile(
    r"(?:https?|ftp)://[!-~]+"
    r"|www\.[!-~]+"
    r"|[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
    r"|(?<![A-Za-z0-9])[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.(?:com|cn|net|org|gov|edu|info)(?:\.cn)?(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_VOWELS = set("aeiou")


# --------------------------------------------------------------------------- english.yml


class EnglishEntry(_Model):
    zh: str
    en: List[str]

    @validator("zh")
    def _chinese(cls, v: str) -> str:
        if not _ZH.match(v or ""):
            raise ValueError(f"'{v}' must be Chinese characters (and digits) only")
        return v

    @validator("en")
    def _phrases(cls, v: List[str]) -> List[str]:
        if not v:
            raise ValueError("must list at least one English phrase")
        for phrase in v:
            if not _EN_PHRASE.match(phrase):
                raise ValueError(f"'{phrase}' is not a lower-case English phrase")
        return v

    @root_validator(skip_on_failure=True)
    def _not_longer(cls, values):
        zh = values["zh"]
        for phrase in values["en"]:
            if len(zh) > len(phrase):
                raise ValueError(f"'{zh}' is longer than '{phrase}': a rewrite must not lengthen the text")
        return values


class EnglishFile(_Model):
    english: List[EnglishEntry]
    keep: List[str] = []

    @validator("keep", each_item=True)
    def _word(cls, v: str) -> str:
        if not re.match(r"^[a-z]+$", v or ""):
            raise ValueError(f"'{v}' is not a lower-case word")
        return v


def _phrase_key(text: str) -> str:
    return re.sub(r"[\s\-]+", " ", text.lower()).strip()


def _plural(word: str) -> Optional[str]:
    if not word.isalpha() or (word.endswith("s") and not word.endswith("ss")):
        return None
    if word.endswith(("ss", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def load_english(data_dir: Path) -> Tuple[Dict[str, str], FrozenSet[str]]:
    """{normalised English phrase: Chinese} (plurals included) and the words never rewritten."""
    parsed = _parse(EnglishFile, _read_yaml(Path(data_dir), ENGLISH_FILE), ENGLISH_FILE)
    items = []
    for i, entry in enumerate(parsed.english):
        for j, phrase in enumerate(entry.en):
            items.append((("english", i, "en", j), _phrase_key(phrase)))
    _check_unique(ENGLISH_FILE, items, "English phrase")
    table: Dict[str, str] = {}
    for (_, i, _, _), key in items:
        table[key] = parsed.english[i].zh
    for key, zh in list(table.items()):
        words = key.split(" ")
        plural = _plural(words[-1])
        if plural:
            table.setdefault(" ".join([*words[:-1], plural]), zh)
    for i, word in enumerate(parsed.keep):
        if word in table:
            raise _fail(ENGLISH_FILE, ("keep", i), f"'{word}' is also listed under english")
    return table, frozenset(parsed.keep)


def _english_pattern(phrases: Iterable[str]) -> Optional["re.Pattern[str]"]:
    alternatives = []
    for phrase in sorted(phrases, key=lambda p: (-len(p), p)):
        alternatives.append(r"[\s\-]+".join(re.escape(w) for w in phrase.split(" ")))
    if not alternatives:
        return None
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(alternatives) + r")(?![A-Za-z0-9])", re.IGNORECASE)


# --------------------------------------------------------------------------- pinyin table


def syllables() -> FrozenSet[str]:
    """Every toneless pinyin syllable pypinyin knows, spelt with v for ü ("lv"), vowelless
    interjections (m, n, ng, hm) left out."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    out: Set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            s = to_normal(reading)
            if s.isascii() and s.isalpha() and any(c in "aeiouv" for c in s):
                out.add(s)
    return frozenset(out)


def _readings(term: str) -> Tuple[Tuple[str, ...], List[Tuple[str, ...]]]:
    """The usual reading of a term (pypinyin's phrase dictionary) and the other readings its
    characters allow (heteronyms, ü typed as u)."""
    from pypinyin import Style, lazy_pinyin, pinyin

    primary = tuple(lazy_pinyin(term, style=Style.NORMAL))
    # Each character's readings of its own too: people type the reading they know ("leqing" for
    # 乐清, whose phrase reading is yueqing).
    per_char = [list(dict.fromkeys([*options, *pinyin(ch, style=Style.NORMAL, heteronym=True)[0]]))
                for options, ch in zip(pinyin(term, style=Style.NORMAL, heteronym=True), term)]
    alternatives: List[Tuple[str, ...]] = []
    size = 1
    for options in per_char:
        size *= max(1, len(options))
    if size <= MAX_READINGS and len(per_char) == len(term):
        alternatives.extend(tuple(r) for r in itertools.product(*per_char))
    for reading in [primary, *alternatives]:
        if any("v" in s for s in reading):
            alternatives.append(tuple(s.replace("v", "u") for s in reading))
    return primary, [r for r in dict.fromkeys(alternatives) if r != primary]


@dataclass
class PinyinTable:
    """Generated keys: full toneless pinyin and initials, each standing for one term."""

    full: Dict[str, str]
    initials: Dict[str, str]
    cuts: Dict[str, FrozenSet[int]]  # syllable boundaries inside each full key
    ambiguous: Dict[str, Tuple[str, ...]]  # keys several terms share, left out
    # keys of a place outside Zhejiang that are also one syllable: read only when typed as two
    split_only: FrozenSet[str] = frozenset()

    @classmethod
    def build(
        cls,
        terms: Iterable[str],
        keep: Iterable[str] = (),
        valid: Optional[FrozenSet[str]] = None,
        meanings: Optional[Dict[str, FrozenSet[Tuple[str, str]]]] = None,
        no_initials: Iterable[str] = (),
        minor: Iterable[str] = (),
    ) -> "PinyinTable":
        """Keys for ``terms`` (in order of preference). ``meanings`` gives each term's
        (entity label, canonical value) pairs: a key shared by terms of one meaning (护士 and
        护师 are both a health worker) goes to the first of them instead of being left out.
        Terms in ``no_initials`` get no initials key; a key shared with a term in ``minor``
        (a place outside Zhejiang: 泰州 beside 台州 "taizhou") goes to the other term, and a term
        in ``minor`` whose key is a single syllable ("xian", 西安) is read only where it is typed
        as two ("xi'an", "xi an")."""
        valid = valid if valid is not None else syllables()
        keep = set(keep)
        meanings = meanings or {}
        no_initials = {normalise(t) for t in no_initials}
        minor = {normalise(t) for t in minor}
        order: Dict[str, int] = {}
        primary: Dict[str, List[str]] = {}
        other: Dict[str, List[str]] = {}
        initials: Dict[str, List[str]] = {}
        cuts: Dict[str, FrozenSet[int]] = {}
        split: Set[str] = set()
        for term in dict.fromkeys(normalise(t) for t in terms):
            if not _CJK_TERM.match(term):
                continue
            order[term] = len(order)
            first, rest = _readings(term)
            for reading, table in [(first, primary), *((r, other) for r in rest)]:
                if not all(s in valid for s in reading):
                    continue
                key = "".join(reading)
                if term in minor and key in valid:
                    split.add(key)  # "xian" is 县 or 先 far more often than 西安, unless typed "xi'an"
                if term not in table.setdefault(key, []):
                    table[key].append(term)
                cuts.setdefault(key, frozenset(itertools.accumulate(len(s) for s in reading[:-1])))
            if len(term) >= MIN_INITIALS and term not in no_initials and all(s in valid for s in first):
                key = "".join(s[0] for s in first)
                if not _VOWELS & set(key):
                    initials.setdefault(key, []).append(term)

        ambiguous: Dict[str, Tuple[str, ...]] = {}

        def owner(key: str, owners: List[str]) -> Optional[str]:
            owners = [t for t in owners if t not in minor] or owners
            if len(owners) == 1:
                return owners[0]
            shared = frozenset.intersection(*(meanings.get(t, frozenset()) for t in owners))
            if shared:
                return min(owners, key=order.__getitem__)
            ambiguous[key] = tuple(sorted(owners))
            return None

        full: Dict[str, str] = {}
        for key, owners in primary.items():
            term = owner(key, owners)
            if term:
                full[key] = term
        for key, owners in other.items():
            if key not in primary:
                term = owner(key, owners)
                if term:
                    full[key] = term
        parse = _Syllabifier(valid)
        short: Dict[str, str] = {}
        for key, owners in initials.items():
            term = owner(key, owners)
            if term and key not in full and not parse.whole(key):
                short[key] = term
        for word in keep:
            full.pop(word, None)
            short.pop(word, None)
        return cls(full=full, initials=short, cuts={k: cuts[k] for k in full}, ambiguous=ambiguous,
                   split_only=frozenset(split & set(full)))


class _Syllabifier:
    def __init__(self, valid: FrozenSet[str]) -> None:
        self.valid = valid
        self.longest = max((len(s) for s in valid), default=0)

    def cut_points(self, word: str) -> Optional[Set[int]]:
        """Positions on some split of the word into syllables; None if it has no such split."""
        n = len(word)
        fwd = [False] * (n + 1)
        fwd[0] = True
        for i in range(n):
            if fwd[i]:
                for L in range(1, min(self.longest, n - i) + 1):
                    if word[i : i + L] in self.valid:
                        fwd[i + L] = True
        if not fwd[n]:
            return None
        bwd = [False] * (n + 1)
        bwd[n] = True
        for j in range(n, 0, -1):
            if bwd[j]:
                for L in range(1, min(self.longest, j) + 1):
                    if fwd[j - L] and word[j - L : j] in self.valid:
                        bwd[j - L] = True
        return {i for i in range(n + 1) if fwd[i] and bwd[i]}

    def whole(self, word: str) -> bool:
        return self.cut_points(word) is not None


# --------------------------------------------------------------------------- rewriting


def _toneless(chunk: str) -> str:
    """Lower case, ü as v, no tone marks, tone digits or apostrophes."""
    text = unicodedata.normalize("NFD", chunk.lower()).replace("u\u0308", "v")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[1-5'’]", "", text)


@dataclass
class _Token:
    original: str
    letters: str
    start: int  # offset in the run's concatenated letters
    caps: bool


class Romanizer:
    def __init__(self, table: PinyinTable, english: Dict[str, str], keep: Iterable[str] = (),
                 valid: Optional[FrozenSet[str]] = None) -> None:
        self.table = table
        self.english = english
        self.keep = frozenset(keep)
        self._english_re = _english_pattern(english)
        self._syllables = _Syllabifier(valid if valid is not None else syllables())
        self._lengths = sorted({len(k) for k in table.full}, reverse=True)

    @classmethod
    def from_kb(cls, kb: "KnowledgeBase") -> "Romanizer":
        from .export import lookup_tables
        from .models import OutsidePlace

        english, keep = load_english(kb.data_dir)
        valid = syllables()
        meanings: Dict[str, Set[Tuple[str, str]]] = {}
        for label, table in lookup_tables(kb).items():
            for surface, value in table.items():
                meanings.setdefault(surface, set()).add((label, value))
        # Place names get no initials key: "tsx", "jsx", "lyx", "bbs" are file types and words
        # far more often than 泰顺县, 嘉善县, 龙游县, 蚌埠市.
        table = PinyinTable.build(
            lexicon(kb), keep, valid,
            meanings={t: frozenset(m) for t, m in meanings.items()},
            no_initials=kb.places.surface_forms(),
            minor=[s for s, target in kb.places.surface_forms().items() if isinstance(target, OutsidePlace)],
        )
        return cls(table, english, keep, valid)

    # ---------------------------------------------------------------- public

    def romanize(self, text: str) -> str:
        """The text with its pinyin, initials and English read as Chinese (see the module doc)."""
        if not text or not _LATIN.search(text):
            return text
        for _ in range(MAX_ROUNDS):
            out = self._round(text)
            if out == text:
                break
            text = out
        return self._inside_words(text) if _LATIN.search(text) else text

    def _inside_words(self, text: str) -> str:
        """Letters typed inside a Chinese word, read with the characters they touch: "评职cheng"
        (职 + cheng = zhicheng, 职称), "zc评审" (zc + the initials of 评审 = zcps, 职称评审). The
        term must hold the characters as typed; words in ``keep`` and capitals stay."""
        out, last = [], 0
        for m in _TOUCHING_LETTERS.finditer(text):
            if m.start() < last:
                continue
            letters = m.group(0).lower()
            if m.group(0).isupper() or letters in self.keep:
                continue
            found = None
            for k in (2, 1):  # characters before the letters, then the letters as pinyin
                left = text[max(0, m.start() - k):m.start()]
                if len(left) == k and _ALL_CJK.match(left) and m.start() - k >= last:
                    term = self.table.full.get(_toneless_of(left) + letters)
                    if term and term.startswith(left):
                        found = (m.start() - k, m.end(), term)
                        break
            if found is None:
                for k in (3, 2, 1):  # the letters as initials, then characters after them
                    right = text[m.end():m.end() + k]
                    if len(right) == k and _ALL_CJK.match(right):
                        term = self.table.initials.get(letters + "".join(s[0] for s in _syllables_of(right)))
                        if term and term.endswith(right):
                            found = (m.start(), m.end() + k, term)
                            break
            if found is not None:
                out.append(text[last:found[0]])
                out.append(found[2])
                last = found[1]
        out.append(text[last:])
        return "".join(out)

    # ---------------------------------------------------------------- one round

    def _round(self, text: str) -> str:
        parts: List[str] = []
        last = 0
        for m in _PROTECTED.finditer(text):
            parts.append(self._rewrite(text[last : m.start()]))
            parts.append(m.group(0))
            last = m.end()
        parts.append(self._rewrite(text[last:]))
        return "".join(parts)

    def _rewrite(self, segment: str) -> str:
        if not segment or not _LATIN.search(segment):
            return segment
        if self._english_re is not None:
            segment = self._english_re.sub(lambda m: self.english[_phrase_key(m.group(0))], segment)
        return self._pinyin(segment)

    def _pinyin(self, segment: str) -> str:
        out: List[str] = []
        last = 0
        run: List[re.Match] = []

        def flush() -> None:
            nonlocal last
            if not run:
                return
            out.append(segment[last : run[0].start()])
            out.append(self._run(segment, run))
            last = run[-1].end()
            run.clear()

        for m in _CHUNK.finditer(segment):
            if not _PINYIN_CHUNK.match(m.group(0)) or not _toneless(m.group(0)):
                flush()
                continue
            if run and segment[run[-1].end() : m.start()].strip():
                flush()
            elif run and not segment[run[-1].end() : m.start()]:
                flush()  # not separated at all: a different kind of chunk in between
            run.append(m)
        flush()
        out.append(segment[last:])
        return "".join(out)

    def _run(self, segment: str, matches: Sequence[re.Match]) -> str:
        """Rewrite consecutive pinyin-like words separated by spaces."""
        tokens: List[_Token] = []
        pos = 0
        for m in matches:
            letters = _toneless(m.group(0))
            chunk = m.group(0)
            caps = sum(c.isalpha() for c in chunk) >= 2 and chunk.upper() == chunk
            tokens.append(_Token(chunk, letters, pos, caps))
            pos += len(letters)
        letters = "".join(t.letters for t in tokens)
        n = len(letters)
        if n == 0:
            return segment[matches[0].start() : matches[-1].end()]
        boundaries = {t.start for t in tokens} | {n}
        token_at = [0] * (n + 1)
        for k, t in enumerate(tokens):
            for i in range(t.start, t.start + len(t.letters) + 1):
                token_at[i] = k
        cuts: Set[int] = set(boundaries)
        syllable_ok = [False] * len(tokens)
        for k, t in enumerate(tokens):
            points = self._syllables.cut_points(t.letters)
            if points is not None:
                syllable_ok[k] = True
                cuts |= {t.start + p for p in points}

        # A reading whose terms are not whole enough (see _whole_enough) is read again without
        # them: "minqi gongzuo" is 民企 and not min-技工(qigong)-zuo, which leaves "minqi" half read.
        banned: Set[Tuple[int, int]] = set()
        for _ in range(MAX_ROUNDS):
            pieces = self._best_reading(tokens, letters, cuts, token_at, syllable_ok, banned)
            if not pieces:
                return segment[matches[0].start() : matches[-1].end()]
            kept = self._whole_enough(tokens, pieces)
            if len(kept) == len(pieces):
                break
            banned |= {(p, q) for p, q, _ in pieces if (p, q, _) not in kept}
        else:
            kept = []
        if not kept:
            return segment[matches[0].start() : matches[-1].end()]
        pieces = kept
        return self._render(segment, matches, tokens, letters, pieces)

    def _best_reading(self, tokens: List[_Token], letters: str, cuts: Set[int], token_at: List[int],
                      syllable_ok: List[bool], banned: Set[Tuple[int, int]]) -> List[Tuple[int, int, str]]:
        """The terms of the reading that covers the most letters with the fewest terms, leaving
        out the spans in `banned`; [] when no term is read."""
        n = len(letters)
        # best[p]: (letters read as terms, -terms used), and the piece ending at p.
        best: Dict[int, Tuple[Tuple[int, int], Optional[Tuple[int, int, Optional[str]]]]] = {0: ((0, 0), None)}
        for p in sorted(cuts):
            if p not in best or p == n:
                continue
            score = best[p][0]
            k = token_at[p]
            tok = tokens[k]
            candidates: List[Tuple[int, Optional[str], int]] = []
            for L in self._lengths:
                q = p + L
                if q > n or q not in cuts:
                    continue
                key = letters[p:q]
                term = self.table.full.get(key)
                if term is None or (p, q) in banned or not self._fits(key, p, q, token_at, tokens):
                    continue
                candidates.append((q, term, L))
            if p == tok.start:
                q = tok.start + len(tok.letters)
                term = None
                if not tok.caps and len(tok.letters) >= MIN_INITIALS and tok.letters not in self.keep:
                    term = self.table.initials.get(tok.letters)
                if (p, q) in banned:
                    term = None
                candidates.append((q, term, len(tok.letters) if term else 0))
            if syllable_ok[k]:
                for L in range(1, self._syllables.longest + 1):
                    q = p + L
                    if q <= tok.start + len(tok.letters) and q in cuts and letters[p:q] in self._syllables.valid:
                        candidates.append((q, None, 0))
            for q, term, gain in candidates:
                new = (score[0] + gain, score[1] - (1 if term else 0))
                if q not in best or new > best[q][0]:
                    best[q] = (new, (p, q, term))
        if n not in best or best[n][0][0] == 0:
            return []

        pieces: List[Tuple[int, int, str]] = []
        q = n
        while q > 0:
            _, piece = best[q]
            assert piece is not None
            p, q2, term = piece
            if term:
                pieces.append((p, q2, term))
            q = p
        pieces.reverse()
        return pieces

    @staticmethod
    def _whole_enough(tokens: List[_Token], pieces: List[Tuple[int, int, str]]) -> List[Tuple[int, int, str]]:
        """Drop the terms found inside a word that they cover no more than half of: "educate"
        holds 额度 (edu) but is English; "qushanqu" (去山区) is mostly a term."""
        while pieces:
            n = tokens[-1].start + len(tokens[-1].letters)
            covered = [False] * n
            for p, q, _ in pieces:
                covered[p:q] = [True] * (q - p)
            bad = [False] * n
            for tok in tokens:
                a, b = tok.start, tok.start + len(tok.letters)
                count = sum(covered[a:b])
                if 0 < count and 2 * count <= b - a:
                    bad[a:b] = [True] * (b - a)
            kept = [(p, q, t) for p, q, t in pieces if not any(bad[p:q])]
            if len(kept) == len(pieces):
                return pieces
            pieces = kept
        return pieces

    def _fits(self, key: str, p: int, q: int, token_at: List[int], tokens: List[_Token]) -> bool:
        """A term's pinyin may run over spaces only where one of its syllables ends, and never
        over a word listed under keep."""
        first, last = token_at[p], token_at[q - 1]
        if key in self.table.split_only and first == last and not re.search(r"['’]", tokens[first].original):
            return False
        inner = {tokens[k].start - p for k in range(first + 1, last + 1)}
        if not inner <= self.table.cuts.get(key, frozenset()):
            return False
        return not any(tokens[k].letters in self.keep for k in range(first, last + 1))

    @staticmethod
    def _render(segment: str, matches: Sequence[re.Match], tokens: List[_Token], letters: str,
                pieces: List[Tuple[int, int, str]]) -> str:
        starts = {p: term for p, _, term in pieces}
        covered = [False] * (len(letters) + 1)
        spanned = [False] * (len(letters) + 1)  # a term runs over the space before this position
        for p, q, _ in pieces:
            covered[p:q] = [True] * (q - p)
            spanned[p + 1 : q] = [True] * (q - p - 1)
        out: List[str] = []
        for k, tok in enumerate(tokens):
            end = tok.start + len(tok.letters)
            if k > 0:
                out.append("" if spanned[tok.start] else segment[matches[k - 1].end() : matches[k].start()])
            if not any(covered[tok.start : end]):
                out.append(tok.original)  # untouched words stay exactly as typed
                continue
            for i in range(tok.start, end):
                if i in starts:
                    out.append(starts[i])
                elif not covered[i]:
                    out.append(letters[i])
        return "".join(out)


def _syllables_of(chars: str) -> List[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(chars)


def _toneless_of(chars: str) -> str:
    return "".join(_syllables_of(chars))


def lexicon(kb: "KnowledgeBase") -> List[str]:
    """The knowledge base's terms written in Chinese characters only, two or more of them."""
    from .models import OutsidePlace

    words = [*kb.user_words(), *(normalise(c.title) for c in kb.clauses.values())]
    # (not the counties of other provinces: "dean", "taihu" would read as 德安, 太湖)
    surface = kb.places.surface_forms()
    return [w for w in dict.fromkeys(words) if _CJK_TERM.match(w)
            and not (isinstance(surface.get(w), OutsidePlace) and surface[w].county)]


# --------------------------------------------------------------------------- shared instance

_lock = threading.Lock()
_built: "weakref.WeakKeyDictionary[KnowledgeBase, Romanizer]" = weakref.WeakKeyDictionary()


def romanizer_for(kb: "KnowledgeBase") -> Romanizer:
    """The romanizer of one knowledge base, built once (about a second)."""
    found = _built.get(kb)
    if found is None:
        with _lock:
            found = _built.get(kb)
            if found is None:
                found = Romanizer.from_kb(kb)
                _built[kb] = found
    return found


def romanize(text: str) -> str:
    """`Romanizer.romanize` with the shared knowledge base's table."""
    if not text or not _LATIN.search(text):
        return text
    from .kb import get_kb

    return romanizer_for(get_kb()).romanize(text)
