"""action_answer: the one action that answers every turn.

The path of a question: the NLU gives an intent and entities (the knowledge-base matcher
normalises names to the knowledge base's ids); `Understanding` (actions.understanding) reads them
with the conversation's slots, once per turn; `route` (actions.routing, one ordered table) names
the kind of answer; `Answerer.on_<kind>` builds the `Reply`s for that kind from policy_kb and
never hands the turn to another handler. A message with several questions is split into its
parts (`question_parts`), each routed and answered in order.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from policy_kb import PLAUSIBLE, get_kb
from policy_kb.text import CLAUSE_STOP, SENTENCE_END_MARKS, cn_number, normalise

from actions import messages, places, render
from actions.document import aspect_of, aspects_of, document_reply
from actions.routing import ASKS_IF, route
from actions.understanding import COUNTY_QUESTION, DEICTIC, PROVINCIAL_DEPARTMENT, SENTENCE, SMALL_TALK, UNITS_QUESTION, WHO, Understanding

logger = logging.getLogger(__name__)

# Where one question of a message ends and the next begins.
_PART_SPLIT = re.compile(f"[{SENTENCE_END_MARKS}\\n]+|" r"(?:^|\s|(?<=[，,：:]))[一二三四五][、.．)）]\s*|"  # ("一、乡镇卫生院考中级分数线 二、…")
                         r"(?:^|\s|(?<=[，,：:]))[1-9１-９](?:[、.．)）]\s*|\s+|"
                         # ("问几个事 1飞地人才落户咋弄 2博后…": a number put before a question, not "3年前")
                         r"(?=[\u4e00-\u9fff])(?![年月日号岁个位名人家项条次万千百元块周天届级点倍多十]))|(?<![统唯单])[一二三四五]是(?=[\u4e00-\u9fff])|"
                         r"第[一二三四五](?![条项款段章节点部分个年])(?:个|是|点)?(?=[\u4e00-\u9fff])|其[一二三四]|另外|还有(?:就是|个|一个)?(?=[^，,])(?!效|没有|吗|多少|几)|顺便问一?下?|顺带问一?句?|再问一?下?|此外|同时想问")
# A question of what a measure holds, not whether it applies ("评职称有什么倾斜").
_ASKS_WHAT = re.compile(r"什么|啥|哪些|哪几|怎么|怎样|如何")
# A piece that asks something.
_ASKS = re.compile(r"[吗呢么？?]|是否|能否|可否|能不能|会不会|可不可以|可以不|有没有|有无|是不是|算不算|要不要|需不需要|用不用|"
                   r"多少|多长|多久|多大|(?<![前这那近头好了])几年|(?<![这那了])几个|几条|几项|几天|几号|几点|几成|几万|几岁|几个月|哪|谁|什么|啥|怎么|怎样|如何|咋|"
                   r"想知道|想问|请问|问一下|问下|打听|能拿|能享受|"
                   r"([\u4e00-\u9fff])不\1|"  # (a word, 不, the word again: "补不补", "免不免", "收不收")
                   r"(?<=[\u4e00-\u9fff])不$")  # ("现在还有效不")
# Where a question ends or starts inside a run of words with no marks.
_ENDS_A_QUESTION = re.compile(r"(是啥|是什么|有啥|有哪些|吗|呢|么|没有|不|啥(?![时样意叫是都也事子]))(?=[\u4e00-\u9fff])")
_STARTS_A_QUESTION = re.compile(r"(?<=[\u4e00-\u9fff])(谁|哪|什么时候|怎么|如何|有没有|是不是|能不能|可不可以|多少|几)")
# Words that open a message and ask of all of it ("请问山区县可以承办哪几类…"): a run-on's first
# question asks by its own words, not by these.
_OPENS_ASKING = re.compile(r"^(我)?(请问|想问问?|问一下|问下|咨询一下|咨询|打听一下|想知道)(一下)?")
_DONE_ASKING = re.compile(r"(认定|负责|多长|多久|多少|哪条|哪个|哪些|什么|啥|怎样|如何|吗|呢|么|没有|几年|几号)$")
# A message that says it asks several things ("两个事", "问几个问题"): each piece that names a
# measure strongly is one of them, asked or not.
_ANNOUNCES_SEVERAL = re.compile(r"[两三几]个(事|问题|事情)|[两三几]件事|问[两三几]个|几点问题")
# Words that ask what a term of the document means ("“山区县”具体是怎么界定的").
_DEFINED = re.compile(r"界定|定义|是指|指的是|指哪些|什么意思|啥意思|怎么算的|包括哪些")
# "分别", "各自": one question asked of several things.
_EACH = re.compile(r"这两块|这两项|这两个|这两条|这几个|这几项|两者|两条|两个政策|分别|各自|各有|各是|一并|一起(回答|说|讲|答)|都说|都讲|都介绍|区别|"
                   r"都(提|写|有|涉及|包括|管)")  # ("职业技能等级认定 技能大赛 技师学院分院 文件都提了没")
# The person telling of themselves in one question of several ("我是丽水的中学老师想问职称评审倾斜").
_SELF_STATEMENT = re.compile(r"我(自己)?(是|在|今年|毕业|大学)")
# A topic this weak ("孩子上学") does not make a question of its own out of a piece of a story.
_OWN_PART_WEIGHT = 2.5
_COUNTY_CUE = re.compile(r"山区县|范围|覆盖|算不算|算吗|是不是|属于|包括|有哪些|哪几个|呢$")


class ActionAnswer(Action):
    def name(self) -> Text:
        return "action_answer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        u = Understanding.from_tracker(tracker)
        try:
            replies, slots = Answerer(u).answer()
        except Exception:  # never leave a person without a reply
            logger.exception("answering failed")
            dispatcher.utter_message(text=messages.SERVICE_UNAVAILABLE)
            return []
        for r in replies:
            kwargs: Dict[str, Any] = {"text": r.text}
            if r.payload:
                kwargs["json_message"] = r.payload
            if r.buttons:
                kwargs["buttons"] = r.buttons
            dispatcher.utter_message(**kwargs)
        # Only what changes: an unchanged slot would add an event to validate, store and replay.
        return [SlotSet(k, v) for k, v in slots.items() if tracker.get_slot(k) != v]


class Answerer:
    """Chooses what kind of answer a turn needs and builds it; returns replies and slot updates."""

    def __init__(self, u: Understanding) -> None:
        self.u = u
        self.kb = get_kb()
        self.slots: Dict[str, Any] = {}
        self._targets: Dict[tuple, Optional[tuple]] = {}

    # -- dispatch ---------------------------------------------------------------------------
    def answer(self):
        question = self.u.question_after_courtesy()
        if question is not None:  # (the courtesy before it needs no answer of its own)
            self.u = _read_alone(self.u, question, "nlu_fallback")
        parts = self.question_parts()
        if len(parts) >= 2:
            return self.on_parts(parts), self.slots
        replies = _with_the_scope(self.dispatch(route(self.u)), self.u)
        if not self.u.refers_to_a_part:
            # (an answer of one part: "第二个" refers to nothing now, unless this turn took up one of
            # the parts, and the next may take up another: "第一个再细说一下", then "第二个是谁负责")
            self.slots["last_parts"] = None
        self._say_what_is_not_named(replies)
        self._keep_what_was_said()
        return replies, self.slots

    def _keep_what_was_said(self) -> None:
        """Facts stated in any turn stay with the conversation, whatever the turn was answered as,
        so that a later question about the person's case uses them."""
        about_someone = [k for k in self.u.new_facts() if k not in get_kb().undertaking_facts]  # "创业担保贷款" is a topic
        if about_someone and "facts" not in self.slots:
            self.slots["facts"] = self.u.merged_facts()
        if "last_place" not in self.slots and self.u.place_matches():
            self.slots["last_place"] = self.u.place_matches()[0].name  # "我是龙港市人社局的"
        dept = self.u.department(use_context=True)
        if dept is not None:
            self.slots["last_department"] = dept.id
        if "subject" not in self.slots and self.u.subject_slot():
            self.slots["subject"] = self.u.subject_slot()

    def _say_what_is_not_named(self, replies: List[Any]) -> None:
        """A group the document does not name ("社区卫生服务中心", "外资企业") is said to be so
        before the answer on what comes closest."""
        unnamed = self.kb.unnamed_group(self.u.text)
        if unnamed is None and self.u.unnamed_group and (
                self.u.subject().kind == "self" or self.u.unnamed_group.endswith(("户", "家庭"))):
            # named in an earlier turn, of the writer (not of "我孙女…" asked about now), or of their
            # household ("我家是低保户", then "孩子大学毕业回庆元工作…")
            unnamed = self.kb.unnamed_group(self.u.unnamed_group)
        if unnamed is not None and not self.u.unnamed_group:
            self.slots["unnamed_group"] = unnamed[0]
        if unnamed is None or not replies or replies[0].payload.get("out_of_scope"):
            return
        if not replies[0].payload.get("citations"):
            return
        name, note = unnamed
        lead = messages.NOT_NAMED_GROUP.format(what=f"“{name}”") + (f"（{note}）" if note else "")
        if lead not in replies[0].text:
            replies[0].text = render.join(lead, replies[0].text)

    def dispatch(self, kind: str) -> List[Any]:
        """The replies of the handler for `kind` (see actions.routing.route)."""
        handler: Callable[[], List[Any]] = getattr(self, f"on_{kind}")
        return handler()

    def remember(self, kind: str, clause=None, place: Optional[str] = None, **extra) -> None:
        self.slots["last_kind"] = kind
        if clause is not None:
            self.slots["last_clause"] = clause.id
        if place:
            self.slots["last_place"] = place
        self.slots.update(extra)

    def clear_pending(self) -> None:
        self.slots.update(pending_clause=None, pending_fact=None)

    # -- several questions in one message -----------------------------------------------------
    def question_parts(self) -> List[Understanding]:
        """The questions of a message that asks about two or more different things, in order;
        a piece that names nothing of its own belongs to the question before it."""
        u = self.u
        if u.intent in ("affirm", "deny") or len(u.text) < 12 or (u.intent in SMALL_TALK and not u.carries_content()):
            return []
        if self.kb.not_covered(u.text):
            return []  # "衢州出的实施细则是哪个文号 哪天发的": every question is of another document
        by_department = self._per_department(u.text)
        if by_department:
            return by_department
        pieces: List[str] = []
        asked: set = set()  # pieces that ended with a question mark ("景宁是山区县吧？")
        for sentence, mark in self._sentences(u.text):
            # Within a sentence, a clause after a comma is a question of its own when it names a
            # measure or a point of the document strongly ("…有没有支持，分配全省招录名额有没有倾斜"),
            # or when it and the clause before it each ask about something else ("乐清算不算山区县，
            # 乐清人去文成创业能享受…吗").
            for i, piece in enumerate(p for clause in re.split(r"[，,]", sentence) for p in self._split_run_on(clause)):
                piece = piece.strip(" 、")
                if not piece:
                    continue
                if i and pieces and not self._strong_target(piece) and not self._asks_apart(pieces[-1], piece):
                    pieces[-1] += "，" + piece
                else:
                    pieces.append(piece)
            if mark and pieces:
                asked.add(pieces[-1])
        pieces = [half for piece in pieces for half in self._split_pair(piece)]
        if len(pieces) < 2:
            # ("飞地人才能享受哪些待遇 谁来认定 能不能报省级人才计划": one measure, asked on several of
            # its points by someone who tells nothing of a case: all of it answers)
            # ("创业担保贷款和创业孵化示范基地 各有啥倾斜": two points of one measure named and asked of each)
            asking = [c for s, _ in self._sentences(u.text) for c in re.split(r"[，,]", s) if _ASKS.search(c)]
            target = self._target(pieces[0], None) if len(pieces) == 1 else None
            u.several_points = target is not None and target[0] == "clause" and not u.describes_someone() and (
                self._beyond_its_points(asking) and len({self.kb.aspect_of(c) for c in asking}) >= 2
                or bool(_EACH.search(pieces[0])) and self._two_of_one_measure(pieces[0]))
            return []
        parts: List[List[Any]] = []  # [text, target]
        carry = ""  # words that ask nothing themselves, kept for the question that follows them
        # "…博士后，打算去龙泉的民企，另外我爱人要考卫生中级，这两个政策分别怎么说": asked of each
        # measure named before it, a piece that names one strongly is a question of its own.
        each = any(_EACH.search(p) for p in pieces) or bool(_ANNOUNCES_SEVERAL.search(u.text))
        for piece in pieces:
            # ("第八条讲的啥 还有第九条": a measure named alone after another is asked the same)
            named_alone = bool(parts) and self.kb.measure_reference(piece) is not None and len(piece) <= 8
            if not _ASKS.search(piece) and piece not in asked and not (each and self._strong_target(piece)) \
                    and not named_alone:
                # Background ("去年引进了几个大学生"), or the subject of the question that follows
                # ("…，高校毕业生去基层公共管理岗位，招录名额有没有倾斜").
                carry = f"{carry}，{piece}" if carry else piece
                continue
            # What the question itself names decides its target; the background held for it
            # only when it names nothing ("我们企业也要去省人才市场招人，创业担保贷款…": 创业担保贷款).
            target = self._target(piece, parts[-1][1] if parts else None)
            if carry:
                piece, carry = f"{carry}，{piece}", ""
                target = target or self._target(piece, parts[-1][1] if parts else None)
            if target is None and parts and UNITS_QUESTION.search(piece) and not self.kb.clauses_for_topic(piece):
                # "3.这两样分别是哪些部门负责": who is responsible for each question before it
                target = ("units_of", tuple(t[1] for _, t in parts if t and t[0] == "clause"))
            if target is None or (parts and ((target == parts[-1][1] and not self._asks_another_point(parts[-1][0], piece))
                                             or self._same_case(piece, parts[-1][1]))):
                if parts:
                    parts[-1][0] += "，" + piece
                else:
                    parts.append([piece, None])
            else:
                parts.append([piece, target])
        if carry and parts:
            parts[-1][0] += "，" + carry
        parts = [p for p in parts if p[1] is not None]
        parts, place_asked = self._fold_place_questions(parts)
        if len(parts) == 1 and place_asked:
            u.place_asked = True  # ("温岭算不算山区县 温岭企业参加省人才市场引才活动能不能免参展费")
        if len(parts) < 2:
            asking = [p for p in pieces if _ASKS.search(p) or p in asked]
            # (or two of its points named and asked of each: "卫生中级考试分数线 还有卫生高级评聘 分别有啥倾斜")
            named = [p for p in pieces if self._strong_target(p)]
            u.several_points = len(parts) == 1 and parts[0][1][0] == "clause" and (
                self._beyond_its_points(asking) or each and len(named) >= 2)
            return []
        out = [self._part_understanding(text, target, [t for t, _ in parts if t != text]) for text, target in parts]
        for part, (_, target) in zip(out, parts):
            part.place_asked = target in place_asked
        return out

    def _fold_place_questions(self, parts: List[List[Any]]) -> Tuple[List[List[Any]], set]:
        """"横店镇的影视公司算不算山区县企业，去省人才市场招聘能免展位费吗": whether the place is
        covered is part of the verdict on a measure that tests it, not a question of its own.
        Returns the parts left and the targets whose verdict now answers a place question."""
        # (the place in the role the measure tests: "说是去文成县，这算山区26县里的吧" is where one
        # goes, which 挂职's verdict, testing where one is sent from, does not answer)
        place_asked: set = set()
        facts = self.u.new_facts()
        tests_place = {cid for cid, rule in self.kb.rules.items()
                       if any(c.fact in ("place", "origin") and facts.get(c.fact) == facts.get("place")
                              for c in rule.conditions)}
        # (not a point asked of the measure, "飞地人才归哪认定", nor what it holds, "山区县评职称有什么
        # 倾斜", which no verdict answers)
        judged = [p for p in parts if p[1][0] == "clause" and not UNITS_QUESTION.search(p[0])
                  and not self.kb.aspect_of(p[0]) and not _ASKS_WHAT.search(p[0]) and
                  any(cid == p[1][1] or cid.startswith(p[1][1] + ".") for cid in tests_place)]
        if not judged or not facts.get("place"):
            return parts, place_asked
        place = facts["place"]
        out: List[List[Any]] = []
        for text, target in parts:
            # (not "龙游和东阳是不是都算山区县？龙游的企业…参展费": 东阳 is asked about too; nor
            # "文成属于哪个市的": which city, which the verdict does not say)
            only_it = all(m.name == place for m in self.kb.places_in_text(text)) and not places.WHICH_CITY.search(text)
            about_place = only_it and (target[0] == "county" and target[1] == place or (
                target[0] == "clause" and self.kb.clause(target[1]).measure is None
                and any(m.name == place for m in self.kb.places_in_text(text))))
            if about_place:
                judged[0][0] = f"{text}，{judged[0][0]}"
                place_asked.add(judged[0][1])
                continue
            out.append([text, target])
        return out, place_asked

    def _per_department(self, text: str) -> List[Understanding]:
        """"省教育厅和省农业农村厅在文件里负责的是哪一条": the same question of each department."""
        mentions = self.kb.department_mentions(text)
        depts = list(dict.fromkeys(d.id for _, _, d in mentions))
        if len(depts) < 2 or not re.search(r"负责|牵头|管|哪些|哪几|哪一|哪条|哪项", text) or self.kb.clauses_for_topic(text):
            return []
        norm = normalise(text)
        tail = re.sub(r"^(和|与|以及|跟|及|、|，|,)", "", norm[mentions[-1][1]:])
        names = {d.id: d.name for _, _, d in mentions}
        return [self._part_understanding(names[d] + tail, ("department", d)) for d in depts]

    @staticmethod
    def _sentences(text: str):
        """(sentence, whether it ended with a question mark) in order."""
        start = 0
        for m in _PART_SPLIT.finditer(text):
            yield text[start:m.start()], bool(re.search(r"[？?]", m.group(0)))
            start = m.end()
        yield text[start:], False

    def _asks_apart(self, before: str, piece: str) -> bool:
        """Two clauses of a sentence that each ask, about different things."""
        if not (_ASKS.search(before) and _ASKS.search(piece)):
            return False
        a, b = self._target(before, None), self._target(piece, None)
        return a is not None and b is not None and a != b

    def _split_run_on(self, clause: str) -> List[str]:
        """Questions run together with no mark between them ("这文件哪天开始施行谁发的有没有写截止日期",
        voice input): cut after a question's last word ("…是啥") or before a question word that
        starts one ("谁…", "有没有…") where the two sides each ask about something else."""
        out, start = [], 0
        cuts = {m.end() for m in _ENDS_A_QUESTION.finditer(clause)} | {m.start() for m in _STARTS_A_QUESTION.finditer(clause)}
        # "飞地人才谁来认定|技工院校能不能…": a measure's words start the next question, where the one
        # before has come to its end ("…谁来认定", "…是哪条"; not "能享受|高校毕业生创业扶持吗").
        cuts |= {at for at in self.kb.index.term_starts(clause, leaving_out=self.kb.scope_clause.id)
                 if _DONE_ASKING.search(clause, 0, at)}
        cuts = sorted(cuts)
        for n, at in enumerate(cuts):
            if at <= start:
                continue
            left, right = clause[start:at], clause[at:]
            if len(left) >= 3 and len(right) >= 3 and self._asks_apart(_OPENS_ASKING.sub("", left), right):
                # The latest cut that leaves the next question the same ("技师学院能不能去山区县办分院|
                # 见习基地有没有倾斜", not "…去山区县|办分院见习基地…").
                target = self._target(right, None)
                for later in cuts[n + 1:]:
                    if len(clause) - later >= 3 and not _ASKS.search(clause[at:later]) \
                            and self._asks_apart(clause[start:later], clause[later:]) \
                            and self._target(clause[later:], None) == target:
                        at = later
                out.append(clause[start:at])
                start = at
        return out + [clause[start:]]

    def _split_pair(self, piece: str) -> List[str]:
        """"职称评审倾斜和卫生中级单独分数线这两块分别是哪些部门负责": two measures joined by 和
        and asked about together are two questions, each with the shared ending."""
        each = bool(_EACH.search(piece))
        if not each and not (re.search(r"[，,]", piece) and _ASKS.search(piece)):
            return [piece]
        for m in re.finditer(r"和|与|以及|跟|及|又|还想|也想", piece):
            left, right = piece[:m.start()], piece[m.end():]
            if not each:
                # "见习示范基地和创业孵化示范基地，认定的时候山区县有没有优惠": the question after the
                # second is asked of both
                named, _, tail = right.partition("，" if "，" in right else ",")
                if not tail or re.search(r"[，,]", left):
                    continue
            a, b = self.kb.clauses_for_topic(left), self.kb.clauses_for_topic(named if not each else right)
            if a and b and a[0][1] >= 3 and b[0][1] >= 3 and a[0][0].id != b[0][0].id:
                if each:
                    tail = _EACH.split(right, maxsplit=1)[-1]
                return [left + "，" + tail, right]
        return [piece]

    def _beyond_its_points(self, asking: List[str]) -> bool:
        """Two questions or more of one measure, not all of them on a point of it that one line
        answers ("额度多少 利率多少" is answered point by point; "享受哪些待遇 谁来认定" with all of it)."""
        return len(asking) >= 2 and any(self.kb.aspect_of(p) is None for p in asking)

    def _two_of_one_measure(self, piece: str) -> bool:
        """Two things joined by 和 that are each named strongly, both in the same measure."""
        for m in re.finditer(r"和|与|以及|跟|及", piece):
            a, b = self.kb.clauses_for_topic(piece[:m.start()]), self.kb.clauses_for_topic(piece[m.end():])
            if a and b and a[0][1] >= 3 and b[0][1] >= 3 and a[0][0].id == b[0][0].id:
                return True
        return False

    def _asks_another_point(self, before: str, piece: str) -> bool:
        """Two questions of one measure on different points ("创业担保贷款谁负责，利率能优惠多少"):
        who is responsible, or one point of it against another."""
        if not (_ASKS.search(before) and _ASKS.search(piece)):
            return False
        points = [("units" if UNITS_QUESTION.search(t) else self.kb.aspect_of(t)) for t in (before, piece)]
        return points[0] != points[1] and None not in points

    def _same_case(self, piece: str, previous) -> bool:
        """A question that names no measure of its own, in a message that tells of a person, asks
        about that person's case ("…辞职在武义开网店创业，他能享受高校毕业生那个政策吗")."""
        if previous is None or previous[0] != "clause" or not self.u.describes_someone():
            return False
        if UNITS_QUESTION.search(piece) or self.kb.aspect_of(piece) or DEICTIC.search(piece):
            return False  # "第三，这条谁负责": a question of its own about what was asked before
        if (self._target(piece, previous) or ("",))[0] == "county" and places.WHICH_CITY.search(piece):
            return False  # "…享受创业扶持吗？文成属于哪个市的": where the place is, a question of its own
        topics = self.kb.clauses_for_topic(piece)
        return self.kb.measure_reference(piece) is None and not (topics and topics[0][1] >= _OWN_PART_WEIGHT) \
            and aspect_of(piece) == "overview"

    def _strong_target(self, piece: str) -> bool:
        topics = self.kb.clauses_for_topic(piece)
        doc = aspect_of(piece)
        return bool(topics and topics[0][1] >= 4) or doc in ("effective", "issued", "issuers", "number", "title") \
            or self.kb.measure_reference(piece) is not None  # "…，第九条责任单位是谁"

    def _target(self, piece: str, previous) -> Optional[tuple]:
        """What one question is about: a measure, a place, the document, a department (read once
        per piece: splitting a message asks it of the same pieces more than once)."""
        key = (piece, previous)
        if key not in self._targets:
            self._targets[key] = self._read_target(piece, previous)
        return self._targets[key]

    def _read_target(self, piece: str, previous) -> Optional[tuple]:
        kb = self.kb
        doc = aspect_of(piece)
        if doc in ("effective", "issued", "issuers", "number", "validity", "title", "addressees") \
                and not any(c.measure is not None for c, _ in kb.clauses_for_topic(piece)):
            return ("document", doc)  # "有没有写有效期到什么时候": the document's own facts, not a measure
        number = kb.measure_reference(piece)
        named = kb.clause_by_number(number) if number is not None else None
        if named is not None:
            return ("clause", named.id)  # "第九条讲什么"
        found = kb.places_in_text(piece)
        topics = kb.clauses_for_topic(piece)
        asked = kb.aspect_wording(piece)
        if previous is not None and asked and topics and not found \
                and not kb.clauses_for_topic(normalise(piece).replace(asked[0], "")):
            return None  # "…技师学院要来设分院 有名单吗": 名单 is what is asked of the measure before
        # (the scope clause is what a county question is answered with: "龙游和东阳是不是都算山区县")
        if found and (_COUNTY_CUE.search(piece) or (previous and previous[0] == "county")) \
                and all(c.id == kb.scope_clause.id for c, _ in topics):
            return ("county", found[0].name)
        if not found and "山区" in piece and (places.COUNT.search(piece) or places.LIST_ALL.search(piece)) \
                and all(c.id == kb.scope_clause.id for c, _ in topics):
            return ("county", "")  # "2.山区县一共多少个": the list of them, city by city
        if not found and "山区县" in piece and _DEFINED.search(piece) and all(c.id == kb.scope_clause.id for c, _ in topics):
            return ("clause", kb.scope_clause.id)  # "文件里的“山区县”具体是怎么界定的"
        if topics and topics[0][1] >= _OWN_PART_WEIGHT:
            return ("clause", topics[0][0].id.split(".")[0] if topics[0][0].is_parent else topics[0][0].id)
        hits = kb.search(piece, k=1)
        if hits and hits[0].score >= PLAUSIBLE:
            return ("clause", hits[0].clause.id)
        dept = kb.find_department(piece)
        if dept is not None and re.search(r"负责|管|哪", piece):
            return ("department", dept.id)
        unknown = PROVINCIAL_DEPARTMENT.search(piece)
        if unknown and kb.find_department(unknown.group(0)) is None:
            return ("department", unknown.group(0))
        return None

    def _part_understanding(self, text: str, target, others: List[str] = ()) -> Understanding:
        kind = target[0]
        if kind in ("clause", "units_of") and UNITS_QUESTION.search(text):
            intent = "ask_units"
        else:
            intent = {"document": "ask_document", "county": "ask_county", "department": "ask_department"}.get(
                kind, "ask_clause")
        # Each question is routed on its own words; the facts are those of the whole message
        # ("我们单位在松阳…他老婆在杭州上班": the employer is in 松阳 whichever question asks), unless
        # the question names the one it is about ("我是丽水的老师…，我弟在青田创业毕业4年…": 青田).
        own = self.kb.read_facts(text)
        speaks_for_itself = own.subject.kind != "self" or bool(_SELF_STATEMENT.search(text))
        if own.facts and speaks_for_itself and own.subject != self.u.subject():
            facts, subject = {**self.u.new_facts(), **own.facts}, own.subject
        else:
            # (who the person is, as this question's own words say it: "2博后出站补助…" after "1飞地人才…")
            facts = {**self.u.new_facts(), **{k: v for k, v in own.facts.items() if k in WHO}}
            subject = self.u.subject()
        for other in others:
            # Who someone is, read only from the words of another question that name a measure
            # ("1飞地人才落户咋弄 2博后出站补助给哪些地方"), is not said of the writer: no fact of this one.
            theirs = self.kb.read_facts(other)
            if theirs.subject.kind == "self" and not _SELF_STATEMENT.search(other):
                # (the fact is gone when the words that name a measure are left out; "中职毕业的算不算
                # 高校毕业生" still says who the writer is)
                left = self.kb.read_facts(self.kb.without_topics(other)).facts
                facts = {k: v for k, v in facts.items()
                         if not (k in WHO and k not in own.facts and theirs.facts.get(k) == v and left.get(k) != v)}
        # A measure named by its number ("第九条讲什么") is the part's own, as the model would tag it.
        named = {"measure": [target[1]]} if kind == "clause" and self.kb.measure_reference(text) is not None else {}
        part = _read_alone(self.u, text, intent, entities=named, new_facts=facts, subject=subject)
        if kind == "units_of":
            part.units_of = list(target[1])
        return part

    def on_parts(self, parts: List[Understanding]) -> List[Any]:
        replies: List[Any] = []
        numbered: List[Optional[str]] = []  # the first clause each reply cites
        said: set = set()  # each reply as built, before its number
        for part in parts:
            sub = Answerer(part)
            got = sub.dispatch(route(part))
            # Two questions that come to the same answer ("中职毕业的算不算高校毕业生，在常山创业能享受…吗"
            # both end in the verdict on 第七条): it is given once.
            got = [r for r in got if (r.text, repr(r.payload)) not in said]
            said.update((r.text, repr(r.payload)) for r in got)
            got = _with_the_scope(got, part)
            for r in got:  # one number a reply, also where a part's own answer has several
                r.text = f"（{len(replies) + 1}）{re.sub(r'^（[0-9]+）', '', r.text)}"
                replies.append(r)
                cited = [c.get("clause_id") for c in r.payload.get("citations") or []]
                numbered.append(cited[0] if cited else None)
            self.slots.update(sub.slots)
        # what each numbered answer was about, for "第二个展开说说" ("" where it cited nothing)
        self.slots["last_parts"] = [cid or "" for cid in numbered]
        if len(replies) == 1:
            replies[0].text = re.sub(r"^（1）", "", replies[0].text)  # one answer left: no number
        # "…，这两样分别是哪些部门负责": the responsible units are said once, in that answer.
        if any(part.units_of for part in parts):
            for r in replies:
                if not re.match(r"（\d+）责任单位分别是", r.text):
                    r.text = re.sub(r"\n责任单位：[^\n]*", "", r.text)
        return _quoted_once(replies)

    # -- small talk and limits ----------------------------------------------------------------
    def on_affirm(self):
        return [render.Reply(messages.AFFIRM)]

    def on_drop(self):
        if self.u.pending_clause:
            self.clear_pending()
            self.slots["facts"] = None
            return [render.Reply(messages.DROP_QUESTION)]
        return [render.Reply(messages.DENY)]

    def on_out_of_scope(self):
        self.clear_pending()
        self.remember("out_of_scope")
        # (another matter the message names, said not to be in the document: "…有没有给我们老年人的养老补贴")
        matter = self.kb.not_covered(self.u.text)
        doc = self.kb.document
        group = self.kb.unnamed_group(self.u.text)
        sayable = {*doc.other_matters, *doc.other_matters_asked, *(group[:1] if group else ())}
        if matter is None and group is not None:
            matter = group[0]  # (how a programme the document does not name is run)
        named = matter in sayable
        lead = messages.NOT_NAMED.format(what=f"“{matter}”") if named else None
        return [render.out_of_scope_reply(hint=self.u.intent == "nlu_fallback", lead=lead)]

    def on_manipulation(self):
        self.clear_pending()
        self.remember("out_of_scope")
        # (a statement put in quotation marks as if it were the document's: said not to be)
        said = [messages.NOT_THE_DOCUMENTS.format(what=q) for q in get_kb().quoted_not_in_document(self.u.text)]
        return [render.Reply("".join(said) + messages.MANIPULATION, {"out_of_scope": True})]

    def on_outside(self):
        self.clear_pending()
        self.remember("out_of_scope")
        return [render.outside_reply(self.u.place_matches()[0])]

    def on_small_talk(self):
        """A greeting, thanks, goodbye, "are you a person", "I want a person": the fixed reply;
        a case under way stays as it is."""
        return [render.Reply(messages.SMALL_TALK[self.u.intent])]

    def on_empty(self):
        return [render.Reply(messages.EMPTY)]

    def on_quote(self):
        clause = self.kb.clause(self.u.last_clause)
        reply = render.Reply(render.quote(clause))
        reply.add_citations([clause])
        return [reply]

    # -- what a measure says --------------------------------------------------------------------
    def on_clause(self):
        clause, _ = self.u.clause_candidates()[0]
        facts = self.u.merged_facts()
        if facts:
            self.slots["facts"] = facts
        self.clear_pending()
        self.remember("clause", clause)
        aspect = self.u.aspect()
        if self.u.several_points:
            return [self._all_of_it(clause, self._points_asked(clause))]
        if aspect:
            return [render.aspect_reply(clause, self._points_asked(clause), self.u.text)]
        nth = SENTENCE.search(self.u.text)
        if nth:  # "它第二句说的啥意思": that sentence, as a reader counts them
            said, n = self.kb.sentences_said(clause.id), cn_number(nth.group(1))
            where = f"{clause.location}「{clause.label}」"
            if n is not None and 1 <= n <= len(said):
                return [render.clause_reply(clause, f"{where}第{nth.group(1)}句是：“{said[n - 1]}”", said[n - 1])]
            return [render.clause_reply(clause, f"{where}只有{len(said)}句。", self.u.text, whole=True)]
        sentence = self.kb.best_sentence(clause.id, self.u.text)
        lead = self._clause_lead(clause, sentence)
        phrase = self.kb.echoed_phrase(clause.id, self.u.text) if self.u.echoes_the_last() else None
        if phrase and len(sentence) > 60:
            # "回来评职称能不能优先" after 挂职: the words of the measure on that point come first
            lead = f"{clause.location}「{clause.label}」写明：“{phrase}”。"
        return [render.clause_reply(clause, lead, self.u.text)]

    def _clause_lead(self, clause, sentence: str) -> str:
        """The first line: what the measure does, in the document's own words where short."""
        where = f"{clause.location}「{clause.label}」"
        if self.u.from_search:
            return f"您问的可能是{where}（按关键词匹配，匹配程度{self.u.search_confidence}）。"
        if sentence and len(sentence) <= 60 and len(clause.text) > 90:
            return f"{where}规定：“{sentence}”"  # quoted once: render.quote_once gives it its place
        return f"这是{where}的规定。"

    def on_choices(self):
        """Two measures matched about equally and neither well: the person chooses."""
        clauses = [c for c, _ in self.u.clause_candidates()[:3]]
        return [render.choices_reply(clauses, "您问的可能是以下哪一项？")]

    def on_aspect(self):
        """A point of a measure ("额度是多少", "那去哪里申请"): what the document says on it."""
        clause = self.u.aspect_clause()
        answers = self._points_asked(clause)
        self.remember(self.u.last_kind if self.u.pending_clause else "clause", clause)
        if self.u.several_points:
            return [self._all_of_it(clause, answers)]
        return [render.aspect_reply(clause, answers, self.u.text)]

    def _points_asked(self, clause) -> list:
        """What the measure says on each point the message asks about."""
        return [self.kb.aspect_answer(clause.id, a) for a in self.u.aspects()]

    @staticmethod
    def _all_of_it(clause, answers):
        """A measure asked on several of its points: all of it, after what it leaves open of them."""
        lead = f"这是{clause.location}「{clause.label}」的规定。"
        open_points = [a for a in answers if a.missing]
        if open_points:
            lead = render.join(*(render.aspect_sentence(a) for a in open_points), lead)
        return render.clause_reply(clause, lead, whole=True)

    def on_no_such_measure(self):
        number = self.kb.measure_reference(self.u.text)
        count = self.kb.document.measure_count
        last = "一二三四五六七八九十"[count - 1]
        text = messages.NO_SUCH_MEASURE.format(count=count, last=last, number=number)
        reply = render.Reply(text + f"您可以问其中任一项，例如“第{last}条讲什么”。")
        self.remember("document")
        return [reply]

    def on_unnamed(self):
        """A group the document does not name, asked about nothing the document covers; right
        after a measure was discussed ("乡镇网格员、村里的社工算不算" after 第六条's posts), that
        measure is what comes closest."""
        name, note = self.kb.unnamed_group(self.u.text)
        lead = messages.NOT_NAMED_GROUP.format(what=f"“{name}”") + (f"（{note}）" if note else "")
        last = self.kb.clauses.get(self.u.last_clause or "")
        if not (last is not None and not last.about_document and self.u.follows_up()
                and not self.u.topic_beyond(last.id)):
            last = self.kb.unnamed_closest(name)  # "大学生村官": 第六条's posts in public service
        if last is not None:
            self.remember("clause", last)
            return [render.clause_reply(last, lead + "文件中最接近的规定：", self.u.text)]
        self.remember("out_of_scope")
        return [render.out_of_scope_reply(lead=lead)]

    def on_unclear(self):
        self.remember("unclear")
        return [render.out_of_scope_reply(hint=True)] if self.u.looks_off_topic() else [render.Reply(messages.REPHRASE)]

    # -- who is responsible -----------------------------------------------------------------------
    def on_units(self):
        ranked = self.u.clause_candidates(use_context=True)
        if not ranked:
            return [render.Reply(messages.ASK_WHICH_UNITS)]
        clause, _ = ranked[0]
        if self.u.echoes_the_last():
            # "回来评职称算不算优先，这条都是谁负责" after 挂职: that measure's, in its words
            clause = self.kb.clause(self.u.last_clause)
        detail = self.kb.best_sentence(clause.id, self.u.text) if self.u.asks_detail() else None
        self.remember("units", clause)
        return [render.units_reply(clause, detail, self.u.text)]

    def on_units_of(self):
        """Who is responsible for each of the measures asked about before."""
        # The document's own parts (the scope of "山区县") have no one responsible: left out.
        clauses = [c for c in (self.kb.clause(cid) for cid in self.u.units_of) if c.units or c.local_units] \
            or [self.kb.clause(cid) for cid in self.u.units_of]
        lines = [f"「{c.label}」（{c.location}）：{render.unit_names(c)}。" for c in clauses]
        reply = render.Reply("责任单位分别是：\n" + "\n".join(lines))
        reply.add_citations(clauses).add_units([d for c in clauses for d in self.kb.units_of(c.id)])
        return [reply]

    def on_mentions(self):
        """The measures whose words include what is asked about, each with its sentence."""
        words = self.u.mentioned()
        found = self.kb.clauses_mentioning(words)
        lines = [f"文件中写到“{words}”的有{len(found)}处："]
        lines += [f"{i}. {c.location}「{c.label}」：“{sentence}”" for i, (c, sentence) in enumerate(found, 1)]
        reply = render.Reply("\n".join(lines))
        reply.add_citations([c for c, _ in found])
        self.remember("mentions")
        return [reply]

    def on_single_unit(self):
        """Which measures name a single responsible unit and no local departments (computed)."""
        kb = self.kb
        single = [c for c in kb.clauses.values()
                  if c.measure and not c.is_parent and len(c.units) == 1 and not c.local_units]
        names = "、".join(f"{c.location}「{c.label}」" for c in single)
        dept = kb.units_of(single[0].id)[0].name if single else ""
        text = f"只写了一个责任单位（{dept}）、也没有写“市县相关部门”的是：{names}。" if single else "没有只写一个责任单位的措施。"
        reply = render.Reply(render.join(text, *(render.quote(c) for c in single[:1])))
        reply.add_citations(single)
        if single:
            reply.add_units(kb.units_of(single[0].id))
        self.remember("units", single[0] if single else None)
        return [reply]

    def on_unknown_department(self):
        name = self.u.names_unknown_department()
        kb = self.kb
        issuers = [kb.departments[i] for i in kb.document.issuers]
        named = "、".join(d.name for d in kb.departments.values() if kb.clauses_of(d.id))
        text = render.join(messages.NOT_NAMED.format(what=name),
                           f"本意见由{len(issuers)}个部门联合印发：{'、'.join(d.full_name for d in issuers)}。",
                           f"各项措施的责任单位是{named}，以及市县相关部门。")
        reply = render.Reply(text)
        reply.add_citations([kb.issuance_clause]).add_units(issuers)
        self.remember("department", kb.issuance_clause)
        return [reply]

    def on_issuer(self):
        """Whether a department named is one of those that issued the document."""
        reply, clause = document_reply(self.u.text, "issuers", named=self.u.department())
        self.remember("document", clause)
        return [reply]

    def on_department(self):
        dept = self.u.department(use_context=True)
        if not dept:
            return [render.Reply(messages.ASK_WHICH_DEPARTMENT)]
        own = self.kb.clauses_of(dept.id)
        # A department of one measure: that measure is what a follow-up is about ("那一条还有哪些单位")
        self.remember("department", own[0] if len(own) == 1 else None)
        return [render.department_reply(dept)]

    # -- eligibility -------------------------------------------------------------------------------
    def on_eligibility(self):
        facts = self.u.merged_facts()
        clause = self.u.eligibility_clause(facts)
        if clause is None:
            options = [self.kb.clause(cid) for cid in self.kb.rule_clauses()]
            self.slots["facts"] = facts or None
            return [render.choices_reply(options, "请问您想了解是否符合哪一项？")]
        return [self._verdict(clause, facts)]

    def _verdict(self, clause, facts: Dict[str, Any]):
        verdict = self.kb.evaluate(clause.id, self.u.facts_for(clause.id, facts))
        self.slots["facts"] = facts
        self.slots["case_clause"] = clause.id
        self.slots["subject"] = self.u.subject_slot()
        if verdict.verdict == "need_info":
            self.remember("eligibility", clause, pending_clause=clause.id, pending_fact=verdict.missing[0])
        else:
            self.clear_pending()
            self.remember("eligibility", clause)
        aspect = self.u.aspect()
        line = render.aspect_sentence(self.kb.aspect_answer(clause.id, aspect)) if aspect else None
        # ("补助是发给企业还是发给本人", "那钱呢 能给多少": the point is what was asked, not whether)
        return render.verdict_reply(verdict, clause, address=self.u.subject().address, aspect=line,
                                    place=self._place_judged(clause.id, facts, verdict), question=self.u.text,
                                    whole=self.u.several_points, aspect_first=not ASKS_IF.search(self.u.text))

    def _place_judged(self, cid: str, facts: Dict[str, Any], verdict=None):
        """The place a measure's rule tests, as the facts give it (for the answer's county), or None:
        the one that rules the case out ("不是文成，是去瑞安": where one is sent), else the one the
        message names."""
        tested = [c.fact for c in self.kb.rules[cid].conditions if c.fact in ("place", "origin") and facts.get(c.fact)]
        failing = [f for f in tested if verdict is not None and f in verdict.unmet_facts]
        # (else the one this message names: "说是去文成县，这算山区26县里的吧" of where one is sent)
        named = [f for f in tested if any(m.name == facts[f] for m in self.u.place_matches())]
        # (first the one asked whether it is covered: "被派去天台县的乡村小学挂职。天台属于山区县吗")
        asked_of = set()
        for piece in CLAUSE_STOP.split(self.u.text):
            named_in_it = {m.name for m in self.kb.places_in_text(piece)}
            if COUNTY_QUESTION.search(piece) and len(named_in_it) == 1:
                asked_of |= named_in_it
        asked = [f for f in tested if facts[f] in asked_of]
        tested = asked or failing or named or tested
        return self.kb.find_place(facts[tested[0]]) if tested else None

    def on_resume(self):
        """Back to the case judged earlier: the same measure, judged on everything said since."""
        clause = self.kb.clause(self.u.case_clause)
        return [self._verdict(clause, self.u.merged_facts())]

    def on_named_case(self):
        """A description of a person asking about a measure that judges them: the verdict."""
        _, clause = self.u.applicable_plan()
        return [self._verdict(clause, self.u.merged_facts())]

    def on_applicable(self):
        """The measures that fit a person described ("高校毕业生创业 我在遂昌 毕业3年")."""
        facts = self.u.merged_facts()
        self.slots["facts"] = facts or None
        plan = self.u.applicable_plan()
        if plan[0] != "list":
            return [render.Reply(messages.ASK_ABOUT_YOU)]
        _, verdicts, extra, asked = plan
        own = [m for m in self.u.place_matches() if m.name == facts.get("place")]
        if not verdicts and [c.id for c in extra] == [self.kb.scope_clause.id] and own:
            # ("我们是江西玉山县的一家企业…能不能享受浙江山区26县的政策"): no measure fits, and what is
            # asked is whether their place is covered
            replies, place = places.county_replies(own[:1], self.u.text)
            self.clear_pending()
            self.remember("county", self.kb.scope_clause, place=place)
            return replies
        top = render.top_verdict(verdicts, asked)
        place = self._place_judged(top.clause_id, facts, top) if top is not None and top.clause_id in self.kb.rules else None
        reply = places.applicable_reply(verdicts, extra, address=self.u.subject().address, question=self.u.text,
                                        place=place, asked=asked)
        first = extra[0] if extra else self.kb.clause(verdicts[0].clause_id)
        asking = next((v for v in verdicts if v.verdict == "need_info"), None)
        self.slots["subject"] = self.u.subject_slot()
        if asking and not extra and all(v.verdict != "eligible" for v in verdicts):
            self.remember("applicable", first, pending_clause=asking.clause_id, pending_fact=asking.missing[0])
        else:
            self.clear_pending()
            self.remember("applicable", first)
        return [reply]

    def on_rephrase(self):
        return [render.Reply(messages.REPHRASE)]

    # -- places ------------------------------------------------------------------------------------
    def on_county(self):
        # A question that names no place is about the list itself ("山区26县都有哪些"), unless it
        # only points back ("那呢？"): only then does the place just discussed carry over.
        # ("那个镇是哪个县的啊" asks which county the place discussed is in)
        follow_up = not (places.LIST_ALL.search(self.u.text) or places.COUNT.search(self.u.text)) \
            or bool(places.WHICH_CITY.search(self.u.text))
        matches = self.u.place_matches(use_context=follow_up)
        replies, place = places.county_replies(matches, self.u.text)
        self.clear_pending()
        self.remember("county", self.kb.scope_clause, place=place)
        return replies

    # -- the document itself -----------------------------------------------------------------------
    def on_document(self):
        asked = [a for a in aspects_of(self.u.text) if a != "validity" or len(aspects_of(self.u.text)) == 1]
        if len(asked) >= 2:  # "这个文件的文号是多少，从哪天起施行"
            replies = []
            for i, aspect in enumerate(asked, 1):
                reply, clause = document_reply(self.u.text, aspect)
                reply.text = f"（{i}）{reply.text}"
                replies.append(reply)
            self.remember("document", clause)
            return _quoted_once(replies)
        reply, clause = document_reply(self.u.text)
        self.remember("document", clause)
        return [reply]

    # -- terms -------------------------------------------------------------------------------------
    def on_term(self):
        entry = self.u.glossary_entry()
        related = [self.kb.clause(cid) for cid in entry.related]
        lead = f"【名词解释，非文件原文】{entry.term}：{entry.explanation}"
        if related:
            reply = render.clause_reply(related[0], lead + "\n文件中的相关规定：", self.u.text)
            reply.add_citations(related[1:])
            self.remember("term", related[0])
        else:
            reply = render.Reply(lead)
            self.remember("term")
        return [reply]


def _read_alone(u: Understanding, text: str, intent: str, entities: Optional[Dict[str, Any]] = None,
                new_facts: Optional[Dict[str, Any]] = None, subject: Any = None) -> Understanding:
    """The turn with these words in place of the message's, read again (what the model and the
    search found in the whole message left out; the facts and subject, when given, kept)."""
    return dataclasses.replace(u, text=text, intent=intent, confidence=1.0, entities=entities or {},
                               learned_entities={}, from_search=False, search_confidence="", _ranked={}, _places={},
                               _plan=None, _mentioned=None, _echoes=None, _new_facts=new_facts, _subject=subject)



def _with_the_scope(replies: List[Any], u: Understanding) -> List[Any]:
    """A verdict that also answers whether the place is covered (u.place_asked) cites the scope."""
    if u.place_asked:
        for r in replies:
            if r.payload.get("eligibility") and r.payload.get("county"):
                r.add_citations([get_kb().scope_clause])
    return replies


def _quoted_once(replies: List[Any]) -> List[Any]:
    """A passage quoted for an earlier question is not quoted again for a later one."""
    seen: set = set()
    for r in replies:
        # A quotation runs to the closing mark at the end of its line (the scope's holds “山区县”).
        for block in re.findall(r"【原文】[^\n]*\n“.*?”(?=\n|$)", r.text, flags=re.S):
            if block in seen:
                r.text = r.text.replace("\n" + block, "").replace(block, "")
            seen.add(block)
    return replies

