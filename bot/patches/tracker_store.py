"""A turn that could not be stored is told, not hidden.

Rasa wraps every tracker store in its ``FailSafeTrackerStore``, which on a failed save logs and
carries on as if nothing happened. The project's tracker store (bot/stores.py) is used as it is,
and a turn whose save failed ends with `bot.stores.NOT_SAVED` after its answer.

Changes ``rasa.core.agent.Agent._create_tracker_store`` and
``rasa.core.processor.MessageProcessor.handle_message`` (Rasa 3.6).
"""
from __future__ import annotations

from typing import Any, Dict

from bot import patches

WRITTEN_FOR = {"rasa": "3.6"}
STOCK: Dict[str, Any] = {}


def apply(settings: Any = None) -> None:
    patches.require(__name__, WRITTEN_FOR)
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor

    from bot.stores import NOT_SAVED, ConversationNotSaved, SQLTrackerStore

    stock_create = STOCK["create_tracker_store"] = Agent._create_tracker_store

    def _create_tracker_store(store, domain):
        if isinstance(store, SQLTrackerStore):
            store.domain = domain
            return store
        return stock_create(store, domain)

    Agent._create_tracker_store = staticmethod(_create_tracker_store)

    stock_handle = STOCK["handle_message"] = MessageProcessor.handle_message

    async def handle_message(self, message):
        try:
            return await stock_handle(self, message)
        except ConversationNotSaved:
            # Logged by the store. The answer was given; the person learns it was not kept.
            await message.output_channel.send_text_message(message.sender_id, NOT_SAVED)
            if isinstance(message.output_channel, CollectingOutputChannel):
                return message.output_channel.messages
            return None

    MessageProcessor.handle_message = handle_message
