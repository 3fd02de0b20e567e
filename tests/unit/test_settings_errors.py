"""A bad or missing setting stops start-up with one line naming it (exit code 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from workstation.cli import main


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"WORKSTATION_AMI_URL": "ami://crm@pbx:5038"},
            "workstation: bad setting WORKSTATION_AMI_SECRET: missing (the secret of the AMI user in "
            "WORKSTATION_AMI_URL)",
        ),
        (
            {"WORKSTATION_AMI_URL": "ami://pbx:5038", "WORKSTATION_AMI_SECRET": "s"},
            "workstation: bad setting WORKSTATION_AMI_URL: expected ami://user@host:5038",
        ),
        (
            {"WORKSTATION_BILLING_URL": "mysql://billing/db"},
            "workstation: bad setting WORKSTATION_BILLING_URL: use sqlite:///path, odbc://<connection string> "
            "or memory://",
        ),
        (
            {
                "WORKSTATION_BUS_URL": "redis://127.0.0.1:6379/0",
                "WORKSTATION_CACHE_URL": "redis://127.0.0.1:6379/1",
            },
            "workstation: bad setting WORKSTATION_CACHE_URL: must name the same Redis as WORKSTATION_BUS_URL "
            "(one Redis connection pool serves the bus, the cache and the locks)",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    env: dict[str, str],
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [line]
