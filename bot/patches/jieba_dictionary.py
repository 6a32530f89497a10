"""jieba's dictionary read once per process, however many tokenizers the process makes.

Rasa's ``JiebaTokenizer`` (jieba's default tokenizer), the knowledge-base entity matcher and the
knowledge base's search index each tokenise with their own words, so each has its own
``jieba.Tokenizer``; stock jieba reads and unpacks its 500,000-entry prefix dictionary for every
one of them (about 0.35 s and 76 MB each). Here the first tokenizer that needs the default
dictionary reads it as jieba does (its cache file, or the dictionary itself); every tokenizer then
starts from a copy of that table (about 10 ms and 20 MB: the words and counts themselves are
shared, never changed), to which it adds its own words as before. What each tokenizer knows, and
so how it cuts a sentence, is exactly what it was.

A tokenizer given another dictionary, or a cache file or directory of its own, is left to
jieba. Changes ``jieba.Tokenizer.initialize`` and ``jieba.initialize`` (jieba 0.42).
"""
from __future__ import annotations

import threading
from typing import Any, Dict, Optional, Tuple

from bot import patches

WRITTEN_FOR = {"jieba": "0.42"}
STOCK: Dict[str, Any] = {}

_lock = threading.Lock()
_base: Optional[Tuple[Dict[str, int], int]] = None
reads = 0  # how many times this process has read the dictionary (tests, the bench)


def base_dictionary() -> Tuple[Dict[str, int], int]:
    """jieba's default prefix dictionary and its total count, read on the first call only."""
    global _base, reads
    with _lock:
        if _base is None:
            import jieba

            reader = jieba.Tokenizer()
            STOCK["initialize"](reader)
            _base = (reader.FREQ, reader.total)
            reads += 1
        return _base


def apply(settings: Any = None) -> None:
    patches.require(__name__, WRITTEN_FOR)
    import jieba

    stock = STOCK["initialize"] = jieba.Tokenizer.initialize
    STOCK["module_initialize"] = jieba.initialize

    def initialize(self, dictionary=None):
        own = (dictionary is not None or self.dictionary != jieba.DEFAULT_DICT
               or self.cache_file or self.tmp_dir)
        if own or self.initialized:
            return stock(self, dictionary)
        with self.lock:
            if self.initialized:
                return None
            freq, total = base_dictionary()
            self.FREQ = dict(freq)  # this tokenizer's own table: add_word changes it
            self.total = total
            self.initialized = True
        return None

    jieba.Tokenizer.initialize = initialize
    # jieba's module functions are bound to its default tokenizer at import.
    jieba.initialize = jieba.dt.initialize
