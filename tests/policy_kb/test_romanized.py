"""Pinyin, initials and English in a question are read as the Chinese they stand for."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from policy_kb import KBError, load_kb
from policy_kb.romanized import (
    ENGLISH_FILE,
    MIN_INITIALS,
    Romanizer,
    lexicon,
    load_english,
    romanize,
    romanizer_for,
    syllables,
)
from policy_kb.text import clean_user_text

ROOT = Path(__file__).resolve().parents[2]
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


@pytest.fixture(scope="module")
def rom(kb) -> Romanizer:
    return romanizer_for(kb)


# ---------------------------------------------------------------- the table


def test_table_is_generated_from_the_knowledge_base_lexicon(kb, rom):
    terms = set(lexicon(kb))
    assert len(rom.table.full) > 1000 and len(rom.table.initials) > 100
    assert set(rom.table.full.values()) <= terms
    assert set(rom.table.initials.values()) <= terms
    # Every kind of knowledge-base name has its pinyin: a place, its short form, a department
    # alias, a clause keyword, a glossary term, a fact synonym.
    expected = {
        "songyangxian": "松阳县", "songyang": "松阳", "lishui": "丽水",  # places, short forms
        "rensheting": "人社厅",  # a department's alias
        "chuangyedanbaodaikuan": "创业担保贷款", "shanquxian": "山区县",  # clause keywords
        "feidirencai": "飞地人才",  # a glossary term
        "boshihou": "博士后", "minqi": "民企",  # fact synonyms
    }
    for key, term in expected.items():
        assert rom.table.full.get(key) == term, key


def test_initials_only_for_long_unambiguous_vowelless_keys(kb, rom):
    places = set(kb.places.surface_forms())
    for key, term in rom.table.initials.items():
        assert len(key) >= MIN_INITIALS and len(term) == len(key)
        assert not set(key) & set("aeiou")
        assert term not in places  # "tsx" is a file type far more often than 泰顺县
    for key in rom.table.ambiguous:
        assert key not in rom.table.full and key not in rom.table.initials
    assert rom.table.initials["bsh"] == "博士后"
    assert rom.table.initials["cydbdk"] == "创业担保贷款"


def test_a_key_two_different_terms_share_is_left_out(rom):
    # 国企 and 过期 sound alike: neither is guessed.
    assert set(rom.table.ambiguous["guoqi"]) == {"国企", "过期"}
    assert romanize("guoqi") == "guoqi"
    # 护士 and 护师 are one meaning (a health worker): the key goes to the first.
    assert rom.table.full["hushi"] == "护士"
    # Taizhou in Zhejiang (台州) before Taizhou in Jiangsu (泰州); Shanxi and Shaanxi stay apart.
    assert rom.table.full["taizhou"] == "台州" and rom.table.full["taizhoushi"] == "台州市"
    assert "shanxi" in rom.table.ambiguous


def test_no_key_is_an_english_stop_word(rom):
    from spacy.lang.en.stop_words import STOP_WORDS

    words = {w.lower() for w in STOP_WORDS if w.isalpha()}
    assert not words & set(rom.table.full)
    assert not words & set(rom.table.initials)


# ---------------------------------------------------------------- pinyin


@pytest.mark.parametrize("text, expected", [
    ("boshihou", "博士后"),
    ("bo shi hou", "博士后"),
    ("Boshihou", "博士后"),
    ("BOSHIHOU", "博士后"),
    ("boshihou chuzhan butie", "博士后出站补贴"),
    ("boshihouchuzhanbutie", "博士后出站补贴"),
    ("shanqu xian", "山区县"),
    ("shan qu xian", "山区县"),
    ("Lishui", "丽水"),
    ("songyang xian", "松阳县"),
    ("kaihua xian shi bu shi shanqu xian", "开化县是不是山区县"),
    ("xi'an", "西安"),
])
def test_full_pinyin_of_a_term_with_or_without_spaces(text, expected):
    assert clean_user_text(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("xian", "xian"),                       # one syllable: 县 or 先 far more often than 西安
    ("xi an", "西安"),                      # typed as two, the place
    ("shanqu 26 xian dou baokuo naxie difang", "shanqu 26县 dou 包括哪些地方"),  # 县 after a number
    ("chunan suan bu suan", "淳安算不算"),   # the words of asking too
])
def test_a_place_afar_whose_pinyin_is_one_syllable_is_read_only_when_typed_as_two(text, expected):
    assert clean_user_text(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("bó shì hòu", "博士后"),
    ("bóshìhòu", "博士后"),
    ("bo2 shi4 hou4", "博士后"),
    ("bo2shi4hou4", "博士后"),
    ("lìlǜ", "利率"),
    ("lilv", "利率"),
    ("lilu", "利率"),
    ("ｂｏｓｈｉｈｏｕ", "博士后"),  # full-width letters fold first
])
def test_tone_marks_tone_digits_and_u_umlaut(text, expected):
    assert clean_user_text(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("bsh", "博士后"),
    ("cydbdk", "创业担保贷款"),
    ("sqx", "山区县"),
    ("rst", "人社厅"),
    ("wo shi bsh", "wo shi 博士后"),
])
def test_initials_of_terms_of_three_characters_or_more(text, expected):
    assert clean_user_text(text) == expected


@pytest.mark.parametrize("text", ["gq", "sq", "BSH", "GDP", "CEO"])
def test_short_or_capitalised_initials_stay(text):
    assert romanize(text) == text


def test_words_around_a_term_stay_as_typed(rom):
    assert rom.romanize("zenme shenqing boshihou") == "zenme shenqing 博士后"
    # A term inside a word that is mostly something else is not a term: "educate" holds edu (额度).
    assert rom.romanize("educate") == "educate"
    assert rom.romanize("qushanqu xian") == "qu山区县"


# ---------------------------------------------------------------- English


@pytest.mark.parametrize("text, expected", [
    ("postdoc", "博士后"),
    ("Post-Doctoral", "博士后"),
    ("subsidies", "补助"),
    ("start a business", "创业"),
    ("mountain county", "山区县"),  # the longest phrase first, not 山区 + 县
    ("mountain counties", "山区县"),
    ("startup loan", "创业担保贷款"),
    ("who is responsible", "谁负责"),
    ("job fair", "招聘会"),
    ("private company", "民营企业"),
    ("state-owned", "国有企业"),
])
def test_english_phrases_from_the_glossary(text, expected):
    assert clean_user_text(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("postdoc subsidy in Lishui?", "博士后补助 in 丽水?"),
    ("我是PhD graduate想在开化startup", "我是博士高校毕业生想在开化创业"),
    ("postdoc 出站后去 Quzhou 的 private company 有 subsidy 吗", "博士后出站后去衢州的民营企业有补助吗"),
    ("创业 loan 的 interest rate 在山区县有优惠吗", "创业贷款的利率在山区县有优惠吗"),
    ("Songyang county de minqi you butie ma", "松阳县 de 民企 you 补贴 ma"),
    ("wo shi bsh, xiang qu suichang de minqi", "wo shi 博士后, xiang qu 遂昌 de 民企"),
    ("biye 7 nian le", "毕业 7 年 le"),      # the words of a fact (years since graduation), and 年 after a number
    # the pinyin of the phrases of asking ("lishui de dou suan ma", "na shi na ge bumen guan de")
    ("lishui de dou suan ma", "丽水 de 都算吗"),
    ("na shi na ge bumen guan de", "那是哪个部门管的"),
    ("zhe ge wenjian shi ji ge bumen lianhe fa de", "这个文件 shi 几个部门联合 fa de"),
    ("Do you have a map", "Do you have a map"),  # English stays English
    # (the English of asking, and "pls", which is no initials of pinyin)
    ("pls list all the mountain counties", "请都有哪些 the 山区县"),
    ("which counties does Lishui have", "哪些县 does 丽水 have"),
])
def test_mixed_questions_read_as_chinese(text, expected):
    assert clean_user_text(text) == expected


def test_every_english_rendering_is_no_longer_than_its_phrase(data_copy):
    table, keep = load_english(data_copy)
    assert table["postdocs"] == "博士后" and "taiwanese" in keep
    for phrase, zh in table.items():
        assert len(zh) <= len(phrase), phrase


# ---------------------------------------------------------------- what stays


@pytest.mark.parametrize("text", [
    "an", "he", "ben", "an he ben", "a", "hello", "Bye bye", "tell me a joke",
    "can you help me book a flight", "what's the weather like today", "Thank you",
    "2021", "12333", "第7条", "2016年毕业",
    "http://www.zjhrss.gov.cn/boshihou/sqx", "https://example.com/?q=postdoc", "bsh@163.com",
    "zjrs.gov.cn", "ZJ2021A", "HR", "我是公司HR", "mp3", "A1", "G60", "h5",
    "educate", "Taiwanese", "rsj",
])
def test_ordinary_english_numbers_addresses_and_codes_stay(text):
    assert romanize(text) == text


def test_eval_questions_in_chinese_are_unchanged(rom):
    turns = []
    for name in ("questions.yml", "holdout.yml"):
        for case in yaml.safe_load((ROOT / "eval" / name).read_text(encoding="utf-8")):
            turns.extend(case["turns"])
    chinese = [t for t in turns if not LATIN.search(t)]
    assert len(chinese) > 500
    for text in chinese:
        # The rewriting itself, not only its shortcut for text without Latin letters.
        assert rom._round(text) == text
        assert rom.romanize(text) == text
    # Latin letters that are codes or greetings stay too.
    for text in [t for t in turns if LATIN.search(t) and re.search(r"HR|hello", t)]:
        assert rom.romanize(text) == text
    mixed = [t for t in turns if "postdoc" in t]
    assert mixed and all("博士后" in clean_user_text(t) and "补助" in clean_user_text(t) for t in mixed)


# ---------------------------------------------------------------- stability


@pytest.mark.parametrize("text", [
    "boshihou chuzhan butie", "postdoc subsidy in Lishui?", "我是PhD graduate想在开化startup",
    "qushanqu xian", "boshihouloan", "zenme shenqing boshihou", "bsh cydbdk sqx",
])
def test_rewriting_twice_changes_nothing_more(rom, text):
    once = rom.romanize(text)
    assert rom.romanize(once) == once
    assert clean_user_text(clean_user_text(text)) == clean_user_text(text)


SYLLABLES = sorted(syllables())
PROPERTY = settings(max_examples=300, deadline=None, database=None)


@st.composite
def latin_text(draw):
    rom = romanizer_for(_kb())
    keys = sorted(rom.table.full)[:: 7] + sorted(rom.table.initials) + sorted(rom.english)[:: 3]
    piece = st.one_of(
        st.sampled_from(keys),
        st.sampled_from(SYLLABLES),
        st.sampled_from(["bó", "shì", "hòu", "lǜ", "2", "4", "'", "-", ".", "@", "http://", "HR", "县", "的",
                         "博士后", " ", "  ", ",", "？", "ü", "\u0301", "İ"]),
        st.text(max_size=6),
    )
    return "".join(draw(st.lists(piece, max_size=20)))


def _kb():
    from policy_kb import get_kb

    return get_kb()


@PROPERTY
@given(latin_text())
def test_romanize_never_raises_never_lengthens_and_is_idempotent(text):
    rom = romanizer_for(_kb())
    once = rom.romanize(text)
    assert isinstance(once, str)
    assert len(once) <= len(text)
    assert rom.romanize(once) == once


@PROPERTY
@given(st.text(max_size=200), st.integers(1, 300))
def test_canonical_text_stays_bounded(text, limit):
    out = clean_user_text(text, max_chars=limit)
    assert len(out) <= limit
    assert clean_user_text(out, max_chars=limit) == out


@pytest.mark.parametrize("text", ["a" * 3000 + "0", "bo2" * 1000 + "x9", "ab'" * 1000 + "7", "xyz" * 1000])
def test_long_words_that_are_not_pinyin_are_rejected_quickly(text):
    import time

    start = time.perf_counter()
    assert romanize(text) == text
    assert time.perf_counter() - start < 2


def test_long_latin_input_is_bounded_and_quick():
    import time

    text = "boshihou chuzhan butie postdoc subsidy " * 5000
    start = time.perf_counter()
    out = clean_user_text(text)
    assert len(out) <= 1000 and out.startswith("博士后出站补贴博士后补助")
    assert time.perf_counter() - start < 5


# ---------------------------------------------------------------- english.yml checked at load


def _write(data_dir: Path, english) -> None:
    (data_dir / ENGLISH_FILE).write_text(yaml.safe_dump(english, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("content, message", [
    ({"english": [{"zh": "高校毕业生", "en": ["grad"]}]}, "english[0]: '高校毕业生' is longer than 'grad'"),
    ({"english": [{"zh": "贷款", "en": ["Loan"]}]}, "english[0].en: 'Loan' is not a lower-case English phrase"),
    ({"english": [{"zh": "loan", "en": ["loan"]}]}, "english[0].zh: 'loan' must be Chinese"),
    ({"english": [{"zh": "贷款", "en": ["loan"]}, {"zh": "借款", "en": ["loan"]}]},
     "english[1].en[0]: duplicate English phrase 'loan'"),
    ({"english": [{"zh": "贷款", "en": ["loan"]}], "keep": ["loan"]}, "keep[0]: 'loan' is also listed under english"),
])
def test_a_broken_english_file_names_the_field(data_copy, content, message):
    _write(data_copy, content)
    with pytest.raises(KBError) as err:
        load_english(data_copy)
    assert str(err.value).startswith(f"{ENGLISH_FILE}: {message}")


def test_the_table_follows_the_data(data_copy):
    _write(data_copy, {"english": [{"zh": "博士后", "en": ["postdoc"]}], "keep": ["lishui"]})
    rom = Romanizer.from_kb(load_kb(data_copy))
    assert rom.romanize("postdoc grant in Lishui") == "博士后 grant in Lishui"


# ---------------------------------------------------------------- the NLU reads it


def test_the_nlu_normaliser_reads_pinyin_as_chinese():
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.components.normalizer import TextNormalizer

    message = Message(data={TEXT: "boshihou chuzhan butie"})
    TextNormalizer(TextNormalizer.get_default_config()).process([message])
    assert "博士后" in message.get(TEXT) and "出站" in message.get(TEXT)


def test_a_reading_that_leaves_a_word_half_read_gives_way_to_one_that_reads_it_whole():
    # "min|qigong" (技工) would leave "minqi" half read and be dropped: 民企 is read instead
    assert clean_user_text("qu lishui de minqi gongzuo") == "qu 丽水 de 民企 gongzuo"
    assert clean_user_text("qushanqu xian") == "qu山区县"


@pytest.mark.parametrize("typed,clean", [
    ("高校毕业生创业 我在遂昌 毕业3年", "高校毕业生创业,我在遂昌,毕业3年"),
    ("招聘专区开在哪里 挂职回来评职称有优先吗", "招聘专区开在哪里,挂职回来评职称有优先吗"),
    ("  山 区 县   技 工 院 校  ", "山区县技工院校"),
])
def test_a_space_between_chinese_words_is_a_comma_between_single_characters_nothing(typed, clean):
    assert clean_user_text(typed) == clean


@pytest.mark.parametrize("typed,clean", [
    ("山区县评职cheng有倾斜吗", "山区县评职称有倾斜吗"),      # 职 + cheng: zhicheng
    ("山区县zc评审有啥倾斜", "山区县职称评审有啥倾斜"),        # zc + the initials of 评审
    ("飞地rencai落户", "飞地人才落户"),
    ("参展fei免不免", "参展费免不免"),
    ("我们是HR部门的", "我们是HR部门的"),                       # capitals are a code
    ("用Excel算的", "用Excel算的"),
])
def test_letters_typed_inside_a_chinese_word_are_read_with_the_characters_they_touch(typed, clean):
    assert clean_user_text(typed) == clean
