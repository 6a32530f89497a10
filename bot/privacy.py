"""Keeps personal numbers that people type out of the logs.

People paste their resident ID number (18 characters, the last may be X, or the 15 digits of
the old cards) or their mobile number (11 digits starting 13-19) into a question, often grouped
(``138 1234 5678``, ``138.1234.5678``, ``138－1234－5678``), in full-width digits, or written in
Chinese numerals as they are read aloud (``一三八一二三四五六七八``, ``幺三八…``). Neither is needed to answer, and neither may reach a
log file. `mask_text` replaces all but a few characters of each; `MaskingFilter` applies it to
every log record (message, arguments, traceback); `install()` puts the filter on every handler
that exists and masks records as they are created, so handlers added later (``--log-file``,
Sanic's) are covered as well.

The Rasa server's entry point installs it before the server starts (bot/entry.py), the staff
shell when it starts; the action server installs it from ``actions/__init__.py``.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Any, Optional

# Full-width digits and X count too: "１３８…" is the same number; so do Chinese numerals as a
# number is read out digit by digit ("一三八…", "幺" for 1, "洞" for 0) and their financial forms.
# Each character folds to exactly one character, so positions in the folded text are positions in
# the original.
_FOLD = str.maketrans({**dict(zip("０１２３４５６７８９ｘＸ", "0123456789xX")),
                       **dict(zip("〇零○洞一幺二两三四五六七八九", "000011223456789")),
                       **dict(zip("壹贰叁肆伍陆柒捌玖", "123456789"))})

# Where a number may start: after anything but a digit (letters too: "tel13812345678"), and also
# right after an escape that ends in a digit
# ("\\u662f13812345678" in JSON-rendered log lines, "%E5%8F%B713812345678" in URLs).
_START = r"(?:(?<![0-9])|(?<=\\u[0-9A-Fa-f]{4})|(?<=%[0-9A-Fa-f]{2}))"
# What people put between the groups of a number: spaces (ideographic too), hyphens and dashes,
# dots, slashes, underscores, middle dots, zero-width characters; at most one mark, with spaces
# around it.
_SEP = r"(?:[ \t\u3000]{0,2}[-‐‑–—－.．·・/／_\u200b-\u200d\ufeff]?[ \t\u3000]{0,2})"
# 18-character resident ID: 6 + 8 + 3 + check character, or grouped 6-4-4-4; the old 15-digit
# card: 6 + 6 (birth date YYMMDD) + 3.
_ID_CARD = re.compile(_START + r"(?:\d{6}S\d{8}S\d{3}[0-9Xx]|\d{6}S\d{4}S\d{4}S\d{3}[0-9Xx]"
                      r"|\d{6}S\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])S\d{3})"
                      r"(?![0-9Xx])".replace("S", _SEP))
# Mainland mobile number, optionally with +86 / 0086 and grouped 3-4-4.
_MOBILE = re.compile(_START + r"(?:(?:\+|00)?86S)?1[3-9]\dS\d{4}S\d{4}(?![0-9])".replace("S", _SEP))
_NOT_DIGITS = re.compile(r"[^0-9Xx]")


def _mask_id(m: "re.Match[str]") -> str:
    digits = _NOT_DIGITS.sub("", m.group(0))
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]


def _mask_mobile(m: "re.Match[str]") -> str:
    digits = _NOT_DIGITS.sub("", m.group(0))[-11:]
    return digits[:3] + "****" + digits[-4:]


def _replace(original: str, folded: str, pattern: "re.Pattern[str]", repl) -> str:
    """Replaces matches found in the folded text at the same positions in the original
    (folding is one character for one character)."""
    out, last = [], 0
    for m in pattern.finditer(folded):
        out.append(original[last:m.start()])
        out.append(repl(m))
        last = m.end()
    if not out:
        return original
    out.append(original[last:])
    return "".join(out)


def mask_text(text: Any) -> Any:
    """The text with ID-card and mobile numbers masked; anything that is not a str is returned
    as it is."""
    if not isinstance(text, str) or len(text) < 11:
        return text
    folded = text.translate(_FOLD)
    if not any(c.isdigit() for c in folded):
        return text
    masked = _replace(text, folded, _ID_CARD, _mask_id)
    return _replace(masked, masked.translate(_FOLD), _MOBILE, _mask_mobile)


class MaskingFilter(logging.Filter):
    """Masks personal numbers in a log record; never drops a record, never raises."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        if getattr(record, "_pii_masked", False):
            return record
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        record._pii_masked = True
    except Exception:  # a log line must never fail because of the mask
        pass
    return record


_FILTER = MaskingFilter()
_lock = threading.Lock()
_factory_installed = False


def _add_to(handler: logging.Handler) -> None:
    if not any(isinstance(f, MaskingFilter) for f in handler.filters):
        handler.addFilter(_FILTER)


def install(logger: Optional[logging.Logger] = None) -> None:
    """Masks every log record of this process from now on (idempotent).

    Puts `MaskingFilter` on the root logger's handlers (and every other handler that exists) and
    wraps the log record factory, so that records reaching handlers created later are masked as
    well."""
    global _factory_installed
    with _lock:
        root = logger or logging.getLogger()
        for handler in root.handlers:
            _add_to(handler)
        for existing in list(logging.Logger.manager.loggerDict.values()):
            if isinstance(existing, logging.Logger):
                for handler in existing.handlers:
                    _add_to(handler)
        if not _factory_installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                return mask_record(previous(*args, **kwargs))

            logging.setLogRecordFactory(factory)
            _factory_installed = True
