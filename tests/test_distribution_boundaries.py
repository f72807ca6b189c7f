"""The repository's distributions stay separate: what each one imports, and what it declares.

Every distribution is a folder with its own `pyproject.toml`. A service never imports another
service; the kit and the Python client import no service; each distribution declares every
project distribution it imports (so installing it alone pulls in what it needs).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# import name -> (folder, distribution name)
DISTRIBUTIONS = {
    "atoms": ("gen/python", "atoms-contracts"),
    "atoms_grpc": ("services/atoms_grpc", "atoms-grpc-kit"),
    "atoms_cli": ("services/cli", "atoms-cli"),
    "atoms_agent_client": ("clients/python", "atoms-agent-client"),
    "atoms_auth": ("services/auth", "atoms-auth"),
    "atoms_mcp": ("services/mcp", "atoms-mcp"),
    "atoms_agent": ("services/agent", "atoms-agent"),
    "atoms_devtools": ("services/devtools", "atoms-devtools"),
}
SERVICES = {"atoms_auth", "atoms_mcp", "atoms_agent"}
LIBRARIES = {"atoms", "atoms_grpc", "atoms_agent_client", "atoms_cli"}
# Third-party packages no library may import: they belong to one service.
SERVICE_ONLY_PACKAGES = {"fastmcp", "mcp", "sqlalchemy", "jwt", "httpx2"}


def _imported_top_level_names(package_dir: Path) -> dict[str, set[str]]:
    """Top-level module name -> the files (relative) that import it, over a package's sources."""
    found: dict[str, set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], set()).add(str(path.relative_to(REPO_ROOT)))
    return found


def _declared_requirements(folder: str) -> set[str]:
    document = tomllib.loads((REPO_ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))
    names = set()
    for requirement in document["project"].get("dependencies", []):
        names.add(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower())
    return names


@pytest.mark.parametrize("import_name", sorted(DISTRIBUTIONS))
def test_every_distribution_has_its_own_pyproject_naming_its_package(import_name: str) -> None:
    folder, distribution = DISTRIBUTIONS[import_name]
    document = tomllib.loads((REPO_ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))
    assert document["project"]["name"] == distribution
    assert (REPO_ROOT / folder / import_name / "__init__.py").is_file()


@pytest.mark.parametrize("import_name", sorted(DISTRIBUTIONS))
def test_a_distribution_imports_only_the_project_packages_it_may_and_declares_them(import_name: str) -> None:
    folder, _ = DISTRIBUTIONS[import_name]
    imported = _imported_top_level_names(REPO_ROOT / folder / import_name)
    project_imports = {name for name in imported if name in DISTRIBUTIONS and name != import_name}
    if import_name in SERVICES:
        forbidden = project_imports & (SERVICES | {"atoms_devtools", "atoms_agent_client"})
    elif import_name in LIBRARIES:
        forbidden = project_imports & (SERVICES | {"atoms_devtools"})
    else:  # the development tools may use the libraries, never a service's code
        forbidden = project_imports & SERVICES
    assert not forbidden, {name: sorted(imported[name]) for name in forbidden}
    declared = _declared_requirements(folder)
    undeclared = {name for name in project_imports if DISTRIBUTIONS[name][1] not in declared}
    assert not undeclared, f"{folder}/pyproject.toml does not declare {sorted(undeclared)}"


@pytest.mark.parametrize("import_name", sorted(LIBRARIES))
def test_the_libraries_import_no_service_only_package(import_name: str) -> None:
    folder, _ = DISTRIBUTIONS[import_name]
    imported = _imported_top_level_names(REPO_ROOT / folder / import_name)
    # The kit's optional `sql` extra is the one exception (the next test).
    optional = {"services/atoms_grpc/atoms_grpc/sql_database.py"}
    leaked = {
        name: sorted(files - optional)
        for name, files in imported.items()
        if name in SERVICE_ONLY_PACKAGES and files - optional
    }
    assert not leaked


def test_the_kit_imports_sqlalchemy_only_in_its_optional_sql_module() -> None:
    imported = _imported_top_level_names(REPO_ROOT / "services/atoms_grpc/atoms_grpc")
    assert imported.get("sqlalchemy", set()) <= {"services/atoms_grpc/atoms_grpc/sql_database.py"}
    document = tomllib.loads((REPO_ROOT / "services/atoms_grpc/pyproject.toml").read_text(encoding="utf-8"))
    assert any(r.startswith("sqlalchemy") for r in document["project"]["optional-dependencies"]["sql"])


def test_every_third_party_import_of_a_service_is_declared() -> None:
    # The distribution name of each import name (where they differ) that the services use.
    distribution_of = {
        "jwt": "pyjwt",
        "grpc": "grpcio",
        "grpc_health": "grpcio-health-checking",
        "grpc_reflection": "grpcio-reflection",
        "grpc_status": "grpcio-status",
        "google": "protobuf",
        "envoy": "xds-protos",
        "yaml": "pyyaml",
        "mcp_types": "mcp",
        "httpcore2": "httpx2",
        "prometheus_client": "prometheus-client",
        "pydantic_settings": "pydantic-settings",
        # A namespace shared by the OpenTelemetry distributions (api, sdk, proto, exporters,
        # instrumentations): one of them must be declared.
        "opentelemetry": "opentelemetry-*",
    }
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    problems = {}
    for import_name, (folder, _) in DISTRIBUTIONS.items():
        declared = _declared_requirements(folder)
        optional = tomllib.loads((REPO_ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))[
            "project"
        ].get("optional-dependencies", {})
        for requirements in optional.values():
            declared |= {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}
        imported = _imported_top_level_names(REPO_ROOT / folder / import_name)
        for name in imported:
            if name in stdlib or name in DISTRIBUTIONS:
                continue
            wanted = distribution_of.get(name, name.replace("_", "-")).lower()
            if wanted.endswith("*"):
                if not any(requirement.startswith(wanted[:-1]) for requirement in declared):
                    problems.setdefault(folder, []).append(name)
            elif wanted not in declared:
                problems.setdefault(folder, []).append(name)
    assert not problems


@pytest.mark.parametrize(
    "package",
    [
        "atoms_grpc",
        "atoms_agent_client",
        "atoms_devtools.authkit_emulator",
        "atoms_devtools.dev_model",
        "atoms_devtools.loadgen",
    ],
)
def test_every_name_a_lazy_package_exports_loads(package: str) -> None:
    import importlib

    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(module._MODULE_OF)
    for name in module.__all__:
        assert getattr(module, name) is not None
