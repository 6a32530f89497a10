"""Answers about the document itself: dates, issuers, number, publicity, validity, overview."""
from __future__ import annotations

import re
from typing import Any, Optional, Tuple

from policy_kb import get_kb
from policy_kb.text import cn_number, squash

from actions.render import Reply, join, quote
from actions.config import HOTLINE

# Which fact about the document a question asks for, by the words people use for it.
ASPECTS = [
    # ("标题里说的山区26县 正文是哪句话定义的"): where the document says what 山区县 means
    ("scope", re.compile(r"(哪句|哪段|哪里|哪儿|哪条|怎么|如何)[^，,。？?]{0,3}(定义|界定)|定义(是|在)|(怎么|如何)规定(的)?范围")),
    ("validity", re.compile(r"有效期|还有效|有效吗|失效|过期|废止|截止|到期|到什么时候|什么时候结束|为止|管到|管多久|到哪年|期限|还管用|还在执行|仍然有效|继续有效")),
    ("effective", re.compile(r"施行|生效|实施|执行|起效|开始|哪天起|什么时候起")),
    # (印发, 发布 and 出台 ask for the day with a word of time: "是浙江省政府印发的" asks who)
    ("issued", re.compile(r"成文|发文日期|落款|哪天发|什么时候发|签发|日期|哪一年|哪年|"
                          r"(什么时候|啥时候|何时|哪天|哪一天|几月|几号|时间|多久)[^，,。？?]{0,4}(印发|发布|出台|下发)|"
                          r"(印发|发布|出台)(的)?(时间|日期|于|多久)")),
    ("addressees", re.compile(r"主送|发给谁|发给哪些|下发给|印发给|发到哪|发给了|送给哪")),
    ("issuers", re.compile(r"发文机关|哪些部门|哪几个部门|几个部门|几家单位|一起发|共同发|哪些单位发|哪几个单位发|哪几家单位|谁发|谁制定|联合|哪个单位发|发文单位|制定|部门发|政府发|政府出|政府颁布|国务院发|省委发|谁印发|哪里发|哪个部门(印发|发布|发的|发了|出台)|谁出的|哪个部门出|"
                           r"是(?!哪|什么|何|啥)[^，,。？?]{1,10}?(印发|发布|出台|下发|(?<=[部委厅局院])发)的")),
    ("number", re.compile(r"文号|编号|字号|几号文|发文字号")),
    ("publicity", re.compile(r"公开|保密|能不能看|可以转发|对外")),
    ("count", re.compile(r"几条|多少条|几项|多少项|几个措施|多少措施|几方面")),
    ("structure", re.compile(r"几个部分|几部分|哪几部分|哪些部分|哪几块|几大块|几大部分|分几块|每部分|每个部分|各部分|结构|框架|目录|大标题|小标题")),
    ("title", re.compile(r"标题|名称|全称|全名|叫什么|叫啥")),
]

# Questions about the whole document rather than one of its clauses.
OVERVIEW = re.compile(r"主要内容|讲了什么|讲的什么|讲什么|说了什么|概括|总结|介绍|大概|主要讲|核心|重点|要点|有哪些措施|哪些举措|主要举措|几条|多少条|全文")


# Who is responsible for a measure, not who issued the document ("各自是哪些部门负责的").
_RESPONSIBLE = re.compile(r"负责|牵头|分工|职责")
_ISSUING = re.compile(r"发|制定|出台|出的")


# A day named in a question ("5月18号", "六月一日").
_DAY = re.compile(r"([0-9]{1,2}|[一二三四五六七八九十]{1,3})月([0-9]{1,2}|[一二三四五六七八九十]{1,3})(日|号)")
_DATE_ASPECTS = ("validity", "effective", "issued")


def days_named(text: str) -> list:
    """The document's own dates a question names, as the aspect each is ("issued", "effective")."""
    doc = get_kb().document
    named = []
    for m in _DAY.finditer(text):
        day = (cn_number(m.group(1)), cn_number(m.group(2)))
        named += [aspect for aspect, when in (("issued", doc.issued), ("effective", doc.effective))
                  if day == (when.month, when.day) and aspect not in named]
    return named


def aspects_of(text: str) -> list:
    """Every fact about the document a question asks for, in the order of ASPECTS."""
    found = [name for name, pattern in ASPECTS if pattern.search(text)
             and not (name == "issuers" and _RESPONSIBLE.search(text) and not _ISSUING.search(text))
             and not (name == "issuers" and get_kb().aspect_of(text) == "funder")]  # "这个钱是谁出的"
    if not any(a in found for a in _DATE_ASPECTS):
        found = days_named(text)[:1] + found  # "那5月18号是啥日子": what that day is in the document
    # "成文日期和施行日期": the issue date is asked, not only the start.
    if "scope" in found and "山区" not in text:
        found.remove("scope")
    if "scope" in found:
        found = [a for a in found if a != "title"]
    if "structure" in found:
        found = [a for a in found if a != "title"]  # "每部分标题是啥": the parts' headings
    return found


def aspect_of(text: str) -> str:
    """The first fact about the document a question asks for, or "overview"."""
    found = aspects_of(text)
    return found[0] if found else "overview"


def document_reply(text: str, aspect: Optional[str] = None, named: Any = None) -> Tuple[Reply, Any]:
    """The answer on one fact of the document; `named`: a department asked about as an issuer."""
    kb = get_kb()
    doc = kb.document
    aspect = aspect or aspect_of(text)
    eff, iss = kb.effective_clause, kb.issuance_clause
    issuers = [kb.departments[i] for i in doc.issuers]
    when_eff = f"{doc.effective.year}年{doc.effective.month}月{doc.effective.day}日"
    when_iss = f"{doc.issued.year}年{doc.issued.month}月{doc.issued.day}日"
    if aspect == "validity":
        lead = (f"文件规定本意见从{when_eff}起施行，但没有规定有效期或截止日期，也没有写明何时废止。"
                f"文件本身未规定终止时间；如需确认现行效力，请咨询省人力资源和社会保障厅或拨打{HOTLINE}。")
        clause = eff
    elif aspect == "effective":
        lead = f"本意见从{when_eff}起施行。"
        if "issued" in days_named(text) and doc.issued != doc.effective:
            # "意见是5月18号开始施行的吧": that day is another date of the document
            lead += f"{doc.issued.month}月{doc.issued.day}日是本意见的成文日期，不是施行日期。"
        clause = eff
    elif aspect == "issued":
        lead = f"本意见的成文日期是{when_iss}，{when_eff}起施行。"
        clause = iss
    elif aspect == "issuers":
        names = "、".join(d.full_name for d in issuers)
        lead = f"本意见由{len(issuers)}个部门联合印发：{names}。"
        other = kb.other_department_in(text)
        if other:
            lead = f"不是{other}发的。" + lead
        elif named is not None:
            among = named.id in doc.issuers
            lead = (f"{'是的' if among else '不是'}，{named.full_name}{'是' if among else '不是'}"
                    f"{len(issuers)}个发文单位{'之一' if among else ''}。") + lead
        clause = iss
    elif aspect == "addressees":
        lead = f"本意见主送：{doc.addressees.rstrip('：:')}。"
        clause = iss
    elif aspect == "number":
        lead = f"本意见的文号是{doc.number}。"
        clause = iss
    elif aspect == "publicity":
        lead = f"本文件的公开方式为“{doc.publicity}”（文末注明“此件{doc.publicity}”）。"
        clause = iss
    elif aspect == "title":
        lead = f"文件全称：《{doc.title}》（{doc.number}）。"
        clause = iss
    elif aspect == "scope":
        clause = kb.scope_clause
        lead = f"“山区县”的范围写在{clause.location}："
    elif aspect == "structure":
        return structure_reply(), None
    else:
        return overview_reply(aspect == "count"), None
    # Of the number at the top, the addressees under the title and the signatures at the end,
    # the passage that answers.
    # (the day it was written on alone, not the signatures above it: a short answer on a phone)
    passage = None
    if len(clause.passages) > 1:
        wanted = {"number": doc.number, "addressees": doc.addressees, "issued": when_iss,
                  "publicity": doc.publicity, "title": doc.short_title}.get(aspect)
        # (the signatures hold every issuer; the title names the first of them too)
        names = [wanted] if aspect in ("number", "addressees", "issued", "publicity", "title") \
            else [d.full_name for d in issuers]
        passage = next((p for p in clause.passages if all(squash(n) in squash(p) for n in names)), clause.passages[-1])
    reply = Reply(join(lead, quote(clause, passage)))
    reply.add_citations([clause])
    if aspect == "issuers":
        reply.add_units(issuers)
    return reply, clause


def structure_reply() -> Reply:
    """The document's parts under their headings, as the knowledge base places its clauses."""
    kb = get_kb()
    heads: dict = {}  # heading -> the first clause under it, in the document's order
    for c in kb.clauses.values():
        if _NUMBERED_PART.match(c.part):
            heads.setdefault(c.part, c)
    ending = "、".join(c.title for c in (kb.scope_clause, kb.effective_clause))
    lead = (f"正文分为{_cn(len(heads))}个部分：" + "；".join(heads) + f"（共{kb.document.measure_count}项举措）。"
            f"正文最后说明{ending}。")
    reply = Reply(lead)
    reply.add_citations(list(heads.values()))
    return reply


# A heading of the document's own parts ("一、总体思路").
_NUMBERED_PART = re.compile(r"[一二三四五六七八九十]、")


def overview_reply(count_only: bool = False) -> Reply:
    kb = get_kb()
    doc = kb.document
    measures = [c for c in kb.clauses.values() if c.measure and c.paragraph in (None, 0) and "." not in c.id]
    lines = [f"《{doc.title}》（{doc.number}）共提出{doc.measure_count}项主要举措："]
    for c in measures:
        lines.append(f"（{_cn(c.measure)}）{c.title}")
    if not count_only:
        lines.append("此外，文件还规定了总体思路、目标任务、“山区县”的范围和施行日期。您可以问任一项的具体内容。")
    reply = Reply("\n".join(lines))
    reply.add_citations(measures)
    return reply


def _cn(n: int) -> str:
    return "一二三四五六七八九十"[n - 1] if 1 <= n <= 10 else str(n)
