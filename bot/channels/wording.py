"""The fixed sentences the channels say themselves, without the assistant, in one place.

The hotline is the ``HOTLINE`` setting (bot/settings.py, which the answers read too); the
document's number and titles come from the knowledge base (`policy_kb`, document.yml), never
typed here.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Dict

from bot.settings import Settings

HOTLINE = Settings.from_env(check=False, lenient=True).hotline

EXAMPLE = "例如“开化县是山区县吗”"

# Before the assistant (bot.channels.guard): what a message without a question gets.
EMPTY = "请输入您想咨询的问题，例如“开化县是山区县吗”“创业担保贷款有什么优惠”。"
NO_TEXT = f"抱歉，我只能理解文字提问。请用文字描述您的问题，{EXAMPLE}。"
TRUNCATED = "您的消息较长，只处理了前{limit}个字符。"
RATE_LIMITED = "您发送消息过于频繁，请稍等片刻再试。"
STILL_ANSWERING = "您的上一个问题还在解答中，这条消息没有处理。请等上一个回答出来后再发送一次。"

# When the assistant failed, timed out or said nothing.
APOLOGY = f"抱歉，系统暂时无法回答您的问题，请稍后再试，或拨打{HOTLINE}人力资源和社会保障服务热线咨询。"
# WeChat: the assistant answered nothing it can show / could not answer.
NO_ANSWER = f"抱歉，暂时没有找到答案。您可以换个说法再问，或拨打{HOTLINE}人力资源和社会保障服务热线咨询。"
UNAVAILABLE = f"抱歉，系统暂时繁忙，请稍后再试，或拨打{HOTLINE}人力资源和社会保障服务热线咨询。"

# WeChat: messages that are not text.
TEXT_ONLY = f"抱歉，目前只能理解文字消息。请用文字提问，{EXAMPLE}。"
VOICE_UNRECOGNISED = f"抱歉，没有听清您的语音。请用文字提问，{EXAMPLE}。"
EMPTY_TEXT = f"请输入您想咨询的问题，{EXAMPLE}。"


@lru_cache(maxsize=1)
def document_name() -> str:
    """The document as the channels name it: its number and short title,
    ``<number>《<short title>》``, read from the knowledge base."""
    from policy_kb import get_kb

    doc = get_kb().document
    return f"{doc.number}《{doc.short_title}》"


@lru_cache(maxsize=1)
def document_number() -> str:
    from policy_kb import get_kb

    return get_kb().document.number


def static_fields() -> Dict[str, str]:
    """What the widget's static files (widget_static/) name: ``{{document_number}}`` and so on
    (the hotline as it is set)."""
    from policy_kb import get_kb

    doc = get_kb().document
    return {"document_number": doc.number, "document_title": doc.title,
            "document_short_title": doc.short_title, "hotline": HOTLINE}


def welcome() -> str:
    """What a new WeChat follower is told when the assistant's own greeting is not available."""
    return (f"您好，欢迎关注！我可以解答{document_name()}的相关问题，"
            "例如“开化县是山区县吗”“飞地人才有什么待遇”。")
