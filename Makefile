# genai-platform developer entry points. `make preview` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STACK  ?= dev
OUT    ?= out/$(STACK)
STAMP  := $(VENV)/.installed
# The agent server has its own venv: its framework needs openai>=3, the project's litellm openai<3
AGENT_VENV  ?= .venv-agent
AGENT_STAMP := $(AGENT_VENV)/.installed

.PHONY: venv system-deps preview test bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

$(AGENT_STAMP): agent_server/requirements.txt agent_server/requirements-test.txt
	test -x $(AGENT_VENV)/bin/python || $(PYTHON) -m venv $(AGENT_VENV)
	$(AGENT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AGENT_VENV)/bin/python -m pip install --quiet -r agent_server/requirements-test.txt
	touch $(AGENT_STAMP)

venv: $(STAMP) $(AGENT_STAMP)

## The offline preview of a stack (default dev): summary on stdout, artifacts in out/<stack>
preview: $(STAMP)
	$(BIN)/python -m tools.preview $(STACK) --out $(OUT)

## System packages the tests run for real: Debian's prometheus (prometheus + promtool), only when missing
system-deps:
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends prometheus; }

## The whole test suite: the platform's (tests/), then the agent server's (agent_server/tests/, its own venv,
## against the real LiteLLM proxy from the platform's venv)
test: $(STAMP) $(AGENT_STAMP) system-deps
	$(BIN)/python -m pytest -q
	LITELLM_EXECUTABLE=$(abspath $(BIN))/litellm $(AGENT_VENV)/bin/python -m pytest -q -c agent_server/pytest.ini --rootdir .

## Benchmarks: preview vs import baseline and model scaling (out/bench/results.md),
## gateway overhead through the real LiteLLM proxy (out/bench/gateway.md)
bench: $(STAMP)
	$(BIN)/python -m tools.bench --out out/bench
	$(BIN)/python -m tools.gateway_bench --out out/bench

clean:
	rm -rf out .pytest_cache
