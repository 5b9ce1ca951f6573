"""A user's own column-mapping file (``usm import --mapping``): a broken file is refused with
its name and the reason, never with a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.hostile_yaml import aliases
from usm.services.audit import MappingError, load_mapping
from usm.services.audit.mapping import shipped_mapping


@pytest.mark.parametrize(("content", "reason"), [
    (b"name: x\ncolumns: [\n", "x.yaml: while parsing"),
    (b"name: x\nwhen: 2001-13-01\n", "x.yaml: not a valid mapping file: month must be in 1..12"),
    (b"\xff\xfe not utf-8", "x.yaml: not a valid mapping file: 'utf-8' codec can't decode"),
    (b"[" * 3000 + b"]" * 3000, "x.yaml: not a valid mapping file: nested too deeply"),
    (aliases(51).encode(), "x.yaml: not a valid mapping file: more than 50 aliases (*name)"),
])
def test_broken_mapping_files_are_named(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    with pytest.raises(MappingError) as refused:
        load_mapping(path)
    assert str(refused.value).startswith(reason), str(refused.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="nowhere.yaml"):
        load_mapping(tmp_path / "nowhere.yaml")


def test_shipped_mappings_load() -> None:
    assert shipped_mapping("snipeit").columns and shipped_mapping("netbox").columns
