"""Extract eligibility facts from what a user wrote.

Only facts actually stated are returned.  Enum facts come from the synonyms in
eligibility.yml (longest match first, phrases listed under ``not_facts`` are
skipped whole); the place is the first county-level place mentioned (else an
urban area, a city, a place outside Zhejiang); the years since graduation come
from "毕业7年" / "毕业七年了" / "2016年毕业" / "去年毕业" and similar.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Optional, Tuple

from .lexicon import LongestMatch
from .models import FactDef, PlaceMatch, Subject, Subjects
from .places import PlaceIndex, most_specific
from .text import CLAUSE_MARKS, cn_number, normalise

_NUM = r"(\d{1,3}|[零〇一二两三四五六七八九十百]{1,4})"
_YEAR4 = r"((?:19|20)\d{2}|[一二][零〇一二三四五六七八九]{3})"
_YEAR2 = r"(\d{2})"

_YEARS_PATTERNS = [
    # 毕业7年 / 毕业了七年 / 毕业已经三年了 / 毕业快十年 / 毕业第8年 / 毕业有5年
    re.compile(r"毕业\s*(?:到现在|到今年|到如今|至今|以来)?(?:了|已经|已|都|还|有|快|将近|差不多|才|刚|刚刚|刚好|正好|恰好|满|第|整|大概|大约|约|不到|不满|没到|没满|"
               r"未满|还不到|没超过|没有超过|不超过|未超过|超过|超出|已超过|早就超过|多于)*\s*" + _NUM + r"\s*(?:个)?(?:整)?(?:多)?年(?:多)?"),
    # 高校毕业生8年了, 高校毕业生 3年 ("graduate 8年了", "graduate 3 years"): a graduate that long,
    # not a condition ("毕业生5年以内")
    re.compile(r"毕业生\s*" + _NUM + r"\s*(?:个)?(?:多)?年(?:多)?(?!\s*(?:以内|之内|内|以上|以下|左右))"),
    # 7年前毕业 / 三年前毕业的 / 毕业 11 年前 ("graduated 11 years ago")
    re.compile(_NUM + r"(?:个)?年前(?:大学|本科|研究生|硕士|博士)?毕业"),
    # 大学出来八年了 / 学校出来都五年了: out of college that long
    re.compile(r"(?:大学|学校|本科|研究生|大专)(?:毕业)?出来(?:了|都|已经|有|快)*" + _NUM + r"(?:个)?(?:多)?年"),
    re.compile(r"毕业\s*" + _NUM + r"\s*(?:个)?年前"),
    # 毕业没几年 就两年 / 大学毕业好些年了，算了下12年: the number a little after 毕业
    # (a comma between, as a space typed there is read: "毕业没几年，就两年")
    re.compile(r"毕业[^，,。；;\d零〇一二两三四五六七八九十]{0,8}?[，, ]?(?:就|才|只有|也就|大概|刚好|正好|算了下|算下来|是)" + _NUM + r"(?:个)?(?:整)?年(?!前)"),
]
_YEAR_OF_GRADUATION = [
    re.compile(_YEAR4 + r"年(?:大学|本科|研究生|硕士|博士|大专|专科|从\S{1,12}?)?毕业"),
    re.compile(r"(?<!\d)" + _YEAR2 + r"年(?:大学|本科|研究生|硕士|博士)?毕业"),
    re.compile(r"毕业(?:于|时间是|时间为|年份是|年份为)?" + _YEAR4 + r"年"),
    re.compile(r"(?:19|20)\d{2}届"),
    # (English read into Chinese words: "I graduated in 2019" -> "I 毕业 in 2019")
    re.compile(r"毕业[^，,。；;！!？?\d]{0,20}?\bin\s*((?:19|20)\d{2})(?!\d)"),
]
_UNDER = re.compile(r"不到|不满|没到|没满|未满")
_AT_MOST = re.compile(r"(没|没有|不|未)超过")
_OVER = re.compile(r"超过|超出|多于|年多|多年")


_CN_DIGITS = "一二三四五六七八九"


def _years_number(token: str) -> Optional[int]:
    """"七八" (seven or eight) is a span, read as its larger end; any other number as itself."""
    if len(token) == 2 and all(c in _CN_DIGITS for c in token) \
            and _CN_DIGITS.index(token[1]) - _CN_DIGITS.index(token[0]) in (1, 2):
        return _CN_DIGITS.index(token[1]) + 1
    return cn_number(token)


def _side_of(said: str) -> int:
    """Whole years from "不到两年" (1), "超过10年" / "十年多" (11): the side of the number it lies on."""
    if _UNDER.search(said):
        return -1
    if _AT_MOST.search(said):
        return 0  # "没超过十年": ten at the most
    return 1 if _OVER.search(said) else 0


_RELATIVE = {"今年": 0, "去年": 1, "前年": 2, "大前年": 3}
_FRESH = re.compile(r"(刚毕业|应届|今年毕业)")
_CN_YEAR_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}
_CN_YEAR_DIGITS["零"] = "0"


def _year_value(token: str) -> Optional[int]:
    if token.isdigit():
        return int(token)
    digits = "".join(_CN_YEAR_DIGITS.get(ch, "") for ch in token)
    return int(digits) if len(digits) == len(token) else None


# A place that says which of several firms is meant ("仙居那家", "临海的那家厂"; not "衢州丽水那个
# 博士后补助", which names a measure).
_PICKS_PLACE = re.compile(r"的?(那家|那一家|这家)")
# Years that say which of several people is meant ("毕业13年那个", "毕业3年的那位").
_PICKS_ONE = re.compile(r"了?的?(那个|那位|那一个|那一位)")


# The clause right after a denial that says what is so instead ("不是毕业7年，是毕业快13年了",
# "不是10年，而是12年"): its years, without 毕业 said again.
# (the words that may stand before the years: "是整整10年", "是快13年了")
_BEFORE_YEARS = r"(?:了|已经|都|快|将近|差不多|有|满|大概|整整|足足|刚好|正好|才|只有)*"
_INSTEAD = re.compile(r"[，,。；; ]*(?:而|就|其实|应该|实际上)?是(?:毕业)?" + _BEFORE_YEARS + _NUM +
                      r"\s*(?:个)?(?:多)?年(?:多)?")


# A number of years said not to be so ("不是毕业10年", "他不是毕业7年"; not "没毕业几年", a few years).
_YEARS_DENIED = re.compile(r"(不是|并不是|也不是|而不是|并非)[在去到的个家是一所]*$")


# Years said again after the person puts right what they said ("毕业十一年了，啊不是，我数错了，是九年").
_CORRECTED_YEARS = re.compile(r"(不是|不对|说错|数错|算错|记错|搞错)[^。；;！!？?\d零〇一二两三四五六七八九十]{0,10}?"
                              r"(?:而|就|其实|应该|实际上)?是(?:毕业)?" + _BEFORE_YEARS + _NUM +
                              r"\s*(?:个)?(?:多)?年")


def _put_right(text: str, end: int) -> Optional[Tuple[int, bool]]:
    """The years said instead of the ones denied just before ``end``, as (years, False), or None."""
    m = _INSTEAD.match(text, end)  # ("不是毕业10年是12年了", the space between read away)
    clause_end = _CLAUSE_END.search(text, end)
    if m is None and clause_end is not None:
        at = clause_end.start() if clause_end.group(0) != "而是" else clause_end.start() + 1
        m = _INSTEAD.match(text, at)
    value = _years_number(m.group(1)) if m else None
    return (max(0, value + _side_of(m.group(0))), False) if value is not None and value < 100 else None


def parse_years_since_graduation(text: str, today: date) -> Optional[int]:
    """Whole years since graduation stated in ``text``, or None.  Never raises."""
    text = normalise(text)
    if not text or "毕业" not in text and "届" not in text and "出来" not in text:
        return None
    stated = []  # (years, whether they pick out the one asked about) of each statement
    denied_years = False
    first = len(text)  # where the first statement of years begins
    for pattern in _YEARS_PATTERNS:
        for m in pattern.finditer(text):
            value = _years_number(m.group(1))
            if value is None or value >= 100:
                continue
            first = min(first, m.start())
            # (the denial also after 毕业, inside the words that state the years: "毕业不是5年，是15年了")
            if _YEARS_DENIED.search(text, _clause_start(text, m.start()), m.start()) \
                    or _YEARS_DENIED.search(text, m.start(), m.start(1)):
                # "不是毕业10年，是12年了": the years denied give way to those said instead, if any.
                denied_years = True
                instead = _put_right(text, m.end())
                if instead is not None:
                    stated.append(instead)
                continue
            stated.append((max(0, value + _side_of(m.group(0))), bool(_PICKS_ONE.match(text, m.end()))))
    fixed = next((m for m in _CORRECTED_YEARS.finditer(text) if m.start() > first), None)
    value = _years_number(fixed.group(2)) if fixed else None
    if value is not None and value < 100:
        return max(0, value + _side_of(fixed.group(0)))  # "毕业十一年了 啊不是 我数错了 是九年"
    if stated:
        # Of several people's years ("一个毕业3年 一个毕业13年，毕业13年那个还能…吗"), the ones
        # that say which person is asked about.
        return next((years for years, picks in stated if picks), stated[0][0])
    if denied_years:
        return None
    for word, delta in sorted(_RELATIVE.items(), key=lambda kv: -len(kv[0])):
        if re.search(word + r"(?:[0-9一二三四五六七八九十]{1,2}月份?)?(?:刚|才)?(?:从[^，,。；;！!？?]{1,8}?)?(?:大学|本科|研究生|硕士|大专|专科){0,2}毕业", text):
            return delta
    for pattern in _YEAR_OF_GRADUATION:
        m = pattern.search(text)
        if not m:
            continue
        if m.groups():
            year = _year_value(m.group(1))
            if year is not None and year < 100:
                year += 2000 if year <= today.year % 100 else 1900
        else:
            year = int(m.group(0)[:4])
        if year is not None and 1950 <= year <= today.year:
            return today.year - year
    if _FRESH.search(text):
        return 0
    return None


# A fact's polarity: a value the person denies is kept as "not:<value>" ("单位不是民营企业").
DENIED = "not:"
# Words before a kind of person that say the writer asks as one ("我这种飞地人才", "像我们这样的博士后").
_ASKS_AS = re.compile(r"(我|我们|咱|咱们|俺)(这种|这类|这样的|这样)$")
# Words that deny what follows them within the same clause of the sentence.
_NEGATORS = ("没有做过", "没做过", "没当过", "没干过", "没读过", "没念过", "没上过", "并不是", "也不是", "而不是", "不是", "并非", "不属于", "不算", "不在", "没有在", "没在", "没去", "不去", "不想回", "不打算回", "不准备回", "不想去", "不打算去", "不回", "没回",
             "没有", "没", "非", "未", "不")
# What may stand between a negator and the word it denies ("不是在民企", "不是去国企的").
_FILLER = "在去到的个家是一所"
# Where a clause of a sentence ends: a denial does not reach past it.
# (a stated fact also ends at a list mark, a space, and the words that turn to another: "但是", "现在")
_CLAUSE_END = re.compile(f"[{CLAUSE_MARKS}.、\\n ]" + r"|但是|但(?!凡)|不过|而是|可是|现在|其实")
# Cues before a place: where the person goes (the place a measure is judged on), where they
# come from, and where they no longer are.
# Moving house or job: the new place is both where one goes and where one now is.
_MOVED = re.compile(r"(搬到|搬去|搬回|搬迁到|迁到|迁回|迁往|挪到|调到|调入|调去|调往|换到|转到)[^，,。；;！!？?]{0,4}$")
# "过去" of time ("过去在天台"), not of going over there: after a word of intending or moving
# ("要是过去江山一家民企上班", "想过去", "搬过去") it is where one goes.
_GOING_OVER = "要想跑搬调转会能就再备算划是果"
WHEN_BEFORE = rf"以前|之前|原来|原先|(?<![{_GOING_OVER}])过去|曾经"
_GO = rf"(?:(?<![过失])|(?<=[{_GOING_OVER}]过))去"
# (not the 来 of "本来", "后来", nor the 去 of "过去" of time)
_TO = re.compile(r"(" + _GO + r"|到|赴|往|调到|调往|调去|调入|回到|回|(?<![本原后将未以起出看])来|落户|派到|派往|派去|选派到|迁到|对口帮扶|对口支援|帮扶|支援|"
                 r"搬到)[^，,。；;！!？?]{0,4}$")
# Going to a mountain county not named ("想回浙江山区县的企业", "去山区工作").
# (a plan of one's own, not the words of a measure: "省里对去山区县民企的补助")
_SOME_MOUNTAIN_COUNTY = re.compile(r"(想|打算|准备|计划|考虑|希望|愿意)[^，,。；;！!？?]{0,3}?(" + _GO + r"|到|回|(?<![本原后将未以起出看])来|落户)"
                                   r"(浙江|省内|咱们|我们)?的?(山区26县|山区二十六县|山区县|山区|26县)"
                                   # (or somewhere in Zhejiang, not said where: "上海一家公司，打算在浙江开个分公司")
                                   r"|(想|打算|准备|计划|考虑)[^，,。；;！!？?]{0,3}?(去|到|来|在|回)浙江(省)?(?!大学|人)"
                                   r"(?:[^，,。；;！!？?]{0,4}?(?P<setup>开|设|办|建|落地|投资))?")
_FROM = re.compile(r"(来自|从(?!小))[^，,。；;！!？?]{0,2}$")
_HOMETOWN = re.compile(r"人(?![民才社事力员])")
# After a place, whose home it is ("乐清是我老婆老家"): not where the person is now.
_HOMETOWN_AFTER = re.compile(r"是[^，,。；;！!？?]{0,5}?(老家|家乡|故乡|户籍地|出生地|娘家|婆家)")
# After a person's word, their home ("我老婆老家", "他家乡"): a place named, not a person asked about.
_WHOSE_HOME = re.compile(r"的?(老家|家乡|故乡|娘家|婆家)")
# (also where the person themselves stays, beside where their work is: "人在义乌，公司注册在缙云")
_HOME = re.compile(r"(我家|(?<!老)家[也都就还]?在|家住|住在|家里在|(?<![记居抓站忍挺顶])住|(?<![个有])人(现在|目前|还|也)?在)[^，,。；;！!？?]{0,2}$")
# A place named only to say where something is near ("在江西上饶，离衢州很近", "靠近丽水那边",
# "和开化交界"): neither where the person is nor where they go.
NEAR_BEFORE = re.compile(r"(离|距离?|靠近|邻近|挨着|紧挨着?|毗邻|靠着|临近|接壤|紧邻)(你们|我们|咱们|他们|[^，,。；;！!？?])?$")
# A message that goes back to a place talked of before ("回到景宁，…", "再说回开化，…").
_BACK_TO_TOPIC = re.compile(r"^(那|那么|好的?|嗯)?[，,]?(回到|说回到?|再说回?|回过头(来)?说)$")
# (not "县城边上", "景区旁边": at the edge of a place is in it; "江山隔壁", "旁边的县" are beside it)
NEAR_AFTER = re.compile(r"[^，,。；;！!？?]{0,2}?(隔壁|邻县|旁边的县|边上的县|很近|挺近|蛮近|比较近|不远|交界|接壤|挨着|紧挨|相邻|毗邻|连着|挨在一起)")
# Coming back to stay, said after where one went ("我就回来了，现在在…", "回来创业").
_CAME_BACK = re.compile(r"(就|又|才|已经|早就)回来了|回来了[^。；;！!？?]{0,6}?(现在|如今|目前)|回来(工作|上班|创业|发展|定居)")
_BACK_HOME = re.compile(r"回(到)?老家|在老家|回家乡|回乡|返乡|回村|(想|要|打算|准备|计划)回去")
# Words that correct what was said before (also read by the actions: who a story is about).
CORRECTION = re.compile(r"不对|说错|说反|搞错|搞反|弄反|记错|记反|数错|算错|搞混|弄错|更正|纠正|其实是|应该是")
_PAST = re.compile(r"(" + WHEN_BEFORE + r"|早年|老家|户籍|户口|祖籍|出生)[^，,。；;！!？?]{0,8}$")


# The person speaking of themselves ("我自己是…", "像我这种情况"), not of a relative.
_SELF_AFTER = re.compile(r"我自己|像我这|我本人|本人是|我是(?!他|她)|我今年|我毕业|我大学")
# What is said of several people at once, right after the last of them is named ("我和室友都是
# 博士后", "我闺蜜跟我是同一年大学毕业的").
_SHARED = re.compile(r"\w{0,3}?(都|俩|两个都|两人都|跟我是同|和我是同|跟我一样|和我一样|也是|合伙|一起|一块儿?|共同)")
# The one asked about is where the writer is ("村里有个小伙子", "我们厂新来的").
_SAME_PLACE = re.compile(r"(村里|厂里|镇上|县里|公司里|单位里|我们(村|厂|镇|县|公司|单位|这|这边|那边))(有个|有一个|有位|新来|来了|的)")
# Whose a person is, right before the word for them ("我对象", "他的领导").
_OWNER = re.compile(r"(我|我的|我家|俺|他|她|他的|她的|咱家)$")
# "我是老板", "本人是技术员": the word names the writer, not another person.
_IS_THE_WRITER = re.compile(r"((我|本人)就?是(他|她)?的?(个|一个|一名|这家的|公司的|厂里的)?|当|做|作为|身为)$")
# A stretch that tells of the employer ("我们公司在青田", "厂里…").
_EMPLOYER_SAID = re.compile(r"我们(公司|厂|企业|单位|工厂|这)|咱们(公司|厂)|公司|厂里|单位里|企业")
# Words that open a stretch and say nothing of whom it is about ("另外我们公司…", "还有我…").
_OPENER = re.compile(r"(另外|此外|还有|然后|对了|顺便|再)(问下|问一下|说下|说一下|就是)?[，,]?")
# What comes before a relative's name ("我的|妹夫"): no stretch of its own.
_BEFORE_A_NAME = {"我", "我的", "我家", "我和", "我跟", "我与", "我同"}
# He or she, starting what is said of a person named before ("我毕业12年他毕业6年"), not "其他".
# Hearing something from someone ("听同事说", "听我表哥说"), right before who it was.
_HEARD_FROM = re.compile(r"听(我|我的|我们)?$")
# The writer saying what they are, right before a word ("我是他舅舅").
_WRITER_SAYS = re.compile(r"(我|本人)就?是$")
# Someone's relative, not the writer's ("他女朋友", "她的孩子"), right before the word.
_OF_ANOTHER_WORDS = r"(他|她)的?"
_OF_ANOTHER = re.compile(_OF_ANOTHER_WORDS + "$")
_PRONOUN = re.compile(r"(?<!其)[他她](?!们)")
# The writer, starting what is said of themselves ("…没出来我去年已经出站"), not "我们" or "跟我".
_WRITER = re.compile(r"(?<![和跟与同])我(?!们)")
# Words that say whom a question is about ("我想问的是妹夫", "我问的是我妈", "替我表哥问").
_ASKS_OF = re.compile(r"(问的是|想问的是|要问的是|说的是|说回|回到|再说说|再问问|替|帮|就按|按照?|换成|换|轮到|那)(我的|我家|我)?")
# ... or about the person themselves after others ("那我呢", "按我自己的情况", "问的是我本人").
# (not where someone goes: "她来我们公司上班")
# The writer saying what they are, earlier in the clause ("我是宁波市第一医院的主治医生").
_WRITER_IS = re.compile(r"(我|本人)就?是(?![想来要在])[^，,。；;！!？?我他她]{0,12}$")
# Several of them, counted: whom one hires or means in general, not a person asked about
# ("想去省人才市场招几个技术员", "招两名徒弟"; "有个技术员" is one).
_COUNTED = re.compile(r"(几|两|[三四五六七八九十百0-9]+|多|好几|一些|一批|若干)(个|名|位)?$")
# Right after a person: they asked the writer to ask ("他妈让我问问"), so they are not the one
# asked about when someone else is named.
_REQUESTER = re.compile(r"(让|叫|托|要|请|拜托|委托)我(来|帮[他她]?|替[他她]?)?(问|咨询|打听|了解|查)")
# After a person: what they want another to do ("他爸妈想让他去杭州创业"): that other is asked about.
# (a few words may come between: "他爸妈想让他…", "我老婆她想让我…")
_WANTS_IT_OF = re.compile(r"[^，,。；;！!？?]{0,3}?(都|也|一直|非|还)?(想|要|希望|打算)?(让|叫|要|希望|逼|劝|催)着?(他|她|我)(?!来?(帮|替)?[他她]?(问|咨询|打听|了解|查))")
# The words that point at one person named before ("这位医生", "医生本人").
_THIS_ONE = re.compile(r"^(这位|那位|这个|那个)|本人$")
_WRITERS_FIRM = re.compile(r"(?<![来到去进在入])((我们|咱们|俺们)(公司|厂|企业|单位|工厂|店)|我司|本公司)")
# Before the words that say whom something was said of: it was said in an earlier message.
_SAID_EARLIER = re.compile(r"(刚才|刚刚|前面|之前|上面|先前)(我)?$")
_ASKS_OF_SELF = re.compile(r"(那|换成|换|轮到)我(自己|本人)?呢|(按|按照)我(自己|本人)?的|(问|说)的是我(自己|本人)")
# A clause of what used to be ("原来在马金镇一个村卫生室"): a later value of the same fact replaces it.
_BEFORE = re.compile(WHEN_BEFORE)


_SINCE = re.compile(r"调到|调入|调去|换到|转到|后来|现在|如今|目前|搬到")


def _in_the_past(norm: str, pos: int) -> bool:
    """Said after "原来/以前" in its clause, with no "调到/现在" between."""
    before = [m.end() for m in _BEFORE.finditer(norm, _clause_start(norm, pos), pos)]
    return bool(before) and not _SINCE.search(norm, before[-1], pos)


# A clause that asks about others rather than telling about the person ("是不是只有县里大医院的才有？").
def _stated_now(norm: str, pos: int, end: Optional[int] = None) -> bool:
    """Whether the words at `pos` state a fact of the one asked about as it is now: not only asked
    about, not what was ("以前…", "在杭州一家私立医院干了三年…现在在镇上的卫生院"), not said of a
    counted group ("去年引进了几个大学生，今年想招一个…博士")."""
    return not _in_question(norm, pos) and not _in_the_past(norm, pos) and not _COUNTED.search(norm, 0, pos) \
        and not (end is not None and _left_behind(norm, pos, end))


_ASKED_ABOUT = re.compile(r"是不是只有|只有[^，,。；;！!？?]{0,12}才|难道")


def _in_question(norm: str, pos: int) -> bool:
    start = _clause_start(norm, pos)
    end = _CLAUSE_END.search(norm, pos)
    return bool(_ASKED_ABOUT.search(norm, start, end.start() if end else len(norm)))


# After a place: where one was born or grew up ("我在淳安出生长大的").
_BORN = re.compile(r"[^，,。；;！!？?]{0,4}?(出生|长大|土生土长)")
# A clause that tells of something done and over ("在杭州一个工作站做了两年"), before a clause of now.
_DONE = re.compile(r"了|过")
# ... where one has gone or is now ("现在去了一家私企", "现在在杭州"), not where one is sent
# from ("在宁波工作了十年，现在被派去景宁": still in 宁波).
_NOW = re.compile(r"(现在|目前|如今|眼下)(已经|已)?(去了|到了|来了|调到|换到|进了|在)"
                  r"|(已经|已)(调到|调去|调入|调进|换到|转到|去了|到了|进了)")  # ("她上个月已经调到…")


def _left_behind(norm: str, start: int, end: int) -> bool:
    """The place is in a clause of what was done there, and a later clause says where one is now."""
    clause_end = _CLAUSE_END.search(norm, end)
    stop = clause_end.start() if clause_end else len(norm)
    if not _DONE.search(norm, end, stop):
        return False
    return bool(_NOW.search(norm, stop))


def denied(value: Any) -> Optional[str]:
    """The value a fact denies ("not:private" -> "private"), or None for a stated value."""
    return value[len(DENIED):] if isinstance(value, str) and value.startswith(DENIED) else None


def _clause_start(norm: str, pos: int) -> int:
    start = 0
    for m in _CLAUSE_END.finditer(norm, 0, pos):
        start = m.end()
    return start


_SAYS_INSTEAD = re.compile(r"(而|就|其实|应该|实际上)?是")
_DENYING = re.compile(r"不是|并不是|并非|不属于|不算")
# Between a word denied and the one said instead, in one breath ("不是城里医院啊是村卫生室").
_INSTEAD_OF = re.compile(r"[啊呀的了哈]?[，,。；; ]*(而|就|其实|应该|实际上)?是[在去到的个家一所]*")


def _put_right_from(norm: str, pos: int) -> Optional[int]:
    """Where the denying clause starts that the clause of ``pos`` puts right ("不是A，是B" with B
    at ``pos``), or None."""
    start = _clause_start(norm, pos)
    if not (norm[max(0, start - 2):start] == "而是" or _SAYS_INSTEAD.match(norm, start)):
        return None
    sep = start - 2 if norm[max(0, start - 2):start] == "而是" else start - 1
    while sep > 0 and norm[sep - 1] in "，,。；; ":
        sep -= 1
    before = _clause_start(norm, sep)
    return before if sep > before and _DENYING.search(norm, before, sep) else None


def is_denied(norm: str, start: int) -> bool:
    """Whether the word at ``start`` is denied by a negator before it in the same clause."""
    before = norm[_clause_start(norm, start):start].rstrip(_FILLER)
    for n in _NEGATORS:
        if before.endswith(n):
            k = len(before) - len(n)
            # "算不算", "是不是", "有没有": a question, not a denial.
            return not (k >= 1 and before[k - 1] == n[-1])
    return False


class FactReading:
    """What one message says: the facts (with denials), every place it named, who it is about."""

    def __init__(self, facts: Dict[str, Any], places: List[PlaceMatch], subject: Subject,
                 asked_apart: bool = False) -> None:
        self.facts = facts
        self.places = places
        self.subject = subject
        # Whether the message told of several people and only what it said of the one it asks
        # about was read.
        self.asked_apart = asked_apart


class FactExtractor:
    def __init__(self, facts: Dict[str, FactDef], places: PlaceIndex, not_facts: List[str],
                 subjects: Optional[Subjects] = None) -> None:
        self.facts = facts
        self.places = places
        self._terms: Dict[str, Optional[Tuple[str, str]]] = {}
        for key, fdef in facts.items():
            if fdef.type != "enum":
                continue
            for value, ev in fdef.values.items():
                for syn in ev.synonyms:
                    self._terms.setdefault(normalise(syn), (key, value))
        self._not_fact_patterns = [p for p in not_facts if not isinstance(p, str)]
        for phrase in not_facts:
            if isinstance(phrase, str):
                self._terms[normalise(phrase)] = None
        self._patterns: List[Tuple[re.Pattern, str, str]] = [
            (re.compile(pattern), key, value)
            for key, fdef in facts.items() if fdef.type == "enum"
            for value, ev in fdef.values.items() for pattern in ev.patterns]
        self._forms = LongestMatch(self._terms)
        subjects = subjects or Subjects()
        # People named by kinship, and others named by what they are to the asker ("技术员", "老板").
        self._named = set(subjects.nicknames())
        self._others = set(subjects.others) | self._named
        self._needs_owner = {normalise(w) for w in subjects.needs_owner}
        people_words = {**subjects.relatives, **subjects.others, **{n: [n] for n in self._named}}
        self._relatives = sorted(((normalise(w), rel) for rel, words in people_words.items() for w in words),
                                 key=lambda kv: -len(kv[0]))
        self._people_words = frozenset(w for w, _ in self._relatives)
        self._relative_forms = LongestMatch(dict(reversed(self._relatives)))  # "姐夫" is not "姐"
        self._not_people = re.compile("|".join(map(re.escape, sorted({normalise(w) for w in subjects.not_people},
                                                                      key=len, reverse=True)))) \
            if subjects.not_people else None
        self._employer = sorted({normalise(w) for w in subjects.employer}, key=len, reverse=True)
        self._official = sorted({normalise(w) for w in subjects.official}, key=len, reverse=True)

    def enum_mentions(self, text: str) -> List[Tuple[str, str, str, Tuple[int, int]]]:
        """(fact, value, matched text, span) for each enum synonym, longest match first."""
        norm = normalise(text)
        out, masked = self._synonyms(norm)
        # Patterns say what a list of words cannot ("开了家土特产店"); a synonym of the same fact
        # found in the same place comes first.
        place_starts: Optional[set] = None
        for pattern, key, value in self._patterns:
            for m in pattern.finditer(norm):
                span = m.span()
                if span[0] == span[1] or any(f == key and s < span[1] and span[0] < e for f, _, _, (s, e) in out) \
                        or any(s < span[1] and span[0] < e for s, e in masked):
                    continue
                if place_starts is None:
                    place_starts = {p.span[0] for p in self.places.places_in_text(norm)}
                if span[0] in place_starts:
                    continue  # "在开化县的店里打工": the name of a place, not "开…店"
                out.append((key, value, m.group(0), span))
        out.sort(key=lambda hit: hit[3][0])
        return [self._as_of_now(norm, hit) for hit in out]

    def _as_of_now(self, norm: str, hit: Tuple[str, str, str, Tuple[int, int]]) -> Tuple[str, str, str, Tuple[int, int]]:
        """A value said of a time to come is the value it is now ("明年才出站": 在站), unless a plan
        for then follows ("明年出站后想去丽水": judged as of then)."""
        fact, value, chunk, (start, end) = hit
        fdef = self.facts[fact]
        later = fdef.values[value].not_yet if fdef.type == "enum" else None
        if later and _TO_COME.search(norm, _clause_start(norm, start), start) and not _PLAN_FOR_THEN.match(norm, end):
            return fact, later, chunk, (start, end)
        return hit

    def _synonyms(self, norm: str) -> Tuple[List[Tuple[str, str, str, Tuple[int, int]]], List[Tuple[int, int]]]:
        """The synonyms of facts found in the normalised text, and the spans of phrases that are
        not facts ("创业担保贷款" is no startup, "那条博士后补助" no postdoc) with what they hide."""
        out = []
        masked: List[Tuple[int, int]] = [m.span() for p in self._not_fact_patterns for m in p.finditer(norm)]
        for start, end, chunk, hit in self._forms.scan(norm):
            if hit is not None and not any(s < end and start < e for s, e in masked):
                out.append((hit[0], hit[1], chunk, (start, end)))
            else:
                masked.append((start, end))
        return out, masked

    def term_spans(self, text: str) -> List[Tuple[int, int, str, Any]]:
        """Where the words of facts (and the phrases that state none) are in a normalised text."""
        return list(self._forms.scan(text))

    def states_no_fact(self, text: str, words: str) -> bool:
        """Whether every time `words` occur in `text` they are part of a phrase that states no
        fact ("高校毕业生那个放宽" names a measure; "高校毕业生" alone may say who one is)."""
        norm, words = normalise(text), normalise(words)
        if not words or words not in norm:
            return False
        _, masked = self._synonyms(norm)
        return all(any(s < i + len(words) and i < e for s, e in masked) for i in _occurrences(norm, words))

    def asked_of(self, text: str) -> Optional[str]:
        """Whom a message says it asks about, by the words it uses for that ("我想问的是妹夫",
        "就按他的情况算", "那我呢"): a relation, "self", or "him" for a pronoun whose person was
        named before; None when it says nothing of it."""
        norm = normalise(text)
        return self._asked_of(norm, [(i, rel) for i, _, _, rel in self._people(norm)])

    @staticmethod
    def _asked_of(norm: str, people: List[Tuple[int, str]]) -> Optional[str]:
        cues: List[Tuple[int, str]] = [(m.start(), "self") for m in _ASKS_OF_SELF.finditer(norm)]
        for m in _ASKS_OF.finditer(norm):
            named = next((rel for i, rel in people if i == m.end()), None)
            if named is not None and _SAID_EARLIER.search(norm, 0, m.start()) and m.group(1) == "说的是" \
                    and _SELF_AFTER.search(norm, m.end()):
                # "刚才说的是我老婆 我自己是大专毕业的": what was said before was of another; what
                # follows is the writer's own
                cues.append((m.start(), "self"))
                continue
            if named is None and norm[m.end():m.end() + 1] in ("他", "她"):
                # "那他老婆呢": his wife, not him
                named = next((rel for i, rel in people if i in (m.end() + 1, m.end() + 2)
                              and norm[m.end() + 1:i] in ("", "的")), None)
            if named is not None:
                cues.append((m.start(), named))
            elif norm[m.end():m.end() + 1] in ("他", "她") and not m.group(2):
                before = [rel for i, rel in people if i < m.start()]
                cues.append((m.start(), before[-1] if before else "him"))
        if cues:
            at, who = max(cues)  # the last one said, unless another person is named after it
            # ("那我弟弟是中专毕业的…。我表妹本科毕业6年…她总该可以了吧": the cousin)
            if not any(i > at + 2 and rel != who for i, rel in people):
                return who
        return _person_of_the_question(norm, people)

    def said_of_the_one_asked(self, texts: List[str]) -> Tuple[List[str], Optional[Subject]]:
        """Messages of one conversation, oldest first, with what they say of others than the one
        the last asks about blanked out ("我和我妹…我毕业十一年，她毕业四年" then "按她的情况算"), and
        that person; the messages as they are and None when the conversation does not tell of
        several people or the last message does not say whom it asks about."""
        norms = [normalise(t) for t in texts]
        blanked, asked = self._said_of_the_one_asked("。".join(norms))
        if asked is None:
            return norms, None
        pieces, at = [], 0
        for norm in norms:
            pieces.append(blanked[at:at + len(norm)])
            at += len(norm) + 1
        return pieces, asked

    def _said_of_the_one_asked(self, norm: str, found: Optional[List[Tuple[int, int, str, str]]] = None
                               ) -> Tuple[str, Optional[Subject]]:
        """When a message tells of several people (the writer among them) and says which one it
        asks about ("我想问的是妹夫", "我问的是我妈", "那我呢"), the text with what it says of the
        others blanked out (same length), and that person; else the text as it is and None.
        ``found``: the text's `_people`, when the caller has read them already."""
        found = self._people(norm) if found is None else found
        people = [(i, rel) for i, _, _, rel in found]
        # Who speaks for an employer ("我是…企业的HR", "我们公司在青田") tells of the employer, which is
        # the setting of whomever they ask about, not a person of its own.
        for_employer = any(w in norm for w in self._employer)
        name_end = {i: e for i, e, _, _ in found}
        who = self._asked_of(norm, people)
        if who is None or who == "him":
            return norm, None
        # The text in stretches, each ending where a clause ends or another person is named
        # (voice input runs "我老公还在站我妹夫去年出站了" together). A stretch is said of the
        # person named in it, of the writer when it starts "我是…/我毕业…", of the last person
        # named when it starts with 他/她, else of whom the one before was said.
        cuts = sorted({e.start() for e in _CLAUSE_END.finditer(norm)} | {i for i, _ in people} | {len(norm)}
                      | {e.start() for e in _WRITER.finditer(norm)}
                      # (not the 他 of "我是他舅舅": the writer saying who they are to him)
                      # (nor the 他 of "回了他老家武义": a place named by whose home it is)
                      | {e.start() for e in _PRONOUN.finditer(norm) if not _WRITER_SAYS.search(norm, 0, e.start())
                         and not _WHOSE_HOME.match(norm, e.end())})
        out, person, start, last_named = list(norm), None, 0, None
        stretches: List[Tuple[int, int, Any]] = []  # (start, end, whom: a person or a set of them)
        for end in cuts:
            named = [rel for i, rel in people if start <= i < end]
            lead = start + 1 if _CLAUSE_END.match(norm, start) else start  # after the comma
            opener = _OPENER.match(norm, lead)
            lead = opener.end() if opener else lead
            shared = _SHARED.match(norm, name_end[next(i for i, _ in people if start <= i < end)], end) if named else None
            if shared:
                # "我和我老公都是博士后", "我闺蜜跟我是同一年大学毕业的": said of each of them.
                both = {named[0]} | ({"self"} if "我" in shared.group(0) else set())
                before = stretches[-1] if stretches else None
                if before is not None and re.search(r"(和|跟|与|同)(我的?|我家)?$", norm[before[0]:before[1]]):
                    said = norm[before[0]:before[1]].lstrip("，,。.；;！!？?、 ")
                    both |= before[2] if isinstance(before[2], frozenset) else (
                        {before[2]} if before[2] is not None else {"self"} if said.startswith("我") else set())
                person, last_named = frozenset(both - {None}), named[0]
            elif named and stretches and stretches[-1][2] == "self" \
                    and _WITH.search(norm, stretches[-1][0], stretches[-1][1]):
                # "我前年从宁波辞职，跟老公回了他老家武义…": what the writer did with them is the writer's too
                person, last_named = frozenset({named[0], "self"}), named[0]
            elif named:
                person = last_named = named[0]
            elif _HEARSAY.match(norm, lead):
                person = None  # "说是去文成县": what one was told, of the case, no one person's words
            elif _EMPLOYER_SAID.match(norm, lead) or (for_employer and norm[lead:lead + 1] == "我"):
                person = None  # "我们公司在青田，是民营企业": the setting, said of no one person
            elif norm[lead:lead + 1] == "我" and norm[lead:lead + 2] != "我们" and norm[lead:end] not in _BEFORE_A_NAME:
                person = "self"  # "我出站后去了杭州" (not the "我的" of "我的妹夫")
            elif _ASKS_OF_SELF.search(norm[start:end]):
                person = "self"  # "那我呢"
            elif norm[lead:lead + 1] in ("他", "她") and last_named is not None:
                person = last_named
            stretches.append((start, end, person))
            start = end
        whom = {p for _, _, ps in stretches for p in (ps if isinstance(ps, frozenset) else {ps})}
        if len((whom - {None}) | {who}) < 2:
            return norm, None
        for start, end, person in stretches:
            if person is not None and person != who and not (isinstance(person, frozenset) and who in person):
                out[start:end] = " " * (end - start)
        blanked = "".join(out)
        # What is read from it is normalised again, which strips leading spaces and would move every
        # span: a blanked start is marked with commas instead (the same length, and a clause end too).
        lead = len(blanked) - len(blanked.lstrip(" "))
        subject = self._subject_named(who)
        if subject.kind == "relative" and all(_OF_ANOTHER.search(norm, 0, i) for i, _, _, rel in found if rel == who):
            subject = Subject(kind="other", relation=who)  # "他女朋友…她能享受吗": not the writer's
        return "，" * lead + blanked[lead:], subject

    @staticmethod
    def in_the_writers_place(text: str) -> bool:
        """Whether the one asked about is said to be where the writer is ("村里有个小伙子", "厂里新来的")."""
        return bool(_SAME_PLACE.search(normalise(text)))

    @property
    def people_words(self) -> frozenset:
        """Every word for a relative or another person the asker may name."""
        return self._people_words

    def _no_one_named(self, norm: str) -> str:
        """The text with the words that name no one ("朋友圈") blanked, of the same length."""
        return self._not_people.sub(lambda m: "□" * len(m.group(0)), norm) if self._not_people else norm

    def _people(self, norm: str) -> List[Tuple[int, int, str, str]]:
        """(start, end, word, relation) of each person the text names, not the writer ("我是老板")."""
        norm = self._no_one_named(norm)
        found = [f for f in self._relative_forms.scan(norm) if not _IS_THE_WRITER.search(norm, 0, f[0])
                 and (f[2] not in self._needs_owner or _OWNER.search(norm, 0, f[0]))
                 and not _WHOSE_HOME.match(norm, f[1])
                 and not (f[3] in self._others and _WRITER_IS.search(norm, 0, f[0]))
                 and not _COUNTED.search(norm, 0, f[0])]
        # "听同事说…": whom one heard it from is not asked about
        found = [f for f in found if not (_HEARD_FROM.search(norm, 0, f[0]) and norm[f[1]:f[1] + 1] == "说")]
        # "他爸妈想让他去杭州创业": who wants another to go is not the one asked about
        found = [f for f in found if not _WANTS_IT_OF.match(norm, f[1])]
        asking = [f for f in found if _REQUESTER.match(norm, f[1])]
        if asking and len(asking) < len(found):
            found = [f for f in found if f not in asking]
        else:
            # "村支书让我问问…乡村医生考卫生中级": one who is not family and sends the writer to ask
            # is not the one asked about
            found = [f for f in found if f not in asking or f[3] not in self._others]
        # "她的主治医生在青田县人民医院…那这位医生本人…": "这位医生" is the 医生 named before.
        for start, _, word, relation in list(found):
            core = _THIS_ONE.sub("", word)
            if core == word or len(core) < 2:
                continue
            for at in _occurrences(norm[:start], core):
                if not any(s <= at < e for s, e, _, _ in found):
                    found.append((at, at + len(core), core, relation))
        return sorted(found)

    def _subject_named(self, who: str) -> Subject:
        if who == "self":
            return Subject()
        return Subject(kind="other" if who in self._others else "relative", relation=who,
                       called_by_name=who in self._named)

    def _inner_mentions(self, chunk: str) -> List[Tuple[str, str, str, Tuple[int, int]]]:
        found = []
        for start in range(len(chunk)):
            for end in range(len(chunk), start, -1):
                if (start, end) == (0, len(chunk)):
                    continue
                hit = self._terms.get(chunk[start:end])
                if hit is not None:
                    found.append((hit[0], hit[1], chunk[start:end], (start, end)))
        return found

    def _narrower(self, fact: str, value: str) -> List[str]:
        ev = self.facts[fact].values.get(value)
        return list(ev.narrower) if ev else []

    def subject(self, text: str) -> Subject:
        """Whom the message is about: a relative ("我老公"), an employer ("我们厂"), an official, or the person."""
        norm = self._no_one_named(normalise(text))
        named = [(word, relation) for word, relation in self._relatives if word in norm]
        for word, relation in named:
            for prefix in ("我的", "我家", "我", "俺", "咱家"):
                at = norm.rfind(prefix + word)
                if at >= 0 and _WHOSE_HOME.match(norm, at + len(prefix + word)):
                    continue  # "乐清是我老婆老家": a place named by whose home it is
                if at >= 0 and _WANTS_IT_OF.match(norm, at + len(prefix + word)):
                    continue  # "我老婆想让我去丽水": the one who would go is asked about
                if at >= 0:
                    if _SELF_AFTER.search(norm, at + len(prefix + word)):
                        # "我老婆也觉得老家房价便宜。我自己是学计算机的…像我这种情况": the person
                        # tells of themselves after the relative.
                        return Subject()
                    return self._subject_named(relation)
        if any(w in norm for w in self._employer):
            return Subject(kind="employer")
        if any(w in norm for w in self._official):
            return Subject(kind="official")
        # A message that opens with someone's relative ("他女朋友还在读大三，也想跟他一起创业") tells of
        # that relative, who is not the writer's ("该女朋友", not "您女朋友").
        for word, relation in named:
            opening = re.match(r"[，,。\s]*" + _OF_ANOTHER_WORDS + re.escape(word), norm)
            if opening and not _WANTS_IT_OF.match(norm, opening.end()):  # (not "他爸妈想让他去杭州创业")
                return Subject(kind="other", relation=relation)
        return Subject()

    def read(self, text: str, today: date, pick_one: bool = True) -> FactReading:
        """What the text says (see FactReading); with pick_one, when it tells of several people
        and says which one it asks about, only what it says of that one."""
        norm = normalise(text)
        subject = self.subject(norm)
        if not norm:
            return FactReading({}, [], subject)
        # "我老公还在站 我妹夫去年出站了…我想问的是妹夫": only what is said of the one asked about counts.
        whole = norm
        found = self._people(whole)
        norm, asked = self._said_of_the_one_asked(whole, found) if pick_one else (whole, None)
        # (the people the text names, where nothing of it was blanked out: asked is None)
        people = [(i, rel) for i, _, _, rel in found]
        if asked is not None:
            subject = asked
        elif pick_one and subject.kind == "self":
            # One other person, and the question is about them ("厂里有个技术员没上过大学，他能享受吗").
            who = self._asked_of(norm, people)
            if who not in (None, "self", "him"):
                subject = self._subject_named(who)
        out: Dict[str, Any] = {}
        denials: Dict[str, str] = {}
        mentions = self.enum_mentions(norm)
        correcting = bool(CORRECTION.search(norm))
        own: Dict[str, bool] = {}  # whether the value kept was stated, not only asked about
        # Of each mention: whether it is denied, and whether it is stated of now (not only asked about).
        denied = [is_denied(norm, start) for _, _, _, (start, _end) in mentions]
        # "不是城里医院啊，是村卫生室": a clause that says what is so instead puts right the value of the
        # same fact in the denying clause before it, whatever stands between the negator and its word.
        for j, (fact, _, _, (start, _end)) in enumerate(mentions):
            if denied[j]:
                continue
            before = _put_right_from(norm, start)
            for i, (other, _, _, (s_i, e_i)) in enumerate(mentions):
                if other == fact and s_i < start and (
                        before is not None and before <= s_i < _clause_start(norm, start)
                        or _INSTEAD_OF.fullmatch(norm, e_i, start)
                        and _DENYING.search(norm, _clause_start(norm, s_i), s_i)):
                    # ("不是城里医院是村卫生室", the space between read away)
                    denied[i] = True
        stated = [_stated_now(norm, start, _end) for _, _, _, (start, _end) in mentions]
        for (fact, value, _, _span), no, mine in zip(mentions, denied, stated):
            if no:
                denials.setdefault(fact, value)
            elif fact not in out or value in self._narrower(fact, out[fact]) or (
                    correcting and (mine or not own[fact]) and out[fact] not in self._narrower(fact, value)) \
                    or (mine and not own[fact]):
                # The first stated value, a narrower one ("公司…私企"), in a correction the last
                # one that is not broader ("国企那个是他同学，他去的是一家民营的电子厂": 民营) and not
                # only of the past ("不是国企 是一家民营的科技公司…之前是跟国企合作过"), or one
                # stated over one only asked about ("是不是只有县里大医院的才有？我就是村卫生室的村医":
                # 村卫生室).
                out[fact] = value
                own[fact] = mine
        # "研究生还在读": a value that wins over another said in the same message, in either order.
        for (fact, value, _, _span), no, mine in zip(mentions, denied, stated):
            ev = self.facts[fact].values.get(value)
            if fact in out and out[fact] in ev.over and not no and mine:
                out[fact] = value
        # "我这种飞地人才": the kind the writer asks as wins over another said in passing ("研发工程师").
        for (fact, value, _, (start, _e)), no in zip(mentions, denied):
            if not no and fact in out and _ASKS_AS.search(norm, max(0, start - 6), start):
                out[fact] = value
        # A phrase can state two facts: "公立医院" is a public institution and a hospital. Words of
        # other facts inside a matched phrase count.
        for (fact, _, chunk, _span), no, mine in zip(mentions, denied, stated):
            if no:
                continue
            for inner_fact, inner_value, _, _ in self._inner_mentions(chunk):
                if inner_fact != fact and (inner_fact not in out or mine and not own.get(inner_fact, True)):
                    # ("以前在村卫生室…调到龙泉市人民医院": the hospital of now)
                    out[inner_fact] = inner_value
                    own[inner_fact] = mine
        # "从博士后工作站出站的博士": said in one breath, 出站 makes the 博士 a postdoc, unless the
        # message denies it ("我是博士，没做过博士后").
        for fact, value in list(out.items()):
            ev = self.facts[fact].values.get(value) if self.facts[fact].type == "enum" else None
            for other, implied in (ev.implies.items() if ev else ()):
                if out.get(other) in ev.implies_over.get(other, ()) and denials.get(other) != implied:
                    out[other] = implied
        for fact, value in denials.items():
            out.setdefault(fact, DENIED + value)  # a stated value wins over a denied one
        if asked is not None and "activity" not in out:
            # What the question is about ("考卫生中级") is no one person's: it is read from all that was said.
            topic = [v for f, v, _, (start, _e) in self.enum_mentions(whole)
                     if f == "activity" and not is_denied(whole, start)]
            if topic:
                out["activity"] = topic[0]
        if subject.kind in ("employer", "official") and asked is None:
            # "我们刚引进了一位博士后…他来我们公司能享受吗", "老板儿子要是来我们公司上班能拿补助不":
            # the question is about the person, not about the employer asking.
            person = self._asked_of(norm, people)
            if person == "him":
                subject = Subject(kind="other")
            elif person not in (None, "self") and (person not in self._others or _PRONOUN.search(norm)):
                # (not "招几个技术员…展位费要交吗": whom the employer hires is no one asked about)
                subject = self._subject_named(person)
        if subject.kind == "employer":
            doing = self.facts["activity"].values.get(out.get("activity"))
            if doing is not None and "role" in doing.implies:
                # "我们单位不是乡镇卫生院，是县人民医院，考中级有单独分数线吗": one of the unit, asking
                # about what only a person does (an exam), asks for themselves
                subject = Subject(kind="self")
            else:
                out.setdefault("role", "employer")
        places = self.places.places_in_text(norm, fuzzy=True)
        # "我哥在磐安一家民企，我嫂子在庆元一家民企…问我嫂子": the places said of the one asked about.
        # (only when someone else is named too: "我表哥是江西上饶人…要去衢州开化" tells all of him)
        others = {rel for _, rel in people if rel not in ("self", "him", subject.relation)}
        about = [w for w, rel in self._relatives if subject.kind == "relative" and rel == subject.relation and others]
        out.update(self._place_facts(norm, _said_of(norm, places, about)))
        if asked is not None and "place" not in out and self.in_the_writers_place(whole):
            # "我是景宁一个村的支书…村里有个小伙子…": where the writer is, the one asked about is.
            out.update(self._place_facts(whole, self.places.places_in_text(whole, fuzzy=True)))
        # (not "毕业10年以内" of a measure's condition, nor the years of a phrase that states no fact)
        years = parse_years_since_graduation(_blanked(norm, self._synonyms(norm)[1]), today)
        if out.get("role") == "student" and _AFTER_GRADUATION.search(norm):
            # "读大四 毕业后想回来考乡镇的岗位": a plan for after graduating is judged as of then
            out["role"], years = "graduate", 0 if years is None else years
        if years is not None and out.get("role") not in ("student", "non_graduate"):
            out["years_since_graduation"] = years
        facts = {k: out[k] for k in self.facts if k in out}
        return FactReading(facts, places, subject, asked_apart=asked is not None)

    def extract(self, text: str, today: date) -> Dict[str, Any]:
        return self.read(text, today).facts

    @staticmethod
    def _place_facts(norm: str, places: List[PlaceMatch]) -> Dict[str, str]:
        """`place`: where the measure is judged (where the person goes, else where they are);
        `origin`: where they are now. Denied places and places they have left do not count."""
        # "一个在临海 一个在仙居…仙居那家去省人才市场招聘要交参展费吗": the place that says which one
        # "义乌 不对 语音转错了 是武义": the places said after the words that put them right
        fixed = CORRECTION.search(norm)
        if fixed and any(m.span[0] > fixed.start() for m in places) and any(m.span[0] < fixed.start() for m in places):
            places = [m for m in places if m.span[0] > fixed.start()]
        places = [m for m in places if not _FELL_THROUGH.match(norm, m.span[1])]  # "青田那家没谈成"
        picked = [m for m in places if _PICKS_PLACE.match(norm, m.span[1])]
        if len({m.name for m in picked}) == 1 and len({m.name for m in places}) > 1:
            places = picked[-1:]
        going, here, home, lives, came, roots = [], [], [], [], [], []
        starts = {m.span[0]: m.span[1] for m in places}
        for m in places:
            start, end = m.span
            while end in starts:  # "江西上饶人": what follows the last of places named in a row
                end = starts[end]
            before = norm[_clause_start(norm, start):start]
            if is_denied(norm, start):
                continue
            if _SCHOOL.match(norm, end):
                home.append(m)  # "他是丽水学院毕业的": where one studied, not where one is now
                continue
            if NEAR_BEFORE.search(before) or NEAR_AFTER.match(norm, end):
                continue  # a place only named as near where one is
            if _HELD_BEFORE.search(norm, 0, start) or _HELD_AFTER.match(norm, end):
                continue  # "是省人才市场组织的 在杭州": where an event is held, not where anyone is
            if _COMPARED_WITH.search(before) and _ALIKE.match(norm, end):
                continue  # "不跟温州市区医院的人一个线": a place one is compared with, not one's own
            if _BACK_TO_TOPIC.match(norm[:start]) and _CLAUSE_END.match(norm, end):
                here.append(m)  # "回到景宁，那边的企业…": the place talked of again, not a move
                continue
            if _MOVED.search(before):
                going.append(m)  # "调到椒江", "我们去年搬到东阳了"
                here.append(m)
            elif _TO.search(before) and not _FROM.search(before):
                going.append(m)  # "回老家嘉善创业", "出站后想去丽水"
            elif _FROM.search(before):
                came.append(m)  # "我从龙港过来的，在平阳开了家公司": where one came from
            elif _HOME.search(before):
                lives.append(m)  # "我家在仙居，但在临海的卫生院上班": where one works counts
            elif _PAST.search(before) or _HOMETOWN.match(norm, end) or _HOMETOWN_AFTER.match(norm, end) \
                    or _BORN.match(norm, end) \
                    or _left_behind(norm, start, end):
                # "以前在天台", "老家在开化", "我是椒江人", "在淳安出生长大的", "在杭州的工作站做了
                # 两年，…现在去了…": not where one is now
                home.append(m)
                if _HOMETOWN.match(norm, end) or _HOMETOWN_AFTER.match(norm, end) or _BORN.match(norm, end) \
                        or "老家" in before:
                    roots.append(m)  # where one is from, not only where one has been
                continue
            else:
                here.append(m)
        back = _CAME_BACK.search(norm)
        if roots and back and all(m.span[0] < back.start() for m in going + here):
            # "在景宁长大，后来去杭州读的…就回来了，现在在我们镇上的卫生院": where one went before
            # coming back is the past
            going, here = [], roots[-1:]
        if not going and roots and _BACK_HOME.search(norm, max(m.span[1] for m in roots)) and not _CAME_BACK.search(norm):
            going = roots[-1:]  # "老家平阳的，人在上海…想回老家开个工作室": home is where one goes
        if not going and not here:
            here = lives or came  # where one lives or comes from, when nothing else is said
        if not going and not here and home and _BACK_HOME.search(norm):
            here = home[-1:]  # "我是缙云人…回老家开了个网店": back where they came from
        out: Dict[str, str] = {}
        if going:
            # the latest move ("先…跑去义乌做电商…去年回了老家平阳县"), its county before its city
            out["place"] = most_specific(_named_together(going)).name
        if going and not here and came:
            here = came[-1:]  # "从丽水云和派到杭州去挂职": where one is sent from is where one is now
        if here:
            moved = [m for m in here if m in going]
            origin = (moved[-1] if moved else most_specific(here)).name
            out["origin"] = origin
            last = max(m.span[1] for m in here)
            somewhere = _SOME_MOUNTAIN_COUNTY.search(norm, last) if not going else None
            if somewhere:
                # "女儿在上海做博后…想回浙江山区县的企业": where one goes is not named; where one is
                # now is not where the measure is judged; nor where a firm is that sets up a branch
                # there ("上海一家公司，打算在浙江开个分公司": the branch's place is not said)
                return {} if somewhere.group("setup") else out
            out.setdefault("place", origin)
        return out


# Before a word in its clause: a time to come ("明年才出站", "下个月就出站", "快出站了").
_TO_COME = re.compile(r"(明年|后年|下半年|下个?月|下周|(?<!去年)(?<!前年)(?<![去前])年底|年后|过[一两三几]?个?(月|年)|还有[^，,。；;！!？?]{1,4}(就|才)"
                      r"|即将|快要|(?<![很尽])快|马上|就要|将要|还要|还得)[^，,。；;！!？?了]{0,6}$")
# After it: a plan for then ("出站后想去", "出站了就去"), or in the words that follow ("快出站了 她说
# 想回浙江山区县的企业", "明年出站 去遂昌一家民营的药企"; not "…只是先来我们这里做项目").
_PLAN_FOR_THEN = re.compile(r"(之后|以后|后|了以后|了之后|了再|了就|就|再)"
                            r"|[了的]?[，,。 ]?[^，,。；;！!？?]{0,4}?(想|打算|准备|计划|要)(去|回|到|来|留)"
                            r"|[了的]?[，,。 ](去|回|到)")
# Where an event is held: after the words that say who holds it ("省人才市场组织的 在杭州"), or
# before the words of holding it ("在杭州举办的招聘会").
# ("省人才市场在杭州有组织引才活动": the market that holds it, then where).
_HELD_BEFORE = re.compile(r"((组织|举办|主办|承办)的?[，, ]*(地点|会场)?|(人才市场|人才交流中心))(在|是在)$")
_HELD_AFTER = re.compile(r"(人才市场|人才交流中心|举办|召开|举行|开的招聘|办的招聘|的招聘会|的引才活动|的人才交流会|的展会"
                         r"|(有|会|要|在|也)?(组织|举办|举行|召开)(了|过|的)?[^，,。；;！!？?]{0,4}?(招聘|引才|人才交流|展会))")
# A place one is compared with: right after 跟/和/与/比, and a word of likeness later in its clause.
_COMPARED_WITH = re.compile(r"(跟|和|与|同|比)$")
_ALIKE = re.compile(r"[^，,。；;！!？?]{0,12}?(一样|一个线|一条线|一个分数线|一个标准|同一|相同|一起考|差不多|不一样|不同)")
# After a place in its clause: a plan that came to nothing ("青田那家没谈成", "去丽水的事黄了").
_FELL_THROUGH = re.compile(r"[^，,。；;！!？?]{0,8}?(没谈成|没谈拢|谈崩了|没签成|没去成|去不成|黄了|吹了|泡汤|不去了|不考虑了|放弃了)")
# A plan for after graduating ("毕业后想回来考乡镇的岗位", "毕业想考回三门"), not "还没毕业就想…".
_AFTER_GRADUATION = re.compile(r"(?<![没未])毕业(之后|以后|后|了以后|了之后|了)?(就|想|打算|准备|要|计划)")
# A clause that tells where the writer's family is from or lives ("我们家是遂昌的", "我家在景宁").
_FAMILY_HOME = re.compile(r"(我们|咱们|我|咱|俺)家(里|乡)?(就|也|都)?(是|在|住)")


_COLON = re.compile("[：:]")
# Words that open what one was told ("说是去文成县", "听说要派到景宁").
_HEARSAY = re.compile(r"说是|听说|据说|好像是|说要")
# At the end of the words before a person: one the writer does something with ("跟老公回了…").
_WITH = re.compile(r"(跟|和|与|同|陪|陪着|带着)$")
# After a place: the name of a school there ("丽水学院毕业的", "衢州职业技术学院"), where one studied.
_SCHOOL = re.compile(r"(学院|大学|职业技术学院|职业学院|师范|中学|高中|卫校|技校)")


def _named_together(matches: List[PlaceMatch]) -> List[PlaceMatch]:
    """The last place named and those named with it in one breath ("江西上饶婺源", "丽水市莲都区"),
    not a place of another clause ("本来想去青田，后来去了福鼎": 福鼎)."""
    run = [matches[-1]]
    for m in reversed(matches[:-1]):
        if run[0].span[0] - m.span[1] > 1:
            break
        run.insert(0, m)
    return run


def _said_of(norm: str, places: List[PlaceMatch], words: List[str]) -> List[PlaceMatch]:
    """Of the places, those in a clause that names one of `words` (when some are, and others not)."""
    if not words or len(places) < 2:
        return places
    def clause_of(pos: int) -> str:
        # (a colon ends the words that say for whom one asks: "我帮我表哥问：他是丽水学院毕业的…")
        end = _CLAUSE_END.search(norm, pos)
        start = _clause_start(norm, pos)
        start = max([start] + [m.end() for m in _COLON.finditer(norm, start, pos)])
        colon = _COLON.search(norm, pos)
        stop = min(end.start() if end else len(norm), colon.start() if colon else len(norm))
        return norm[start:stop]
    # (a place denied of them says nothing of where they are: "我侄女不在杭州 她在常山县"; the
    # family's home is theirs too: "我儿子…想在老家开个民宿…我们家是遂昌的")
    mine = [m for m in places if (any(w in clause_of(m.span[0]) for w in words) or _FAMILY_HOME.match(
        clause_of(m.span[0]).lstrip(" ，,"))) and not is_denied(norm, m.span[0])]
    return mine if mine and len(mine) < len(places) else places


# What makes a clause a question ("能不能", "有补助吗", "算不算"), and the writer as the one asking
# rather than the one asked about ("我想问", "我咨询一下").
_QUESTION_MARK = re.compile(r"吗|么|能不能|能否|可不可以|可以不|有没有|算不算|是不是|是否|行不行|够不够|[？?]|"
                            r"([\u4e00-\u9fff])不\1|需不需要|(?<=[\u4e00-\u9fff])不(?=[，,。？?\s]|我|$)|吧(?=[，,。？?\s]|$)")
_SPEAKER = re.compile(r"我(想|要)?(问|请问|咨询|了解|打听)|我想知道|我来问|我替|我帮")


def _person_of_the_question(norm: str, people: List[Tuple[int, str]]) -> Optional[str]:
    """The person a question is put about, when no words say it: the one named last before the
    last mark of a question ("他表哥这种省里有补助吗": 表哥; "想问我自己考中级有没有单独的分数线":
    the writer). A pronoun is the person named before it."""
    marks = list(_QUESTION_MARK.finditer(norm))
    if not marks:
        return None
    q = marks[-1]
    named = [(i, rel) for i, rel in people if i < q.start()]
    pronouns = [m.start() for m in _PRONOUN.finditer(norm, 0, q.start())]
    speakers = {m.start() for m in _SPEAKER.finditer(norm, 0, q.start())}
    mine = [i for i in (m.start() for m in re.finditer(r"我(?!们)", norm[:q.start()]))
            if i not in speakers and not any(j == i + 1 or j == i + 2 and norm[i + 1] in "的家和跟与" for j, _ in people)]
    # The writer's own firm is the writer asking ("…我姐夫的公司在永嘉。…我们公司能免参展费吗").
    mine += [m.start() for m in _WRITERS_FIRM.finditer(norm, 0, q.start())]
    last = max([(i, rel) for i, rel in named] + [(i, "him") for i in pronouns] + [(i, "self") for i in mine],
               default=None)
    if last is None:
        return None
    if last[1] == "him":
        # The family a pronoun named ("就是他老婆在杭州上班孩子还小…他来了有没有补助") is not the
        # one the same pronoun is, nor anyone named after them in the same clause ("他女朋友…她能
        # 享受吗" is the girlfriend).
        pronoun, family = norm[last[0]], set()
        for i, _ in named:
            if norm[max(0, i - 1):i] == pronoun or norm[max(0, i - 2):i] == pronoun + "的":
                end = _CLAUSE_END.search(norm, i)
                family |= {j for j, _ in named if i <= j < (end.start() if end else len(norm))}
        before = [rel for i, rel in named if i < last[0] and i not in family]
        return before[-1] if before else "him"
    return last[1]


def _blanked(text: str, spans: List[Tuple[int, int]]) -> str:
    out = list(text)
    for s, e in spans:
        out[s:e] = " " * (e - s)
    return "".join(out)


def _occurrences(text: str, words: str) -> List[int]:
    out, i = [], text.find(words)
    while i >= 0:
        out.append(i)
        i = text.find(words, i + 1)
    return out

