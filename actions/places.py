"""Answers about places (is X one of the 26?) and about what applies to a person."""
from __future__ import annotations

import re
from typing import Any, Collection, List, Optional, Sequence, Tuple

from policy_kb import get_kb
from policy_kb.text import normalise

from actions.render import Reply, excerpt, fact_buttons, join, put_to, quote, top_verdict, verdict_label, verdict_payload

_HOW_MANY = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五"}

# Measures listed at once in "what applies to me".
MAX_LISTED = 4

LIST_ALL = re.compile(r"哪些|哪几个|名单|列表|都有|包括|全部|所有|清单|列出|是哪")
COUNT = re.compile(r"多少|几个|几县|数量")
# The number of all the mountain counties asked for ("山区26县一共多少个县"), not of a city's.
TOTAL = re.compile(r"(山区26县|山区县|26县)[^，,。；;？?]{0,4}?(一共|总共|共有|总数|合计|加起来)")


# Which city or county a place is in ("文成属于哪个市的", "壶镇归哪个县").
WHICH_CITY = re.compile(r"哪个(地级)?市|哪个县|哪个区|归哪|属于哪")
# Whether a place belongs to the city named after it ("三门是台州的对吧", "龙游属于衢州吧").
BELONGS_ASKED = re.compile(r"(是|属于|归)[\u4e00-\u9fff]{2,4}?(市)?(的|管)?[，, ]?(对吧|对不对|是吧|是不是|吧|吗|没错吧|没错吗)")


def county_replies(matches: Sequence[Any], text: str) -> Tuple[List[Reply], Optional[str]]:
    """The replies and the place they were about (for follow-ups). Several counties asked about
    together ("东阳和磐安哪个是山区县") are answered one message each, each with its county; several
    cities too ("衢州几个丽水几个"); the total asked beside them ("一共多少个县？衢州几个") is the
    whole list, city by city."""
    if TOTAL.search(text) and COUNT.search(text):
        return [_all_reply(text)], None  # (the counties' number beside the cities': all of them, by city)
    reply, place = county_reply(matches, text)
    cities = [m.city for m in matches if m.city is not None]
    cities = [c for i, c in enumerate(cities) if all(o.name != c.name for o in cities[:i])]
    if len(cities) >= 2 and matches[0].city is not None:
        return [reply] + [_city_reply(c, text) for c in cities[1:4]], place
    kb = get_kb()
    counties = [m for m in matches if m.place is not None]
    counties = [m for i, m in enumerate(counties) if all(o.place.name != m.place.name for o in counties[:i])]
    if len(counties) < 2 or not matches or matches[0].place is None:
        return [reply], place
    replies = [reply]
    for extra in counties[1:4]:
        p = extra.place
        if extra.township or extra.landmark:
            more = Reply(_below_county(p, extra.township, extra.landmark))
        else:
            yes = "属于" if p.is_mountain_county else "不属于"
            more = Reply(f"{p.name}（{p.city}）{yes}本意见所指的山区县。")
        more.add_citations([kb.scope_clause])
        more.payload["county"] = p.to_payload()
        replies.append(more)
    return replies, place


def county_reply(matches: Sequence[Any], text: str) -> Tuple[Reply, Optional[str]]:
    """The reply on the first place and the place it was about (for follow-ups)."""
    kb = get_kb()
    scope = kb.scope_clause
    if not matches:
        shared = kb.shared_township_names(text)
        return (_shared_name_reply(*shared[0]) if shared else _all_reply(text)), None
    m = matches[0]
    if m.area is not None:
        a = m.area
        names = "、".join(p.name for p in a.places)
        yes = "属于" if a.is_mountain_county else "不属于"
        lead = f"{a.name}指{a.city}的{names}，{yes}本意见所指的山区县。"
        reply = Reply(join(lead, quote(scope)))
        reply.add_citations([scope])
        reply.payload["county"] = a.to_payload()
        return reply, a.name
    if m.city is not None:
        return _city_reply(m.city, text), m.city.name
    if m.outside is not None:
        o = m.outside
        lead = f"{o.name}不在浙江省内，不属于本意见所指的山区26县。本意见只适用于浙江省的山区26县。"
        reply = Reply(join(lead, quote(scope)))
        reply.add_citations([scope])
        reply.payload["county"] = o.to_payload()
        return reply, o.name
    p = m.place
    # A township named in the question ("千岛湖", "横店镇"): say which county it is in. The entities
    # may carry only the county, so the knowledge base reads the question for it.
    said = [t for t in kb.places_in_text(text) if t.place is not None and t.place.name == p.name]
    township = getattr(m, "township", None) or next((t.township for t in said if t.township), None)
    # A place below township level ("楠溪江", "下姜村"): where it lies, down to its township if known.
    landmark = getattr(m, "landmark", None) or next((t.landmark for t in said if t.landmark), None)
    if township or landmark:
        lead = _below_county(p, township, landmark)
        if not p.is_mountain_county and getattr(p, "note", None):
            lead += p.note
    elif WHICH_CITY.search(text):  # "文成属于哪个市的": the city first
        verdict = "是本意见所指的山区县" if p.is_mountain_county else "不在本意见所指的山区26县范围内"
        lead = f"{p.name}属于{p.city}，{verdict}。"
    elif p.is_mountain_county:
        whole = kb.whole_cities()
        how = (f"{'、'.join(c.removesuffix('市') for c in whole)}{_HOW_MANY.get(len(whole), str(len(whole)))}市的所辖县（市、区）"
               if p.city in whole else "文件点名列出的县市")
        lead = f"是的，{p.name}（{p.city}）属于本意见所指的山区县（{how}之一）。"
    else:
        lead = f"不是，{p.name}（{p.city}）不在本意见所指的山区26县范围内。"
        if getattr(p, "note", None):
            lead += p.note
    lead = lead if lead.endswith("。") else lead + "。"
    reply = Reply(join(lead, quote(scope)))
    reply.add_citations([scope])
    reply.payload["county"] = p.to_payload()
    return reply, p.name


def _below_county(p, township: Optional[str], landmark: Optional[str]) -> str:
    """Which county a township ("千岛湖镇") or a place below it ("楠溪江", down to its township
    where known) is in, and whether that county is covered."""
    verdict = "是山区26县之一" if p.is_mountain_county else "不在山区26县范围内"
    if township:
        return f"{township}属于{p.city}{p.name}，{p.name}{verdict}。"
    mark = get_kb().places.landmarks[normalise(landmark)]
    return f"{landmark}位于{p.city}{p.name}{mark.township or ''}，{p.name}{verdict}。"


def _city_reply(city, text: str) -> Reply:
    kb = get_kb()
    scope = kb.scope_clause
    covered = [p.name for p in city.covered]
    if covered and len(covered) == len(city.counties):
        lead = f"{city.name}所辖{len(covered)}个县（市、区）全部属于山区县：{'、'.join(covered)}。"
    elif covered:
        lead = (f"{city.name}不整体属于山区县。其所辖县（市、区）中，属于山区县的有{len(covered)}个："
                f"{'、'.join(covered)}；其余不在范围内。")
    else:
        lead = f"{city.name}所辖县（市、区）都不在本意见所指的山区26县范围内。"
    reply = Reply(join(lead, quote(scope)))
    reply.add_citations([scope])
    reply.payload["county"] = city.to_payload()
    return reply


def _shared_name_reply(name: str, counties: Sequence[Any]) -> Reply:
    """A township name that several counties have ("岩头镇"): each, and whether it is covered."""
    scope = get_kb().scope_clause
    each = [f"{p.city}{p.name}的{name}（{p.name}{'是山区26县之一' if p.is_mountain_county else '不在山区26县范围内'}）"
            for p in counties]
    lead = f"浙江有{len(counties)}个{name}：{'；'.join(each)}。请告诉我是哪个县（市、区）的{name}。"
    reply = Reply(join(lead, quote(scope)))
    reply.add_citations([scope])
    return reply


def _all_reply(text: str) -> Reply:
    kb = get_kb()
    scope = kb.scope_clause
    counties = kb.mountain_counties()
    by_city: dict = {}
    for p in counties:
        by_city.setdefault(p.city, []).append(p.name)
    lines = [f"本意见所指的山区县共{len(counties)}个："]
    for city, names in by_city.items():
        lines.append(f"{city}（{len(names)}个）：{'、'.join(names)}")
    reply = Reply(join("\n".join(lines), quote(scope)))
    reply.add_citations([scope])
    return reply


def applicable_reply(verdicts: Sequence[Any], related: Sequence[Any] = (), address: str = "您",
                     question: str = "", place: Any = None, asked: Collection[str] = ()) -> Reply:
    """The measures that may apply, one line each: what was asked about first, then each judged
    one with its label and the reason that decides it; the leading measure quoted once; with
    `place`, the county its verdict was judged on."""
    kb = get_kb()
    verdicts = list(verdicts)[:MAX_LISTED]
    eligible = [kb.clause(v.clause_id) for v in verdicts if v.verdict == "eligible" or v.clause_id in asked]
    # What was asked about is cited first (`related`, then the judged measures the words point at,
    # `asked`, which lead the list); then what the person qualifies for; then the rest.
    clauses = list(related) + [c for c in eligible if c not in related]
    clauses += [kb.clause(v.clause_id) for v in verdicts if kb.clause(v.clause_id) not in clauses]
    lines = []
    if related:
        names = "、".join(f"{c.location}「{c.label}」" for c in related)
        lines.append(f"与您所问最相关的是{names}。")
    if verdicts:
        lines.append(f"按介绍的情况，与{address}有关的措施：")
    for i, v in enumerate(verdicts, 1):
        c = kb.clause(v.clause_id)
        if v.unmet:
            why = v.unmet[0]
        elif v.verdict == "need_info" and v.questions and v.questions.get(v.missing[0]):
            why = put_to(v.questions[v.missing[0]].text, address)
        else:
            why = "、".join(m.split("，")[0] for m in v.met[:3])
        lines.append(f"{i}. 「{c.label}」：{verdict_label(v)}。{why}")
    if clauses:
        lines.append(excerpt(clauses[0], question))
    reply = Reply("\n".join(lines))
    reply.add_citations(clauses)
    if verdicts:
        reply.payload["eligibility"] = verdict_payload(top_verdict(verdicts, asked))
        reply.payload["eligibility_all"] = [verdict_payload(v) for v in verdicts]
        if place is not None:
            reply.payload["county"] = place.to_payload()
        first_info = next((v for v in verdicts if v.verdict == "need_info"), None)
        if first_info is not None and not related and all(v.verdict != "eligible" for v in verdicts):
            q = first_info.questions.get(first_info.missing[0]) if first_info.questions else None
            if q:
                reply.buttons = fact_buttons(first_info.missing[0], q)
    units = [d for c in clauses[:1] for d in kb.units_of(c.id)]
    if units:
        reply.add_units(units)
    return reply
