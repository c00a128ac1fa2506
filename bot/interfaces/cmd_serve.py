"""`deskbot serve [--host H] [--port P] [--config F]`: the help-desk HTTP service and web chat."""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from pathlib import Path

from bot.config import Config
from bot.errors import ConfigError
from bot.interfaces.config_file import load_config

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_HEAD_BYTES = 64 * 1024  # request line and headers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_tcp_port, default=8000, help="port to bind (default 8000)")
    parser.add_argument("--config", metavar="F", help="TOML config ([serve] table: docs/http.md)")
    parser.add_argument("--flows", type=Path, metavar="DIR",
                        help="your own flows folder, over the bundled flows")


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
    config = _loopback_hosts(load_config(args.config, serve_mode=True), args.host)
    # Checks [serve] and loads the flows: errors before binding.
    try:
        app = create_app(config, flows_dir=args.flows)
    except ConfigError as exc:
        # the [serve] settings are checked here, after the file was read: name the file
        if config.source is not None and str(config.source) not in str(exc):
            raise ConfigError(f"{config.source}: {exc}") from exc
        raise
    asyncio.run(check_store(config))
    # bound here, so a port in use is one line before "serving on" is ever said (and port 0
    # prints the port the system chose)
    try:
        listener = socket.create_server((args.host, args.port), reuse_port=False)
    except OSError as exc:
        print(f"deskbot serve: cannot listen on {_url_host(args.host)}:{args.port}: "
              f"{(exc.strerror or str(exc)).split(' (while')[0]}", file=sys.stderr)
        return 2
    port = listener.getsockname()[1]
    print(f"deskbot: serving on http://{_url_host(args.host)}:{port}/", file=sys.stderr)
    # client addresses (rate limits, login budget) come from X-Forwarded-For only when the
    # connection is from one of these proxies (docs/http.md, "Behind a reverse proxy")
    proxies = config.serve.get("forwarded_allow_ips", ["127.0.0.1", "::1"])
    server = uvicorn.Server(uvicorn.Config(
        app, log_level="warning", lifespan="on", proxy_headers=True,
        forwarded_allow_ips=proxies, timeout_keep_alive=5,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES))
    server.run(sockets=[listener])
    return 0


def _loopback_hosts(config: Config, bind: str) -> Config:
    """Bound to loopback and no `[serve] allowed_hosts`: answer only to loopback names, so a
    DNS-rebinding page in the local browser cannot reach the service under its own name."""
    if "allowed_hosts" in config.serve or bind not in LOOPBACK:
        return config
    return config.with_overrides(serve={**config.serve,
                                        "allowed_hosts": ["localhost", "127.0.0.1", "::1"]})


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _tcp_port(text: str) -> int:
    """A TCP port number 0-65535 (0: any free port); argparse turns the error into one line."""
    if not text.isdigit() or len(text) > 5 or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a port number (0-65535)")
    return int(text)
