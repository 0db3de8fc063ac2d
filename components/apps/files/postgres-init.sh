#!/bin/sh
# Runs once, when PostgreSQL initialises an empty data directory:
# one database owned by one login role per app (no other role may connect to it), and pgvector for
# Open WebUI's RAG store.
set -eu

create_app_database() {
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=app="$1" --set=pw="$2" <<'SQL'
CREATE ROLE :"app" LOGIN PASSWORD :'pw';
CREATE DATABASE :"app" OWNER :"app";
REVOKE ALL ON DATABASE :"app" FROM PUBLIC;
SQL
}

create_app_database langfuse "$LANGFUSE_DB_PASSWORD"
create_app_database litellm "$LITELLM_DB_PASSWORD"
create_app_database openwebui "$OPENWEBUI_DB_PASSWORD"
create_app_database agentserver "$AGENTSERVER_DB_PASSWORD"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname openwebui -c 'CREATE EXTENSION IF NOT EXISTS vector;'
