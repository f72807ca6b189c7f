"""The committed stubs and protoset are exactly what `make protos` generates from `protos/`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_protos", REPO_ROOT / "scripts" / "generate_protos.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_committed_stubs_match_the_protos(tmp_path: Path) -> None:
    generator = _load_generator()
    generator.generate(tmp_path / "python", tmp_path / "atoms.protoset")
    # The generated package only: gen/python also holds the distribution's pyproject.toml.
    fresh, committed = _files(tmp_path / "python" / "atoms"), _files(REPO_ROOT / "gen" / "python" / "atoms")
    stale = sorted(name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name))
    assert not stale, f"generated code is stale, run `make protos`: {stale}"


def test_committed_protoset_matches_the_protos(tmp_path: Path) -> None:
    generator = _load_generator()
    generator.generate(tmp_path / "python", tmp_path / "atoms.protoset")
    committed = (REPO_ROOT / "loadtest" / "atoms.protoset").read_bytes()
    assert (tmp_path / "atoms.protoset").read_bytes() == committed, "run `make protos`"


def test_every_proto_element_is_commented() -> None:
    from google.protobuf import descriptor_pb2

    protoset = descriptor_pb2.FileDescriptorSet.FromString(
        (REPO_ROOT / "loadtest" / "atoms.protoset").read_bytes()
    )
    ours = [f for f in protoset.file if f.package.startswith("atoms.")]
    assert ours
    for file in ours:
        commented = {
            tuple(loc.path) for loc in file.source_code_info.location if loc.leading_comments.strip()
        }
        missing = []
        for m_index, message in enumerate(file.message_type):
            if (4, m_index) not in commented:
                missing.append(message.name)
            missing += [
                f"{message.name}.{field.name}"
                for f_index, field in enumerate(message.field)
                if (4, m_index, 2, f_index) not in commented
            ]
        for e_index, enum in enumerate(file.enum_type):
            missing += [enum.name] if (5, e_index) not in commented else []
            missing += [
                f"{enum.name}.{value.name}"
                for v_index, value in enumerate(enum.value)
                if (5, e_index, 2, v_index) not in commented
            ]
        for s_index, service in enumerate(file.service):
            missing += [service.name] if (6, s_index) not in commented else []
            missing += [
                f"{service.name}.{method.name}"
                for r_index, method in enumerate(service.method)
                if (6, s_index, 2, r_index) not in commented
            ]
        assert not missing, f"{file.name}: uncommented {missing}"
