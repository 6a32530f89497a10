"""Finds every name the knowledge base knows in a message, normalised to the knowledge base's ids.

A spaCy `blank("zh")` pipeline segments with jieba (using the dictionary generated from the
knowledge base, so its terms stay whole) and an EntityRuler built from the knowledge base's
patterns tags places, cities, departments, topics, terms and fact values. Numbers and facts the
ruler cannot see as names (years since graduation, "2016年毕业", measure numbers such as
"第七条") come from the knowledge base's own parsers. DIET's entities stay; these are added beside
them, and the actions prefer these because their values are already canonical.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)

EXTRACTOR = "KBEntityExtractor"


class KBMatcher:
    """The spaCy pipeline plus the knowledge base's parsers; usable without Rasa (tests, shell)."""

    _shared: Optional["KBMatcher"] = None
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls) -> "KBMatcher":
        """One matcher per process, built on first use: it only reads, so every pipeline loaded
        in the process (and every worker forked after it was built) can use the same one."""
        if cls._shared is None:
            with cls._shared_lock:
                if cls._shared is None:
                    cls._shared = cls()
        return cls._shared

    def __init__(self) -> None:
        import jieba
        import spacy

        from policy_kb import get_kb
        from policy_kb import export

        self.kb = get_kb()
        seg = jieba.Tokenizer()
        for line in export.userdict_lines(self.kb):
            word, *rest = line.split()
            freq = int(rest[0]) if rest else None
            tag = rest[1] if len(rest) > 1 else None
            seg.add_word(word, freq, tag)
        self.nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
        self.nlp.tokenizer.jieba_seg = seg
        ruler = self.nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "ORTH"})
        ruler.add_patterns(export.entity_patterns(self.kb))

    def entities(self, text: Text) -> List[Dict[str, Any]]:
        if not text:
            return []
        doc = self.nlp(text)
        found: List[Dict[str, Any]] = []
        for ent in doc.ents:
            found.append({
                "entity": ent.label_,
                "value": ent.ent_id_ or ent.text,
                "start": ent.start_char,
                "end": ent.end_char,
                "confidence_entity": 1.0,
            })
        tagged = {e["entity"] for e in found}
        measure = self.kb.clause_by_number(text)
        if measure is not None and "measure" not in tagged:
            found.append({"entity": "measure", "value": measure.id, "confidence_entity": 1.0})
        for key, value in self.kb.extract_facts(text).items():
            if key not in tagged:
                found.append({"entity": key, "value": value, "confidence_entity": 1.0})
        return found


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class KBEntityExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def __init__(self, config: Dict[Text, Any], matcher: Optional[KBMatcher] = None) -> None:
        self.matcher = matcher or KBMatcher.shared()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "KBEntityExtractor":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            try:
                extracted = self.matcher.entities(text)
            except Exception:  # a matcher fault must not cost the user the whole answer
                logger.exception("knowledge-base entity matching failed")
                extracted = []
            extracted = self.add_extractor_name(extracted)
            message.set(ENTITIES, message.get(ENTITIES, []) + extracted, add_to_output=True)
        return messages
