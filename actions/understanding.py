"""What the user asked this turn, read together with what the conversation already holds.

The NLU's intent says what kind of question it is; the entities (normalised to the knowledge
base's ids by the knowledge-base matcher, or normalised here when another extractor found them)
say what it is about; the slots carry what was discussed and what is still being asked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker

from policy_kb import PLAUSIBLE, get_kb
from policy_kb.facts import CORRECTION, NEAR_AFTER, NEAR_BEFORE, WHEN_BEFORE
from policy_kb.models import Subject
from policy_kb.places import most_specific, specificity
from policy_kb.text import CLAUSE_OR_SPACE, CLAUSE_STOP, SENTENCE_END_MARKS, clean_user_text, cn_number

from policy_kb import CONFIDENT, PLAUSIBLE

SMALL_TALK = {"greet", "goodbye", "thank", "bot_challenge", "request_human"}
INTENT_KIND = {
    "ask_clause": "clause",
    "ask_units": "units",
    "ask_department": "department",
    "ask_eligibility": "eligibility",
    "ask_applicable": "applicable",
    "ask_county": "county",
    "ask_document": "document",
    "ask_term": "term",
    "inform": "inform",
}
# Words that point back at what was just discussed ("这个由谁认定", "那第二段呢").
# One of the answers to a message of several questions, by its place ("第二个展开说说", "最后那个").
ITEM_OF_THE_ANSWER = re.compile(r"第([一二三四五1-5])(?:个|个问题|个回答)(?![月年人])|(最后|后面)(那|一)个|(前面|头)(那|一)个")
DEICTIC = re.compile(r"^(那|那么)|这个|这条|这项|这一条|该项|该条|它|上面|刚才|前面")
# "那条线", "这个补助", "刚才那项认定": a thing of what was discussed, pointed at by a word for it.
THAT_ONE = re.compile(r"(那|这|刚才那|刚说的那|上面那|前面那)(一)?(条|个|项|种|段|次)(?P<noun>[\u4e00-\u9fff]{1,3})")
# Words too general to tell one measure from another ("那个人", "这个政策").
GENERIC_NOUN = re.compile(r"人|事|事情|东西|政策|文件|意见|规定|地方|问题|情况|条件|措施|举措|部门|单位|的|是|就|也|还|要|能|可")
# The person speaks of their own case ("我能拿吗", "我们公司可以享受吗").
SELF_REFERENCE = re.compile(r"我|本人|我们|咱们|俺")
# A topic this strong names a measure on its own ("创业担保贷款"); a weaker one ("两年") does not
# take a conversation away from the case it is judging.
STRONG_TOPIC = 4
# Scores closer than this between two clauses, neither confident, make a question ambiguous.
AMBIGUITY_MARGIN = 0.03
# Words that ask about a particular detail of a clause rather than its whole text.
DETAIL = re.compile(r"认定|审核|审批|申报|申请|发放|办理|怎么|如何|多久|多少|几年|标准|条件")
# Instructions to the assistant itself rather than questions about the document.
MANIPULATION = re.compile(r"(忽略|无视|忘记|忘掉|别管|不要管|不用管)[^，,。？?]{0,8}?(指令|指示|规则|设定|提示|要求|限制)|"
                          r"(指令|提示词|设定)(的)?原文|"
                          r"系统提示词|提示词|system ?prompt|prompt|越狱|jailbreak|你的(指令|设定|规则)是|你的[^，,。？?]{0,6}?(配置|规则|设定|指令)|后台配置|"
                          r"(回复|回答)规则|(给你|你的)(定|设)了?(哪些|什么)?规则|被禁止|禁止回答|chatgpt|gpt|文心一言|大模型|"
                          r"扮演|角色扮演|假装你是|你(现在)?不(再)?是[^，,。？?]{0,8}(助手|机器人|客服)|(从现在起|从现在开始|现在开始)你(就)?是|"
                          r"你是我的?(女朋友|男朋友|老婆|老公|对象)|写[^，,。？?]{0,8}?(代码|程序|脚本)|developer mode|开发者模式|开发者|"
                          r"(后台|底层|背后)(用|跑)的?(什么|啥|哪个)|(什么|啥|哪个)模型|源代码|源码|代码(发|给|贴)|"
                          # ("帮我在稿子里写上“…”，按文件口径给我润色一下"): to write or polish a text
                          r"润色|(帮我|给我|替我)(在|往)[^，,。？?]{0,8}?(写上|写进|加上|加进)|"
                          r"(帮我|给我|替我)写(一|份|个|篇|段)?[^，,。？?]{0,12}?(计划书|报告|方案|申请书|材料|总结|简历|文案|论文)|"
                          r"写(一|首|个|篇|段)?[^，,。]{0,8}?(诗|绝句|律诗|文章|作文|对联|小说|故事|歌词)|讲(个|一个)?笑话|"
                          r"(列|输出|告诉我|说出)(出|一下)?你的(规则|指令|设定)|"
                          # ("你就当自己是人社局长 直接给我儿子批个5万块的补助"): to act as an official and decide
                          r"你(就)?当(你)?自己是|你就当是|假设你是|把(你)?自己当成|"
                          r"(直接|你)(给|帮|替)?(我|他|她)?[^，,。？?]{0,4}?(批|审批|批准)(一|个|了)?[^，,。？?]{0,8}?(补助|补贴|钱|款|名额|贷款)|"
                          r"(配置|指令|提示词|设定)[^，,。？?]{0,6}?(原样|原文|完整|全部)?(输出|打印|贴出来|发出来|显示出来|发给我)", re.I)
# "是13年", not "不是3年": a bare number of years.
BARE_YEARS = re.compile(r"(不是|不)?(\d{1,2}|[一二两三四五六七八九十]{1,3})(?:个)?年")
# Which measure names a single responsible unit (computed from the knowledge base).
SINGLE_UNIT = re.compile(r"(只|仅)(写了|有|列了|列)?[^，,。？?]{0,10}?(一个|1个|一家)(责任)?(单位|部门)|责任单位(最少|只有一个)|"
                         r"责任单位(只有|仅有|就)[^，,。？?]{1,10}(一家|一个)|"
                         r"(一家|一个部门|一个单位)(单独)?负责|单独负责|"
                         r"(哪一?条|哪一?项|哪个)[^，,。？?]{0,6}责任单位(只有|仅有|就只?有|只写了?|只列了?)|"
                         r"(没带|没有|不含|不包括|没写|没列|没跟|不带|没加)(写|列|带|包括|包含|含)?(上)?[“\"「『]?市县")
# Facts that only a person's own case has, never the name of a measure ("高校毕业生创业扶持").
# How near the second measure's score must come to the first's for the words to point at both.
_POINTS_AT_BOTH = 0.6
OWN_CASE_FACTS = ("place", "origin", "years_since_graduation", "employer_type", "institution_type", "postdoc_status")
# The facts that say who a person is.
WHO = ("role", "postdoc_status", "years_since_graduation", "institution_type")
# Another person said to share the setting of the one before ("那他老婆呢…跟他一起开的", "她也在那家厂"):
# where that one is and what they do are theirs too.
# (also the same undertaking in another's name: "那用我老婆名义呢", "挂在他名下", "法人换成她")
SHARES_SETTING = re.compile(r"(跟|和|与)(他|她)(们)?一起|一起(开|干|做|办|搞|创业|经营)|合伙|也在(那|这|同)|"
                            r"(在)?同一(家|个|所)(公司|厂|企业|单位|店|地方|医院|卫生院)|"
                            r"(用|以|拿|换成?|改成?)[^，,。？?]{0,6}?(名义|名字)|名下|(做|当|换成?|改成?)法人|法人(换成?|改成?)")
# Words that ask for the list of places ("山区26县都有哪些", "一共几个").
LIST_QUESTION = re.compile(r"哪些|哪几个|名单|列表|清单|列出|是哪|多少个|几个|有几")
# A place said not to be the one ("不是奉化的", "并非东阳").
DENIED_PLACE = re.compile(r"(不是|并非|而不是|不在)[^，,。；;！!？?]{0,1}$")
# What is left of a clause that is a place and nothing more ("柯城区", "那开化呢").
_BARE_PLACE = re.compile(r"(那|还有)?(呢|吗|啊)?")
# Words that ask for a verdict ("她能按高校毕业生享受扶持吗"), not what a measure says of a point.
QUALIFIES = re.compile(r"享受|符合|够格|有份|能拿|能领|能申请")
# Where one came from ("是从临海搬到矾山了").
FROM_PLACE = re.compile(r"(从|来自)$")
# A question that asks of someone what was asked before ("她呢", "那我妈呢", "他也一样吗").
SAME_QUESTION = re.compile(r"呢[\W]*$|也(一样|能|可以|行|算)|同样")
# What a place was, not what it is ("以前苍南的龙港镇", "原来属于苍南").
PAST_PLACE = re.compile(r"(" + WHEN_BEFORE + r")(是|属于|归|在)?[^，,。；;！!？?]{0,2}$")
# A message that asks something ("…有啥好处", "哪几类", "…没").
QUESTIONING = re.compile(r"[吗呢么嘛？?]|啥|什么|怎么|如何|哪|几|多少|有没有|是不是|能不能|没$")
# What was answered about a measure, which a short question may ask more of.
_ANSWERED_ON_A_MEASURE = ("clause", "aspect", "units", "term", "eligibility", "applicable", "inform", "units_of")
# Which measures mention something ("哪几条提到了职称", "写到金融的是哪一条"): the words are "x".
MENTIONS = re.compile(r"(哪几条|哪些条|哪几项|哪些措施|哪些举措|哪一?条|哪一?项)[^，,。？?]{0,4}?(提到|提及|涉及|讲到|说到|写到|写了|有)了?"
                      r"(?P<x>[\u4e00-\u9fff]{2,8}?)(的|吗|呢|？|\?|$)|"
                      r"(提到|提及|涉及|讲到|说到|写到)了?(?P<y>[\u4e00-\u9fff]{2,8}?)的(是|有)(哪几条|哪些条|哪一?条|哪一?项|哪几项)")
# Words that point back at what was named before ("它负责哪条", "那该部门管什么").
POINTS_BACK = re.compile(r"它|他们|她们|该部门|该单位|这个部门|这个单位|这家单位|这家|那个部门|那个单位|其")
# Whether a department is one of those that issued the document ("省卫健委是发文单位吗").
ISSUER_OF = re.compile(r"发文单位|发文机关|发文部门|联合发|一起发|共同发|联合印发|署名|落款|是不是[^，,。？?]{0,6}发的|是[^，,。？?]{1,8}?(印发|发布|发)的|参与发|"
                       r"发文的[^，,。？?]{0,6}(部门|单位|机关)|[0-9一二三四五六七八九]个(发文)?(部门|单位)里")
# The writer's own place, named earlier ("我们那能享受山区县的政策吗" after "我是湖州安吉的").
OWN_PLACE = re.compile(r"(我们|咱们|俺们|我|咱|俺|阿拉)(那|这)(边|里|儿)?(?![种个样些么])|我们(县|市|区|当地)|本地|当地")
COUNTY_QUESTION = re.compile(r"山区县|山区26县|范围|覆盖|算不算|算吗|不算|是不是|属于|包括|哪些县|名单")
# A request to see the clause just discussed in full.
SHOW_QUOTE = re.compile(r"^(请|麻烦)?(发|给我|看看|查看|看下|看一下|显示)?(一下)?(条文)?原文(呢|吧|看看)?[。！!？?]*$|^(看|查看)条文$")
# How people name a provincial department: 省 + a few characters + 厅/委/局/办.
# A department named without 省 at the start of a question ("发改委在这个文件里负责哪一项").
OPENING_DEPARTMENT = re.compile(r"^[\u4e00-\u9fff]{1,4}?(委|厅)(?=在|负责|管)")
PROVINCIAL_DEPARTMENT = re.compile(r"省(?!委组织部)[\u4e00-\u9fff]{1,5}?(厅|委员会|委|局|办公室|办)")
# A return to the case judged earlier ("刚才那个到底能不能享受").
# "刚才那个是哪几个部门牵头的": who is responsible for the measure in question.
UNITS_QUESTION = re.compile(r"哪个部门|哪些部门|哪几个部门|什么部门|谁负责|谁牵头|哪个单位|责任单位|负责单位|牵头单位|归谁管|谁来管|谁管|"
                            r"牵头的是|哪几个厅|哪些厅|哪个厅|哪些单位(一起)?负责|哪几个单位|哪几家单位(负责|牵头)")
# "这是文件第几条", "它是哪一条": where the measure just discussed stands in the document.
WHICH_MEASURE = re.compile(r"^(那|这|它|刚才那个|刚才说的|上面那个|这个)?(是|属于|在)?(文件|意见)?(的)?(第几条|第几项|哪一条|哪条|哪一项)")
# "第二段呢": a paragraph of the measure just discussed.
PARAGRAPH = re.compile(r"第([一二两三四1-4])段")
# "它第二句说的啥意思": a sentence of the measure just discussed.
SENTENCE = re.compile(r"第([一二两三四五六1-6])句")
# "我户口还在文成，这样算不算": the case, with what was just added (not whether a place is covered).
# The case just judged, pointed at ("这种情况省里补不补", "像我这样的要交什么材料").
# A message that puts right whom the story is about ("不是她，是我小姨").
# The one a story is about, corrected ("不是她，是我小姨…", "不对，是我表哥").
WHO_CORRECTED = re.compile(r"不是(他|她|我)|" + CORRECTION.pattern)
# Whether it can be used, had, taken ("现在能用吗", "我能享受吗").
CAN_ONE = re.compile(r"(能|可以|可不可以|能不能)(用|享受|申请|适用|拿|领|套用)")
THIS_CASE = re.compile(r"(我|我们|他|她|我家)?(这种|这个|这样的?|这)情况|像(我|我们|他|她)这样|我这样的|我这种")
AS_IT_STANDS = re.compile(r"(这样(的话|子)?|(?<![你您])(我|他|她|我们|他们|她们))(也)?(算不算|算吗|能算吗|可以吗|行吗|行不行|可不可以|能不能|符合吗)")
RESUME = re.compile(r"(刚才|之前|前面|上面|回到)(问的|说的|那个|那件|的)|为啥不行|为什么不行|为什么不符合|为啥不符合|怎么不行|"
                    r"为什么不能|为啥不能|凭什么|(有|有没有|会不会|会|受)影响|" + AS_IT_STANDS.pattern)


@dataclass
class Understanding:
    text: str
    intent: str
    confidence: float
    entities: Dict[str, List[Any]]
    last_kind: Optional[str] = None
    last_clause: Optional[str] = None
    last_place: Optional[str] = None
    last_department: Optional[str] = None
    pending_clause: Optional[str] = None
    pending_fact: Optional[str] = None
    case_clause: Optional[str] = None
    unnamed_group: Optional[str] = None
    units_of: Optional[List[str]] = None  # a question of several: "who is responsible for each"
    # Entities the NLU model found that the knowledge base's own reading may have missed (typos).
    learned_entities: Dict[str, List[Any]] = field(default_factory=dict)
    subject_kind: Optional[str] = None
    facts: Dict[str, Any] = field(default_factory=dict)
    # What the person wrote before in this conversation, oldest first, as typed (cleaned only when read).
    earlier_texts: List[str] = field(default_factory=list)
    # The measures the last answer's parts were about, in order, when it answered several questions.
    last_parts: List[str] = field(default_factory=list)
    refers_to_a_part: bool = False  # this message names one of them ("第一个再细说一下")
    from_search: bool = False
    search_confidence: str = ""
    _new_facts: Optional[Dict[str, Any]] = field(default=None, repr=False)
    _ranked: Dict[bool, List[Tuple[Any, float]]] = field(default_factory=dict, repr=False)
    _places: Dict[bool, list] = field(default_factory=dict, repr=False)
    _plan: Optional[tuple] = field(default=None, repr=False)
    _mentioned: Optional[tuple] = field(default=None, repr=False)
    _subject: Any = field(default=None, repr=False)
    _echoes: Optional[bool] = field(default=None, repr=False)
    _asked_apart: bool = field(default=False, repr=False)
    # Several questions of one message about the same measure ("山区县能办技工院校吗 省级技能大赛能不能
    # 承办 优质技师学院会来设分院吗"): answered with the whole measure, not one sentence of it.
    several_points: bool = False
    # A part of a message of several that also asks whether its place is covered, which its
    # verdict answers ("仙居算不算山区县 在仙居开店创业贷款能不能放宽点"): the scope is cited too.
    place_asked: bool = False

    @classmethod
    def from_tracker(cls, tracker: Tracker) -> "Understanding":
        msg = tracker.latest_message or {}
        intent = (msg.get("intent") or {}).get("name") or "nlu_fallback"
        confidence = float((msg.get("intent") or {}).get("confidence") or 0.0)
        ents: Dict[str, List[Any]] = {}
        # The knowledge-base matcher's values are already normalised: let them come first.
        ordered = sorted(msg.get("entities") or [], key=lambda e: e.get("extractor") != "KBEntityExtractor")
        learned: Dict[str, List[Any]] = {}
        raw = msg.get("text") or ""
        for e in ordered:
            label, value = e.get("entity"), e.get("value")
            if label and value not in (None, "") and value not in ents.setdefault(label, []):
                ents[label].append(value)
                surface = raw[e["start"]:e["end"]] if isinstance(e.get("start"), int) and isinstance(e.get("end"), int) else ""
                if e.get("extractor") != "KBEntityExtractor" and not get_kb().extractor.states_no_fact(raw, surface):
                    # (the model's reading of a phrase that names a measure, "高校毕业生那个放宽", is no fact)
                    learned.setdefault(label, []).append(value)
        facts = tracker.get_slot("facts")
        # The NLU has normalised the text; put right homophone slips of the knowledge base's
        # terms ("飞第人才") before the knowledge base reads it.
        text = get_kb().correct_typos(clean_user_text(msg.get("text") or ""))
        parts = [c if isinstance(c, str) and c in get_kb().clauses else "" for c in tracker.get_slot("last_parts") or []]
        last_kind, last_clause = tracker.get_slot("last_kind"), tracker.get_slot("last_clause")
        item = ITEM_OF_THE_ANSWER.search(text) if parts else None
        if item is not None:
            # "第二个展开说说" after an answer to three questions: its second part is what is discussed
            n = len(parts) if item.group(2) else 1 if item.group(4) else cn_number(item.group(1))
            if n is not None and 1 <= n <= len(parts) and parts[n - 1]:
                last_kind, last_clause = "clause", parts[n - 1]
            else:
                item = None
        return cls(
            text=text,
            intent=intent,
            confidence=confidence,
            entities=ents,
            learned_entities=learned,
            last_kind=last_kind,
            last_clause=last_clause,
            last_place=tracker.get_slot("last_place"),
            last_department=tracker.get_slot("last_department"),
            pending_clause=tracker.get_slot("pending_clause"),
            pending_fact=tracker.get_slot("pending_fact"),
            case_clause=tracker.get_slot("case_clause"),
            unnamed_group=tracker.get_slot("unnamed_group"),
            subject_kind=tracker.get_slot("subject"),
            facts=dict(facts) if isinstance(facts, dict) else {},
            earlier_texts=_earlier_texts(tracker),
            last_parts=parts,
            refers_to_a_part=item is not None,
        )

    # -- what the message names ---------------------------------------------------------------------
    def strong_topic(self):
        """The measure the message names by a strong keyword ("创业担保贷款", "卫生高级自主评聘")."""
        topics = get_kb().clauses_for_topic(self.text)
        if topics and topics[0][1] >= 3 and self.echoes_the_last():
            return get_kb().clause(self.last_clause)
        return topics[0][0] if topics and topics[0][1] >= 3 else None

    def _names_another_first(self, last) -> bool:
        """The message's words, read alone, point first to a measure other than ``last``."""
        kb = get_kb()
        topics = kb.clauses_for_topic(self.text)
        first = topics[0][0] if topics else next(
            iter(h.clause for h in kb.search(self.text, k=1) if h.score >= PLAUSIBLE), None)
        return first is not None and first.id.split(".")[0] != last.id.split(".")[0] or (
            first is not None and "." in first.id and "." in last.id and first.id != last.id)

    def echoes_the_last(self) -> bool:
        """A short follow-up whose words of the document are words of the measure just discussed
        ("那她回来评职称有好处吗" after 挂职, whose clause says "服务经历作为职称…晋升的依据";
        "那她以后评高级呢" after the exam's pass mark, whose paragraph goes on to 卫生高级): more of
        that measure, though the words also name another."""
        if self._echoes is None:
            kb = get_kb()
            last = kb.clauses.get(self.last_clause or "")
            self._echoes = bool(
                last is not None and not last.about_document and last.measure is not None
                and self.last_kind in _ANSWERED_ON_A_MEASURE
                and (DEICTIC.search(self.text) or len(self.text) <= 20) and QUESTIONING.search(self.text)
                and not RESUME.search(self.text) and not QUALIFIES.search(self.text)
                and not self.entities.get("measure") and kb.measure_reference(self.text) is None
                and not self.place_matches() and not kb.not_covered(self.text)
                and self._names_another_first(last) and (kb.echoes(last.id, self.text) or self.points_at_the_last()))
        return self._echoes

    def carries_content(self) -> bool:
        """The message names something of the document or of a case: a topic, a place, a
        department, a fact, a point asked about, or something the document does not cover."""
        kb = get_kb()
        return bool(self.explicit_topic() or self.place_matches() or self.department() or self.new_facts()
                    or self.aspect() or kb.not_covered(self.text) or kb.unnamed_group(self.text)
                    or self.entities.get("measure") or self.entities.get("term"))

    def mountain_counties_of_the_measure(self) -> bool:
        """"山区县" said of the measure under discussion, not asked as a place ("那是不是所有山区县都有",
        "分配的时候山区县有没有照顾" after a measure): no place named, no list asked for."""
        kb = get_kb()
        last = kb.clauses.get(self.last_clause or "")
        return (last is not None and last.measure is not None and "山区" in self.text and not self.place_matches()
                and not LIST_QUESTION.search(self.text) and not self.names_a_measure())

    def personal_facts(self) -> Dict[str, Any]:
        """What this message says of who a person is ("没读过大学", "博士后出站了", "毕业三年"), not of
        places, employers or plans ("被公司拖欠工资", "开奶茶店的计划书")."""
        return {k: v for k, v in self.new_facts().items() if k in WHO}

    def only_a_place(self) -> bool:
        """A place and nothing else: no measure, no fact about a person, no case under way."""
        facts = self.new_facts()
        return (bool(self.place_matches()) and set(facts) <= {"place", "origin"} and not self.names_a_measure()
                and not self.pending_clause and not self.facts and not self.aspect())

    def strong_measure(self) -> bool:
        """A measure (not the document's scope or dates) named by a strong keyword."""
        topic = self.strong_topic()
        return topic is not None and topic.measure is not None

    def describes_someone(self) -> bool:
        """The message tells about a person or employer (two facts or more besides the place;
        what is done counts once, whoever organises it)."""
        undertaking = get_kb().undertaking_facts
        said = [k for k in self.new_facts() if k not in ("place", "origin")]
        personal = [k for k in said if k not in undertaking] + [k for k in said if k in undertaking][:1]
        return len(personal) >= 2 or (len(personal) == 1 and bool(self.new_facts().get("place")))

    def aspect(self) -> Optional[str]:
        """What the question asks about a measure (amount, procedure, who decides …), if anything."""
        return get_kb().aspect_of(self.text)

    def aspects(self) -> List[str]:
        """Every point the question asks about a measure, in the order asked ("额度多少 利率多少")."""
        asked = [get_kb().aspect_of(piece) for piece in CLAUSE_STOP.split(self.text)]
        found = list(dict.fromkeys(a for a in asked if a))
        return found or ([self.aspect()] if self.aspect() else [])

    def question_after_courtesy(self) -> Optional[str]:
        """Thanks or a greeting read as the whole message, then a question of its own ("好的谢谢。
        那我们站长明年想评副高，高级那块有什么说法吗"): that question, which the message is for."""
        if self.intent not in SMALL_TALK:
            return None
        sentences = [s.strip() for s in re.split(f"[{SENTENCE_END_MARKS}]", self.text) if s.strip()]
        last = sentences[-1] if len(sentences) >= 2 else ""
        return last if len(last) >= 6 and QUESTIONING.search(last) else None

    def follows_up(self) -> bool:
        """A short question about what was just discussed ("那额度呢", "要什么材料"), or a run of
        them, each asking a point of it ("免的话去哪报名 要带营业执照复印件吗 几号截止")."""
        if not self.last_clause:
            return False
        if DEICTIC.search(self.text) or len(self.text) <= 14:
            return True
        pieces = [p for p in CLAUSE_OR_SPACE.split(self.text) if p]
        return len(pieces) >= 2 and all(len(p) <= 14 and get_kb().aspect_of(p) for p in pieces)

    def mentioned(self) -> Optional[str]:
        """The words a question asks which measures mention, when two or more do ("职称")."""
        if self._mentioned is None:
            m = MENTIONS.search(self.text)
            words = m and (m.group("x") or m.group("y"))
            self._mentioned = (words if words and len(get_kb().clauses_mentioning(words)) >= 2 else None,)
        return self._mentioned[0]

    def points_at_the_last(self) -> bool:
        """The message points back at the measure just discussed by one of its own words ("分院的
        医生能用那条线吗" after the exam's 单独划定的合格线; "那个补助要多久才发" after 第一条's 补助),
        whatever else it names."""
        kb = get_kb()
        last = kb.clauses.get(self.last_clause or "")
        if last is None or last.measure is None or self.last_kind not in _ANSWERED_ON_A_MEASURE:
            return False
        for m in THAT_ONE.finditer(self.text):
            noun = m.group("noun")
            if any(noun[:n] in last.text for n in range(len(noun), 0, -1)
                   if not GENERIC_NOUN.fullmatch(noun[:n]) and not QUESTIONING.match(noun[n - 1:])
                   # (one character only after a word for a line or an item, "那条线": not the 省 of
                   # "那个省里人才市场", the 参 of "那个参展费")
                   and (n >= 2 or m.group(3) in "条项段")):
                return True
        return False

    def asks_more_of_the_last(self) -> bool:
        """A short question that names nothing of its own, right after a measure was discussed: more
        of that measure ("挂完回来对个人有啥好处" after 挂职, "哪几类大赛" after 技能大赛; longer when it
        points back and shares the measure's words: "那我们站长明年想评副高，高级那块有什么说法吗")."""
        kb = get_kb()
        if self.last_clause not in kb.clauses or kb.clause(self.last_clause).about_document \
                or self.last_kind not in _ANSWERED_ON_A_MEASURE or not QUESTIONING.search(self.text):
            return False
        if len(self.text) > 20 and not (DEICTIC.match(self.text) and kb.echoes(self.last_clause, self.text)):
            return False
        base = self.last_clause.split(".")[0]
        topics = kb.clauses_for_topic(self.text)
        return (all(c.id.split(".")[0] == base for c, _ in topics) and not self.place_matches()
                and not self.department() and kb.measure_reference(self.text) is None
                and not kb.not_covered(self.text) and kb.unnamed_group(self.text) is None)

    def names_a_measure(self) -> bool:
        """A measure named by number or by a topic other than the document's own facts."""
        return bool(self.entities.get("measure")) or any(
            not c.about_document for c, _ in get_kb().clauses_for_topic(self.text))

    def turns_to_another_undertaking(self, cid: str) -> bool:
        """The message tells of an undertaking measure ``cid`` is not for, and names a measure that
        is ("那他要是不考了 自己开个店做生意 贷款能不能优惠点" while 基层岗位 was asked of)."""
        kb = get_kb()
        if not self._tells_another_undertaking_than(cid):
            return False
        doing = self.new_facts()["activity"]
        said = [chunk for fact, value, chunk, _ in kb.extractor.enum_mentions(self.text) if (fact, value) == ("activity", doing)]
        if said and all(chunk in kb.clause(cid).text for chunk in said):
            return False  # "去了有没有职称优先" of 挂职: a word of the measure's own text, no other undertaking
        return any(doing in kb.eligibility.undertakings(c.id) for c, _ in kb.clauses_for_topic(self.text))

    def _tells_another_undertaking_than(self, cid: str) -> bool:
        """The message tells of an undertaking, and measure ``cid`` is for others only."""
        doing = self.new_facts().get("activity")
        theirs = get_kb().eligibility.undertakings(cid)
        return bool(doing and theirs and doing not in theirs)

    def names_local_units(self) -> bool:
        """The message names the local departments a measure's line of responsible units may end
        with (as the knowledge base has them): "第九条呢 是不是也带着市县相关部门"."""
        kb = get_kb()
        return any(c.local_units and c.local_units in self.text for c in kb.clauses.values())

    def corrects_the_case(self) -> bool:
        """The message puts right only facts of the case judged before that its measure tests, and
        names no measure ("等下 不是8年 是18年" after verdicts on 创业 and on 参展费): that case again."""
        new = self.new_facts()
        testing = get_kb().eligibility.clauses_testing
        return bool(self.case_clause and new) and not self.names_a_measure() and all(
            k in self.facts and self.facts[k] != v and self.case_clause in testing(k) for k, v in new.items())

    def topic_beyond(self, cid: Optional[str]) -> bool:
        """The message names a measure other than `cid` (or its own paragraphs/parent)."""
        base = (cid or "").split(".")[0]
        if cid and cid == self.last_clause and self.echoes_the_last():
            return False
        named = [str(v) for v in self.entities.get("measure", [])]
        named += [c.id for c, w in get_kb().clauses_for_topic(self.text) if w >= STRONG_TOPIC]
        return any(n.split(".")[0] != base for n in named)

    def explicit_topic(self) -> bool:
        return bool(self.entities.get("measure") or self.entities.get("topic") or get_kb().clauses_for_topic(self.text))

    # -- clauses -----------------------------------------------------------------------------------
    def clause_candidates(self, use_context: bool = False) -> List[Tuple[Any, float]]:
        """Clauses the question is about, best first, with scores in [0, 1] (inf: named by number);
        read once per turn (with or without the conversation's context)."""
        if use_context not in self._ranked:
            self._ranked[use_context] = self._rank(use_context)
        return list(self._ranked[use_context])

    def _rank(self, use_context: bool) -> List[Tuple[Any, float]]:
        kb = get_kb()
        for value in self.entities.get("measure", []):
            clause = kb.clause(value) if value in kb.clauses else kb.clause_by_number(str(value))
            if clause is not None:
                return [(clause, float("inf"))]
        number = kb.measure_reference(self.text)
        named = kb.clause_by_number(str(number)) if number is not None and not PARAGRAPH.search(self.text) else None
        if named is not None:
            return [(named, float("inf"))]  # "最后一条举措讲啥的": a measure by where it stands
        quoted = kb.quoted_clause(self.text)
        if quoted is not None:
            # The question repeats the document's own words: that clause, whatever else matches.
            return [(quoted, 1.0)] + [(h.clause, h.score) for h in kb.search(self.text, k=3)
                                      if h.clause.id != quoted.id and h.score >= PLAUSIBLE]
        para = PARAGRAPH.search(self.text)
        if para and self.last_clause and kb.measure_reference(self.text) is None:
            # "第二段呢" after (三)'s first paragraph: that measure's second paragraph
            named = kb.clauses.get(f"{self.last_clause.split('.')[0]}.{cn_number(para.group(1))}")
            if named is not None:
                return [(named, float("inf"))]
        topics = kb.clauses_for_topic(self.text)
        if self.echoes_the_last() or self.points_at_the_last():
            last = kb.clause(self.last_clause)
            return [(last, 1.0)] + [(c, 0.0) for c, _ in topics if c.id != last.id]
        if self.mountain_counties_of_the_measure():
            topics = [(c, w) for c, w in topics if not c.about_document]
        deictic = bool(DEICTIC.search(self.text)) or len(self.text) <= 8 or self.mountain_counties_of_the_measure() \
            or self.asks_more_of_the_last()
        if self.last_clause in kb.clauses and not topics and (use_context or deictic):
            # "那谁负责？", "这个由谁认定": about what was just discussed.
            return [(kb.clause(self.last_clause), 0.0)]
        hits = [h for h in kb.search(self.text, k=3) if h.score >= PLAUSIBLE]
        if topics and topics[0][0].is_parent:
            parent, weight = topics[0]
            # The whole measure (e.g. by its title) rather than one paragraph of it.
            if len(topics) == 1 or topics[1][1] < weight:
                return [(parent, 1.0)] + [(h.clause, h.score) for h in hits if not h.clause.id.startswith(parent.id + ".")]
        if hits:
            if not topics:
                self.from_search = True
                self.search_confidence = "较高" if hits[0].score >= CONFIDENT else "一般"
            return [(h.clause, h.score) for h in hits]
        if topics:
            return [(c, 0.0) for c, _ in topics]
        if self.last_clause in kb.clauses and use_context:
            return [(kb.clause(self.last_clause), 0.0)]
        return []

    def is_ambiguous(self, ranked: List[Tuple[Any, float]]) -> bool:
        """Two different measures matched about equally and neither well: let the person choose."""
        if len(ranked) < 2 or not self.from_search:
            return False
        (a, sa), (b, sb) = ranked[0], ranked[1]
        related = a.id.split(".")[0] == b.id.split(".")[0]
        return not related and sa < CONFIDENT and sa - sb < AMBIGUITY_MARGIN

    def asks_detail(self) -> bool:
        return bool(DETAIL.search(self.text))

    def looks_off_topic(self) -> bool:
        return not (self.explicit_topic() or self.place_matches() or self.department())

    # -- departments, places, terms ----------------------------------------------------------------
    def names_unknown_department(self) -> Optional[str]:
        """A provincial department the question names that the document does not ("省发改委")."""
        kb = get_kb()
        for m in [*PROVINCIAL_DEPARTMENT.finditer(self.text), *OPENING_DEPARTMENT.finditer(self.text)]:
            if kb.find_department(m.group(0)) is None:
                return m.group(0)
        # (asked whether it issued the document, the answer on the issuers says it did not)
        return None if ISSUER_OF.search(self.text) else kb.other_department_in(self.text)

    def department(self, use_context: bool = False):
        """The department the message names; with `use_context`, else the one named before when
        the message points back at it ("它负责哪条", "那这个部门管什么")."""
        kb = get_kb()
        for value in self.entities.get("department", []):
            dept = kb.departments.get(value) or kb.find_department(str(value))
            if dept:
                return dept
        found = kb.find_department(self.text)
        if found is None and use_context and self.last_department and POINTS_BACK.search(self.text):
            found = kb.departments.get(self.last_department)
        return found

    def place_matches(self, use_context: bool = False) -> list:
        """The places the message names, the one asked about first; read once per turn (the
        routing and the answer ask several times)."""
        if use_context not in self._places:
            self._places[use_context] = self._read_places(use_context)
        return list(self._places[use_context])

    def _read_places(self, use_context: bool) -> list:
        kb = get_kb()
        found = []
        for label in ("place", "city"):
            for value in self.entities.get(label, []):
                m = kb.find_place(str(value))
                if m is not None and all(m.name != f.name for f in found):
                    found.append(m)
        if found:
            # Townships and places below them are entities only as the fact of a case: "分水镇和千岛湖镇，
            # 哪个算山区县" names 淳安 too.
            found += [m for m in kb.places_in_text(self.text) if (m.township or m.landmark)
                      and all(m.name != f.name for f in found)]
        if not found:
            found = list(kb.places_in_text(self.text))
        if not found:
            # "尖山镇那里算山区县吧" after "我爸在磐安尖山镇…": a shared township name, settled by
            # the place the conversation is about
            settled = kb.settle_shared_township(self.text, [self.last_place, self.facts.get("place"),
                                                            self.facts.get("origin")])
            found = [settled] if settled is not None else []
        if not found and use_context and self.last_place:
            m = kb.find_place(self.last_place)
            if m is not None:
                found = [m]
        # "江苏苏州", "丽水市莲都区": the most specific place is the one asked about; a place the
        # message speaks of as what was ("以前苍南的龙港镇，现在变成龙港市了") comes after the others.
        # A place denied ("我说的是龙游那个溪口，不是奉化的") is not asked about.
        starts: Dict[str, int] = {}  # where the text names each place
        ends: Dict[str, int] = {}
        for m in kb.places_in_text(self.text) if len(found) > 1 else []:
            starts.setdefault(m.name, m.span[0])
            ends.setdefault(m.name, m.span[1])

        def said_before(match, words: "re.Pattern") -> bool:
            at = starts.get(match.name, -1)
            return at > 0 and bool(words.search(self.text, max(0, at - 6), at))

        def said_near(match) -> bool:
            # named only as near the one asked about ("福建浦城呢 我们就挨着江山", "歙县跟淳安挨着")
            return said_before(match, NEAR_BEFORE) or match.name in ends and bool(NEAR_AFTER.match(self.text, ends[match.name]))

        def not_asked(match) -> bool:
            # ("我在金华市区上班，家在磐安，金华算山区县吗": the place of the clause that asks; a place
            # said alone, "衢州市区算不算，柯城区", is asked too)
            at = starts.get(match.name, -1)
            if at < 0:
                return True
            stop = CLAUSE_STOP.search(self.text, at)
            begin = max((m.end() for m in CLAUSE_STOP.finditer(self.text, 0, at)), default=0)
            end = stop.start() if stop else len(self.text)
            rest = self.text[begin:at] + self.text[ends[match.name]:end]
            return not COUNTY_QUESTION.search(self.text, begin, end) and not _BARE_PLACE.fullmatch(rest)

        kept = [m for m in found if not said_before(m, DENIED_PLACE)]
        asked = [m for m in kept if not not_asked(m)]
        # (a place one came from, "是从临海搬到矾山了", as a place of the past)
        return sorted(kept or found, key=lambda m: (said_before(m, PAST_PLACE) or said_before(m, FROM_PLACE)
                                                    or said_near(m),
                                                    bool(asked) and not_asked(m),
                                                    specificity(m)))

    def only_outside_zhejiang(self) -> bool:
        """Places are named and none of them is in Zhejiang."""
        matches = self.place_matches()
        return bool(matches) and all(m.outside is not None for m in matches)

    def glossary_entry(self):
        kb = get_kb()
        for value in self.entities.get("term", []):
            entry = kb.glossary_lookup(str(value))
            if entry:
                return entry
        return kb.glossary_lookup(self.text)

    # -- facts for eligibility ---------------------------------------------------------------------
    def new_facts(self) -> Dict[str, Any]:
        """Facts stated in this message, normalised to the knowledge base's values (read once)."""
        if self._new_facts is None:
            self._new_facts = self._read_new_facts()
        return dict(self._new_facts)

    def _read_new_facts(self) -> Dict[str, Any]:
        kb = get_kb()
        # The knowledge base's reading of the whole text comes first: it knows a fact's polarity
        # ("单位不是民营企业"), the role of each place ("在杭州工作，想去丽水") and whom the message
        # is about; token-level entities only fill what it did not read at all.
        reading = kb.read_facts(self.text)
        if self.earlier_texts and kb.extractor.asked_of(self.text) is not None:
            # "就按他的情况算", "那我呢": the person asked about now was told of in earlier turns,
            # beside others; the conversation is read again for what it says of that person alone.
            whole = kb.read_conversation([clean_user_text(t) for t in self.earlier_texts] + [self.text])
            if whole is not None:
                reading = whole
        self._subject = reading.subject
        self._asked_apart = reading.asked_apart
        facts: Dict[str, Any] = dict(reading.facts)
        for key in kb.facts_vocabulary:
            if key in facts or key in ("place", "origin"):
                continue
            # The knowledge base read the words with their polarity; what it did not read as a
            # fact (a negated or idiomatic phrase) the model's entities do not add back.
            for value in self.learned_entities.get(key, []):
                norm = self._normalise_fact(kb, key, value)
                if norm is not None:
                    facts[key] = norm
                    break
        if "years_since_graduation" not in facts and (
                "years_since_graduation" in self.facts or self.pending_fact == "years_since_graduation"):
            # "不是3年 是13年": while the years are the point, a bare number of years is them.
            # (not the years of a measure's condition: "能享受毕业10年内的创业扶持吗")
            stated = [m for m in BARE_YEARS.finditer(self.text) if not m.group(1)
                      and not kb.extractor.states_no_fact(self.text, m.group(0))]
            if stated:
                value = cn_number(stated[-1].group(2))
                if value is not None and value < 60:
                    facts["years_since_graduation"] = value
        if self.pending_fact in ("place", "origin") and "place" not in facts and reading.places:
            # Asked where, "老家在丽水庆元" is the answer, whatever a place of one's past would count for.
            facts["place"] = most_specific(reading.places).name
        if not reading.places and "place" not in facts:
            for label in ("place", "city"):
                for value in self.entities.get(label, []):
                    m = kb.find_place(str(value))
                    if m is not None:
                        facts.setdefault("place", m.name)
        return facts

    def subject(self):
        """Whom the case is about (the person, a relative, an employer, a local official): as this
        message says, else as the conversation said before."""
        if self._new_facts is None:
            self.new_facts()
        if self._subject is not None and (self._subject.kind != "self" or self._asked_apart):
            return self._subject
        if self.subject_kind:
            kind, _, relation = self.subject_kind.partition(":")
            try:
                return Subject(kind=kind, relation=relation or None)
            except ValueError:
                pass
        return self._subject or Subject()

    def subject_slot(self) -> Optional[str]:
        s = self.subject()
        if s.kind == "self":
            return "self" if self._asked_apart else None  # "那我呢" after a relative's case
        return f"{s.kind}:{s.relation}" if s.relation else s.kind

    @staticmethod
    def _normalise_fact(kb, key: str, value: Any) -> Any:
        if key == "years_since_graduation":
            try:
                return int(value)
            except (TypeError, ValueError):
                return kb.extract_facts(str(value)).get(key)
        if key == "place":
            m = kb.find_place(str(value))
            return m.name if m is not None else None
        vocabulary = kb.facts_vocabulary.get(key)
        if vocabulary is not None and value in (vocabulary.values or {}):
            return value
        return kb.extract_facts(str(value)).get(key)

    def merged_facts(self) -> Dict[str, Any]:
        """What the person has said about themselves in this conversation, newest first."""
        new = self.new_facts()
        if self._asked_apart or self.tells_of_another():
            if SHARES_SETTING.search(self.text):
                # what the one before is and has done stays theirs; where and what, both share
                setting = {k: v for k, v in self.facts.items() if k not in WHO}
                return {**setting, **new}
            return self._asked_the_same(new)  # what was said of this person alone, not of the others before
        return get_kb().eligibility.merge(self.facts, new)

    def _asked_the_same(self, new: Dict[str, Any]) -> Dict[str, Any]:
        """Another person's facts, with what the question before was about when this one asks the
        same ("我妈也在平阳一个村卫生室 她呢" after a son's 卫生中级考试: her exam, so she is one
        who sits it)."""
        doing = self.facts.get("activity")
        if not doing or "activity" in new or not SAME_QUESTION.search(self.text):
            return new
        value = get_kb().facts_vocabulary["activity"].values.get(doing)
        implied = {k: v for k, v in (value.implies.items() if value else ()) if k not in new}
        return {**implied, "activity": doing, **new}

    def tells_of_another(self) -> bool:
        """Whether this message tells of a person other than the one the case so far is about
        ("我儿子大学毕业5年…" then "我侄女也想去常山创业，不过她研究生还在读")."""
        if self._new_facts is None:
            self.new_facts()
        s = self._subject
        if s is None or s.kind not in ("relative", "other") or not s.relation or not self.facts:
            return False
        # (an employer or an official told of the setting: "我们公司在青田…老板儿子要是来我们公司上班";
        # the same story told of whom it was really about: "不是她，是我小姨，在天台街头镇卫生院")
        before = (self.subject_kind or "self").partition(":")[0]
        return before not in ("employer", "official") and not WHO_CORRECTED.match(self.text) \
            and self.subject_kind != f"{s.kind}:{s.relation}"

    def facts_for(self, clause_id: str, facts: Dict[str, Any]) -> Dict[str, Any]:
        """The facts a measure is judged on: an employer asking about a measure for employers, or
        the enterprise a conversation tells of, is the one judged, whatever people it names
        ("我们厂在龙游…想招点技术工人，要不要交参展费")."""
        rule = get_kb().rules.get(clause_id)
        # (also an enterprise told of, for what the measure has it do: "我在常山开了个厂…" then
        # "那招聘会那个还免不免")
        if rule is not None and "employer" in rule.concerns and facts.get("role") not in rule.concerns and (
                self.subject().kind == "employer"
                or facts.get("employer_type") and facts.get("activity") in rule.activities):
            return {**facts, "role": "employer"}
        return facts

    def describes_a_case(self, clause) -> bool:
        """A question about a clause that states enough about a person to judge their case."""
        kb = get_kb()
        rule = set(kb.rule_clauses())
        if clause.id not in rule and not any(cid.startswith(clause.id + ".") for cid in rule):
            return False
        judged = [cid for cid in rule if cid == clause.id or cid.startswith(clause.id + ".")]
        if not any(kb.eligibility.concerns(cid, self.facts_for(cid, self.merged_facts())) for cid in judged):
            return False  # "我们企业想设博士后工作站": the measure does not judge an employer
        personal = [k for k in self.new_facts() if k not in get_kb().undertaking_facts]
        if len(personal) >= 2 or (SELF_REFERENCE.search(self.text) and personal):
            return True
        # What the person said earlier about themselves ("我在青田县的乡镇卫生院上班"), when it
        # fits this measure well, makes a later general question about it their case.
        if not self.facts:
            return False
        merged = self.merged_facts()
        # (not what only names whom the measure is for: "高校毕业生到山区县基层就业有啥政策" then
        # "那见习基地的事呢" tells nothing of anyone's own case)
        if not any(k in merged for k in OWN_CASE_FACTS):
            return False
        # (facts that bear on it either way: "我们企业在金华市区" then the 参展费 question)
        if any(v.clause_id.split(".")[0] == clause.id.split(".")[0] and len(v.met) + len(v.unmet) >= 2
               for v in kb.applicable(self.facts_for(clause.id, merged))):
            return True
        # Asked whether it can be used by one it rules out ("我大三，还没毕业…" then "放宽那个政策现在能
        # 用吗"): they are told why not.
        if not CAN_ONE.search(self.text):
            return False
        return any(v.met for v in kb.ruled_out_by_role(merged, judged))

    def eligibility_clause(self, facts: Dict[str, Any]):
        """The clause whose rules judge this case; None when the question is about one without."""
        kb = get_kb()
        rule = set(kb.rule_clauses())
        if self.case_clause in rule and self.corrects_the_case():
            return kb.clause(self.case_clause)
        # A case under way stays on its measure unless the message clearly names another, or turns
        # to another undertaking that a measure it names is for.
        ranked = [] if self.pending_clause and not self.topic_beyond(self.pending_clause) \
            and not self.turns_to_another_undertaking(self.pending_clause) else self.clause_candidates()
        # (the document's own parts judge no case: "我们厂不在什么山区县，就在义乌" goes on with the measure)
        ranked = [(c, s) for c, s in ranked if not c.about_document]
        own = self._for_the_undertaking(ranked, facts) or self._the_one_for_the_undertaking(ranked, facts)
        if own is not None:
            return own
        for clause, _ in ranked[:1]:
            if clause.id in rule:
                return clause
            children = [cid for cid in rule if cid.startswith(clause.id + ".")]
            if children:
                return kb.clause(self._pick_child(kb, children, facts))
            if not self.from_search:
                return None  # "就业补助资金山区县能多分一些吗": a measure that judges no one
        if self.pending_clause and self.pending_clause in rule:
            return kb.clause(self.pending_clause)
        if self.last_kind in ("eligibility", "clause") and self.last_clause in rule and not (
                self.last_kind == "clause" and self._tells_another_undertaking_than(self.last_clause)):
            # (a measure only quoted does not hold a case of another undertaking: "…毕业后想回来考乡镇的
            # 岗位" after 挂职 was quoted for retirees; a verdict's measure does: "我爸在建德梅城开厂 他参加呢")
            return kb.clause(self.last_clause)
        verdicts = kb.applicable(facts) if facts else []
        if verdicts:
            return kb.clause(verdicts[0].clause_id)
        if self.last_clause in rule:
            return kb.clause(self.last_clause)
        return None

    def _for_the_undertaking(self, ranked: List[Tuple[Any, float]], facts: Dict[str, Any]):
        """Of the two measures the words point at most, both judging people, the one for the
        person's own undertaking where only one is ("…合伙准备搞个小作坊…对大学生创业有照顾":
        第七条, not 第六条's posts in public service); else None."""
        kb = get_kb()
        rule = set(kb.rule_clauses())
        if not facts.get("activity") or len(ranked) < 2 or not all(c.id in rule for c, _ in ranked[:2]):
            return None
        if ranked[1][1] < ranked[0][1] * _POINTS_AT_BOTH:
            return None  # the words point at one ("…引进一位出站的博士后…能不能申请省财政的补助": 第一条)
        fits = [c for c, _ in ranked[:2] if "activity" not in kb.evaluate(c.id, self.facts_for(c.id, facts)).unmet_facts]
        if len(fits) == 2:  # neither rules it out: the one about it ("…评中级职称能倾斜吗": 第三条)
            fits = [c for c in fits if facts["activity"] in kb.eligibility.rules[c.id].activities]
        return fits[0] if len(fits) == 1 else None

    def _the_one_for_the_undertaking(self, ranked: List[Tuple[Any, float]], facts: Dict[str, Any]):
        """The one measure for the undertaking the person tells of, where the words point only
        weakly at a measure for another ("我孙女在丽水学院读大四 毕业后想回来考乡镇的岗位": 第六条, not
        第一条 for 丽水); else None."""
        kb = get_kb()
        doing = facts.get("activity")
        if not doing or self.strong_measure() or self.entities.get("measure") or not ranked:
            return None
        # (only a measure found by search, for no undertaking: one for another, or named, holds)
        if not self.from_search or kb.eligibility.undertakings(ranked[0][0].id):
            return None
        fits = [cid for cid in kb.rule_clauses() if doing in kb.eligibility.undertakings(cid)]
        return kb.clause(fits[0]) if len(fits) == 1 else None

    def rule_clause_for(self, clause, facts: Dict[str, Any]):
        """The clause whose rule judges a case about `clause` (itself, or the paragraph the facts
        fit best), or None when the measure judges no one."""
        kb = get_kb()
        rules = kb.rule_clauses()
        if clause.id in rules:
            return clause
        children = [cid for cid in rules if cid.startswith(clause.id + ".")]
        return kb.clause(self._pick_child(kb, children, facts)) if children else None

    def applicable_plan(self) -> tuple:
        """What a description of a person is answered with:
        ("named", clause): the verdict on the measure the question names ("文件里那个基层岗位包括我们村官吗");
        ("content", None): that measure's content, as it judges no one like them ("我们企业想设博士后工作站");
        ("list", verdicts, extra, asked): the measures that fit them, and those the question points at;
        ("nothing", None): nothing fits. Read once per turn (the routing and the handler ask)."""
        if self._plan is None:
            self._plan = self._plan_for_a_description()
        return self._plan

    def _plan_for_a_description(self) -> tuple:
        kb = get_kb()
        facts = self.merged_facts()
        named = [c for c, score in self.clause_candidates()[:1] if (score >= PLAUSIBLE or score == float("inf"))
                 and not c.about_document]  # ("不在山区县" names the scope, which judges no one)
        if named and (self.strong_topic() is not None or self.from_search is False):
            judged = self._for_the_undertaking(self.clause_candidates(), facts) or self.rule_clause_for(named[0], facts)
            if judged is not None and kb.eligibility.concerns(judged.id, self.facts_for(judged.id, facts)):
                return ("named", judged)
            return ("content", None)
        verdicts = kb.applicable(facts) if facts else []
        # What the person asks about, found by topic or search, comes first even where the
        # clause judges no one ("县里想办一所技工院校" → 第五条).
        topical = [c for c, score in self.clause_candidates()[:2] if score >= PLAUSIBLE or score == float("inf")]
        topical_ids = {c.id for c in topical}
        # A measure that only the place fits (nothing about the person) is noise, not a match.
        verdicts = [v for v in verdicts if v.clause_id in topical_ids or v.verdict == "eligible" or len(v.met) >= 2]
        # A measure for another undertaking than the person's is noise beside one for theirs
        # ("…辞职在武义开网店创业": 第七条, not 第六条's posts in public service).
        if any("activity" not in v.unmet_facts for v in verdicts):
            verdicts = [v for v in verdicts if "activity" not in v.unmet_facts]
        extra = [c for c in topical if all(v.clause_id != c.id for v in verdicts)]
        if not verdicts and not extra:
            ruled_out = self._undertaking_ruled_out(facts)
            return ("named", ruled_out) if ruled_out is not None else ("nothing", None)
        # The measures the words point at come first, met or not ("…上个月出的站…不过不是民企": 第一条,
        # then what else fits them).
        # (as does the one measure that tests a fact told: 出站 is 第一条's)
        testing = {k: kb.eligibility.clauses_testing(k) for k in self.new_facts()}
        asked = topical_ids | {only[0] for only in testing.values() if len(only) == 1}
        verdicts.sort(key=lambda v: v.clause_id not in asked)
        return ("list", verdicts, extra, asked)

    @staticmethod
    def _undertaking_ruled_out(facts: Dict[str, Any]):
        """The one measure for what the person does ("在开化搞了个校园跑腿的小项目": a start-up) that
        who they are rules out ("我大三，还没毕业"), else None: they are told why, not asked again."""
        kb = get_kb()
        doing = facts.get("activity")
        if not doing or str(doing).startswith("not:"):
            return None
        fits = kb.ruled_out_by_role(facts, activity=doing)
        return kb.clause(fits[0].clause_id) if len(fits) == 1 else None

    def aspect_clause(self):
        """The measure a question about one of its points is about ("额度是多少", "那去哪里申请")."""
        kb = get_kb()
        current = self.pending_clause or self.last_clause
        ranked = self.clause_candidates(use_context=True)
        if current in kb.clauses and self.follows_up() and not self.topic_beyond(current):
            return kb.clause(current)  # "放宽到几年", "能领几年": the measure just discussed
        if ranked and not self.is_ambiguous(ranked):
            return ranked[0][0]
        if current in kb.clauses:
            return kb.clause(current)
        return None

    @staticmethod
    def _pick_child(kb, children: List[str], facts: Dict[str, Any]) -> str:
        """Of a measure's paragraphs, the one the facts say most about."""
        for v in kb.applicable(facts) if facts else []:
            if v.clause_id in children:
                return v.clause_id
        return sorted(children)[0]


def _earlier_texts(tracker: Tracker) -> List[str]:
    """The user's messages of this session before the latest one."""
    texts: List[str] = []
    for e in tracker.events or []:
        if e.get("event") == "action" and e.get("name") == "action_session_start":
            texts = []
        elif e.get("event") == "user" and e.get("text"):
            texts.append(e["text"])
    return texts[:-1]
