"""The notes example's committed stubs are exactly what its generator writes from its proto."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import descriptor_pb2

from notes_service.generate_stubs import DEFAULT_OUT_DIR, PROTOSET_NAME, generate


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_committed_stubs_and_protoset_match_the_proto(tmp_path: Path) -> None:
    generate(tmp_path)
    fresh, committed = _files(tmp_path), _files(DEFAULT_OUT_DIR)
    stale = sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))
    assert not stale, f"stale, run `python -m notes_service.generate_stubs`: {stale}"


def test_every_element_of_the_notes_proto_is_commented() -> None:
    protoset = descriptor_pb2.FileDescriptorSet.FromString((DEFAULT_OUT_DIR / PROTOSET_NAME).read_bytes())
    (notes_file,) = [file for file in protoset.file if file.package == "notes.v1"]
    commented = {
        tuple(location.path)
        for location in notes_file.source_code_info.location
        if location.leading_comments.strip()
    }
    expected = {(6, 0)} | {(6, 0, 2, index) for index in range(len(notes_file.service[0].method))}
    for m_index, message in enumerate(notes_file.message_type):
        expected |= {(4, m_index)} | {(4, m_index, 2, f_index) for f_index in range(len(message.field))}
    assert not expected - commented, f"uncommented descriptor paths: {sorted(expected - commented)}"
