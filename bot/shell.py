"""Terminal chat with the assistant, for staff: `make shell` (or `python -m bot.shell`).

Loads the trained model in this process, starts the action server next to it (and stops it on
exit), and prints each answer readably: the text, then its citations, responsible units,
eligibility verdict and county, and any quick replies as numbered options (answer with the
number). `--debug` adds one line per turn: intent, confidence, entities and the actions run.

Conversations are kept in memory only; nothing is written to the production tracker store.
Quit with Ctrl-D or /exit.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import uuid
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from rasa.core.channels.channel import OutputChannel, UserMessage  # noqa: E402
from rasa.shared.core.events import ActionExecuted, UserUttered  # noqa: E402

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


class Shell:
    def __init__(self, agent: Any, debug: bool = False, sender: Optional[str] = None) -> None:
        self.agent = agent
        self.debug = debug
        # Its own namespace of conversation ids, as each channel has (bot/channels/guard.py).
        self.sender = sender or f"shell:{uuid.uuid4().hex[:12]}"
        self.buttons: List[Dict[str, Any]] = []
        self.loop = asyncio.new_event_loop()

    def turn(self, text: str) -> List[str]:
        choice = resolve_choice(text, self.buttons)
        lines: List[str] = []
        if choice is not None:
            lines.append(f"（已选择：{choice.get('title')}）")
            text = str(choice.get("payload"))
        out = Collector()
        self.loop.run_until_complete(self.agent.handle_message(
            UserMessage(text, out, self.sender, input_channel="shell")))
        self.buttons = []
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
        while True:
            try:
                text = input(PROMPT)
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
            print("\n".join(lines), flush=True)
        print("再见。", flush=True)

    def close(self) -> None:
        self.loop.close()


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.shell", description="在终端与政策问答助手对话")
    ap.add_argument("--debug", action="store_true", help="每轮显示意图、置信度、实体和执行的动作")
    ap.add_argument("--model", type=Path, help="模型文件（默认：当前训练产物）")
    ap.add_argument("--sender", help="会话标识（默认随机）")
    args = ap.parse_args(argv)

    log_file = ROOT / os.environ.get("VAR_DIR", "var") / "shell.log"
    _quiet_logging(log_file)

    from bot.launcher import ActionServer, current_model

    try:
        model = args.model or current_model()
    except FileNotFoundError as e:
        print(f"找不到已训练的模型：{e}", file=sys.stderr)
        return 2

    print("正在启动动作服务器……", flush=True)
    actions = ActionServer(log=log_file.with_name("shell-actions.log"))
    try:
        actions.start()
        print(f"正在加载模型 {Path(model).name} ……", flush=True)
        from rasa.core.agent import Agent
        from rasa.utils.endpoints import EndpointConfig

        agent = Agent.load(str(model), action_endpoint=EndpointConfig(url=actions.url))
        print("政策问答助手（浙人社发〔2021〕22号）已就绪。", flush=True)
        shell = Shell(agent, debug=args.debug, sender=args.sender)
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
