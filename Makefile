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
# Independent NetworkPolicy evaluator (network-config-analyzer): its own venv, its pins clash with ours
NCA_VENV    ?= .venv-nca
NCA_STAMP   := $(NCA_VENV)/.installed
# make e2e: the real Open WebUI (slim: no local-ML stack) + Playwright, in its own venv; Debian's chromium
WEBUI_VENV  ?= .venv-webui
WEBUI_STAMP := $(WEBUI_VENV)/.installed
OPEN_WEBUI  := open-webui==0.12.4

.PHONY: venv system-deps preview test suites e2e bench clean

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

$(NCA_STAMP): tests/e2e/requirements-nca.txt
	test -x $(NCA_VENV)/bin/python || $(PYTHON) -m venv $(NCA_VENV)
	$(NCA_VENV)/bin/python -m pip install --quiet -r tests/e2e/requirements-nca.txt
	touch $(NCA_STAMP)

# The wheel ships upstream's slim requirement set (requirements-slim.txt, installed into site-packages):
# external AI services, PostgreSQL + pgvector, Redis, S3; without torch/transformers/chromadb (~7 GB)
# (pip then prints "ERROR: ... open-webui requires <the left-out packages>": expected, the step succeeds)
$(WEBUI_STAMP): tests/e2e/requirements-webui.txt
	test -x $(WEBUI_VENV)/bin/python || $(PYTHON) -m venv $(WEBUI_VENV)
	$(WEBUI_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(WEBUI_VENV)/bin/python -m pip install --quiet --no-deps $(OPEN_WEBUI)
	$(WEBUI_VENV)/bin/python -m pip install --quiet -r tests/e2e/requirements-webui.txt \
		-r "$$($(WEBUI_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/requirements-slim.txt"
	touch $(WEBUI_STAMP)

# Debian's chromium for Playwright (Playwright's own browser download is unreachable here); CI runs as root
/usr/bin/chromium:
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get install -y --no-install-recommends chromium || \
		{ $$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends chromium; }

venv: $(STAMP) $(AGENT_STAMP) $(NCA_STAMP) $(WEBUI_STAMP)

## The offline preview of a stack (default dev): summary on stdout, artifacts in out/<stack>
preview: $(STAMP)
	$(BIN)/python -m tools.preview $(STACK) --out $(OUT)

## System packages the tests run for real: Debian's prometheus (prometheus + promtool), only when missing
system-deps:
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends prometheus; }

## The whole test suite: the platform's (tests/: database truth, the NetworkPolicy analyzer and Open WebUI's
## first admin included), the agent server's (agent_server/tests/, its own venv, against the real LiteLLM
## proxy from the platform's venv), then `make e2e` (the user's path in a browser)
test: suites e2e

suites: $(STAMP) $(AGENT_STAMP) $(NCA_STAMP) $(WEBUI_STAMP) system-deps
	REQUIRE_NCA=1 OPEN_WEBUI_PYTHON=$(abspath $(WEBUI_VENV))/bin/python $(BIN)/python -m pytest -q
	LITELLM_EXECUTABLE=$(abspath $(BIN))/litellm $(AGENT_VENV)/bin/python -m pytest -q -c agent_server/pytest.ini --rootdir .

## The user's path with real software on loopback: PostgreSQL, Redis, LiteLLM, the agent server and Open WebUI
## as rendered for the dev stack, driven in headless Chromium (screenshots in out/e2e)
e2e: $(STAMP) $(AGENT_STAMP) $(WEBUI_STAMP) /usr/bin/chromium
	$(BIN)/python -m tests.e2e --out out/e2e --webui-python $(WEBUI_VENV)/bin/python --agent-python $(AGENT_VENV)/bin/python

## Benchmarks: preview vs import baseline and model scaling (out/bench/results.md),
## gateway overhead through the real LiteLLM proxy (out/bench/gateway.md)
bench: $(STAMP)
	$(BIN)/python -m tools.bench --out out/bench
	$(BIN)/python -m tools.gateway_bench --out out/bench

clean:
	rm -rf out .pytest_cache
