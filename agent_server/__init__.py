"""The platform's agent server: agents Open WebUI lists as models, served over an OpenAI-compatible API.

Every model call goes through the LiteLLM gateway, every run is traced to Langfuse over OTLP, and
each chat's conversation lives in PostgreSQL (see README.md in this folder).
"""
