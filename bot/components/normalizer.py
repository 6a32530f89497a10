"""Puts user text into one canonical form before tokenisation.

People type traditional characters, full-width letters and digits, pasted zero-width and control
characters, pinyin, initials and English ("bsh", "postdoc subsidy in Lishui?", read as Chinese by
policy_kb/romanized.py), and sometimes whole pages. Everything downstream (jieba, the featurizers, the
knowledge-base matcher) sees the same simplified, width-folded, bounded text, in training and at
run time alike.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from policy_kb.text import clean_user_text


def normalize_text(text: Text, max_chars: int = 1000) -> Text:
    """The canonical form of user text, shared with the action server (policy_kb.text)."""
    return clean_user_text(text, max_chars)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TextNormalizer(GraphComponent):
    """Rewrites each message's text with `normalize_text` (training data included)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_chars": 1000}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.max_chars = int(config.get("max_chars", 1000))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TextNormalizer":
        return cls(config)

    def _normalize(self, message: Message) -> None:
        text = message.get(TEXT)
        if isinstance(text, str) and text:
            message.set(TEXT, normalize_text(text, self.max_chars))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            # Annotated entity offsets refer to the original text; only examples whose
            # normalisation keeps every character position (t2s is 1:1) stay annotated.
            before = example.get(TEXT)
            self._normalize(example)
            if example.get(TEXT) and before and len(example.get(TEXT)) != len(before):
                example.set(TEXT, before)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize(message)
        return messages
