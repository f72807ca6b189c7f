"""deploy/k8s: every document parses, and what the manifests tell the services is what the code reads."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from atoms_agent.server import AGENT_SERVICE_NAME
from atoms_agent.settings import load_agent_settings
from atoms_auth.settings import load_auth_settings
from atoms_cli import build_parser
from atoms_grpc.settings_loading import SettingsError
from atoms_mcp.settings import load_mcp_settings, require_authentication
from tests.deploy.envoy_edge import REPO
from tests.support.token_factory import remember

K8S = REPO / "deploy" / "k8s"
CONFIGURATION_MD = REPO / "docs" / "configuration.md"
SERVICES = {"atoms-auth": "auth", "atoms-agent": "agent", "atoms-mcp": "mcp"}
REAL_INTERNAL_TOKEN = remember("k8s-test-internal-token-0123456789abcdef")


def _documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document is not None:
                yield path, document


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    return [document for path, document in _documents() if path.name != "kustomization.yaml"]


def _one(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    return found


def _deployments(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == "Deployment"]


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _environment(manifests: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, str]:
    """The container's environment as Kubernetes would resolve it (optional keys left out when absent)."""
    config = _one(manifests, "ConfigMap", "atoms-config")["data"]
    secret = _one(manifests, "Secret", "atoms-secrets")["stringData"]
    resolved: dict[str, str] = {}
    for entry in _container(deployment).get("env", []):
        if "value" in entry:
            resolved[entry["name"]] = entry["value"]
            continue
        source = entry["valueFrom"]
        ref, values = (
            (source["configMapKeyRef"], config)
            if "configMapKeyRef" in source
            else (source["secretKeyRef"], secret)
        )
        if ref["key"] in values:
            resolved[entry["name"]] = values[ref["key"]]
    return resolved


def test_every_document_parses_with_a_kind_and_a_name() -> None:
    documents = list(_documents())

    assert len(documents) >= 10
    for path, document in documents:
        assert document.get("kind"), f"{path.name}: a document without kind"
        assert path.name == "kustomization.yaml" or document["metadata"]["name"], f"{path.name}: no name"


def test_kustomization_lists_every_manifest_file() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))

    assert set(kustomization["resources"]) == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_has_a_deployment_and_a_service_selecting_its_pods(
    manifests: list[dict[str, Any]], name: str
) -> None:
    deployment, service = _one(manifests, "Deployment", name), _one(manifests, "Service", name)

    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    port_names = {port["name"] for port in _container(deployment)["ports"]}
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names


def test_container_env_names_are_documented_in_configuration_md(manifests: list[dict[str, Any]]) -> None:
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", CONFIGURATION_MD.read_text(encoding="utf-8")))

    for deployment in _deployments(manifests):
        names = {entry["name"] for entry in _container(deployment).get("env", [])}
        assert names <= documented, f"{deployment['metadata']['name']}: {sorted(names - documented)}"


def test_every_required_config_reference_names_an_existing_key(manifests: list[dict[str, Any]]) -> None:
    keys = {
        "configMapKeyRef": set(_one(manifests, "ConfigMap", "atoms-config")["data"]),
        "secretKeyRef": set(_one(manifests, "Secret", "atoms-secrets")["stringData"]),
    }
    for deployment in _deployments(manifests):
        for entry in _container(deployment).get("env", []):
            for kind, ref in entry.get("valueFrom", {}).items():
                assert ref.get("optional") or ref["key"] in keys[kind], (
                    f"{entry['name']}: no key {ref['key']}"
                )


@pytest.mark.parametrize("name", SERVICES)
def test_container_command_is_a_valid_atoms_command_line(manifests: list[dict[str, Any]], name: str) -> None:
    container = _container(_one(manifests, "Deployment", name))

    options = build_parser().parse_args(container["args"])

    assert container["command"] == ["atoms"]
    assert options.command == SERVICES[name]
    assert options.port in {port["containerPort"] for port in container["ports"]}


@pytest.mark.parametrize("name", SERVICES)
def test_pods_are_annotated_for_scraping_on_the_metrics_port_they_serve(
    manifests: list[dict[str, Any]], name: str
) -> None:
    deployment = _one(manifests, "Deployment", name)
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    container = _container(deployment)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}

    options = build_parser().parse_args(container["args"])

    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == ports["metrics"] == options.metrics_port


def test_auth_service_is_probed_through_grpc_health(manifests: list[dict[str, Any]]) -> None:
    container = _container(_one(manifests, "Deployment", "atoms-auth"))

    assert container["readinessProbe"]["grpc"] == {"port": 50051}
    assert container["livenessProbe"]["grpc"] == {"port": 50051}


def test_agent_readiness_is_its_service_health_and_liveness_the_overall_health(
    manifests: list[dict[str, Any]],
) -> None:
    container = _container(_one(manifests, "Deployment", "atoms-agent"))

    # The per-service name goes NOT_SERVING while the auth service is unreachable; "" does not.
    assert container["readinessProbe"]["grpc"] == {"port": 50052, "service": AGENT_SERVICE_NAME}
    assert container["livenessProbe"]["grpc"] == {"port": 50052}


def test_mcp_readiness_is_ready_and_liveness_is_health(manifests: list[dict[str, Any]]) -> None:
    container = _container(_one(manifests, "Deployment", "atoms-mcp"))

    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}


@pytest.mark.parametrize("name", SERVICES)
def test_containers_run_as_non_root_on_a_read_only_root_filesystem(
    manifests: list[dict[str, Any]], name: str
) -> None:
    deployment = _one(manifests, "Deployment", name)

    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    context = _container(deployment)["securityContext"]
    assert (context["readOnlyRootFilesystem"], context["allowPrivilegeEscalation"]) == (True, False)


@pytest.mark.parametrize("name", SERVICES)
def test_containers_have_resource_requests_and_limits(manifests: list[dict[str, Any]], name: str) -> None:
    resources = _container(_one(manifests, "Deployment", name))["resources"]

    assert {"cpu", "memory"} <= set(resources["requests"]) & set(resources["limits"])


def test_authorization_policies_are_custom_and_name_the_mesh_provider(
    manifests: list[dict[str, Any]],
) -> None:
    snippet = (K8S / "istio-ext-authz.yaml").read_text(encoding="utf-8")
    mesh = yaml.safe_load("\n".join(line[3:] for line in snippet.splitlines() if line.startswith("#   ")))
    (provider,) = mesh["meshConfig"]["extensionProviders"]
    policies = [m for m in manifests if m["kind"] == "AuthorizationPolicy"]

    assert {p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for p in policies} == {
        "atoms-agent",
        "atoms-mcp",
    }
    for policy in policies:
        assert (policy["spec"]["action"], policy["spec"]["provider"]["name"]) == ("CUSTOM", provider["name"])
    grpc_provider = provider["envoyExtAuthzGrpc"]
    assert (grpc_provider["service"], grpc_provider["port"]) == ("atoms-auth.atoms.svc.cluster.local", 50051)
    assert (grpc_provider["timeout"], grpc_provider["failOpen"]) == ("0.2s", False)


def _with_files(
    manifests: list[dict[str, Any]], env: dict[str, str], tmp_path: Path, token: str
) -> dict[str, str]:
    """Put the mounted files where the environment says, the internal token replaced by `token`."""
    config = _one(manifests, "ConfigMap", "atoms-config")["data"]
    tokens = _one(manifests, "Secret", "atoms-secrets")["stringData"]["internal-tokens.toml"]
    (tmp_path / "auth.toml").write_text(config["auth.toml"], encoding="utf-8")
    (tmp_path / "tokens.toml").write_text(tokens.replace("REPLACE_ME", token), encoding="utf-8")
    return {
        **env,
        "ATOMS_AUTH_CONFIG": str(tmp_path / "auth.toml"),
        "ATOMS_INTERNAL_TOKENS_FILE": str(tmp_path / "tokens.toml"),
    }


def test_auth_service_accepts_its_manifest_configuration(
    manifests: list[dict[str, Any]], tmp_path: Path
) -> None:
    env = _environment(manifests, _one(manifests, "Deployment", "atoms-auth"))

    settings = load_auth_settings(_with_files(manifests, env, tmp_path, REAL_INTERNAL_TOKEN))

    assert settings.envoy_remove_authorization is False
    assert [t.name for t in settings.internal_tokens] == ["agent"]


def test_auth_service_refuses_to_start_until_the_placeholder_token_is_replaced(
    manifests: list[dict[str, Any]], tmp_path: Path
) -> None:
    env = _environment(manifests, _one(manifests, "Deployment", "atoms-auth"))

    with pytest.raises(SettingsError, match="at least 32"):
        load_auth_settings(_with_files(manifests, env, tmp_path, "REPLACE_ME"))


def test_agent_accepts_its_manifest_configuration(manifests: list[dict[str, Any]]) -> None:
    settings = load_agent_settings(_environment(manifests, _one(manifests, "Deployment", "atoms-agent")))

    assert settings.auth_address == "atoms-auth:50051"
    assert settings.audience == "urn:atoms:agent"
    assert settings.first_party_origins == frozenset({"http://atoms-mcp:8000"})


def test_mcp_accepts_its_manifest_configuration_with_authentication(manifests: list[dict[str, Any]]) -> None:
    settings = load_mcp_settings(_environment(manifests, _one(manifests, "Deployment", "atoms-mcp")))

    require_authentication(settings)
    assert settings.resource_url == "https://mcp.atoms.tech/api/mcp"


def test_kubectl_kustomize_builds_the_manifests() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")

    result = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr
    kinds = [document["kind"] for document in yaml.safe_load_all(result.stdout)]
    assert kinds.count("Deployment") == 3
    assert kinds.count("AuthorizationPolicy") == 2
