"""`deskbot serve [--host H] [--port P] [--config F]`: the help-desk HTTP service and web chat."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.interfaces.config_file import load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    parser.add_argument("--config", metavar="F", help="TOML config ([serve] table: docs/http.md)")


def run(args: argparse.Namespace) -> int:
    # Imported here so `deskbot --help` and `import bot` never load the web stack.
    try:
        import uvicorn

        from bot.interfaces.http import create_app
        from bot.sessions import check_store
    except ImportError as exc:
        print(f"deskbot serve: needs the [serve] extra ({exc.name} missing): "
              "pip install 'deskbot[serve]'", file=sys.stderr)
        return 2
    config = load_config(args.config, serve_mode=True)
    app = create_app(config)  # checks [serve] and loads the flows: errors before binding
    asyncio.run(check_store(config))
    print(f"deskbot: serving on http://{_url_host(args.host)}:{args.port}/", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
