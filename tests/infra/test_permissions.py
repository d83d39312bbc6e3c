"""Each stage's hand-written IAM policy (.chalice/policy-<stage>.json, as packaged into every
function's role) allows every AWS call the code made while the tests ran, and grants nothing
that no call uses (in each statement, each action and each resource is used by some call).

moto enforces no IAM, so a missing grant passes every other test and fails only in AWS: this
test is where it shows. The calls are recorded by tests/infra/aws_calls.py (a botocore hook on
every client); each needs IAM actions on resources, resolved for the stage the way its packaged
template resolves them: the resource's environment variable (`SUBSCRIBERS_TABLE`,
`UNSUBSCRIBE_QUEUE_URL`, `SECRETS_PARAMETER_PATH`, ...) as the function's packaged environment
sets it, in region REGION of account ACCOUNT, stack `offboard-<stage>`.

Besides the code's calls, the Lambda service calls AWS with the function's role: the SQS event
source mappings poll their queues, on-failure destinations receive failed asynchronous
invocations, logs and traces are written. Those needs are read from the packaged template.

This module runs last (aws_calls reorders it): the forward check holds for whatever ran before
it; the reverse check (no dead grants) only when the whole suite ran, and skips otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from tests.infra.aws_calls import SESSION, Call, Need, Resource, queue_name
from tests.infra.conftest import ACCOUNT, REGION, Resolver, load_template, resources

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("prod", "dev")
# Environment variables whose absence means the call is not made at all in that stage.
OPTIONAL_SOURCES = {
    "SECRETS_PARAMETER_PATH": "without it the secrets come from the environment, not SSM",
    "SES_CONFIGURATION_SET": "without it mail is sent with no configuration set",
}


@dataclass(frozen=True)
class Use:
    """An action on a resource ARN, and who needs it (for messages)."""

    action: str
    arn: str
    why: str


@cache
def pattern(text: str) -> re.Pattern:
    """IAM's wildcards: `*` any run of characters, `?` one."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text))


def listed(value) -> list:
    return value if isinstance(value, list) else [value]


def grants(statements: list[dict]) -> list[tuple[str, str, str]]:
    """(sid, action, resource pattern) for every pair a statement allows."""
    out = []
    for statement in statements:
        unsupported = {"NotAction", "NotResource", "Condition", "NotPrincipal"} & set(statement)
        assert statement["Effect"] == "Allow" and not unsupported, f"this test reads only plain Allow: {statement}"
        for action in listed(statement["Action"]):
            for resource in listed(statement["Resource"]):
                out.append((statement.get("Sid", "?"), action, resource))
    return out


def allows(granted: list[tuple[str, str, str]], action: str, arn: str) -> bool:
    return any(pattern(a.lower()).fullmatch(action.lower()) and pattern(r).fullmatch(arn) for _, a, r in granted)


# Resolution of a recorded call for one function of a stage.


class NotInStage(Exception):
    """The call is not made in this stage (its optional source is not set there)."""


def arn_of(resource: Resource, environment: dict[str, str]) -> str:
    value = resource.value
    if resource.env is not None:
        if resource.env not in environment:
            if resource.env in OPTIONAL_SOURCES:
                raise NotInStage(resource.env)
            raise AssertionError(
                f"the code named {resource.kind} {resource.value!r} from ${resource.env}, which the "
                "packaged function's environment does not set"
            )
        value = environment[resource.env]
    elif resource.kind in ("table", "queue", "parameter-path", "configuration-set"):
        raise AssertionError(
            f"the code named {resource.kind} {resource.value!r}, which no environment variable holds: "
            "a deployed function could not know it"
        )
    match resource.kind:
        case "table":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{value}{resource.suffix}"
        case "queue":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name(value)}"
        case "queue-name":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{value}"
        case "parameter-path":  # the path itself: parameter/offboard/prod
            return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{value.rstrip('/')}"
        case "parameter":
            return f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{value.rstrip('/') + resource.suffix if resource.env else value}"
        case "identity":
            return f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{value}"
        case "configuration-set":
            return f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/{value}"
        case "account":
            return "*"
    raise AssertionError(f"no ARN for a {resource.kind} ({resource.value}): map it in tests/infra/aws_calls.py")


def code_uses(call: Call, environment: dict[str, str]) -> list[Use]:
    uses = []
    for need in call.needs:
        try:
            arn = arn_of(need.resource, environment)
        except NotInStage:
            continue
        uses.append(Use(need.action, arn, f"{call.service}.{call.operation} in {call.test or 'a fixture'}"))
    return uses


def platform_uses(resolver: Resolver, logical: str) -> list[Use]:
    """What Lambda does with the function's role, from the packaged template."""
    template, function = resolver.template, resolver.template["Resources"][logical]
    properties = function["Properties"]
    uses = []
    for name, event in properties.get("Events", {}).items():
        if event["Type"] == "SQS":
            arn = resolver.value(event["Properties"]["Queue"])
            for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
                uses.append(Use(action, arn, f"{logical}'s event source mapping {name}"))
    for name, config in resources(template, "AWS::Lambda::EventInvokeConfig").items():
        if config["Properties"]["FunctionName"] == {"Ref": logical}:
            for outcome, destination in config["Properties"].get("DestinationConfig", {}).items():
                arn = resolver.value(destination["Destination"])
                assert arn.startswith("arn:aws:sqs:"), f"{name}: only SQS destinations are modelled here"
                uses.append(Use("sqs:SendMessage", arn, f"{logical}'s {outcome} destination ({name})"))
    if properties.get("Tracing") == "Active":
        for action in ("xray:PutTraceSegments", "xray:PutTelemetryRecords"):
            uses.append(Use(action, "*", f"{logical}'s active tracing"))
    group = f"/aws/lambda/{resolver.function_name(logical)}"
    stream = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:2026/01/01/[$LATEST]0123456789abcdef"
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        uses.append(Use(action, stream, f"{logical}'s logs"))
    return uses


def role_statements(template: dict, logical: str) -> list[dict]:
    role = template["Resources"][logical]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    return statements


@cache
def stage_template(path: str) -> dict:
    return load_template(Path(path))


@pytest.fixture(params=STAGES)
def stage(request, packaged):
    template = stage_template(str(packaged(request.param) / "sam.yaml"))
    return request.param, template, Resolver(template, request.param)


def service_calls() -> list[Call]:
    """The code's calls, once each: a whole suite makes the same call thousands of times."""
    unique: dict = {}
    for call in SESSION.calls:
        if call.origin == "service":
            unique.setdefault((call.service, call.operation, call.needs), call)
    return list(unique.values())


def missing_grants(template: dict, resolver: Resolver, calls: list[Call], platform: bool) -> list[str]:
    problems = []
    for logical in resources(template, "AWS::Serverless::Function"):
        granted = grants(role_statements(template, logical))
        environment = resolver.environment(logical)
        uses = [u for call in calls for u in code_uses(call, environment)]
        uses += platform_uses(resolver, logical) if platform else []
        for use in dict.fromkeys(uses):
            if not allows(granted, use.action, use.arn):
                problems.append(f"{logical}: {use.action} on {use.arn} ({use.why})")
    return sorted(set(problems), key=problems.index)


# The checks.


def test_the_recorder_saw_calls_and_every_one_is_mapped():
    if not service_calls():
        pytest.skip("no AWS call of the code was recorded in this session: run this with the tests that exercise it")
    assert not SESSION.errors, SESSION.errors[:10]
    unmapped = {f"{c.service}.{c.operation}" for c in service_calls() for n in c.needs if n.resource.kind == "unmapped"}
    assert not unmapped, f"map these services in tests/infra/aws_calls.py MAPPERS: {sorted(unmapped)}"


def test_the_layer_keeps_the_model_of_every_service_the_code_calls():
    kept = {
        line.strip()
        for line in (ROOT / "infra" / "sdk-services.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    called = {c.service for c in service_calls()}
    assert called <= kept, f"add to infra/sdk-services.txt (else the layer has no model): {sorted(called - kept)}"


def test_the_stage_policy_allows_every_call_the_code_made(stage):
    name, template, resolver = stage
    calls = service_calls()
    if not calls:
        pytest.skip("no AWS call of the code was recorded in this session: run this with the tests that exercise it")
    problems = missing_grants(template, resolver, calls, platform=False)
    assert not problems, f"{len(problems)} calls the {name} policy does not allow:\n" + "\n".join(problems)


def test_the_stage_policy_allows_what_lambda_does_with_the_functions_role(stage):
    """Event source mappings polling their queues, on-failure destinations, logs, traces."""
    name, template, resolver = stage
    problems = missing_grants(template, resolver, [], platform=True)
    assert not problems, f"the {name} policy does not allow:\n" + "\n".join(problems)


def test_every_grant_of_the_stage_policy_is_used(stage, request):
    whole, why = SESSION.whole_suite_before(request.node.nodeid)
    if not whole:
        pytest.skip(f"dead grants are only known after the whole suite: {why}")
    name, template, resolver = stage
    used = []
    for logical in resources(template, "AWS::Serverless::Function"):
        environment = resolver.environment(logical)
        used += [u for call in service_calls() for u in code_uses(call, environment)]
        used += platform_uses(resolver, logical)
    used = list({(u.action, u.arn): u for u in used}.values())  # a whole suite makes the same calls many times
    # At the grain the policy is written: in each statement, every action is used on one of its
    # resources, and every resource by one of its actions.
    dead = []
    for logical in resources(template, "AWS::Serverless::Function"):
        for statement in role_statements(template, logical):
            granted = grants([statement])
            sid = statement.get("Sid", "?")
            for action in listed(statement["Action"]):
                if not any(allows([g for g in granted if g[1] == action], u.action, u.arn) for u in used):
                    dead.append(f"{sid}: {action} (on none of {listed(statement['Resource'])})")
            for resource in listed(statement["Resource"]):
                if not any(allows([g for g in granted if g[2] == resource], u.action, u.arn) for u in used):
                    dead.append(f"{sid}: {resource} (for none of {listed(statement['Action'])})")
    dead = sorted(set(dead))
    assert not dead, f"the {name} policy grants what no call (nor Lambda for the function) uses:\n" + "\n".join(dead)


# The checker itself, on calls made up here (these run in any session).


def _settings_call(path: str) -> Call:
    return Call(
        "ssm",
        "GetParametersByPath",
        "service",
        (Need("ssm:GetParametersByPath", Resource("parameter-path", path, "SECRETS_PARAMETER_PATH")),),
        "made up",
    )


def test_the_checker_refuses_a_path_read_granted_only_below_the_path(packaged):
    """The policy before issue 10: GetParameter(s) on parameter/offboard/prod/*, while powertools'
    get_parameters("/offboard/prod") pages GetParametersByPath on the path itself."""
    template = stage_template(str(packaged("prod") / "sam.yaml"))
    resolver = Resolver(template, "prod")
    before = [
        {
            "Effect": "Allow",
            "Action": ["ssm:GetParameter", "ssm:GetParameters"],
            "Resource": ["arn:aws:ssm:*:*:parameter/offboard/prod/*"],
        }
    ]
    environment = resolver.environment("APIHandler")
    [use] = code_uses(_settings_call("/offboard/test"), environment)
    assert use.arn == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/offboard/prod"
    assert not allows(grants(before), use.action, use.arn)
    assert allows(grants(role_statements(template, "APIHandler")), use.action, use.arn)


def test_the_checker_resolves_names_per_stage_and_skips_what_a_stage_never_calls(packaged):
    prod = Resolver(stage_template(str(packaged("prod") / "sam.yaml")), "prod")
    dev = Resolver(stage_template(str(packaged("dev") / "sam.yaml")), "dev")
    index = Need(
        "dynamodb:Query", Resource("table", "offboard-dev-subscribers", "SUBSCRIBERS_TABLE", "/index/sunset-due")
    )
    queue = Need(
        "sqs:SendMessage",
        Resource("queue", "https://sqs.us-east-1.amazonaws.com/123456789012/x", "UNSUBSCRIBE_QUEUE_URL"),
    )
    call = Call("dynamodb", "Query", "service", (index, queue), "made up")
    assert [u.arn for u in code_uses(call, prod.environment("SunsetStep"))] == [
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/offboard-prod-subscribers/index/sunset-due",
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:offboard-prod-unsubscribes",
    ]
    assert code_uses(call, dev.environment("SunsetStep"))[0].arn.endswith(
        "table/offboard-dev-subscribers/index/sunset-due"
    )
    assert code_uses(_settings_call("/offboard/test"), dev.environment("APIHandler")) == []  # dev: no SSM
    with pytest.raises(AssertionError, match="no environment variable"):
        code_uses(Call("dynamodb", "GetItem", "service", (Need("dynamodb:GetItem", Resource("table", "t")),), ""), {})
    assert pattern("arn:aws:logs:*:*:log-group:/aws/lambda/offboard-prod-*").fullmatch(
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/offboard-prod-X-1:log-stream:a/b"
    )
