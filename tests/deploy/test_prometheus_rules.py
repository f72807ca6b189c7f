"""deploy/prometheus and deploy/grafana: promtool's verdict on the alert rules, their unit tests and
the dashboard's queries, and every metric they name is one the services export.

promtool is Debian's (package prometheus), taken out of the .deb into var/tools/prometheus by
`make promtool`, which `make test` runs. `ATOMS_PROMTOOL_BIN` names another binary; `promtool` on
PATH is used otherwise.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

from tests.deploy.envoy_edge import REPO

RULES = REPO / "deploy" / "prometheus" / "atoms-alerts.yaml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "atoms-alerts.test.yaml"
DASHBOARD = REPO / "deploy" / "grafana" / "atoms-token-path.json"
OPERATIONS_MD = REPO / "docs" / "operations.md"
K8S = REPO / "deploy" / "k8s"
DEBIAN_PROMTOOL = REPO / "var" / "tools" / "prometheus" / "usr" / "bin" / "promtool"

# Every module that defines Atoms metrics (importing one registers its metrics).
METRIC_MODULES = (
    "atoms_auth.metrics",
    "atoms_grpc.service_metrics",
    "atoms_grpc.http_metrics",
    "atoms_grpc.auth_service_monitor",
    "atoms_grpc.auth_client_metrics",
    "atoms_agent.mcp_session_metrics",
)
# Series Prometheus makes itself rather than scraping them.
FROM_PROMETHEUS = frozenset({"up"})
# The series a metric family is stored as, by type (a family without children has no samples yet).
# A counter's or a histogram's family name itself is never a series.
_SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
}
# Grafana's variables, as a query would see them with a 30 s scrape interval.
GRAFANA_VARIABLES = {"$__rate_interval": "2m", "$__interval": "30s", "$__range": "6h"}

_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_LABEL_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENTIFIERS = re.compile(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"offset", "bool", "inf", "nan"}
)
_DOCS_REFERENCE = re.compile(r"docs/operations\.md,(.*)$", re.DOTALL)


@pytest.fixture(scope="module")
def promtool() -> str:
    for candidate in (os.environ.get("ATOMS_PROMTOOL_BIN"), str(DEBIAN_PROMTOOL), shutil.which("promtool")):
        if candidate and os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return candidate
    pytest.fail(f"promtool is not installed: run `make promtool` (it puts Debian's at {DEBIAN_PROMTOOL})")


def _run(promtool: str, *args: str | Path) -> tuple[int, str]:
    result = subprocess.run(
        [promtool, *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    return result.returncode, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in _rules() if "alert" in rule}


def _unit_tests() -> list[dict[str, Any]]:
    return list(yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"])


def _dashboard() -> dict[str, Any]:
    return dict(json.loads(DASHBOARD.read_text(encoding="utf-8")))


def _dashboard_queries() -> Iterator[tuple[str, str]]:
    """(`panel <id> <refId>`, expression) of every query of the dashboard."""
    for panel in _dashboard()["panels"]:
        for target in panel.get("targets", []):
            yield f"panel {panel['id']} {target['refId']}", target["expr"]


def _as_promql(query: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        query = query.replace(variable, value)
    return query


def _check_queries(promtool: str, queries: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    """promtool's verdict on `queries` (name: expression), each written as a recording rule."""
    rules = [
        {"record": "query:" + re.sub(r"\W", "_", name), "expr": query} for name, query in queries.items()
    ]
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "queries", "rules": rules}]}), encoding="utf-8")
    return _run(promtool, "check", "rules", path)


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression selects (not its functions, labels or keywords)."""
    text = _STRINGS.sub('""', expression)
    text = _LABEL_MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _LABEL_LISTS.sub(" ", text)
    names = set()
    for match in _IDENTIFIERS.finditer(text):
        if text[match.end() :].lstrip().startswith("(") or match.group().lower() in _KEYWORDS:
            continue  # a function or an aggregation, or an operator's keyword
        names.add(match.group())
    return names


def _exported_series_names() -> set[str]:
    missing = []
    for module in METRIC_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            missing.append(module)
    if missing:
        pytest.fail(
            f"{', '.join(missing)} cannot be imported: the rules and the dashboard use the metrics "
            "these modules define (atoms_auth_client_cache_lookups, atoms_auth_client_calls, "
            "atoms_agent_mcp_sessions, atoms_agent_mcp_session_evictions)"
        )
    return _registered_series_names()


def _registered_series_names() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        names.update(sample.name for sample in family.samples)
        names.update(family.name + suffix for suffix in _SERIES_SUFFIXES.get(family.type, ("",)))
    return names


def _operations_headings() -> set[str]:
    lines = OPERATIONS_MD.read_text(encoding="utf-8").splitlines()
    return {line.lstrip("#").strip() for line in lines if line.startswith("#")}


def test_promtool_accepts_the_rules(promtool: str) -> None:
    code, output = _run(promtool, "check", "rules", RULES)

    assert code == 0, output
    assert f"SUCCESS: {len(_rules())} rules found" in output


def test_the_rules_pass_their_unit_tests(promtool: str) -> None:
    code, output = _run(promtool, "test", "rules", RULE_TESTS)

    assert code == 0, output
    assert "SUCCESS" in output


def test_promtool_refuses_a_rule_that_is_not_promql(promtool: str, tmp_path: Path) -> None:
    code, output = _check_queries(
        promtool, {"broken": "sum(rate(atoms_auth_validations_total[5m])"}, tmp_path
    )

    assert code != 0, output
    assert "FAILED" in output


def test_a_unit_test_expecting_an_alert_that_does_not_fire_fails(promtool: str, tmp_path: Path) -> None:
    unit_test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": 'up{job="atoms-auth",instance="auth-0"}', "values": "1x20"}],
                "alert_rule_test": [
                    {
                        "eval_time": "15m",
                        "alertname": "AtomsMetricsTargetDown",
                        "exp_alerts": [{"exp_labels": {"severity": "warning", "job": "atoms-auth"}}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "wrong.test.yaml"
    path.write_text(yaml.safe_dump(unit_test), encoding="utf-8")

    code, output = _run(promtool, "test", "rules", path)

    assert code != 0, output
    assert "AtomsMetricsTargetDown" in output


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for unit_test in _unit_tests():
        for case in unit_test.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])

    assert set(_alerts()) <= firing, sorted(set(_alerts()) - firing)
    assert set(_alerts()) <= quiet, sorted(set(_alerts()) - quiet)
    assert firing | quiet <= set(_alerts()), "a unit test names an alert the rules do not have"


@pytest.mark.parametrize("name", sorted(_alerts()))
def test_alert_has_a_severity_a_wait_and_annotations_pointing_at_existing_docs(name: str) -> None:
    alert = _alerts()[name]
    reference = _DOCS_REFERENCE.search(alert["annotations"]["description"])

    assert alert["labels"]["severity"] in {"critical", "warning"}
    assert alert.get("for"), "every alert waits before it fires"
    assert alert["annotations"]["summary"]
    assert reference is not None, "the description names the docs/operations.md sections to read"
    sections = set(re.findall(r'"([^"]+)"', reference.group(1)))
    assert "Alerts and the dashboard" in sections
    assert sections <= _operations_headings(), sorted(sections - _operations_headings())
    assert f"`{name}`" in OPERATIONS_MD.read_text(encoding="utf-8")


def test_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    queries = {where: _as_promql(query) for where, query in _dashboard_queries()}

    assert queries
    assert not {where: q for where, q in queries.items() if "$" in q}, "a Grafana variable this test lacks"
    code, output = _check_queries(promtool, queries, tmp_path)
    assert code == 0, output


def test_dashboard_panels_are_timeseries_or_stat_on_the_datasource_variable() -> None:
    dashboard = _dashboard()
    (variable,) = dashboard["templating"]["list"]
    source = {"type": "prometheus", "uid": "${datasource}"}

    assert (variable["name"], variable["type"], variable["query"]) == (
        "datasource",
        "datasource",
        "prometheus",
    )
    assert dashboard["schemaVersion"] >= 39
    panels = dashboard["panels"]
    assert {panel["type"] for panel in panels} <= {"timeseries", "stat"}
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"] == source, panel["title"]
        assert all(target["datasource"] == source for target in panel["targets"]), panel["title"]


def test_every_metric_of_the_rules_the_unit_tests_and_the_dashboard_is_exported() -> None:
    exported = _exported_series_names()
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    used = {f"rule {rule.get('alert') or rule['record']}": metric_names(rule["expr"]) for rule in _rules()}
    used |= {where: metric_names(_as_promql(query)) for where, query in _dashboard_queries()}
    for unit_test in _unit_tests():
        for series in unit_test.get("input_series", []):
            used[f"unit test {unit_test['name']!r}"] = {series["series"].split("{", 1)[0]}

    unknown = {where: names - exported - recorded - FROM_PROMETHEUS for where, names in used.items()}

    assert not {where: names for where, names in unknown.items() if names}
    assert set().union(*used.values()) & exported, "no exported metric found at all"


def test_metric_names_are_told_apart_from_functions_labels_and_keywords() -> None:
    expression = (
        'histogram_quantile(0.99, sum by (le, job) (rate(atoms_x_bucket{route!~"/a|b(c)"}[5m] offset 1h)))'
        " / on (job) group_left sum without (instance) (atoms_y_total) > bool 1e3"
        ' or label_replace(vector(1), "dst", "$1", "src", "(.*)") unless atoms:recorded:ratio5m'
    )

    assert metric_names(expression) == {"atoms_x_bucket", "atoms_y_total", "atoms:recorded:ratio5m"}


def test_a_misspelt_metric_is_reported() -> None:
    importlib.import_module("atoms_auth.metrics")
    exported = _registered_series_names()

    assert metric_names("rate(atoms_auth_validations_total[5m])") <= exported
    assert not metric_names("rate(atoms_auth_validation_total[5m])") <= exported
    assert "atoms_auth_validations" not in exported, "a counter is stored with _total"


def test_the_jobs_the_rules_name_are_the_pod_names_of_deploy_k8s() -> None:
    deployments = {
        document["metadata"]["name"]: document
        for path in K8S.glob("*.yaml")
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if document and document.get("kind") == "Deployment"
    }
    jobs = set(re.findall(r'job=~"([^"]+)"', RULES.read_text(encoding="utf-8"))[0].split("|"))

    assert jobs == set(deployments)
    for name, deployment in deployments.items():
        assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == name
