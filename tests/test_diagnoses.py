"""The diagnosis table: typed codes, validated at load, and the registry derived from it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.diagnoses import CODES, STAGES, DiagnosisTableError, build_table, diagnosis, table
from bot.ids import diagnosis_codes, diagnosis_evidence
from bot.registry import PROBES

NEW_CODES = {"auth_app_password_required", "encryption_required", "too_many_connections",
             "mailbox_over_quota", "sender_blocklisted", "ipv6_path_broken"}


def _data() -> dict[str, Any]:
    from importlib import resources

    text = resources.files("bot.data").joinpath("diagnoses.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_the_bundled_table_has_every_code_with_every_field() -> None:
    rows = table()
    assert list(rows) == list(CODES)
    assert diagnosis_codes() >= NEW_CODES
    for code, row in rows.items():
        assert row.code == code and row.headline.endswith(".") and row.evidence and row.source
        assert row.direction in ("incoming", "outgoing", "both") and row.stages <= STAGES
        assert {"configured_host", "configured_port"} <= row.facts  # every sweep carries them
    assert "an app password will not help" in diagnosis("auth_oauth_required").evidence
    assert diagnosis_evidence("ok") == diagnosis("ok").evidence


def test_a_code_is_checked_where_a_string_comes_in() -> None:
    from bot.diagnoses import as_code, parse

    assert as_code("port_blocked") == "port_blocked" and parse("inconclusive") is None
    with pytest.raises(ValueError, match="tls_mode_missmatch"):
        as_code("tls_mode_missmatch")


@pytest.mark.parametrize(("change", "wanted"), [
    (lambda d: d["diagnoses"].pop("ipv6_path_broken"), "no entry for ipv6_path_broken"),
    (lambda d: d["diagnoses"].update(port_blokked=d["diagnoses"]["port_blocked"]),
     "'port_blokked' is not a name of bot.diagnoses.Code"),
    (lambda d: d["diagnoses"]["ok"].update(direction="sideways"), "ok: direction is one of"),
    (lambda d: d["diagnoses"]["ok"].update(stages=["smtp"]), "ok: unknown stage(s) smtp"),
    (lambda d: d["diagnoses"]["ok"].pop("headline"), "ok: missing field `headline`"),
    (lambda d: d["diagnoses"]["ok"].update(colour="red"), "ok: unknown field `colour`"),
    (lambda d: d["diagnoses"]["ok"].update(facts="working_port"), "ok.facts must be a list"),
])
def test_a_broken_table_is_refused_naming_the_problem(change: Any, wanted: str) -> None:
    data = _data()
    change(data)
    with pytest.raises(DiagnosisTableError, match=r"diagnoses\.yaml: ") as caught:
        build_table(data)
    assert wanted in str(caught.value)


def test_probe_outcomes_follow_each_codes_direction_and_stages() -> None:
    out, inc, relay = (PROBES[n].outcomes for n in ("check_outgoing", "check_incoming",
                                                     "check_relay"))
    for row in table().values():
        assert (row.code in out) == row.reported_by("outgoing")
        assert (row.code in inc) == row.reported_by("incoming")
        assert (row.code in relay) == (row.reported_by("outgoing") and "relay" in row.stages)
    assert "mailbox_over_quota" in inc and "mailbox_over_quota" not in out
    assert "sender_blocklisted" in relay and "smtp_auth_required" not in inc
    assert {"inconclusive", "ok"} <= out & inc & relay


def test_the_table_rows_are_in_the_order_of_code() -> None:
    assert [row.code for row in table().values()] == list(CODES)
