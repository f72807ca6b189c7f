"""The first-party list's `stateless` flag: the only thing that lets callers share an MCP session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atoms_grpc.first_party_mcps import FirstPartyListError, load_first_party_mcps


def _write(tmp_path: Path, entry: dict[str, object]) -> Path:
    path = tmp_path / "first_party_mcps.json"
    path.write_text(json.dumps({"tools": {"url": "https://mcp.example/mcp", **entry}}), encoding="utf-8")
    return path


def test_the_packaged_list_marks_the_atoms_mcp_stateless() -> None:
    (atoms,) = load_first_party_mcps()
    assert (atoms.key, atoms.stateless) == ("atoms", True)


def test_an_entry_without_the_flag_is_stateful(tmp_path: Path) -> None:
    (entry,) = load_first_party_mcps(_write(tmp_path, {}))
    assert entry.stateless is False


@pytest.mark.parametrize("value", ["true", 1, None], ids=["a quoted true", "a number", "null"])
def test_a_flag_that_is_not_a_json_boolean_is_refused(tmp_path: Path, value: object) -> None:
    with pytest.raises(FirstPartyListError, match="stateless must be true or false"):
        load_first_party_mcps(_write(tmp_path, {"stateless": value}))
