"""`python -m tools.cli --stage prod doctor` (issue 17, part 2) against moto: the set-up the deploy
steps (docs/deploy.md) and the packaged template make passes; a broken one fails, naming each thing to fix.

moto has no SES v2 `GetAccount`: where the sandbox matters, the SES v2 client answers it here."""

from __future__ import annotations

import functools
import json

import boto3
import moto
import pytest

from tests.documented import (
    cli_arguments,
    commands,
    deploy_steps,
    ssm_parameters,
    stack_name,
    stack_parameters,
    step,
)
from tests.infra.conftest import ROOT, Resolver, create_stack_resources, load_template
from tools.cli import doctor as doctor_module

STACK = {
    "PublicBaseUrl": "https://unsubscribe.example.com",
    "SunsetEmailFrom": "newsletter@example.com",
    "OfferEmailFrom": "offers@example.com",
    "UnsubscribeMailbox": "unsubscribe@unsub.example.com",
}
# The stack as CloudFormation lists it: the parameters doctor reads (its resources are made below).
STACK_TEMPLATE = {
    "Parameters": {name: {"Type": "String"} for name in STACK},
    "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
}


class SesV2:
    """moto's SES v2 client, with the account's production access answered."""

    def __init__(self, production: bool):
        self.client, self.production = boto3.client("sesv2"), production

    def get_account(self):
        return {"ProductionAccessEnabled": self.production, "SendingEnabled": True}

    def __getattr__(self, name):
        return getattr(self.client, name)


@pytest.fixture
def prod_environment(monkeypatch):
    """The prod stage's variables, as `--stage prod` sets them in an operator's shell."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for name in config["stages"]["dev"]["environment_variables"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**config["environment_variables"], **config["stages"]["prod"]["environment_variables"]}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def deployed(packaged, prod_environment):
    """The prod stage as docs/deploy.md deploys it: secrets in SSM, the stack, the sender's domain
    verified with DKIM, the receipt rule set made active."""
    with moto.mock_aws():
        client = functools.cache(boto3.client)  # one client per service: making one costs more than its calls
        resolver = Resolver(load_template(packaged("prod") / "sam.yaml"), "prod", STACK)
        create_stack_resources(client, resolver)
        for name, (kind, value) in ssm_parameters(deploy_steps()).items():
            client("ssm").put_parameter(Name=name, Type=kind, Value=value)
        client("cloudformation").create_stack(
            StackName=stack_name(deploy_steps()),  # the name step 4 deploys under: doctor must find it
            TemplateBody=json.dumps(STACK_TEMPLATE),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in STACK.items()],
        )
        ses = client("ses")
        ses.verify_domain_identity(Domain="example.com")
        ses.verify_domain_dkim(Domain="example.com")
        ses.verify_domain_identity(Domain="unsub.example.com")  # receiving
        ses.set_active_receipt_rule_set(RuleSetName="offboard-prod-inbound")
        yield


def clients(production: bool = True):
    return lambda service: SesV2(production) if service == "sesv2" else boto3.client(service)


def statuses(checks) -> dict[str, tuple[str, str]]:
    return {c.what: (c.status, c.detail) for c in checks}


def test_a_good_deployment_passes_every_check(deployed, capsys):
    from tools.cli import main

    checks = doctor_module.diagnose("prod", clients())
    assert [c for c in checks if c.status != "ok"] == []
    found = statuses(checks)
    for name in ("lists", "subscribers", "offers"):
        assert found[f"table offboard-prod-{name}"][0] == "ok"
    assert found["SES identity example.com"][0] == "ok"
    assert found["SES receipt rule set offboard-prod-inbound"] == ("ok", "active")
    assert found["SES receiving domain unsub.example.com"] == ("ok", "verified")
    assert sum(what.startswith("alarm on offboard-prod-") for what in found) == 12  # every DLQ and failure queue

    # The command itself (moto cannot say whether the account left the sandbox: a warning only).
    assert main(["--stage", "prod", "doctor"]) == 0
    printed = capsys.readouterr().out
    assert "0 failed" in printed and "[FAIL]" not in printed


def test_before_deploy_it_checks_what_exists_and_says_to_run_again(prod_environment):
    with moto.mock_aws():
        for name, (kind, value) in ssm_parameters(deploy_steps()).items():
            boto3.client("ssm").put_parameter(Name=name, Type=kind, Value=value)
        boto3.client("ses").verify_domain_identity(Domain="example.com")
        boto3.client("ses").verify_domain_dkim(Domain="example.com")
        given = {k: v for k, v in STACK.items() if k != "UnsubscribeMailbox"}
        checks = doctor_module.diagnose("prod", clients(), given)
    found = statuses(checks)
    assert found["stack offboard-prod"][0] == "skip"
    assert found["settings as the functions read them"] == ("ok", "links start with https://unsubscribe.example.com")
    assert all(c.status in ("ok", "skip") for c in checks), checks


def test_step_8_as_written_checks_the_stage_before_the_deploy(prod_environment, capsys):
    """docs/deploy.md's step 8, before the deploy: its first `doctor` command line, run as written
    after steps 1 and 2 (the sender's domain verified, the secrets in SSM), passes the same values
    the deploy of step 4 passes, and exits 0 with the stack's checks skipped."""
    from tools.cli import main

    before, after = commands(step(8), "python -m tools.cli")
    arguments = cli_arguments(before)
    given = dict(arguments[i + 1].split("=", 1) for i, word in enumerate(arguments) if word == "--parameter")
    deployed_with = stack_parameters(deploy_steps())
    assert given and given == {name: deployed_with[name] for name in given}
    assert cli_arguments(after) == ["--stage", "prod", "doctor"]
    with moto.mock_aws():
        for name, (kind, value) in ssm_parameters(deploy_steps()).items():
            boto3.client("ssm").put_parameter(Name=name, Type=kind, Value=value)
        boto3.client("ses").verify_domain_identity(Domain="example.com")
        boto3.client("ses").verify_domain_dkim(Domain="example.com")
        assert main(arguments) == 0
    printed = capsys.readouterr().out
    assert "0 failed" in printed and "[FAIL]" not in printed
    assert "[skip] stack offboard-prod" in printed, printed


def test_a_broken_deployment_fails_naming_each_thing_to_fix(deployed, capsys):
    ssm, sqs, dynamodb = boto3.client("ssm"), boto3.client("sqs"), boto3.client("dynamodb")
    ssm.delete_parameter(Name="/offboard/prod/SIGNING_KEY_ID")
    ssm.put_parameter(Name="/offboard/prod/PUBLIC_BASE_URL", Type="String", Value="https://x.example")  # old README
    boto3.client("cloudformation").update_stack(
        StackName=stack_name(deploy_steps()),
        TemplateBody=json.dumps(STACK_TEMPLATE),
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v}
            for k, v in {
                **STACK,
                "OfferEmailFrom": "offers@unverified.example",
                "UnsubscribeMailbox": "unsubscribe@unverified.example",
            }.items()
        ],
    )
    dynamodb.update_continuous_backups(
        TableName="offboard-prod-offers", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    dynamodb.update_table(TableName="offboard-prod-lists", DeletionProtectionEnabled=False)
    sunset = sqs.get_queue_url(QueueName="offboard-prod-sunset")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=sunset, Attributes={"RedrivePolicy": ""})
    boto3.client("cloudwatch").delete_alarms(AlarmNames=["offboard-prod-SmsKeywordFailuresAlarm"])
    boto3.client("ses").set_active_receipt_rule_set()  # none active

    checks = doctor_module.diagnose("prod", clients(production=False))
    with capsys.disabled():  # shown with -s: the checklist an operator would read
        print("\n" + doctor_module.render(checks))
    found = statuses(checks)
    failed = {what for what, (status, _) in found.items() if status == "fail"}
    assert failed == {
        "SSM /offboard/prod/SIGNING_KEY_ID",
        "settings as the functions read them",
        "SES identity unverified.example",
        "table offboard-prod-lists",
        "table offboard-prod-offers",
        "queue offboard-prod-sunset",
        "alarm on offboard-prod-sms-keyword-failed",
        "SES receipt rule set offboard-prod-inbound",
        "SES receiving domain unverified.example",
    }
    assert found["settings as the functions read them"][1] == "SIGNING_KEY_ID must name one of SIGNING_KEYS"
    assert found["table offboard-prod-lists"][1] == "no deletion protection"
    assert found["table offboard-prod-offers"][1] == "no point-in-time recovery"
    assert (
        "set-active-receipt-rule-set --rule-set-name offboard-prod-inbound"
        in found["SES receipt rule set offboard-prod-inbound"][1]
    )
    warned = {what: detail for what, (status, detail) in found.items() if status == "warn"}
    assert warned["SSM /offboard/prod/PUBLIC_BASE_URL"].endswith("set it as the stack parameter PublicBaseUrl")
    assert "only verified recipients get mail" in warned["SES production access"]

    from tools.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_code:
        main(["--stage", "prod", "doctor"])
    assert exit_code.value.code == 1
    assert "[FAIL] table offboard-prod-offers: no point-in-time recovery" in capsys.readouterr().out
