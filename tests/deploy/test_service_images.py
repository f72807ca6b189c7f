"""One container image per service, holding only that service's distribution.

No image is built here (the machine has no container daemon): these checks read the
Dockerfiles and the Kubernetes manifests. What an image's `pip wheel` / `pip install` steps do
is what `tests/test_distribution_installs.py` runs for the auth service in a fresh venv.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.test_distribution_boundaries import DISTRIBUTIONS

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "mcp", "agent")
_FOLDER_OF = {distribution: folder for folder, distribution in DISTRIBUTIONS.values()}


def _project_dependencies(folder: str) -> set[str]:
    document = tomllib.loads((REPO_ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))
    names = {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0] for r in document["project"]["dependencies"]}
    return {name for name in names if name in _FOLDER_OF}


def _folders_needed(service: str) -> set[str]:
    """The service's folder and every project distribution it depends on, transitively."""
    needed, pending = set(), [f"services/{service}"]
    while pending:
        folder = pending.pop()
        if folder not in needed:
            needed.add(folder)
            pending.extend(_FOLDER_OF[name] for name in _project_dependencies(folder))
    return needed


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_copies_and_installs_only_what_the_service_needs(service: str) -> None:
    dockerfile = (REPO_ROOT / "services" / service / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\S+) \1$", dockerfile, flags=re.MULTILINE))
    assert copied == _folders_needed(service)
    wheels = re.search(r"pip wheel [^\n]* --wheel-dir /wheels (.+)$", dockerfile, flags=re.MULTILINE)
    assert wheels is not None
    assert set(wheels.group(1).split()) == copied
    # The service's own distribution, at the end of its line (or before a continuation).
    install_line = r"pip install [^\n]*--find-links /wheels (\S+)(?: \\)?$"
    installed = re.search(install_line, dockerfile, flags=re.MULTILINE)
    assert installed is not None
    assert installed.group(1) == f"atoms-{service}"
    assert "--no-index" in dockerfile  # the final stage installs from the built wheels only
    if service == "auth":
        # xds-protos overwrites opentelemetry-proto's files: the image puts them back last.
        restore = "--no-deps --force-reinstall opentelemetry-proto"
        assert dockerfile.index(restore) > installed.end()


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_runs_as_the_non_root_user_the_manifest_expects(service: str) -> None:
    dockerfile = (REPO_ROOT / "services" / service / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM \$\{PYTHON_IMAGE\}$", dockerfile, flags=re.MULTILINE)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", dockerfile, flags=re.MULTILINE)
    user = re.findall(r"^USER (\d+):(\d+)$", dockerfile, flags=re.MULTILINE)
    assert user == [("10001", "10001")]
    assert f'ENTRYPOINT ["atoms", "{service}", "serve"]' in dockerfile
    manifest = [
        doc for doc in yaml.safe_load_all((REPO_ROOT / "deploy/k8s" / f"{service}.yaml").read_text()) if doc
    ]
    deployment = next(doc for doc in manifest if doc["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert [container["image"] for container in pod["containers"]] == [f"atoms-{service}"]


def test_kustomize_names_each_service_image_once() -> None:
    kustomization = yaml.safe_load((REPO_ROOT / "deploy/k8s/kustomization.yaml").read_text())
    assert sorted(image["name"] for image in kustomization["images"]) == sorted(
        f"atoms-{s}" for s in SERVICES
    )
