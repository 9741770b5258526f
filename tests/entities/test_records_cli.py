"""`aqtra-nb records add|list|show`: records from a shell, through `cli.main` in a temporary home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aqtra_nb.cli import main

MODELS = Path(__file__).resolve().parents[2] / "notebooks" / "workflows" / "purchase_models.py"
ENTITY = f"{MODELS}:Requisition"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("AQTRA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AQTRA_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def test_add_list_and_show_records(home, capsys):
    assert main(["records", "add", ENTITY, "item=chairs", "amount=900", "requester=ann@example.com"]) == 0
    assert capsys.readouterr().out.strip() == "added Requisition 1"
    document = '{"item": "desk", "amount": 120, "requester": "bob@example.com"}'
    assert main(["records", "add", ENTITY, "--json", document, "department=it", "--print-json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert (added["id"], added["department"], added["amount"]) == (2, "it", 120.0)
    with pytest.raises(SystemExit):
        main(["records", "list", ENTITY, "stray=1"])  # only `records add` takes values

    assert main(["records", "list", "Requisition"]) == 0  # the class is registered now: its name is enough
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["id", "item", "amount", "requester"]
    assert lines[1].split()[:3] == ["1", "chairs", "900.0"] and lines[2].split()[:2] == ["2", "desk"]
    assert main(["records", "list", ENTITY, "--filter", "amount > 500", "--json"]) == 0
    assert [r["item"] for r in json.loads(capsys.readouterr().out)] == ["chairs"]
    assert main(["records", "show", ENTITY, "1"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("Requisition 1\n") and "requester      ann@example.com" in shown


def test_invalid_values_name_the_field_and_write_nothing(home, capsys):
    assert main(["records", "add", ENTITY, "item=chairs", "amount=lots", "requester=a@example.com"]) == 2
    err = capsys.readouterr().err
    assert "field 'amount'" in err and "valid number" in err and "'lots'" in err and "Traceback" not in err
    assert main(["records", "add", ENTITY, "itme=chairs", "amount=3", "requester=a@example.com"]) == 2
    assert "unknown field 'itme'. Did you mean 'item'?" in capsys.readouterr().err
    assert main(["records", "add", ENTITY, "item=chairs"]) == 2
    err = capsys.readouterr().err
    assert "field 'amount': a value is required" in err and "field 'requester'" in err
    assert main(["records", "add", ENTITY, "--json", "[1]"]) == 2
    assert "give one JSON object" in capsys.readouterr().err
    assert main(["records", "add", ENTITY, "chairs"]) == 2
    assert "'chairs': write FIELD=VALUE" in capsys.readouterr().err
    assert main(["records", "show", ENTITY, "7"]) == 2
    assert "no Requisition record with id 7" in capsys.readouterr().err
    assert main(["records", "list", ENTITY]) == 0
    assert capsys.readouterr().out.strip() == "no Requisition records"


def test_unknown_entities_say_how_to_name_one(home, capsys):
    assert main(["records", "list", "Nonesuch"]) == 2
    assert (
        "write it as 'package.module:ClassName' or 'path/to/models.py:ClassName'" in capsys.readouterr().err
    )
    assert main(["records", "list", "missing/models.py:Thing"]) == 2
    assert "file not found: missing/models.py" in capsys.readouterr().err
