"""`doctor`: checks a stage's AWS set-up before and after deploy, prints a checklist and exits 1
when a check fails (a warning does not fail).

Before deploy: the secrets in SSM (present, and valid by the rules the functions apply), the
deployment's settings (the stack's parameters, or `--parameter NAME=VALUE` as given to
`--parameter-overrides`), the senders' SES identities verified with DKIM, the account out of the
SES sandbox. After deploy (the stack `offboard-<stage>` exists) also: the tables with
point-in-time recovery and deletion protection, the work queues with their dead-letter queues,
an alarm on the depth of every dead-letter and failure queue, and the receipt rule set active
when a mailto is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click

from tools.cli import output

# The stack's parameters that become the functions' settings (infra/resources.yaml, Globals).
STACK_SETTINGS = {
    "PublicBaseUrl": "PUBLIC_BASE_URL",
    "SunsetEmailFrom": "SUNSET_EMAIL_FROM",
    "OfferEmailFrom": "OFFER_EMAIL_FROM",
    "UnsubscribeMailbox": "UNSUBSCRIBE_MAILTO",
}
# The secrets a deployed stage reads from SSM (the admin API is behind IAM there).
REQUIRED_SECRETS = ("SIGNING_KEYS", "SIGNING_KEY_ID", "SUBSCRIBER_ID_KEY", "IP_HASH_KEY", "WEBHOOK_SECRET")
MARK = {"ok": "[ok]  ", "warn": "[warn]", "fail": "[FAIL]", "skip": "[skip]"}


@dataclass(frozen=True)
class Check:
    status: str  # ok | warn | fail | skip
    what: str
    detail: str = ""


Clients = Callable[[str], object]


def _error_code(error) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def stack_parameters(clients: Clients, stack: str) -> dict[str, str] | None:
    from botocore.exceptions import ClientError

    try:
        [found] = clients("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if _error_code(error) == "ValidationError":  # CloudFormation's answer for a missing stack
            return None
        raise
    return {p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])}


def check_secrets(clients: Clients, path: str) -> tuple[list[Check], dict[str, str]]:
    from chalicelib.core.settings import SECRET_NAMES

    values: dict[str, str] = {}
    pages = clients("ssm").get_paginator("get_parameters_by_path").paginate(Path=path, WithDecryption=True)
    for page in pages:
        for parameter in page["Parameters"]:
            values[parameter["Name"].rsplit("/", 1)[1]] = parameter["Value"]
    checks = [
        Check("ok", f"SSM {path}/{name}") if name in values else Check("fail", f"SSM {path}/{name}", "missing")
        for name in REQUIRED_SECRETS
    ]
    for name in sorted(set(values) - set(SECRET_NAMES)):
        hint = f"; set it as the stack parameter {_parameter_of(name)}" if _parameter_of(name) else ""
        checks.append(Check("warn", f"SSM {path}/{name}", f"not read by the functions (only secrets are){hint}"))
    return checks, {name: values[name] for name in set(values) & set(SECRET_NAMES)}


def _parameter_of(setting: str) -> str | None:
    return next((parameter for parameter, name in STACK_SETTINGS.items() if name == setting), None)


def check_settings(stage: str, secrets: dict[str, str], deployment: dict[str, str]) -> list[Check]:
    """Secrets and the stack's settings together, through the functions' own checks."""
    from chalicelib.core.settings import ConfigurationError, settings_from

    values = {"OFFBOARD_STAGE": stage, **secrets}
    values.update({STACK_SETTINGS[k]: v for k, v in deployment.items() if k in STACK_SETTINGS and v})
    try:
        settings = settings_from(values)
    except ConfigurationError as error:
        return [Check("fail", "settings as the functions read them", str(error))]
    return [Check("ok", "settings as the functions read them", f"links start with {settings.public_base_url}")]


def check_senders(clients: Clients, senders: list[str]) -> list[Check]:
    from email.utils import parseaddr

    if not senders:
        return [Check("fail", "SES senders", "no sender: set SunsetEmailFrom (stack parameter)")]
    ses = clients("ses")
    checks = []
    for sender in senders:
        address = parseaddr(sender)[1]
        domain = address.rpartition("@")[2]
        verified = ses.get_identity_verification_attributes(Identities=[address, domain])["VerificationAttributes"]
        if not any(verified.get(i, {}).get("VerificationStatus") == "Success" for i in (address, domain)):
            checks.append(Check("fail", f"SES identity {domain}", f"not verified: SES refuses to send as {address}"))
            continue
        dkim = ses.get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"].get(domain, {})
        if dkim.get("DkimEnabled") and dkim.get("DkimVerificationStatus") == "Success":
            checks.append(Check("ok", f"SES identity {domain}", f"verified, DKIM signing ({address})"))
        else:
            checks.append(
                Check(
                    "fail",
                    f"SES identity {domain}",
                    "DKIM not verified: publish its CNAME records (one-click needs DKIM)",
                )
            )
    return checks


def check_mailbox_domain(clients: Clients, mailbox: str) -> Check:
    """SES receives mail only for a verified domain (docs/mail-and-sms.md, "Setting up receiving")."""
    domain = mailbox.rpartition("@")[2]
    verified = clients("ses").get_identity_verification_attributes(Identities=[domain])["VerificationAttributes"]
    if verified.get(domain, {}).get("VerificationStatus") == "Success":
        return Check("ok", f"SES receiving domain {domain}", "verified")
    return Check("fail", f"SES receiving domain {domain}", "not verified: SES will not receive the mailto's mail")


def check_sandbox(clients: Clients) -> Check:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        account = clients("sesv2").get_account()
    except (BotoCoreError, ClientError, NotImplementedError) as error:
        return Check("warn", "SES production access", f"could not read it ({error})")
    if account.get("ProductionAccessEnabled"):
        return Check("ok", "SES production access")
    return Check(
        "warn",
        "SES production access",
        "the account is in the SES sandbox: only verified recipients get mail; request production access",
    )


def check_tables(clients: Clients) -> list[Check]:
    from botocore.exceptions import ClientError

    from chalicelib.core.settings import table_settings

    tables = table_settings()
    dynamodb, checks = clients("dynamodb"), []
    for name in (tables.lists, tables.subscribers, tables.offers):
        try:
            table = dynamodb.describe_table(TableName=name)["Table"]
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise
            checks.append(Check("fail", f"table {name}", "missing"))
            continue
        backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        missing = []
        if backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") != "ENABLED":
            missing.append("point-in-time recovery")
        if not table.get("DeletionProtectionEnabled"):
            missing.append("deletion protection")
        checks.append(
            Check("fail", f"table {name}", "no " + " and no ".join(missing))
            if missing
            else Check("ok", f"table {name}")
        )
    return checks


def check_receipt_rules(clients: Clients, stage: str, mailbox: str) -> Check:
    if not mailbox:
        return Check("skip", "SES receipt rule set", "no UnsubscribeMailbox: no mailto")
    expected = f"offboard-{stage}-inbound"
    active = (clients("ses").describe_active_receipt_rule_set().get("Metadata") or {}).get("Name")
    if active == expected:
        return Check("ok", f"SES receipt rule set {expected}", "active")
    return Check(
        "fail",
        f"SES receipt rule set {expected}",
        f"not active (active: {active or 'none'}): aws ses set-active-receipt-rule-set --rule-set-name {expected}",
    )


def check_queues(clients: Clients, stage: str) -> list[Check]:
    """The work queues redrive to a dead-letter queue; every dead-letter and failure queue of the
    stage (`offboard-<stage>-*-dlq`, `*-failed`) has an alarm on its depth that notifies someone."""
    from botocore.exceptions import ClientError

    from chalicelib.core.settings import event_sources

    sqs, checks = clients("sqs"), []
    sources = event_sources()
    for name in (sources.unsubscribe_queue, sources.sunset_queue):
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError:
            checks.append(Check("fail", f"queue {name}", "missing"))
            continue
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
        if "RedrivePolicy" not in attributes:
            checks.append(Check("fail", f"queue {name}", "no dead-letter queue (RedrivePolicy)"))
        else:
            checks.append(Check("ok", f"queue {name}", "with its dead-letter queue"))
    urls = sqs.list_queues(QueueNamePrefix=f"offboard-{stage}-").get("QueueUrls", [])
    dead = sorted(u.rsplit("/", 1)[1] for u in urls if u.endswith(("-dlq", "-failed")))
    alarmed = _alarmed_queues(clients("cloudwatch"))
    for name in dead:
        checks.append(
            Check("ok", f"alarm on {name}")
            if name in alarmed
            else Check("fail", f"alarm on {name}", "no alarm with an action on its depth: messages would wait unseen")
        )
    if not dead:
        checks.append(Check("fail", "dead-letter queues", f"none named offboard-{stage}-*-dlq or *-failed"))
    return checks


def _alarmed_queues(cloudwatch) -> set[str]:
    queues = set()
    for page in cloudwatch.get_paginator("describe_alarms").paginate():
        for alarm in page["MetricAlarms"]:
            if (alarm.get("Namespace"), alarm.get("MetricName")) != ("AWS/SQS", "ApproximateNumberOfMessagesVisible"):
                continue
            if alarm.get("AlarmActions"):
                queues |= {d["Value"] for d in alarm.get("Dimensions", []) if d["Name"] == "QueueName"}
    return queues


def diagnose(stage: str, clients: Clients, given: dict[str, str] | None = None) -> list[Check]:
    """Every check for `stage`; `given` stack parameters win over the deployed stack's."""
    stack_name = f"offboard-{stage}"
    deployed = stack_parameters(clients, stack_name)
    deployment = {**(deployed or {}), **(given or {})}
    checks: list[Check] = []
    if stage == "dev":
        checks.append(Check("skip", "secrets", "the dev stage reads them from .chalice/config.json"))
        secrets = {}
    else:
        found, secrets = check_secrets(clients, f"/offboard/{stage}")
        checks += found
    if stage != "dev" or deployment:
        checks += check_settings(stage, secrets, deployment)
    senders = [deployment[k] for k in ("SunsetEmailFrom", "OfferEmailFrom") if deployment.get(k)]
    checks += check_senders(clients, senders)
    if deployment.get("UnsubscribeMailbox"):
        checks.append(check_mailbox_domain(clients, deployment["UnsubscribeMailbox"]))
    checks.append(check_sandbox(clients))
    if deployed is None:
        checks.append(Check("skip", f"stack {stack_name}", "not deployed yet: run doctor again after deploy"))
        return checks
    checks.append(Check("ok", f"stack {stack_name}", "deployed"))
    checks += check_tables(clients)
    checks += check_queues(clients, stage)
    checks.append(check_receipt_rules(clients, stage, deployment.get("UnsubscribeMailbox", "")))
    return checks


def _clients(service: str):
    import boto3

    return boto3.client(service)


def render(checks: list[Check]) -> str:
    lines = [f"{MARK[c.status]} {c.what}" + (f": {c.detail}" if c.detail else "") for c in checks]
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    lines.append(f"{len(checks)} checks: {failed} failed, {warned} warnings")
    return "\n".join(lines)


@click.command("doctor")
@click.option(
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="a stack parameter as given to --parameter-overrides (before deploy; wins over the stack's)",
)
@click.pass_context
def doctor(ctx, parameters: tuple[str, ...]) -> None:
    """Check the stage's AWS set-up (before and after deploy): a checklist, exit 1 on a failure."""
    given = dict(p.partition("=")[::2] for p in parameters)
    checks = diagnose(ctx.parent.params["stage"], _clients, given)
    click.echo(render(checks), file=output.OUT)
    if any(c.status == "fail" for c in checks):
        raise SystemExit(1)


COMMANDS = [doctor]
