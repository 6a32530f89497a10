"""Terminal chat with the assistant, for staff: `make shell` (or `python -m bot.shell`).

Loads the trained model in this process, starts the action server next to it (and stops it on
exit), and prints each answer readably: the text, then its citations, responsible units,
eligibility verdict and county, and any quick replies as numbered options (answer with the
number). `--debug` adds one line per turn: intent, confidence, entities and the actions run.

Conversations are kept in memory only; nothing is written to the production tracker store.
Quit with Ctrl-D or /exit.

When the staff console has accounts (docs/staff.md), "留言" (typed, or chosen after "我要找人工")
leaves a message for staff as on the other channels: a ticket in the console's database
(``TRACKER_DB_URL``) carrying this conversation. A staff reply is printed when it arrives: the
shell looks for one every ``STAFF_SHELL_POLL_S`` seconds (5) while it waits for input, and before
each prompt; with the same ``--sender`` a later session prints the replies again.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from rasa.core.channels.channel import OutputChannel, UserMessage  # noqa: E402
from rasa.shared.core.events import ActionExecuted, UserUttered  # noqa: E402

from bot.settings import current_value  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "您> "
EXIT_WORDS = {"/exit", "/quit", "/退出", "退出"}

VERDICTS = {"eligible": "符合", "not_eligible": "不符合", "need_info": "尚需信息"}


# --------------------------------------------------------------------------------------------
# Rendering (pure functions, tested without a model)


def render_answer(message: Dict[str, Any]) -> List[str]:
    """One bot message (text, buttons, custom payload) as lines for the terminal."""
    lines: List[str] = []
    text = message.get("text")
    if text:
        lines.extend(str(text).splitlines())
    custom = message.get("custom")
    if isinstance(custom, dict):
        lines.extend(render_payload(custom))
    buttons = message.get("buttons") or []
    if buttons:
        lines.append("请选择（输入序号，或直接输入您的回答）：")
        for i, b in enumerate(buttons, 1):
            lines.append(f"  {i}. {b.get('title') or b.get('payload')}")
    return lines


def render_payload(custom: Dict[str, Any]) -> List[str]:
    lines: List[str] = []
    for c in custom.get("citations") or []:
        if isinstance(c, dict):
            lines.append(f"引用：{c.get('clause_id', '')} {c.get('title', '')}".rstrip())
    units = [u for u in custom.get("responsible_units") or [] if isinstance(u, dict)]
    if units:
        names = []
        for u in units:
            name, full = u.get("name") or "", u.get("full_name") or ""
            names.append(f"{name}（{full}）" if full and full != name else (name or full))
        lines.append("责任单位：" + "、".join(names))
    elig = custom.get("eligibility")
    if isinstance(elig, dict) and elig.get("verdict"):
        verdict = VERDICTS.get(elig["verdict"], str(elig["verdict"]))
        where = f"（{elig['clause_id']}）" if elig.get("clause_id") else ""
        lines.append(f"资格判断：{verdict}{where}")
    county = custom.get("county")
    if isinstance(county, dict) and county.get("name"):
        city = f"，{county['city']}" if county.get("city") and county.get("city") != county["name"] else ""
        status = "属于山区26县" if county.get("is_mountain_county") else "不属于山区26县"
        lines.append(f"地区：{county['name']}{city}，{status}")
    if custom.get("out_of_scope") is True:
        lines.append("范围：不在本文件范围内")
    return lines


def debug_line(events: List[Any]) -> str:
    """Intent, confidence, entities and actions of the last turn, from the tracker's events."""
    last_user = None
    for i in range(len(events) - 1, -1, -1):
        if isinstance(events[i], UserUttered):
            last_user = i
            break
    if last_user is None:
        return "[调试] 本轮没有用户消息"
    user = events[last_user]
    intent = user.intent or {}
    name = intent.get("name") or "?"
    conf = intent.get("confidence")
    conf_s = f"{conf:.2f}" if isinstance(conf, (int, float)) else "?"
    entities = ", ".join(f"{e.get('entity')}={e.get('value')}" for e in user.entities or []) or "无"
    actions = [e.action_name for e in events[last_user + 1:]
               if isinstance(e, ActionExecuted) and e.action_name not in (None, "action_listen")]
    return f"[调试] 意图={name} 置信度={conf_s} 实体={entities} 动作={' → '.join(actions) or '无'}"


def resolve_choice(text: str, buttons: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The button a numeric answer picks, if any."""
    s = text.strip()
    if buttons and s.isdigit():
        n = int(s)
        if 1 <= n <= len(buttons):
            return buttons[n - 1]
    return None


# --------------------------------------------------------------------------------------------
# The interactive loop


def _quiet_logging(log_file: Path) -> None:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(filename=str(log_file), level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    warnings.filterwarnings("ignore")
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    for name in ("rasa", "tensorflow", "absl", "sanic", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)


class Collector(OutputChannel):
    """Output channel that keeps each bot message whole (text, buttons and payload together)."""

    @classmethod
    def name(cls) -> str:
        return "shell"

    def __init__(self) -> None:
        self.messages: List[Dict[str, Any]] = []

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.messages.append({"text": text})


def _history(events: List[Any]) -> List[Dict[str, Any]]:
    """The conversation so far as a ticket carries it (bot.staff.handoff.transcript), masked."""
    from rasa.shared.core.events import BotUttered

    from bot.privacy import mask_text

    turns: List[Dict[str, Any]] = []
    for e in events:
        if isinstance(e, UserUttered):
            turns.append({"ts": e.timestamp, "user_text": mask_text(e.text or ""), "answer": None,
                          "intent": (e.intent or {}).get("name")})
        elif isinstance(e, BotUttered) and turns and e.text:
            prev = turns[-1]["answer"]
            turns[-1]["answer"] = mask_text(e.text) if not prev else prev + "\n" + mask_text(e.text)
    from bot.staff.handoff import TRANSCRIPT_TURNS

    return turns[-TRANSCRIPT_TURNS:]


class StaffHandoff:
    """Leaving a message for staff from the shell, and printing their replies (module docstring).
    Reads and writes only the console's tables (`bot.staff`), never the tracker store."""

    def __init__(self, engine: Any, sender: str) -> None:
        self.engine = engine
        self.sender = sender
        self.waiting = False  # "留言" said: the next line is the message
        self.last_reply = 0
        self.print_lock = threading.Lock()
        self.at_prompt = threading.Event()  # set while the shell waits for a line

    def enabled(self) -> bool:
        """Whether the console has accounts now (someone to answer): looked up each time."""
        from bot.staff import auth

        try:
            return auth.has_accounts(self.engine)
        except Exception:
            logging.getLogger(__name__).exception("staff console database unreadable")
            return False

    def before(self, text: str, events: List[Any]) -> Optional[List[str]]:
        """The answer when this line is part of leaving a message, else None."""
        from bot.staff import handoff

        if self.waiting:
            self.waiting = False
            if handoff.is_cancel(text):
                return ["助手：", "  " + handoff.CANCELLED]
            ticket = handoff.create_ticket(self.engine, self.sender, "shell", self.sender, text, "asked",
                                           history=_history(events))
            return ["助手："] + ["  " + line for line in handoff.received_text(
                ticket, "shell", handoff.contact_in(text) is not None).splitlines()]
        if handoff.is_leave_command(text) and self.enabled():
            self.waiting = True
            return ["助手：", "  " + handoff.PROMPT]
        return None

    def offer(self, events: List[Any]) -> Optional[Dict[str, Any]]:
        """After the person asked for a person: the offer to leave a message, with its button."""
        from bot.staff import handoff

        last = next((e for e in reversed(events) if isinstance(e, UserUttered)), None)
        if last is None or (last.intent or {}).get("name") != "request_human" or not self.enabled():
            return None
        return {"text": handoff.OFFER["asked"], "buttons": [dict(handoff.OFFER_BUTTON)]}

    def replies(self) -> List[str]:
        """Staff replies not printed yet, as lines."""
        from bot.staff import handoff

        try:
            found = handoff.staff_replies(self.engine, self.sender, self.last_reply)
        except Exception:
            logging.getLogger(__name__).exception("could not look for staff replies")
            return []
        lines: List[str] = []
        for r in found:
            self.last_reply = max(self.last_reply, int(r["id"]))
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r["at"]))
            lines.append(f"工作人员（留言编号 {r['ticket_id']}，{when}）：")
            lines.extend("  " + line for line in (handoff.STAFF_PREFIX + r["text"]).splitlines())
        return lines

    def watch(self, stop: threading.Event, every: float) -> None:
        """Prints replies as they arrive while the shell waits for input (a daemon thread)."""
        while not stop.wait(every):
            if not self.at_prompt.is_set():
                continue  # a turn is running: printed before the next prompt instead
            with self.print_lock:
                lines = self.replies() if self.at_prompt.is_set() else []
                if lines:
                    try:
                        import readline

                        pending = readline.get_line_buffer()
                    except Exception:  # no readline: the typed text is still in the terminal
                        pending = ""
                    print("\n" + "\n".join(lines), flush=True)
                    print(PROMPT + pending, end="", flush=True)


class Shell:
    def __init__(self, agent: Any, debug: bool = False, sender: Optional[str] = None,
                 staff: Optional[StaffHandoff] = None) -> None:
        self.agent = agent
        self.debug = debug
        # Its own namespace of conversation ids, as each channel has (bot/channels/guard.py).
        self.sender = sender or f"shell:{uuid.uuid4().hex[:12]}"
        self.buttons: List[Dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()
        self.staff = staff

    def _events(self) -> List[Any]:
        tracker = self.loop.run_until_complete(self.agent.tracker_store.retrieve(self.sender))
        return list(tracker.events) if tracker else []

    def turn(self, text: str) -> List[str]:
        choice = resolve_choice(text, self.buttons)
        lines: List[str] = []
        if choice is not None:
            lines.append(f"（已选择：{choice.get('title')}）")
            text = str(choice.get("payload"))
        if self.staff is not None:
            answered = self.staff.before(text, self._events())
            if answered is not None:
                self.buttons = []
                return lines + answered
        out = Collector()
        self.loop.run_until_complete(self.agent.handle_message(
            UserMessage(text, out, self.sender, input_channel="shell")))
        self.buttons = []
        if self.staff is not None:
            offer = self.staff.offer(self._events())
            if offer is not None:
                out.messages.append(offer)
        if not out.messages:
            lines.append("（助手没有回答）")
        for msg in out.messages:
            lines.append("助手：")
            lines.extend("  " + line for line in render_answer(msg))
            if msg.get("buttons"):
                self.buttons = list(msg["buttons"])
        if self.debug:
            tracker = self.loop.run_until_complete(self.agent.tracker_store.retrieve(self.sender))
            lines.append(debug_line(list(tracker.events) if tracker else []))
        return lines

    def run(self) -> None:
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
        print("输入问题后按回车；输入序号选择选项；/exit 或 Ctrl-D 退出。", flush=True)
        stop = threading.Event()
        if self.staff is not None:
            earlier = self.staff.replies()  # replies to this --sender's earlier messages
            if earlier:
                print("\n".join(earlier), flush=True)
            threading.Thread(target=self.staff.watch, args=(stop, poll_seconds()), daemon=True).start()
        try:
            self._loop()
        finally:
            stop.set()
        print("再见。", flush=True)

    def _prompt(self) -> str:
        if self.staff is None:
            return input(PROMPT)
        with self.staff.print_lock:
            lines = self.staff.replies()
            if lines:
                print("\n".join(lines), flush=True)
            self.staff.at_prompt.set()
        try:
            return input(PROMPT)
        finally:
            self.staff.at_prompt.clear()

    def _loop(self) -> None:
        while True:
            try:
                text = self._prompt()
            except EOFError:
                print(flush=True)
                break
            except KeyboardInterrupt:
                print("\n（输入 /exit 或按 Ctrl-D 退出）", flush=True)
                continue
            text = text.strip()
            if not text:
                continue
            if text.lower() in EXIT_WORDS:
                break
            try:
                lines = self.turn(text)
            except KeyboardInterrupt:
                print("\n（已取消）", flush=True)
                continue
            except Exception as e:  # keep the session alive; details go to the log file
                logging.getLogger(__name__).exception("shell turn failed")
                lines = [f"（出错了：{type(e).__name__}，详见日志）"]
            if self.staff is not None:
                with self.staff.print_lock:
                    print("\n".join(lines), flush=True)
            else:
                print("\n".join(lines), flush=True)

    def close(self) -> None:
        self.loop.close()


def poll_seconds() -> float:
    return max(0.5, float(current_value("staff_shell_poll_s")))


def staff_handoff(sender: str) -> Optional[StaffHandoff]:
    """The hand-off to staff, on the console's database (TRACKER_DB_URL); None when that
    database cannot be opened (the shell works without it)."""
    try:
        from bot.staff import db

        engine = db.engine_for()
        db.ensure_schema(engine)
        return StaffHandoff(engine, sender)
    except Exception:
        logging.getLogger(__name__).exception("staff console database unavailable; no 留言 in the shell")
        return None


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.shell", description="在终端与政策问答助手对话")
    ap.add_argument("--debug", action="store_true", help="每轮显示意图、置信度、实体和执行的动作")
    ap.add_argument("--model", type=Path, help="模型文件（默认：当前训练产物）")
    ap.add_argument("--sender", help="会话标识（默认随机）")
    args = ap.parse_args(argv)

    log_file = ROOT / current_value("var_dir") / "shell.log"
    _quiet_logging(log_file)

    from bot.entry import prepare
    from bot.launcher import ActionServer, current_model
    from bot.patches import VersionMismatch
    from bot.settings import SettingError

    # As the Rasa server starts (bot/entry.py): the settings, the log mask and Rasa's patches
    # (the model loads without a training step, jieba's dictionary is read once). The shell is
    # one process: nothing is prepared for forked workers.
    try:
        prepare(dict(os.environ, SANIC_WORKERS="1"))
    except (SettingError, VersionMismatch) as e:
        print(f"助手未启动：{e}", file=sys.stderr)
        return 2

    print("正在启动动作服务器……", flush=True)
    actions = ActionServer(log=log_file.with_name("shell-actions.log")).spawn()
    try:
        # The action server starts in its own process meanwhile.
        try:
            model = args.model or current_model(in_process=True)
        except FileNotFoundError as e:
            print(f"找不到已训练的模型：{e}", file=sys.stderr)
            return 2
        print(f"正在加载模型 {Path(model).name} ……", flush=True)
        from rasa.core.agent import Agent
        from rasa.utils.endpoints import EndpointConfig

        agent = Agent.load(str(model), action_endpoint=EndpointConfig(url=actions.url))
        actions.wait()
        print("政策问答助手（浙人社发〔2021〕22号）已就绪。", flush=True)
        sender = args.sender or f"shell:{uuid.uuid4().hex[:12]}"
        shell = Shell(agent, debug=args.debug, sender=sender, staff=staff_handoff(sender))
        try:
            shell.run()
        finally:
            shell.close()
    except KeyboardInterrupt:
        print("\n已中断。", flush=True)
    finally:
        actions.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
