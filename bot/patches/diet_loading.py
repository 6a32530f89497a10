"""DIET loaded for serving without Rasa's one-step training run.

To load DIET, stock Rasa traces and runs one training step on one example (to create the weights
with the right shapes) before it reads the trained weights: over 20 s of the start-up on two
cores, and a training graph and optimiser state kept in memory for nothing. For serving, the
trained weights are restored as the prediction graph creates its variables; every variable the
prediction uses must be found in the trained checkpoint, or loading fails. The predictions are
the same to the last digit (tests/test_test_server_tuning.py compares both ways of loading).
Fine-tuning and models without a prediction example still load the stock way.

Changes ``rasa.utils.tensorflow.models.RasaModel.load`` (Rasa 3.6, TensorFlow 2.12).
"""
from __future__ import annotations

from typing import Any, Dict

from bot import patches

WRITTEN_FOR = {"rasa": "3.6", "tensorflow": "2.12"}
STOCK: Dict[str, Any] = {}


def apply(settings: Any = None) -> None:
    patches.require(__name__, WRITTEN_FOR)
    from rasa.utils.tensorflow.models import RasaModel

    stock_load = STOCK["load"] = RasaModel.load.__func__

    def load(cls, model_file_name, model_data_example, predict_data_example=None,
             finetune_mode: bool = False, *args: Any, **kwargs: Any):
        if finetune_mode or predict_data_example is None:
            return stock_load(cls, model_file_name, model_data_example, predict_data_example,
                              finetune_mode, *args, **kwargs)
        model = cls(*args, **kwargs)
        # A TensorFlow checkpoint restores each variable when it is created; the training-only
        # values (optimiser slots) are left unused.
        status = model.load_weights(model_file_name)
        model.run_inference(predict_data_example)  # creates (and so restores) the variables
        status.assert_existing_objects_matched()
        status.expect_partial()  # the optimiser's slots are not needed for serving
        return model

    RasaModel.load = classmethod(load)
