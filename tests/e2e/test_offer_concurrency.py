"""200 simultaneous decisions against a budget of 10, through `chalice local` on the embedded
DynamoDB server: exactly 10 codes are issued."""

import json
import threading

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

pytestmark = pytest.mark.server

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


def test_a_budget_of_ten_issues_exactly_ten_codes_under_200_concurrent_requests(local_stack):
    origin = local_stack.base_url
    assert (
        local_stack.admin(
            "POST", "/v1/sites", {"site_key": "race", "name": "Race", "allowed_origins": [origin]}
        ).status_code
        == 201
    )
    campaign = {
        "offer": {"kind": "percent", "value": 15},
        "budget": {"total_codes": 10},
        "targeting": {"paths": ["/*"]},
    }
    assert local_stack.admin("PUT", "/v1/sites/race/campaigns/tight", campaign).status_code == 200

    start = threading.Barrier(200)
    answers: list[dict] = []

    def ask(i: int):
        with requests.Session() as session:
            # chalice local's listen backlog is 5: reset connections are retried, as a browser would.
            session.mount(
                "http://",
                HTTPAdapter(
                    max_retries=Retry(total=10, connect=10, read=10, backoff_factor=0.05, allowed_methods=None)
                ),
            )
            body = {"site_key": "race", "visitor_id": f"racer{i}", "page_url": f"{origin}/cart"}
            start.wait()
            response = session.post(
                f"{origin}/offers/decide",
                data=json.dumps(body),
                headers={"Content-Type": "text/plain", "Origin": origin, "User-Agent": CHROME},
                timeout=120,
            )
            answers.append({"status": response.status_code, **response.json()})

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 200 and {a["status"] for a in answers} == {200}
    shown = [a for a in answers if a["show"]]
    assert len(shown) == 10 and len({a["offer"]["code"] for a in shown}) == 10
    assert {a["reason"] for a in answers if not a["show"]} == {"budget_spent"}
    report = local_stack.admin("GET", "/v1/sites/race/campaigns/tight/report").json()
    assert sum(arm["issued"] for arm in report["arms"]) == 10
    for answer in shown:
        assert local_stack.admin("GET", f"/v1/codes/{answer['offer']['code']}").json()["valid"] is True
