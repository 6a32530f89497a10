"""Turns the bot's messages into WeChat text messages, and numbered replies back into payloads.

WeChat has no quick-reply buttons and limits a text message to 2048 bytes of UTF-8, so:

- the first message carries the answer (``render_turn``): the clause it quotes
  ("【原文】<location>" then "“<passage>”", actions/render.py) goes into a second message, sent
  after it through the customer-service API, or is left for the person to ask for ("回复“原文”
  查看条文": the assistant answers a bare "原文" with the clause just discussed);
- buttons become a numbered list the user answers with a number (``parse_choice``);
- a text still too long is split at line, then sentence, then character boundaries into parts
  that each fit, numbered "（1/3）" so the reader knows more follows.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from bot.channels.guard import button_options

# WeChat's limit for the content of a text message (passive reply and customer-service message).
TEXT_LIMIT_BYTES = 2048
# Room kept in every part for the "（12/12）" marker.
_MARKER_RESERVE = 24
OPTIONS_LEAD = "回复数字选择："
QUOTE_HINT = "回复“原文”查看条文。"
QUOTE_START = "【原文】"

_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;…])")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CHOICE = re.compile(
    r"^(?:选择?|选项)?第?(?P<n>[0-9]{1,2}|[零〇一二两三四五六七八九十]{1,3})"
    r"(?:个|项|条|号)?[.。、,，)）:：]?$"
)


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def split_quotes(text: str) -> Tuple[str, List[str]]:
    """The text without the clauses it quotes, and those quotations, each "【原文】<location>"
    and the lines of "“<passage>”" (up to the first line that ends with the closing mark)."""
    lines = text.split("\n")
    kept: List[str] = []
    quotes: List[str] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith(QUOTE_START) and i + 1 < len(lines) and lines[i + 1].startswith("“"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].endswith("”")), None)
            if end is not None:
                quotes.append("\n".join(lines[i:end + 1]))
                i = end + 1
                continue
        kept.append(lines[i])
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), quotes


@dataclass
class Rendered:
    """A turn for WeChat: the answer, the clauses it quoted, the options it offered (in order)."""

    answer: str
    quotation: str = ""
    options: List[Dict[str, str]] = field(default_factory=list)

    def texts(self, quotation_follows: bool) -> List[str]:
        """The messages to send: first the answer (with "回复“原文”查看条文" when the quotation
        is not sent after it) and the numbered options, then the quotation when it follows."""
        first = [self.answer] if self.answer else []
        if self.quotation and not quotation_follows:
            first.append(QUOTE_HINT)
        if self.options:
            first.append("\n".join([OPTIONS_LEAD] + [f"{i}. {o['title']}"
                                                      for i, o in enumerate(self.options, 1)]))
        out = ["\n\n".join(first)] if first else []
        if self.quotation and quotation_follows:
            out.append(self.quotation)
        return out


def render_turn(messages: Iterable[Dict[str, Any]]) -> Rendered:
    """The bot's messages of a turn, with the quotations taken out of the answer.

    The payload under ``custom`` is not shown: Rasa sends it as a message of its own after the
    text, and the text already quotes the clause, names the units and says whether a place is
    covered. An answer that is nothing but a quotation (the reply to "原文") stays the answer.
    """
    blocks: List[str] = []
    quotes: List[str] = []
    options: List[Dict[str, str]] = []
    for message in messages:
        text = (message.get("text") or "").strip()
        if text:
            rest, quoted = split_quotes(text)
            if rest:
                blocks.append(rest)
                quotes.extend(quoted)
            else:
                blocks.append(text)
        if message.get("image"):
            blocks.append(str(message["image"]))
        options.extend(button_options(message.get("buttons")))
    return Rendered("\n\n".join(blocks), "\n".join(quotes), options)


def clean(text: str) -> str:
    """Text safe inside the CDATA section of a reply: no terminator, no characters XML forbids."""
    text = _XML_INVALID.sub("", text.replace("\r\n", "\n"))
    return text.replace("]]>", "]] >").strip()


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> List[str]:
    """Parts of at most ``limit`` UTF-8 bytes each, numbered when there is more than one."""
    text = clean(text)
    if not text:
        return []
    if utf8_len(text) <= limit:
        return [text]
    parts = _pack(text, limit - _MARKER_RESERVE)
    n = len(parts)
    return [f"{p}\n（{i}/{n}）" for i, p in enumerate(parts, 1)]


def _pack(text: str, limit: int) -> List[str]:
    units: List[str] = []
    for line in text.split("\n"):
        units.extend([line] if utf8_len(line) <= limit else _split_line(line, limit))
    parts: List[str] = []
    current = ""
    for unit in units:
        candidate = f"{current}\n{unit}" if current else unit
        if utf8_len(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current.strip("\n"))
        current = unit
    if current.strip():
        parts.append(current.strip("\n"))
    return parts


def _split_line(line: str, limit: int) -> List[str]:
    """A line too long for one message: at sentence ends, or between characters if need be."""
    pieces: List[str] = []
    current = ""
    for sentence in (s for s in _SENTENCE_END.split(line) if s):
        for chunk in ([sentence] if utf8_len(sentence) <= limit else _hard_split(sentence, limit)):
            if utf8_len(current + chunk) <= limit:
                current += chunk
            else:
                if current:
                    pieces.append(current)
                current = chunk
    if current:
        pieces.append(current)
    return pieces


def _hard_split(text: str, limit: int) -> List[str]:
    pieces, current, size = [], [], 0
    for ch in text:
        n = utf8_len(ch)
        if size + n > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    if current:
        pieces.append("".join(current))
    return pieces


def parse_choice(text: str) -> Optional[int]:
    """The number in a reply like "2", "２", "二", "第2项"; None if the reply is something else."""
    s = unicodedata.normalize("NFKC", text or "").strip().replace(" ", "")
    m = _CHOICE.match(s)
    if not m:
        return None
    n = m.group("n")
    if n.isdigit():
        return int(n)
    return _chinese_number(n)


def _chinese_number(s: str) -> Optional[int]:
    if s == "十":
        return 10
    if "十" in s:
        tens, _, ones = s.partition("十")
        if "十" in ones:
            return None
        t = _CN_DIGITS.get(tens, None) if tens else 1
        o = _CN_DIGITS.get(ones, None) if ones else 0
        if t is None or o is None:
            return None
        return t * 10 + o
    if len(s) == 1:
        return _CN_DIGITS.get(s)
    return None


def choose(options: Sequence[Dict[str, str]], text: str) -> Optional[str]:
    """The payload of the option a numbered reply picks, if it picks one."""
    n = parse_choice(text)
    if n is None or not 1 <= n <= len(options):
        return None
    return options[n - 1]["payload"]
