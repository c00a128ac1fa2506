"""`create_app(config)`: the store, the safe probe runner, the engine and the routes, wired."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette

from bot.config import Config
from bot.flows.bundled import flow_folders
from bot.interfaces.http.app import build_app
from bot.interfaces.http.customer import CustomerSide
from bot.interfaces.http.guard import Guard
from bot.interfaces.http.probe_routes import ProbeRoutes
from bot.interfaces.http.probelinks import LinkBook
from bot.interfaces.http.service import ChatService, EngineLike
from bot.interfaces.http.settings import ServeSettings, serve_settings
from bot.interfaces.http.webhook import Webhook
from bot.probes.policy import TargetPolicy
from bot.probes.runners import ProbeRunner, SafeRunner, SafetySettings
from bot.sessions import SessionStore, open_store

log = logging.getLogger(__name__)


def create_app(
    config: Config,
    *,
    engine: EngineLike | None = None,
    store: SessionStore | None = None,
    flows_dir: Path | None = None,
    runner: ProbeRunner | None = None,
) -> Starlette:
    """The ASGI app for `deskbot serve`.

    Tests and benchmarks may pass their own engine, store, or probe runner (`runner` replaces
    the live one behind the same serve-mode limits).
    """
    settings = serve_settings(config)
    store = store if store is not None else open_store(config)
    if engine is None:
        engine = _serve_engine(config, store, settings.safety, flows_dir, runner)
    service = ChatService(engine, store, cache_size=settings.cache_sessions)
    app = build_app(service, settings.limits, _customer_side(service, settings, engine))
    app.add_middleware(Guard, settings=settings.guard, store=store)
    return app


def _customer_side(service: ChatService, settings: ServeSettings,
                   engine: EngineLike) -> ProbeRoutes:
    """Probe links and the webhook; evidence needs an engine that can branch as the customer."""
    twin = getattr(engine, "with_vantage", None)
    customer_engine: EngineLike | None = twin("customer") if callable(twin) else None
    webhook = Webhook(settings.webhook) if settings.webhook else None
    side = CustomerSide(service, LinkBook(service.store, settings.links), customer_engine,
                        webhook)
    return ProbeRoutes(side, settings.links.public_url)


def serve_policy(config: Config, safety: SafetySettings) -> TargetPolicy:
    """The probes' own target policy in serve mode: mail ports, no private addresses.

    Address classes (loopback, private, link-local, multicast) and exact-address connects are
    enforced by the probes with this policy; the hosts of the session's provider by SafeRunner.
    """
    return TargetPolicy(allow_private=config.allow_private, ports=safety.mail_ports)


def _serve_engine(
    config: Config,
    store: SessionStore,
    safety: SafetySettings,
    flows_dir: Path | None,
    inner: ProbeRunner | None,
) -> EngineLike:
    from bot.engine import Engine

    if inner is None:
        from bot.probes.runners.live import LiveProbeRunner

        inner = LiveProbeRunner(config, policy=serve_policy(config, safety))
    runner = SafeRunner(inner, store, safety, resolve=_resolver(config))
    engine: EngineLike = Engine.load(
        flow_folders(flows_dir), config=config, runner=runner, vantage="server"
    )
    return engine


def _resolver(config: Config) -> Callable[[str], Awaitable[str | None]]:
    """Host name → its first address with the configured nameservers (None: no answer): the
    login budget counts per server address, whatever name the customer typed."""
    from bot.probes.dns import make_resolver, resolve_host

    resolver = make_resolver(config)

    async def resolve(host: str) -> str | None:
        answer = await resolve_host(resolver, host, config.timeout)
        return answer.records[0] if answer.ok and answer.records else None

    return resolve
