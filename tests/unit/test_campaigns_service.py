"""Campaign rules on a SQLite workstation DB and generated billing batches: who may launch, bad input,
offers on the card only while active, outcomes, and the export-segments command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from anonymizer.synthetic import SyntheticBilling
from workstation.auth import create_user
from workstation.campaigns.models import CampaignTarget
from workstation.campaigns.service import CampaignService
from workstation.cli import main
from workstation.db import Database
from workstation.errors import Conflict, DomainError, Forbidden, NotFound
from workstation.migrate import upgrade
from workstation.models import AuditLog
from workstation.segments.service import ExportService
from workstation.settings import Settings

KEY = "unit-campaign-key-0123456789abcdef01234"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("campaigns")
    url = f"sqlite:///{tmp / 'ws.db'}"
    upgrade(url)
    db = Database(url)
    settings = Settings(data_dir=tmp, database_url=url, pseudonym_key=KEY, pseudonym_key_id="k9")
    billing = SyntheticBilling(2000, seed=4)
    exports = ExportService(db, settings, source_factory=billing.source)
    req = exports.prepare(None, "2026-01", "2026-06", 5)
    summary = exports.run(req, None, "unit test")
    campaigns = CampaignService(db, exports, chunk_size=700)
    return {
        "db": db,
        "exports": exports,
        "campaigns": campaigns,
        "export_id": req.export_id,
        "summary": summary,
    }


def user(role: str, uid: int | None = None) -> Any:
    return SimpleNamespace(id=uid, role=role)


def launch(world: dict[str, Any], who: Any, **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "name": "Роуминг летом",
        "offer_text": "Пакет роуминга со скидкой 30%",
        "export_id": world["export_id"],
        "segments": ["tier:premium"],
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2099, 1, 1),
    }
    args.update(kw)
    return world["campaigns"].launch(who, **args)  # type: ignore[no-any-return]


def test_only_marketing_launches(world: dict[str, Any]) -> None:
    for role in ("analyst", "operator", "supervisor"):
        with pytest.raises(Forbidden):
            launch(world, user(role))


@pytest.mark.parametrize(
    ("kw", "error_id"),
    [
        ({"segments": []}, "campaign_no_segments"),
        ({"segments": ["vip"]}, "campaign_bad_segment"),
        ({"offer_text": "  "}, "campaign_incomplete"),
        ({"starts_on": date(2026, 5, 1), "ends_on": date(2026, 4, 1)}, "campaign_bad_period"),
        ({"export_id": "seg-none"}, "export_not_ready"),
    ],
)
def test_bad_campaign_input_is_refused_and_nothing_is_linked(
    world: dict[str, Any], kw: dict, error_id: str
) -> None:
    with world["db"].session() as s:
        before = len(s.scalars(select(CampaignTarget)).all())
    with pytest.raises(DomainError) as err:
        launch(world, user("marketing"), **kw)
    assert err.value.error_id == error_id
    with world["db"].session() as s:
        assert len(s.scalars(select(CampaignTarget)).all()) == before


def test_offer_shows_while_active_and_outcome_counts_for_conversion(world: dict[str, Any]) -> None:
    c = launch(world, user("marketing"), segments=["tier:premium", "tier:high"])
    counts = world["summary"]["segments"]["counts"]
    assert c["targets"] == counts.get("tier:premium", 0) + counts.get("tier:high", 0) > 0
    service: CampaignService = world["campaigns"]
    with world["db"].session() as s:
        target = (
            s.scalars(select(CampaignTarget).where(CampaignTarget.campaign_id == c["id"]))
            .first()
            .subscriber_id
        )
    offers = service.offers_for(target)
    assert [o["campaign_id"] for o in offers] == [c["id"]]
    assert service.offers_for(target, today=date(2100, 1, 1)) == []  # after the campaign's end
    with pytest.raises(DomainError):
        service.record_outcome(user("operator", None), c["id"], target, "maybe")
    with pytest.raises(NotFound):
        service.record_outcome(user("operator", None), c["id"], "999999", "accepted")
    service.record_outcome(user("operator", None), c["id"], target, "declined")
    assert service.get(c["id"])["outcomes"]["declined"] == 1
    assert service.get(c["id"])["conversion"] == 0.0
    service.finish(user("marketing"), c["id"])
    assert service.offers_for(target) == []
    with pytest.raises(Conflict):
        service.record_outcome(user("operator", None), c["id"], target, "accepted")
    with world["db"].session() as s:
        relinks = s.scalars(select(AuditLog).where(AuditLog.action == "campaign.relink")).all()
        assert relinks[-1].details["subscribers_linked"] == c["targets"]


def test_export_made_before_a_key_rotation_cannot_be_relinked(world: dict[str, Any]) -> None:
    exports: ExportService = world["exports"]
    old = exports.settings.pseudonym_key_id
    exports.settings.pseudonym_key_id = "k10"
    try:
        with pytest.raises(DomainError, match="made with key k9, the current key is k10") as err:
            launch(world, user("marketing"))
        assert err.value.error_id == "export_key_rotated"
    finally:
        exports.settings.pseudonym_key_id = old


async def test_card_section_is_empty_for_roles_that_do_not_offer(world: dict[str, Any]) -> None:
    assert await world["campaigns"].card_section("1", user("analyst")) == []


def test_cli_exports_with_a_progress_bar_and_refuses_without_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ws.db'}"
    upgrade(url)
    monkeypatch.setenv("WORKSTATION_DATABASE_URL", url)
    monkeypatch.setenv("WORKSTATION_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("WORKSTATION_PSEUDONYM_KEY", raising=False)
    args = [
        "export-segments",
        "--from",
        "2026-01",
        "--to",
        "2026-06",
        "--k",
        "5",
        "--out",
        str(tmp_path / "out"),
    ]
    # an export from the command line names its user: refused without one, or with an unknown one
    monkeypatch.setenv("WORKSTATION_PSEUDONYM_KEY", KEY)
    assert main([*args, "--synthetic", "3000"]) == 2
    assert "--user" in capsys.readouterr().err
    assert main([*args, "--synthetic", "3000", "--user", "nobody"]) == 2
    assert "no active workstation user 'nobody'" in capsys.readouterr().err
    db = Database(url)
    uid = create_user(db, "analyst1", "analyst-password-1", "analyst").id
    args += [
        "--user",
        "analyst1",
        "--reason",
        "квартальный отчёт, звонил Иванов Пётр Сергеевич +7 916 123-45-67",
    ]
    monkeypatch.delenv("WORKSTATION_PSEUDONYM_KEY")
    assert main([*args, "--synthetic", "3000"]) == 2
    assert "WORKSTATION_PSEUDONYM_KEY" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

    monkeypatch.setenv("WORKSTATION_PSEUDONYM_KEY", KEY)
    assert main([*args, "--synthetic", "3000"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert result["k_achieved"] >= 5
    assert result["rows"] > 2500
    assert "100/100" in captured.err  # the tqdm bar reached the end
    bundle = Path(result["export"])
    assert sorted(p.name for p in bundle.iterdir()) == [
        "data.csv",
        "data.parquet",
        "manifest.json",
        "segments.json",
    ]
    assert (
        main(
            [
                "export-segments",
                "--from",
                "2026-06",
                "--to",
                "2026-01",
                "--out",
                str(tmp_path / "o2"),
                "--user",
                "analyst1",
            ]
        )
        == 2
    )
    assert "reversed" in capsys.readouterr().err
    # an overlapping, different period would break k joined with the first release: one line, exit 2
    shifted = [a if a != "2026-01" else "2026-03" for a in args]
    assert main([*shifted, "--synthetic", "3000"]) == 2
    assert "below k=5" in capsys.readouterr().err
    with db.session() as s:
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "export.segments")).all()
        assert [a.details["state"] for a in audits] == ["done", "failed"]
        assert audits[1].details["failure"] == "export_ledger_refused"
        assert audits[0].user_id == uid
        # the free-text reason was scrubbed before it was stored
        assert audits[0].reason == "квартальный отчёт, звонил [NAME] [PHONE]"
    db.dispose()
