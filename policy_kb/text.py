"""Text normalisation shared by the services."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Optional

import cn2an

_WS = re.compile(r"\s+")

# The marks that end a clause of a message. Every reader of a message's clauses builds on these
# and names what it adds: the spaces typed between words (CLAUSE_OR_SPACE), the list mark 、 inside
# which no group of people is named, the words of contrast that end a stated fact (facts.py).
# (the marks that end a sentence, a comma aside: where one question of a message may end)
SENTENCE_END_MARKS = "。；;！!？?"
CLAUSE_MARKS = "，," + SENTENCE_END_MARKS
CLAUSE_STOP = re.compile(f"[{CLAUSE_MARKS}]")
CLAUSE_OR_SPACE = re.compile(f"[{CLAUSE_MARKS}\\s]+")
# (also the English full stop and a new line, which end a sentence the person typed)
_SENTENCE_MARKS = CLAUSE_MARKS + ".\n"


def last_clause(text: str) -> str:
    """The clause a message ends with, its closing marks aside: the one that asks ("我在千岛湖开了个
    民宿公司，千岛湖属于山区县吗" -> "千岛湖属于山区县吗")."""
    return re.split(f"[{_SENTENCE_MARKS}]", text.rstrip(_SENTENCE_MARKS + " "))[-1]

# Full-width forms users type for digits and ASCII letters.
_FULLWIDTH = {ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ"}

CN_DIGITS = "零〇一二两三四五六七八九十百"


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional to simplified characters (character for character where possible)."""
    if not text:
        return ""
    # Lone surrogates (possible in decoded user input) cannot be converted.
    text = text.encode("utf-8", "ignore").decode("utf-8")
    return _t2s().convert(text)


def normalise(text: Optional[str]) -> str:
    """Simplified characters, half-width digits/letters, no surrounding space.

    Inner whitespace is kept so that spans stay meaningful for callers.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text)).translate(_FULLWIDTH)
    return to_simplified(text).strip()


# Zero-width characters, bidi controls, BOM and C0/C1 controls other than ordinary white space.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A space between two Chinese characters carries no meaning ("山 区 县" is "山区县").
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def _gap(m: "re.Match") -> str:
    """A space between Chinese characters: a comma between words, nothing between characters
    typed one by one ("山 区 县 技 工 院 校")."""
    text = m.string
    before = re.search(r"[\u3400-\u9fff]+$", text[: m.start()])
    after = re.match(r"[\u3400-\u9fff]+", text[m.end():])
    # (the comma as width folding leaves a typed one, so that cleaning twice changes nothing)
    return "," if before and after and len(before.group(0)) >= 2 and len(after.group(0)) >= 2 else ""


def clean_user_text(text: Optional[str], max_chars: int = 1000) -> str:
    """What a person typed, in one canonical form: invisible characters dropped, width-folded
    (NFKC), spaces collapsed (and read as a comma between Chinese characters), pinyin, initials and
    English of knowledge-base terms read as Chinese (romanized.py), bounded, simplified."""
    if not text:
        return ""
    text = _INVISIBLE.sub("", str(text))
    text = unicodedata.normalize("NFKC", text)
    text = _WS.sub(" ", text).strip()
    # A space typed between Chinese words marks where one part ends, as a comma does ("招聘专区开在
    # 哪里 挂职回来评职称有优先吗"); the spaces that rewriting leaves around a word are dropped.
    text = _CJK_GAP.sub(_gap, text)
    if _LATIN.search(text):
        from .romanized import romanize  # builds on the knowledge base, which imports this module

        # Rewriting never lengthens the text; what lies far past the bound is not read.
        text = _CJK_GAP.sub("", romanize(text[: 4 * max_chars]))
    if len(text) > max_chars:
        text = text[:max_chars].rstrip()
    return to_simplified(text)


def squash(text: str) -> str:
    """Delete all whitespace: the comparison form for verbatim checks."""
    return _WS.sub("", text or "")


def cn_number(token: str) -> Optional[int]:
    """Parse an Arabic or Chinese numeral ("7", "七", "十一", "两"); None if it is not one."""
    token = token.strip()
    if not token:
        return None
    if token.isdigit():
        try:
            return int(token)
        except ValueError:  # e.g. superscript digits
            return None
    if token == "两":
        return 2
    if not all(ch in CN_DIGITS for ch in token):
        return None
    try:
        value = cn2an.cn2an(token.replace("两", "二"), "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# A clause that sets the one before it aside ("我本人是在杭州退休的，跟这个没关系"; "…走集团统一流程，
# 这个不重要").
_ASIDE = re.compile(r"(跟|和|与)(这个|这事|这件事|这|此)(没|没有|无|不)(关系|关|相干)|(这个|这些|这点|这)(不重要|无所谓|不相干|不用管|先不说|是题外话)|(说句|顺便说句)?题外话")


def without_asides(text: str) -> str:
    """The text with each clause that the next one sets aside, and that next one, blanked (same
    length): what the writer says does not bear on the question."""
    out = list(text)
    for m in _ASIDE.finditer(text):
        begin = max((c.end() for c in CLAUSE_STOP.finditer(text, 0, m.start())), default=0)
        # the clause before the one saying it, and that one, up to where it ends
        before = max((c.end() for c in CLAUSE_STOP.finditer(text, 0, max(begin - 1, 0))), default=0)
        stop = CLAUSE_STOP.search(text, m.end())
        end = stop.start() if stop else len(text)
        start = before if text[begin:m.start()].strip(" ，,") == "" else begin
        out[start:end] = " " * (end - start)
    return "".join(out)
