"""The HTTP API: token required, control results in, worklist and performance out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import make_consignment
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from redlane.api import create_app
from redlane.cli import app as cli
from redlane.config import ConfigError
from redlane.intake.pipeline import store_models
from redlane.store.database import Database
from redlane.targeting import Window, starter_profiles, target

TOKEN = "t" * 32


@pytest.fixture
def client(db: Database) -> TestClient:
    return TestClient(create_app(db, TOKEN), headers={"Authorization": f"Bearer {TOKEN}"})


def test_every_route_needs_the_token(db: Database) -> None:
    anonymous = TestClient(create_app(db, TOKEN))
    assert anonymous.get("/worklist").status_code == 401
    wrong = anonymous.get("/worklist", headers={"Authorization": "Bearer " + "x" * 32})
    assert wrong.status_code == 401
    assert anonymous.post("/results", json={}).status_code == 401


def test_the_api_does_not_start_without_a_proper_token(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDLANE_API_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="REDLANE_API_TOKEN is not set"):
        create_app(db)
    with pytest.raises(ConfigError, match="REDLANE_API_TOKEN is 5 characters"):
        create_app(db, "short")
    result = CliRunner().invoke(cli, ["serve", "--database", str(db.engine.url)])
    assert result.exit_code == 2 and "REDLANE_API_TOKEN" in result.output


def test_results_are_recorded_once_and_bad_csv_rows_named(client: TestClient) -> None:
    result = {
        "target_ref": "MEDU00000001", "office": "NL000396", "controlled_on": "2026-11-02",
        "outcome": "seizure", "seizures": [{"drug": "cocaine", "quantity_kg": 40}],
    }  # fmt: skip
    first = client.post("/results", json=result)
    assert first.status_code == 201 and first.json() == {"stored": 1, "duplicate": False}
    assert client.post("/results", json=result).json() == {"stored": 0, "duplicate": True}
    refused = client.post("/results", json={**result, "outcome": "found it"})
    assert refused.status_code == 422 and "outcome" in str(refused.json())

    body = (
        "transport_document,office,controlled_on,outcome,drug,quantity_kg,concealment\n"
        "MEDU2,NL000396,2026-11-02,no_finding,,,\n"
        "MEDU3,NL000396,2026-11-02,seizure,heroine,3,\n"
    )
    answer = client.post("/results/csv", content=body, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200
    assert answer.json()["stored"] == 1
    (problem,) = answer.json()["quarantined"]
    assert problem["locator"] == "line 3" and problem["field"] == "seizures.0.drug"
    bad_header = client.post("/results/csv", content="a,b\n1,2\n")
    assert bad_header.status_code == 422 and "header must name" in bad_header.text


def test_worklist_and_performance(client: TestClient, db: Database) -> None:
    day = make_consignment(1).arrival_date
    store_models(db, "consignment", [make_consignment(1), make_consignment(2)])
    run = target(db, starter_profiles(), Window(day, day + timedelta(days=1)))
    rows = client.get("/worklist", params={"run_id": run.run_id}).json()
    assert rows and rows[0]["reasons"][0]["profile"]
    assert rows[0]["score"] >= rows[-1]["score"]
    ref = rows[0]["target_ref"]
    client.post(
        "/results",
        json={"target_ref": ref, "office": "NL000396", "controlled_on": day.isoformat(),
              "outcome": "seizure", "seizures": [{"drug": "cocaine", "quantity_kg": 12.5}]},
    )  # fmt: skip
    report = client.get("/performance").json()
    methods = {m["name"]: m for m in report["methods"]}
    assert methods["profiles"]["hits"] == 1 and methods["profiles"]["seized_kg"] == 12.5
    assert client.get("/openapi.json").status_code == 200
