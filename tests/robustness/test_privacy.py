"""ID-card and mobile numbers never reach the logs."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import privacy
from bot.privacy import MaskingFilter, mask_text

ROOT = Path(__file__).resolve().parents[2]
ID_CARD = "33010219900307123X"
MOBILE = "13812345678"

ID_NUMBERS = st.builds(lambda body, last: body + last,
                       st.text(alphabet="0123456789", min_size=17, max_size=17),
                       st.sampled_from(list("0123456789Xx")))
MOBILES = st.builds(lambda second, rest: "1" + second + rest, st.sampled_from("3456789"),
                    st.text(alphabet="0123456789", min_size=9, max_size=9))
# Characters that are digits when a number is written out: Chinese numerals ("一三八…", "幺").
NUMERALS = "〇零○洞一幺二两三四五六七八九壹贰叁肆伍陆柒捌玖"
# Text around a number that does not continue it (no digits, numerals or Latin letters touching it).
AROUND = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Nd", "Lu", "Ll"),
                                        blacklist_characters=NUMERALS), max_size=20)


@settings(max_examples=300, deadline=None, database=None)
@given(AROUND, st.one_of(ID_NUMBERS, MOBILES), AROUND)
def test_any_number_in_any_text_is_masked(before, number, after):
    masked = mask_text(before + number + after)
    assert number not in masked
    assert masked.startswith(before) and masked.endswith(after)
    assert "*" in masked
    assert mask_text(masked) == masked


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=200))
def test_masking_never_fails_and_keeps_numberless_text(text):
    out = mask_text(text)
    assert isinstance(out, str)
    if not any(c.isdigit() or c in NUMERALS for c in text):
        assert out == text


def test_written_forms():
    assert mask_text(f"身份证{ID_CARD}，电话{MOBILE}") == "身份证330*************3X，电话138****5678"
    for form in ("138 1234 5678", "138-1234-5678", "+86 13812345678", "8613812345678", "１３８１２３４５６７８"):
        assert mask_text(f"手机{form}") == "手机138****5678", form
    assert "2021" in mask_text("浙人社发〔2021〕22号") and mask_text("12333") == "12333"
    assert mask_text("tel13812345678") == "tel138****5678"
    assert mask_text("ID33010219900307123Xok") == "ID330*************3Xok"
    assert mask_text('{"t": "\\u662f13812345678"}') == '{"t": "\\u662f138****5678"}'  # JSON log lines
    assert mask_text("330102 19900307 123X").count("*") == 13
    assert mask_text(None) is None and mask_text(42) == 42


@pytest.mark.parametrize("form", [
    "13812345678", "138 1234 5678", "138-1234-5678", "138.1234.5678", "138/1234/5678",
    "138_1234_5678", "138·1234·5678", "138　1234　5678", "138－1234－5678", "138—1234—5678",
    "138 - 1234 - 5678", "138. 1234. 5678", "138\u200b1234\u200b5678", "+86 138 1234 5678",
    "+86-138-1234-5678", "0086 13812345678", "86.138.1234.5678", "１３８．１２３４．５６７８",
    "一三八一二三四五六七八", "幺三八幺二三四五六七八", "一三八 一二三四 五六七八",
    "一三八-一二三四-五六七八", "壹叁捌壹贰叁肆伍陆柒捌", "1三8一2三4五6七8",
])
def test_mobile_numbers_in_every_written_form_are_masked(form):
    masked = mask_text(f"我的电话是{form}，请回电")
    assert masked == "我的电话是138****5678，请回电", form
    assert mask_text(masked) == masked


@pytest.mark.parametrize("form, masked", [
    ("33010219900307123X", "330*************3X"),
    ("330102 19900307 123X", "330*************3X"),
    ("330102-19900307-1234", "330*************34"),
    ("330102.19900307.123x", "330*************3x"),
    ("330102 1990 0307 123X", "330*************3X"),
    ("三三〇一〇二一九九〇〇三〇七一二三X", "330*************3X"),
    # the old 15-digit card: area, birth date (YYMMDD), sequence
    ("330102900307123", "330**********23"),
    ("330102 900307 123", "330**********23"),
    ("330102-900307-123", "330**********23"),
    ("三三〇一〇二九〇〇三〇七一二三", "330**********23"),
])
def test_id_numbers_new_and_old_in_every_written_form_are_masked(form, masked):
    assert mask_text(f"身份证号{form}。") == f"身份证号{masked}。"


@pytest.mark.parametrize("text", [
    "浙人社发〔2021〕22号", "山区26县", "毕业10年以内", "从毕业5年以内放宽至毕业10年以内", "12333",
    "2021年6月1日起施行", "二〇二一年六月一日", "第一二三条", "两年", "补助30万元", "2021-06-01",
    "版本 1.2.3", "1701234567.123456", "139.168.10.123", "订单号123456789012345",
    "来自 127.0.0.1:5005", "一二三四五六七八九十", "第26个县，10年，100万", "138元",
])
def test_ordinary_numbers_are_not_masked(text):
    assert mask_text(text) == text


def test_log_records_are_masked_in_message_arguments_and_traceback(caplog):
    logger = logging.getLogger("tests.robustness.privacy")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("user said %s", f"我的手机号是{MOBILE}")
        logger.warning("id %s in %r", ID_CARD, {"text": ID_CARD})
        try:
            raise ValueError(f"bad input {ID_CARD}")
        except ValueError:
            logger.exception("failed for %s", MOBILE)
    text = caplog.text
    assert MOBILE not in text and ID_CARD not in text
    assert "138****5678" in text and "330*************3X" in text
    assert "ValueError" in text  # the traceback is still there, masked


def test_installed_filter_covers_handlers_added_later(tmp_path):
    """In a fresh process: install(), then a log file handler added afterwards (as `rasa run
    --log-file` does) still gets masked records."""
    log = tmp_path / "app.log"
    code = f"""
import logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.INFO)
from bot import privacy
privacy.install()
assert any(isinstance(f, privacy.MaskingFilter) for f in logging.getLogger().handlers[0].filters)
handler = logging.FileHandler({str(log)!r})
logging.getLogger("late").addHandler(handler)
logging.getLogger("late").warning("message %s and %s", {MOBILE!r}, {ID_CARD!r})
privacy.install(); privacy.install()  # idempotent
logging.getLogger("late").error("again " + {MOBILE!r})
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    written = log.read_text() + run.stderr
    assert MOBILE not in written and ID_CARD not in written
    assert written.count("138****5678") == 4  # file and stderr, twice each


def test_action_server_package_installs_the_mask():
    code = f"""
import logging, sys
logging.basicConfig(stream=sys.stdout, level=logging.INFO)
import actions
logging.getLogger("rasa_sdk.executor").info("tracker text: 请回电{MOBILE}")
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert MOBILE not in run.stdout and "138****5678" in run.stdout


def test_the_servers_entry_point_installs_the_mask():
    """The Rasa server is started by bot.entry, whose preparation installs the mask before Rasa
    logs anything (importing the channels changes nothing: tests/test_patches.py)."""
    code = f"""
import logging, sys
logging.basicConfig(stream=sys.stdout, level=logging.INFO)
from bot import entry
entry.prepare()
logging.getLogger("rasa.core.processor").info("user message {ID_CARD}")
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert ID_CARD not in run.stdout and "330*************3X" in run.stdout
