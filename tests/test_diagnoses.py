"""The diagnosis table: typed codes, validated at load, and the registry derived from it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.diagnoses import STAGES, Diagnosis, DiagnosisTableError, build_table, table
from bot.ids import diagnosis_codes, diagnosis_evidence
from bot.probes.registry import PROBES

NEW_CODES = {"auth_app_password_required", "encryption_required", "too_many_connections",
             "mailbox_over_quota", "sender_blocklisted", "ipv6_path_broken"}


def _data() -> dict[str, Any]:
    from importlib import resources

    text = resources.files("bot.data").joinpath("diagnoses.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_the_bundled_table_has_every_code_with_every_field() -> None:
    rows = table()
    assert set(rows) == set(Diagnosis) and len(rows) == 22
    assert diagnosis_codes() >= NEW_CODES
    for code, row in rows.items():
        assert row.code is code and row.headline.endswith(".") and row.evidence and row.source
        assert row.direction in ("incoming", "outgoing", "both") and row.stages <= STAGES
        assert {"configured_host", "configured_port"} <= row.facts  # every sweep carries them
    assert "an app password will not help" in Diagnosis.AUTH_OAUTH_REQUIRED.evidence
    assert diagnosis_evidence("ok") == Diagnosis.OK.evidence


def test_a_code_is_its_string_everywhere() -> None:
    assert Diagnosis.PORT_BLOCKED == "port_blocked" and f"{Diagnosis.PORT_BLOCKED}" == (
        "port_blocked")
    assert yaml.safe_dump({"d": str(Diagnosis.OK)}).strip() == "d: ok"


@pytest.mark.parametrize(("change", "wanted"), [
    (lambda d: d["diagnoses"].pop("ipv6_path_broken"), "no entry for ipv6_path_broken"),
    (lambda d: d["diagnoses"].update(port_blokked=d["diagnoses"]["port_blocked"]),
     "'port_blokked' is not a member"),
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
    for code in Diagnosis:
        assert (code in out) == code.reported_by("outgoing")
        assert (code in inc) == code.reported_by("incoming")
        assert (code in relay) == (code.reported_by("outgoing") and "relay" in code.info.stages)
    assert "mailbox_over_quota" in inc and "mailbox_over_quota" not in out
    assert "sender_blocklisted" in relay and "smtp_auth_required" not in inc
    assert {"inconclusive", "ok"} <= out & inc & relay


def test_the_literal_type_probes_use_is_exactly_the_enum() -> None:
    from typing import get_args

    from bot.diagnoses import Code

    assert list(get_args(Code)) == [d.value for d in Diagnosis]
