"""A Rasa-shaped server for the widget tests that needs no trained model.

The app is built by Rasa's own ``configure_app`` with the widget channel from
``bot/credentials.yml`` semantics, and a stand-in agent with real in-memory tracker and lock
stores that answers from a fixed script, event by event as Rasa's processor does (UserUttered,
then BotUttered events sent to the channel's output channel).

    python -m tests.channels.widget_fake_server --port 5099 [--origins https://a.example]
        [--client-per-minute N] [--sender-per-minute N]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Dict, List

from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]

CLAUSE_M7 = ("有条件的山区县，在风险可控的前提下，可适当降低创业担保贷款申请门槛，适当提高创业担保贷款额度，"
             "给予利率优惠；高校毕业生享受重点人群创业扶持政策的毕业年限，可从毕业5年以内放宽至毕业10年以内。"
             "认定省级创业孵化示范基地时，给予山区县倾斜支持。")
CLAUSE_SCOPE = ("本意见的“山区县”指衢州、丽水两市的所辖县（市、区），以及淳安、永嘉、文成、平阳、泰顺、苍南、"
                "武义、磐安、天台、仙居、三门等县市。")
CLAUSE_M1 = "鼓励山区县设立省级博士后工作站，博士后出站后到衢州、丽水山区县民营企业工作的，省财政视情给予补助。"


def _reply(text: str, custom: Dict[str, Any] = None, buttons: List[Dict[str, str]] = None) -> Dict[str, Any]:
    data: Dict[str, Any] = {}
    if custom is not None:
        data["custom"] = custom
    if buttons:
        data["buttons"] = buttons
    return {"text": text, "data": data}


LOC_SCOPE, LOC_M1, LOC_M7 = "正文末段（“山区县”的含义）", "三、主要举措（一）", "三、主要举措（七）"
M7_SENTENCE = "有条件的山区县，在风险可控的前提下，可适当降低创业担保贷款申请门槛，适当提高创业担保贷款额度，给予利率优惠；"
# The payloads as actions/render.py and bot/staff/hooks.py make them (docs/answer-contract.md).
CITE_SCOPE = {"clause_id": "scope", "title": "“山区县”的范围", "text": CLAUSE_SCOPE, "location": LOC_SCOPE}
CITE_M1 = {"clause_id": "m1", "title": "支持引进高端人才", "text": CLAUSE_M1, "location": LOC_M1}
CITE_M7 = {"clause_id": "m7", "title": "加强创业扶持", "text": CLAUSE_M7, "location": LOC_M7}
TICKET = 7


def quote(location: str, passage: str) -> str:
    return f"【原文】{location}\n“{passage}”"


def script(text: str, after: str = "") -> List[Dict[str, Any]]:
    """The canned answers, keyed by what the user typed (or clicked) and, for a message left to
    staff, by the bot's previous answer."""
    if after == "handoff-prompt" and text != "取消":
        return [_reply(f"已收到您的留言（编号 {TICKET}）。工作人员一般会在1个工作日内答复，"
                       "答复会显示在本对话窗口中，您稍后再打开时也能看到。",
                       {"handoff": {"ticket": TICKET, "status": "open"}})]
    if text in ("转人工", "我要找人工"):
        return [_reply("如需工作人员答复，您可以给我们留言，工作人员看到后会回复您。",
                       {"handoff": {"offer": "asked"}}, buttons=[{"title": "留言", "payload": "留言"}])]
    if text == "留言":
        return [_reply("请在下一条消息中写下您想咨询的问题，可以附上联系方式（手机号或邮箱，选填）。"
                       "回复“取消”可放弃留言。", {"handoff": {"waiting_for_message": True}})]
    if "开化" in text:
        return [_reply(
            "是的，开化县（衢州市）属于本意见所指的山区县。\n" + quote(LOC_SCOPE, CLAUSE_SCOPE),
            {"county": {"name": "开化县", "city": "衢州市", "is_mountain_county": True},
             "citations": [CITE_SCOPE]},
        )]
    if "额度" in text:  # the text quotes one sentence of the clause
        return [_reply(
            "关于「加强创业扶持」的具体标准：文件只写了“适当提高创业担保贷款额度”，文件没有规定具体金额。\n"
            + quote(LOC_M7, M7_SENTENCE) + "\n责任单位：省人力社保厅、省财政厅。",
            {"citations": [CITE_M7],
             "responsible_units": [{"name": "省人力社保厅", "full_name": "浙江省人力资源和社会保障厅"},
                                   {"name": "省财政厅", "full_name": "浙江省财政厅"}]},
        )]
    if text == "原文":
        return [_reply(quote(LOC_M7, CLAUSE_M7), {"citations": [CITE_M7]})]
    if "全部措施" in text:  # a long answer: several phone screens
        lines = [f"{i}. 第{i}项措施的要点：{CLAUSE_M1}" for i in range(1, 13)]
        return [_reply("文件共有九项主要举措，要点如下：\n" + "\n".join(lines),
                       {"citations": [CITE_M1]})]
    if "第七条" in text or "创业" in text:
        return [_reply(
            "（七）加强创业扶持。\n" + quote(LOC_M7, CLAUSE_M7) + "\n责任单位：省人力社保厅、省财政厅。",
            {"citations": [CITE_M7],
             "responsible_units": [{"name": "省人力社保厅", "full_name": "浙江省人力资源和社会保障厅"},
                                   {"name": "省财政厅", "full_name": "浙江省财政厅"}]},
        )]
    if "博士后" in text:
        return [_reply(
            "要判断您是否符合「支持引进高端人才」（三、主要举措（一）），还需要了解：您出站后去哪类单位工作？"
            "\n" + quote(LOC_M1, CLAUSE_M1),
            {"citations": [CITE_M1],
             "eligibility": {"clause_id": "m1", "verdict": "need_info", "met": [], "unmet": [],
                             "missing": ["employer_type"], "label": "尚需信息"}},
            buttons=[{"title": "民营企业", "payload": '/inform{"employer_type": "private"}'},
                     {"title": "国有企业", "payload": '/inform{"employer_type": "state"}'}],
        )]
    if text.startswith("/inform"):
        private = "private" in text
        if private:
            lead = ("您符合「支持引进高端人才」（三、主要举措（一））所列条件，但是否给予由省财政厅决定，"
                    "文件没有承诺一定给予。")
            eligibility = {"clause_id": "m1", "verdict": "eligible", "met": ["出站后到民营企业工作"],
                           "unmet": [], "missing": [], "label": "可能适用", "decided_by": "省财政厅"}
        else:
            lead = "您不符合「支持引进高端人才」（三、主要举措（一））的条件：须到民营企业工作。"
            eligibility = {"clause_id": "m1", "verdict": "not_eligible", "met": [],
                           "unmet": ["须到民营企业工作"], "missing": [], "label": "不符合"}
        return [_reply(lead + "\n" + quote(LOC_M1, CLAUSE_M1),
                       {"citations": [CITE_M1], "eligibility": eligibility})]
    if "你好" in text:
        return [_reply("您好！我是政策问答助手。")]
    return [_reply("抱歉，这个问题不在文件范围内。", {"out_of_scope": True})]


class ScriptedAgent:
    """What the widget channel uses of rasa.core.agent.Agent: the stores and handle_message."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.tracker_store = InMemoryTrackerStore(domain)
        self.lock_store = InMemoryLockStore()

    def is_ready(self) -> bool:
        return True

    async def handle_message(self, message: UserMessage) -> None:
        async with self.lock_store.lock(message.sender_id):
            tracker = await self.tracker_store.retrieve(message.sender_id)
            if tracker is None:
                tracker = DialogueStateTracker.from_events(
                    message.sender_id,
                    [ActionExecuted("action_session_start"), SessionStarted(),
                     ActionExecuted("action_listen")],
                    slots=self.domain.slots,
                )
            tracker.update(UserUttered(message.text, input_channel=message.input_channel,
                                       metadata=message.metadata))
            tracker.update(ActionExecuted("action_answer"))
            before = tracker.latest_bot_utterance
            waiting = (before is not None and ((before.data or {}).get("custom") or {})
                       .get("handoff", {}).get("waiting_for_message"))
            replies = script(message.text, "handoff-prompt" if waiting else "")
            for reply in replies:
                event = BotUttered(reply["text"], reply["data"])
                tracker.update(event)
                await message.output_channel.send_response(message.sender_id, event.message())
            tracker.update(SlotSet("last_kind", "scripted"))
            tracker.update(ActionExecuted("action_listen"))
            await self.tracker_store.save(tracker)


def build_app(origins: str = "", client_per_minute: int = 600, sender_per_minute: int = 30):
    import rasa.core.run
    from bot.channels.guard import conversation_id
    from bot.channels.rest import GuardedRestInput
    from bot.channels.widget import WidgetInput

    channel = WidgetInput.from_credentials({"allowed_origins": origins,
                                            "sender_per_minute": str(sender_per_minute),
                                            "client_per_minute": str(client_per_minute)})
    # REST beside it, as in bot/credentials.yml: the same tracker store, its own namespace.
    rest = GuardedRestInput.from_credentials({"allowed_origins": origins})
    app = rasa.core.run.configure_app([channel, rest], cors=None, enable_api=False, port=0)
    app.ctx.agent = ScriptedAgent(Domain.load(str(ROOT / "bot" / "domain")))

    @app.get("/test/tracker/<sender>")
    async def tracker_events(request, sender):  # what staff would read from the tracker store
        from sanic import response

        # A widget session's conversation is "widget:<id>" (the part of the session before ".").
        sid = channel.sessions.verify(sender)
        key = conversation_id("widget", sid) if sid else sender
        tracker = await app.ctx.agent.tracker_store.retrieve_full_tracker(key)
        if tracker is None:
            return response.json({"events": None}, status=404)
        return response.text(json.dumps({"events": [e.as_dict() for e in tracker.events]}),
                             content_type="application/json")

    @app.post("/test/staff_reply/<sender>")
    async def staff_reply(request, sender):  # what a staff reply from the console adds
        from sanic import response

        from bot.staff import handoff

        sid = channel.sessions.verify(sender)
        text = handoff.STAFF_PREFIX + request.json["text"]
        ts = await handoff.add_to_conversation(
            app.ctx.agent, conversation_id("widget", sid), text,
            {"staff_reply": {"ticket": request.json.get("ticket", TICKET), "by": "admin"}})
        return response.json({"timestamp": ts})

    return app


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--origins", default="")
    ap.add_argument("--client-per-minute", type=int, default=600)
    ap.add_argument("--sender-per-minute", type=int, default=30)
    args = ap.parse_args()
    app = build_app(args.origins, args.client_per_minute, args.sender_per_minute)
    app.run(host="127.0.0.1", port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
