"""infra/dashboard.yaml: its body is valid JSON once CloudFormation substitutes it, every metric it
draws is one the code emits with exactly those dimensions, and the metrics operators watch are on it."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.conftest import REGION, load_template

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "infra" / "dashboard.yaml"
WATCHED = {
    "Unsubscribes",
    "Pauses",
    "Resubscribes",
    "SurveyAnswers",
    "SunsetTransitions",
    "SunsetBrakes",
    "EngagementRecords",
    "Decisions",
    "CodesIssued",
    "Redemptions",
    "RejectedInputs",
    "UnexpectedErrors",
    "CancelSessions",
    "CancelWebhooks",
    "CancelWebhooksDeadLettered",
}
MATH = re.compile(r"^[0-9a-z_ ()*/+.-]+$")  # metric math over the widget's own ids
SEARCH = re.compile(
    r"""^SEARCH\('\{(?P<namespace>[^,}]+),(?P<dims>[^}]*)\} MetricName="(?P<name>\w+)"', 'Sum', \d+\)$"""
)


def _names(argument: ast.expr) -> list[str]:
    if isinstance(argument, ast.IfExp):
        return _names(argument.body) + _names(argument.orelse)
    return [argument.value] if isinstance(argument, ast.Constant) and isinstance(argument.value, str) else []


def _service_dimension() -> set[str]:
    """Powertools adds `service` to every metric when POWERTOOLS_SERVICE_NAME is set (it is, for
    every function, in .chalice/config.json); without it only dimensionless metrics get one."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["environment_variables"].get("POWERTOOLS_SERVICE_NAME")
    return {"service"}


SERVICE_DIMENSION = _service_dimension()


def emitted() -> dict[str, set[tuple[str, ...]]]:
    """Every `count("Name", dim=...)` call in chalicelib: metric name -> its dimension sets."""
    found: dict[str, set[tuple[str, ...]]] = {}
    for path in (ROOT / "chalicelib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "count" and node.args:
                dims = tuple(sorted({k.arg for k in node.keywords} | SERVICE_DIMENSION))
                for name in _names(node.args[0]):  # `count("A" if ... else "B", ...)` emits either
                    found.setdefault(name, set()).add(dims)
    return found


def body() -> dict:
    template = load_template(DASHBOARD)
    sub = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    namespace = template["Parameters"]["Namespace"]["Default"]
    text = sub.replace("${AWS::Region}", REGION).replace("${Namespace}", namespace)
    assert "${" not in text, "a substitution CloudFormation would not make"
    return json.loads(text)


def drawn(dashboard: dict) -> list[tuple[str, str, tuple[str, ...]]]:
    """(namespace, metric, dimensions) of every line of every metric widget."""
    lines = []
    for widget in dashboard["widgets"]:
        if widget["type"] != "metric":
            continue
        assert widget["properties"]["region"] == REGION
        ids = {m[-1]["id"] for m in widget["properties"]["metrics"] if not isinstance(m[0], dict)}
        for metric in widget["properties"]["metrics"]:
            if isinstance(metric[0], dict) and not metric[0]["expression"].startswith("SEARCH("):
                expression = metric[0]["expression"]
                assert MATH.match(expression) and set(re.findall(r"[a-z_]+", expression)) <= ids, expression
                continue
            if isinstance(metric[0], dict):
                match = SEARCH.match(metric[0]["expression"])
                assert match, metric[0]["expression"]
                dims = tuple(sorted(d.strip() for d in match["dims"].split(",") if d.strip()))
                lines.append((match["namespace"], match["name"], dims))
            else:
                namespace, name, *rest = [m for m in metric if not isinstance(m, dict)]
                lines.append((namespace, name, tuple(sorted(rest[0::2]))))
    return lines


def test_the_dashboard_body_is_valid_json_on_a_24_column_grid():
    dashboard = body()
    assert dashboard["widgets"]
    for widget in dashboard["widgets"]:
        assert widget["x"] + widget["width"] <= 24 and widget["height"] > 0
        if widget["type"] == "metric":
            ids = [m[0]["id"] if isinstance(m[0], dict) else m[-1]["id"] for m in widget["properties"]["metrics"]]
            assert len(ids) == len(set(ids)) and all(re.match(r"^[a-z][a-zA-Z0-9_]*$", i) for i in ids)


def test_every_metric_drawn_is_emitted_by_the_code_with_those_dimensions():
    code = emitted()
    for namespace, name, dims in drawn(body()):
        assert namespace == "Offboard/prod"
        assert name in code, f"{name} is on the dashboard but no code emits it"
        assert dims in code[name], f"{name} is emitted with {code[name]}, the dashboard asks for {dims}"


def test_the_metrics_operators_watch_are_all_on_the_dashboard():
    assert {name for _, name, _ in drawn(body())} >= WATCHED
    assert set(emitted()) >= WATCHED


def test_the_dashboard_passes_cfn_lint():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    if not cfn_lint.exists():
        pytest.skip("cfn-lint is not installed")
    result = subprocess.run([str(cfn_lint), str(DASHBOARD)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dimensions_assumed_are_the_ones_powertools_writes():
    """Emit two metrics with the functions' environment and read the embedded metric format."""
    import os

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {**os.environ, **config["environment_variables"]}
    code = (
        "from chalicelib.core.observability import count, flush\n"
        "count('Unsubscribes', source='page'); count('Erasures'); flush()"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    written = {}
    for line in out.stdout.splitlines():
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                written[metric["Name"]] = tuple(sorted(directive["Dimensions"][0]))
    assert written == {"Unsubscribes": ("service", "source"), "Erasures": ("service",)}
    assert ("service", "source") in emitted()["Unsubscribes"] and ("service",) in emitted()["Erasures"]


def test_every_alarm_on_our_metrics_watches_a_series_the_code_emits():
    """An alarm names one series (namespace, metric, exact dimensions); one on a series nobody
    writes stays green for ever (SunsetBrakeAlarm did: the brakes were counted per list_id only)."""
    template = load_template(ROOT / "infra" / "resources.yaml")
    code = emitted()
    alarms = {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("Namespace") == {"Fn::Sub": "Offboard/${Stage}"}
    }
    assert "SunsetBrakeAlarm" in alarms
    for name, alarm in alarms.items():
        dims = tuple(sorted(d["Name"] for d in alarm.get("Dimensions", [])))
        assert dims in code.get(alarm["MetricName"], set()), f"{name} watches {alarm['MetricName']} {dims}"
        service = [d["Value"] for d in alarm.get("Dimensions", []) if d["Name"] == "service"]
        assert service == ["offboard-api"]


def test_each_stage_writes_its_own_metrics_namespace():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    namespaces = {
        stage: values["environment_variables"]["POWERTOOLS_METRICS_NAMESPACE"]
        for stage, values in config["stages"].items()
    }
    assert namespaces == {"dev": "Offboard/dev", "prod": "Offboard/prod"}
    assert "POWERTOOLS_METRICS_NAMESPACE" not in config["environment_variables"]
