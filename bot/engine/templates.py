"""Filling `{...}` placeholders in flow texts from slots, the provider, facts and client steps."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.catalog.model import Provider, ServerSettings
from bot.engine.values import SettingsRow
from bot.flows.model import PLACEHOLDER, ClientSteps
from bot.probes.model import ProbeReport
from bot.slots import SECRET_SLOTS

UNKNOWN = "(unknown)"
SECURITY_LABELS = {"ssl": "SSL/TLS", "starttls": "STARTTLS", "none": "None"}


@dataclass(frozen=True)
class TemplateContext:
    """Everything a placeholder may name, for one moment of one conversation."""

    slots: Mapping[str, str]
    provider: Provider | None
    evidence: Sequence[ProbeReport]
    clients: ClientSteps
    title: str = ""
    symptom: str = ""

    def lookup(self, name: str) -> str | None:
        """The text for one placeholder, or None when it has no value."""
        root, _, rest = name.partition(".")
        if name in SECRET_SLOTS or (root == "client" and rest in SECRET_SLOTS):
            return None  # never shown, whatever a flow asks
        if root == "client" and rest:
            return self.slots.get(rest)
        if root == "client" and not rest:
            client = self.slots.get("client")
            return self.clients.labels.get(client or "", client) if client else None
        if root == "facts" and rest.endswith("_security_label"):
            # probes report security as ssl|starttls|none; customers read the app's words
            raw = self.lookup(f"facts.{rest.removesuffix('_label')}")
            return SECURITY_LABELS.get(raw, raw) if raw else None
        if root == "facts":
            return next((r.facts[rest] for r in reversed(self.evidence) if rest in r.facts), None)
        if root == "steps":
            return self.render(self.clients.text_for(self.slots.get("client"), rest), nested=True)
        if root == "provider":
            return self._provider_field(rest)
        if name in ("title", "symptom"):
            return getattr(self, name) or None
        if name == "client_name":
            return self.lookup("client")
        if name == "login_servers":
            return self.login_servers()
        return self.slots.get(name)

    def login_servers(self) -> str:
        """The servers a login test sends the password to, by name: the ones the customer
        gave, else the provider's (the consent question names them, issue 15)."""
        hosts: list[str] = []
        for side in ("incoming", "outgoing"):
            given = self.slots.get(f"{side}_server")
            server = self.server(side)
            host = given or (server.host if server is not None else None)
            if host and host not in hosts:
                hosts.append(host)
        return " and ".join(hosts) if hosts else "your provider's mail servers"

    def server(self, side: str) -> ServerSettings | None:
        """The provider's recommended server for a side (incoming: the customer's protocol)."""
        if self.provider is None:
            return None
        if side == "outgoing":
            return self.provider.outgoing[0] if self.provider.outgoing else None
        servers = self.provider.incoming_for(self.slots.get("incoming_protocol")) or (
            self.provider.incoming)
        return servers[0] if servers else None

    def username(self, side: str, server: ServerSettings) -> str:
        """The username to show for a side: the form a login test proved the server accepts
        (`accepted_username`, e.g. after auth_username_format refused the catalogue's form),
        else the provider's form for this address, else a hint."""
        accepted = self._accepted_username(side)
        if accepted:
            return accepted
        email = self.slots.get("email")
        return server.username_for(email) if email else _username_hint(server.username)

    def _accepted_username(self, side: str) -> str | None:
        """The username the latest login test of `side` accepted; a refused form proven on the
        other side (auth_username_format) counts too: one account has one username."""
        names = {"outgoing": ("check_outgoing", "check_relay"), "incoming": ("check_incoming",)}
        other = [r for r in reversed(self.evidence) if r.facts.get("accepted_username")]
        same = next((r for r in other if r.name in names.get(side, ())), None)
        if same is not None:
            return same.facts["accepted_username"]
        proven = next((r for r in other if r.outcome == "auth_username_format"), None)
        return proven.facts["accepted_username"] if proven is not None else None

    def _provider_field(self, rest: str) -> str | None:
        if self.provider is None:
            return None
        side, _, field = rest.partition(".")
        if not field:
            value = getattr(self.provider, side, None)
            return str(value) if isinstance(value, str) and value else None
        server = self.server(side)
        if server is None:
            return None
        if field == "security_label":
            return SECURITY_LABELS.get(server.security, server.security)
        if field == "username":
            return self.username(side, server)
        if field == "protocol":
            return server.protocol.upper()
        return str(getattr(server, field, "")) or None

    def render(self, text: str, *, nested: bool = False) -> str:
        """Fill every placeholder; `{name|text}` shows text when name has no value."""

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if nested and name.startswith("steps."):
                return ""  # steps texts do not include other steps
            value = self.lookup(name)
            if value is None and match.group(2) is not None:
                return match.group(2)
            return UNKNOWN if value is None else value

        return reflow(PLACEHOLDER.sub(fill, text))

    def settings_rows(self, which: str) -> tuple[SettingsRow, ...]:
        """The settings table for `incoming`, `outgoing` or `both`."""
        sides = ("incoming", "outgoing") if which == "both" else (which,)
        rows: list[SettingsRow] = []
        for side in sides:
            server = self.server(side)
            if server is None:
                continue
            rows.append(SettingsRow(
                side.capitalize(), server.protocol.upper(), server.host, server.port,
                SECURITY_LABELS.get(server.security, server.security), self.username(side, server),
            ))
        return tuple(rows)


_LIST_ITEM = re.compile(r"^\s*(?:[-*•>]|\d{1,2}[.)])\s")


def reflow(text: str) -> str:
    """Join the wrapped lines of each paragraph (filled values change line lengths).

    Blank lines separate paragraphs; list items (`- `, `1. `) keep their own lines.
    """
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        for line in block.splitlines():
            if lines and not _LIST_ITEM.match(line):
                lines[-1] = f"{lines[-1]} {line.strip()}"
            else:
                lines.append(line.rstrip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _username_hint(template: str) -> str:
    return (template.replace("%EMAILADDRESS%", "your full e-mail address")
            .replace("%EMAILLOCALPART%", "the part of your address before the @")
            .replace("%EMAILDOMAIN%", "your domain"))
