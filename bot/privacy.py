"""Keeps personal numbers that people type out of the logs.

People paste their resident ID number (18 characters, the last may be X) or their mobile number
(11 digits starting 13-19) into a question. Neither is needed to answer, and neither may reach a
log file. `mask_text` replaces all but a few characters of each; `MaskingFilter` applies it to
every log record (message, arguments, traceback); `install()` puts the filter on every handler
that exists and masks records as they are created, so handlers added later (``--log-file``,
Sanic's) are covered as well.

The channels install it when they are imported (``bot.channels.guard``); the action server
installs it from ``actions/__init__.py``.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Any, Optional

# Full-width digits and X count too: "１３８…" is the same number.
_FOLD = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789xX")

# Where a number may start: after anything but a digit (letters too: "tel13812345678"), and also
# right after an escape that ends in a digit
# ("\\u662f13812345678" in JSON-rendered log lines, "%E5%8F%B713812345678" in URLs).
_START = r"(?:(?<![0-9])|(?<=\\u[0-9A-Fa-f]{4})|(?<=%[0-9A-Fa-f]{2}))"
# 18-character resident ID: 6 + 8 + 3 + check character, optionally split by spaces or hyphens.
_ID_CARD = re.compile(_START + r"\d{6}[ -]?\d{8}[ -]?\d{3}[0-9Xx](?![0-9])")
# Mainland mobile number, optionally with +86 / 86 and split 3-4-4.
_MOBILE = re.compile(_START + r"(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9])")


def _mask_id(m: "re.Match[str]") -> str:
    digits = re.sub(r"[ -]", "", m.group(0))
    return digits[:3] + "*" * 13 + digits[-2:]


def _mask_mobile(m: "re.Match[str]") -> str:
    digits = re.sub(r"[-+ ]", "", m.group(0))[-11:]
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
