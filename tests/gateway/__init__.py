"""Harness for running the real LiteLLM proxy on loopback against stand-in backends.

- ``stubs``: in-process HTTP stand-ins for vLLM (OpenAI API), Bedrock runtime (Converse API)
  and the Langfuse OTLP/HTTP trace endpoint, re-exported from ``http_stub`` (the shared
  threaded-server base), ``openai_stub``, ``bedrock_stub`` and ``otlp_stub``.
- ``redis_server``: a real Redis on a free loopback port for LiteLLM's response cache.
- ``proxy``: ``run_proxy(config, env)`` starts ``litellm --config ...`` as a subprocess.
- ``client``: what the gateway test modules share to talk to a running proxy (``chat``, ...).
"""
