"""The engine: validated flows, one compiled machine per flow, the matcher, the probe runner."""

from __future__ import annotations

import copy
import importlib
import logging
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Config
from bot.engine.answers import SLOT_TYPES, parse_answer, store_value
from bot.engine.machine import CompiledFlow
from bot.engine.session import Session
from bot.errors import DeskbotError, EngineError, RunnerFault
from bot.flows.loader import FlowDirs
from bot.flows.model import FlowSet
from bot.probes.model import ProbeObserver, ProbeReport
from bot.probes.runners import ProbeCall, ProbeRunner, Vantage, fallback_outcome, unkept_facts

if TYPE_CHECKING:
    from bot.catalog.catalog import Catalog
    from bot.catalog.model import Provider
    from bot.matcher import Matcher, MatchResult

log = logging.getLogger(__name__)


class Engine:
    """Loads flows once; starts and restores sessions that share its machines."""

    def __init__(
        self, flowset: FlowSet, *, flows_dir: Path, config: Config | None = None,
        runner: ProbeRunner | None = None, vantage: Vantage = "local",
    ) -> None:
        self.flowset = flowset
        self.flows_dir = flows_dir
        self.config = config or Config()
        self.vantage: Vantage = vantage
        self._runner = runner
        everything = {**flowset.subflows, **flowset.flows}
        self._compiled = {fid: CompiledFlow(flow) for fid, flow in everything.items()}
        self.matcher = self._build_matcher()

    @classmethod
    def load(
        cls, flows_dir: FlowDirs, *, config: Config | None = None,
        runner: ProbeRunner | None = None, vantage: Vantage = "local",
    ) -> Engine:
        """Load and validate every flow (FlowError lists every problem), compile the machines.

        `flows_dir`: a folder, or folders as layers (`bot.bundle.flow_folders(DIR)`: the
        bundled flows with a help desk's own on top).
        """
        from bot import bundle  # the one loader (it imports the matcher: not at start-up)

        folders = [flows_dir] if isinstance(flows_dir, str | Path) else list(flows_dir)
        return cls(bundle.load(folders), flows_dir=Path(folders[-1]), config=config,
                   runner=runner, vantage=vantage)

    def with_runner(self, runner: ProbeRunner) -> Engine:
        """The same flows, machines and matcher, probing through another runner."""
        twin = copy.copy(self)
        twin._runner = runner
        twin.__dict__.pop("runner", None)  # drop the cached one
        return twin

    def with_vantage(self, vantage: Vantage) -> Engine:
        """The same flows, machines and runner, branching as if probing from `vantage`
        (the service continues a conversation with evidence from the customer's computer)."""
        twin = copy.copy(self)
        twin.vantage = vantage
        return twin

    # -------------------------------------------------------------- sessions

    def start(self, context: Mapping[str, str] | None = None) -> Session:
        """A new conversation; context slots (CONTRACT.md) are never asked."""
        return Session(self, {k: str(v) for k, v in (context or {}).items() if v is not None})

    def restore(self, state: Mapping[str, Any]) -> Session:
        """Continue a conversation saved with `session.to_dict()`."""
        session = Session(self, dict(state.get("context", {})))
        session.load_state(state)
        return session

    # -------------------------------------------------------------- what sessions use

    @property
    def flows(self) -> Mapping[str, Any]:
        """Symptom flows by id."""
        return self.flowset.flows

    @property
    def clients(self) -> Any:
        """Per-client steps (flows/_clients.yaml)."""
        return self.flowset.clients

    @property
    def flows_hash(self) -> str:
        """Hash of the flow files (recorded in transcripts)."""
        return self.flowset.digest

    def compiled(self, flow_id: str) -> CompiledFlow:
        """The shared machine of a flow or sub-flow."""
        try:
            return self._compiled[flow_id]
        except KeyError:
            raise EngineError(f"no flow '{flow_id}' is loaded", flow_id=flow_id) from None

    def title(self, flow_id: str | None) -> str:
        """A flow's title (its id when unknown)."""
        flow = self.flowset.flows.get(flow_id or "")
        return flow.title if flow else str(flow_id)

    def match(self, text: str) -> MatchResult:
        """What the matcher makes of a line."""
        return self.matcher.match(text)

    def _build_matcher(self) -> Matcher:
        """The symptom matcher of the flow set (its `match:` blocks and vocabulary)."""
        from bot.bundle import matcher_for

        return matcher_for(self.flowset)

    @cached_property
    def runner(self) -> ProbeRunner:
        """The probe runner: the one given, else the live one built from the config."""
        if self._runner is not None:
            return self._runner
        # Imported late: the live probes pull in the network stack that replay never needs.
        try:
            live = importlib.import_module("bot.probes.runners.live")
        except ImportError as exc:
            raise EngineError(f"live probes are not available: {exc}") from exc
        runner: ProbeRunner = live.LiveProbeRunner(self.config, catalog=self._catalog)
        return runner

    async def run_probe(
        self, name: str, params: Mapping[str, str], call: ProbeCall,
        observer: ProbeObserver | None,
    ) -> ProbeReport:
        """Run one probe through the runner with the call's context; a refusal or a runner
        failure becomes an `inconclusive` report.

        Raises RunnerFault when the report breaks what its outcome promises (a diagnosis
        without its guaranteed facts): the flow cannot tell that fix, and must not guess.
        """
        report = await self._run_probe(name, params, call, observer)
        missing = unkept_facts(report)
        if missing:
            raise RunnerFault(type(self.runner).__name__, name, report.outcome, missing)
        return report

    async def _run_probe(
        self, name: str, params: Mapping[str, str], call: ProbeCall,
        observer: ProbeObserver | None,
    ) -> ProbeReport:
        try:
            return await self.runner.run(name, params, observer, call=call)
        except DeskbotError as exc:
            return ProbeReport(name, params.get("email", ""), fallback_outcome(name),
                               notes=(str(exc),))
        except Exception as exc:  # a probe bug must not end the conversation with a traceback
            log.exception("probe %s failed", name)
            note = f"the check could not run ({type(exc).__name__})"
            return ProbeReport(name, params.get("email", ""), fallback_outcome(name), notes=(note,))

    def provider_for(self, email: str) -> Provider | None:
        """The provider for an address (None when unknown), asked through the probe seam: the
        catalogue's, or what the runner knows better (replay: the recorded provider)."""
        return self.runner.provider(email, self._catalog)

    def provider_traits(self, email: str | None) -> frozenset[str]:
        """What flows may branch on about the address's provider (`when: {provider: ...}`,
        bot.ids.PROVIDER_TRAITS), from the catalogue and bot/data/provider_rules.yaml; no
        network. Empty without an address."""
        if not email or "@" not in email:
            return frozenset()
        from bot.catalog.rules import RuleBook, provider_traits

        provider = self.provider_for(email)
        rule = RuleBook.load().for_address(email, provider.id if provider else None)
        return provider_traits(rule, provider is not None and provider.oauth_only)

    def provider_stated(self, slots: Mapping[str, str]) -> Provider | None:
        """The provider the customer named without an address: by a server host name they
        gave ("smtp.centurylink.net"), or by name ("my CenturyLink account", "my Gmail")."""
        if self._catalog is None:
            return None
        for slot in ("outgoing_server", "incoming_server"):
            if (host := slots.get(slot)) and (found := self._catalog.provider_for_host(host)):
                return found
        name = slots.get("said.provider_name", "").lower()
        if not name:
            return None
        for tld in ("com", "net"):
            if found := self._catalog.lookup(f"{name}.{tld}"):
                return found
        return self._names.get(name)

    @cached_property
    def _names(self) -> dict[str, Provider]:
        """Providers by their short name, lower case ("centurylink", "gmail")."""
        catalog = self._catalog
        names: dict[str, Provider] = {}
        for provider in catalog.providers if catalog else ():
            key = provider.short_name.lower().replace(" ", "")
            if len(key) >= 3:
                names.setdefault(key, provider)
        return names

    @cached_property
    def _catalog(self) -> Catalog | None:
        try:
            from bot.catalog.catalog import Catalog

            return Catalog.load(self.config)
        except (ImportError, DeskbotError) as exc:
            log.warning("no provider catalogue: %s", exc)
            return None

    def normalize_context(self, context: Mapping[str, str]) -> dict[str, str]:
        """Context slots normalised like answers; a value that does not parse is dropped."""
        out: dict[str, str] = {}
        for slot, value in context.items():
            kind = SLOT_TYPES.get(slot)
            if kind is None:
                out[slot] = value
                continue
            parsed = parse_answer(kind, value, (), self.clients)
            if parsed is None:
                log.warning("context slot %s=%r is not a valid %s; it will be asked",
                            slot, value, kind)
                continue
            out[slot] = store_value(slot, kind, parsed)
        return out

