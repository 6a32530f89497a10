# One target per thing a person does. Every target sets up what it needs first.
SHELL := /bin/bash
PY := .venv/bin/python
ENV := source scripts/env.sh &&

.PHONY: setup run test train validate shell eval bench bench-costs crossval purge staff-user bundle kb-check kb-answers kb-diff clean

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
	@$(ENV) $(PY) -m bench.run $(BENCH_ARGS) && $(PY) -m bench.staff $(STAFF_BENCH_ARGS)

# One message's time part by part (NLU nodes, policies, action call, store), in one process.
bench-costs: train
	@$(ENV) $(PY) -m bench.costs $(COSTS_ARGS)

purge: setup
	@$(ENV) $(PY) scripts/purge_conversations.py $(PURGE_ARGS)

staff-user: setup
	@$(ENV) $(PY) -m bot.staff.cli $(STAFF_ARGS)

# Everything to install and run offline on a machine of this kind, in BUNDLE_DIR (default
# bundle/); there `make setup` installs from it without a registry (docs/zh/deploy.md).
bundle: train
	@scripts/bundle.sh

# Policy staff (docs/zh/kb-maintenance.md): check policy_kb/data/, then compare the answers to the
# evaluation sets before and after a change (KB_LABEL names a recording; BEFORE/AFTER two of them).
kb-check: setup
	@$(ENV) $(PY) scripts/kb_check.py $(KB_ARGS)

kb-answers: train
	@$(ENV) $(PY) scripts/kb_diff.py record --label $(or $(KB_LABEL),after) $(KB_ARGS)

kb-diff: setup
	@$(ENV) $(PY) scripts/kb_diff.py compare $(or $(BEFORE),before) $(or $(AFTER),after) $(KB_ARGS)

clean:
	rm -rf build models results .pytest_cache
