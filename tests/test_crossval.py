"""The cross-validation summary reads Rasa's reports as they are written."""
from __future__ import annotations

import json

from eval.crossval import summarise


def test_summary_has_intent_and_entity_figures(tmp_path):
    report = {
        "ask_clause": {"precision": 0.99, "recall": 0.98, "f1-score": 0.985, "support": 400},
        "ask_units": {"precision": 0.9, "recall": 0.8, "f1-score": 0.847, "support": 100},
        "accuracy": 0.962,
        "macro avg": {"precision": 0.945, "recall": 0.89, "f1-score": 0.916, "support": 500},
        "weighted avg": {"precision": 0.97, "recall": 0.96, "f1-score": 0.957, "support": 500},
    }
    (tmp_path / "intent_report.json").write_text(json.dumps(report))
    (tmp_path / "DIETClassifier_report.json").write_text(json.dumps({
        "place": {"precision": 1, "recall": 1, "f1-score": 1, "support": 3},
        "micro avg": {"f1-score": 0.93}, "macro avg": {"f1-score": 0.91}, "weighted avg": {"f1-score": 0.92}}))
    text = summarise(tmp_path, folds=3, seconds=12.0)
    assert "3 folds over 500 examples" in text
    assert "| accuracy | 0.962 |" in text and "| macro F1 | 0.916 |" in text
    weakest = text.index("| ask_units |")
    assert weakest < text.index("| ask_clause |")  # weakest first
    assert "| DIETClassifier | 0.910 | 0.920 | 0.930 |" in text


def test_cross_validation_uses_the_pipeline_without_the_untrained_matcher(tmp_path):
    import yaml

    from eval.crossval import trained_config

    config = yaml.safe_load(trained_config(tmp_path / "c.yml").read_text(encoding="utf-8"))
    names = [c["name"] for c in config["pipeline"]]
    assert "bot.components.kb_entities.KBEntityExtractor" not in names
    assert names[:2] == ["bot.components.normalizer.TextNormalizer", "JiebaTokenizer"]
    assert "DIETClassifier" in names and config["policies"]
