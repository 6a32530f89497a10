# One target per thing a person does. Every target sets up what it needs first.
SHELL := /bin/bash
PY := .venv/bin/python
ENV := source scripts/env.sh &&

.PHONY: setup run test train validate shell eval bench crossval purge staff-user clean

setup:
	@scripts/bootstrap.sh

train: setup
	@$(ENV) $(PY) scripts/train.py

run: train
	@scripts/serve.sh

test: train
	@$(ENV) $(PY) -m pytest $(PYTEST_ARGS)

validate: setup
	@$(ENV) $(PY) scripts/train.py --export-only && \
	  $(PY) -m rasa data validate --config bot/config.yml --domain bot/domain \
	    --data nlu_data bot/data build/nlu --fail-on-warnings

shell: train
	@$(ENV) $(PY) -m bot.shell $(SHELL_ARGS)

eval: train
	@$(ENV) $(PY) -m eval.run $(EVAL_ARGS)

crossval: setup
	@$(ENV) $(PY) -m eval.crossval $(CROSSVAL_ARGS)

bench: train
	@$(ENV) $(PY) -m bench.run $(BENCH_ARGS)

purge: setup
	@$(ENV) $(PY) scripts/purge_conversations.py $(PURGE_ARGS)

staff-user: setup
	@$(ENV) $(PY) -m bot.staff.cli $(STAFF_ARGS)

clean:
	rm -rf build models results .pytest_cache
