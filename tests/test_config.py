"""Every option in bot/config.yml is one its component reads: Rasa ignores unknown keys
silently, so a misspelt option (``transformer_layers`` for ``number_of_transformer_layers``)
would train a different model than the file says."""
from __future__ import annotations

import pytest
import yaml

from bot.launcher import ROOT

CONFIG = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))


def component_class(name: str):
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.shared.utils.common import class_from_module_path

    if "." in name:
        return class_from_module_path(name)
    return DefaultV1Recipe()._from_registry(name).clazz


@pytest.mark.parametrize("entry", CONFIG["pipeline"] + CONFIG["policies"],
                         ids=lambda e: e["name"])
def test_every_option_is_known_to_its_component(entry):
    cls = component_class(entry["name"])
    known = set(cls.get_default_config())
    unknown = sorted(set(entry) - {"name"} - known)
    assert not unknown, f"{entry['name']} does not read {unknown}"


def test_the_classifier_is_configured_as_documented():
    diet = next(e for e in CONFIG["pipeline"] if e["name"] == "DIETClassifier")
    assert diet["number_of_transformer_layers"] == 1 and diet["epochs"] == 40
