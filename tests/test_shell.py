"""The staff shell (`make shell`): its rendering, and a real session driven through a terminal."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.shell import debug_line, render_answer, resolve_choice
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

ROOT = Path(__file__).resolve().parent.parent


def test_answer_is_rendered_readably():
    lines = render_answer({
        "text": "（七）加强创业扶持……\n【原文】三、主要举措（七）",
        "custom": {
            "citations": [{"clause_id": "m7", "title": "加强创业扶持", "text": "……"}],
            "responsible_units": [{"name": "省人力社保厅", "full_name": "浙江省人力资源和社会保障厅"},
                                  {"name": "市县相关部门", "full_name": "市县相关部门"}],
            "eligibility": {"clause_id": "m7", "verdict": "need_info", "missing": ["role"]},
            "county": {"name": "开化县", "city": "衢州市", "is_mountain_county": True},
        },
        "buttons": [{"title": "高校毕业生", "payload": '/inform{"role": "graduate"}'},
                    {"title": "其他人员", "payload": '/inform{"role": "other"}'}],
    })
    assert lines[:2] == ["（七）加强创业扶持……", "【原文】三、主要举措（七）"]
    assert "引用：m7 加强创业扶持" in lines
    assert "责任单位：省人力社保厅（浙江省人力资源和社会保障厅）、市县相关部门" in lines
    assert "资格判断：尚需信息（m7）" in lines
    assert "地区：开化县，衢州市，属于山区26县" in lines
    assert lines[-2:] == ["  1. 高校毕业生", "  2. 其他人员"]
    assert not any("{" in line and "clause_id" in line for line in lines)  # no raw JSON


def test_out_of_scope_and_plain_text():
    assert render_answer({"text": "抱歉", "custom": {"out_of_scope": True}}) == [
        "抱歉", "范围：不在本文件范围内"]
    assert render_answer({"text": "您好"}) == ["您好"]


def test_numbers_pick_buttons():
    buttons = [{"title": "是", "payload": "/affirm"}, {"title": "否", "payload": "/deny"}]
    assert resolve_choice("2", buttons)["payload"] == "/deny"
    assert resolve_choice(" 1 ", buttons)["payload"] == "/affirm"
    assert resolve_choice("3", buttons) is None
    assert resolve_choice("0", buttons) is None
    assert resolve_choice("1", []) is None
    assert resolve_choice("第1条", buttons) is None


def test_debug_line_summarises_the_last_turn():
    events = [
        UserUttered("你好", intent={"name": "greet", "confidence": 0.99}),
        ActionExecuted("utter_greet"), BotUttered("您好"), ActionExecuted("action_listen"),
        UserUttered("第七条讲什么", intent={"name": "ask_clause", "confidence": 0.8765},
                    entities=[{"entity": "measure", "value": "m7", "start": 0, "end": 3}]),
        ActionExecuted("action_answer"), BotUttered("……"), SlotSet("last_clause", "m7"),
        ActionExecuted("action_listen"),
    ]
    assert debug_line(events) == "[调试] 意图=ask_clause 置信度=0.88 实体=measure=m7 动作=action_answer"
    assert debug_line([]) == "[调试] 本轮没有用户消息"


def _model_or_skip() -> None:
    from bot.launcher import current_model

    try:
        current_model()
    except (FileNotFoundError, subprocess.CalledProcessError) as e:
        pytest.skip(f"no trained model: {e}")


@pytest.mark.e2e
def test_shell_session_in_a_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    psutil = pytest.importorskip("psutil")
    _model_or_skip()
    from bot.launcher import base_env

    env = base_env(VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1", LANG="C.UTF-8", LC_ALL="C.UTF-8",
                   TERM="dumb")
    child = pexpect.spawn(sys.executable, ["-m", "bot.shell", "--debug"], cwd=str(ROOT), env=env,
                          encoding="utf-8", timeout=240, dimensions=(40, 200))
    child.logfile_read = open(tmp_path / "session.txt", "w", encoding="utf-8")
    try:
        child.expect("已就绪")
        child.expect_exact("您> ")
        started = [p.pid for p in psutil.Process(child.pid).children(recursive=True)]
        assert started, "the shell starts its own action server"

        child.sendline("你好")
        child.expect("助手：")
        child.expect(r"\[调试\] 意图=greet 置信度=[0-9.]+ 实体=\S+ 动作=\S+")
        child.expect_exact("您> ")

        child.sendline("第七条讲什么")
        child.expect("引用：m7 加强创业扶持", timeout=120)
        child.expect(r"\[调试\] 意图=\w+ 置信度=[0-9.]+ 实体=.*measure=m7.* 动作=.*action_answer")
        child.expect_exact("您> ")

        child.sendline("/exit")
        child.expect("再见")
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close()
        child.logfile_read.close()
    session = (tmp_path / "session.txt").read_text(encoding="utf-8")
    assert child.exitstatus == 0, session
    # Started as the Rasa server is (bot/entry.py), patches included: jieba's dictionary is read
    # once in the shell's process, though Rasa's tokenizer, the entity matcher and the search
    # index each have their own tokenizer (jieba logs each read to the terminal).
    assert session.count("Building prefix dict") == 1, session
    # the action server it started is gone again
    assert not [pid for pid in started if psutil.pid_exists(pid)
                and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]


@pytest.mark.e2e
def test_ctrl_d_quits_cleanly(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    _model_or_skip()
    from bot.launcher import base_env

    env = base_env(VAR_DIR=str(tmp_path), PYTHONUNBUFFERED="1", LANG="C.UTF-8", LC_ALL="C.UTF-8",
                   TERM="dumb")
    child = pexpect.spawn(sys.executable, ["-m", "bot.shell"], cwd=str(ROOT), env=env,
                          encoding="utf-8", timeout=240)
    try:
        child.expect_exact("您> ")
        child.sendeof()
        child.expect("再见")
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_the_model_is_looked_up_in_process_as_the_training_script_does(monkeypatch):
    """The shell finds its model without a second interpreter; the same path as scripts/train.py."""
    from bot import launcher

    monkeypatch.delenv("RASA_MODEL", raising=False)

    def lookup(in_process):
        try:
            return str(launcher.current_model(in_process=in_process))
        except FileNotFoundError as e:  # a checkout whose model is not trained yet
            return str(e)

    child = lookup(False)
    assert "model-" in child
    assert lookup(True) == child
