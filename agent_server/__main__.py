"""`python -m agent_server`: read the environment, serve on 0.0.0.0:$PORT (default 5000)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from agent_server.app import create_app
from agent_server.config import Config, ConfigError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        config = Config.from_env()
    except ConfigError as exc:
        print(f"agent-server: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(create_app(config), host="0.0.0.0", port=config.port, log_level="info",
                proxy_headers=False, server_header=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
