"""With several Sanic workers (SANIC_WORKERS > 1), what they only read is built once, before the
fork, and their stop signals are right while they load the model.

* Each worker is forked from the main process and loads the model itself. The knowledge base,
  its search index, jieba's dictionary and the entity matcher only read once built, so they are
  built once in the main process before the fork and shared by the workers (copy-on-write;
  ``gc.freeze`` keeps the collector from touching, and so copying, them) instead of one copy per
  worker.
* Sanic's main process installs its own SIGINT/SIGTERM handlers before it forks, and a worker
  keeps them until its server has started, i.e. while it loads the model. A stop signal in that
  window ran the main process's handler inside the worker (which broke the model load and left
  the worker running without a model). Until Sanic installs the worker's own handlers after
  start-up, a worker now ignores SIGINT (as it does afterwards) and ends on SIGTERM.

Registers an ``os.register_at_fork`` hook and freezes the collector (Sanic 21.12's workers).
"""
from __future__ import annotations

import os
from typing import Any

from bot import patches

WRITTEN_FOR = {"sanic": "21.12"}


def worker_signals_until_started() -> None:
    """In a freshly forked worker: stop on SIGTERM at once and leave Ctrl-C to the main process."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def apply(settings: Any) -> None:
    patches.require(__name__, WRITTEN_FOR)
    if settings.sanic_workers <= 1:
        return
    import gc

    import jieba

    from bot.components.kb_entities import KBMatcher
    from policy_kb import get_kb

    jieba.initialize()
    get_kb().warm()
    KBMatcher.shared()
    gc.collect()
    gc.freeze()
    os.register_at_fork(after_in_child=worker_signals_until_started)
