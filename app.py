"""offboard: the Chalice app. Each job's routes and event handlers live in its own Blueprint:

- `chalicelib/unsubscribe/routes.py`: `/u/{token}` (one-click POST, landing page, survey,
  confirmation, undo), the senders' `/v1/unsubscribe-headers` and `/v1/send-check`, lists,
  subscribers, consent export, privacy requests, the senders' `/v1/preflight`; the
  deferred-unsubscribe, mailto and SMS-keyword events.
- `chalicelib/offers/routes.py`: the exit-intent snippet and `/offers/*` it calls from shops'
  pages, `/v1/sites` and campaigns, `/v1/codes` validation and redemption.
- `chalicelib/cancel/routes.py`: `/v1/cancel-sessions` and `/v1/cancel-flows/{business}` for
  subscription businesses' servers, the hosted cancellation pages `/cancel/{token}`, and the
  queue that delivers their signed webhooks.
- `chalicelib/sunset/routes.py`: `/u/{token}/keep`, the engagement webhook, SES events over
  SNS and EventBridge, the daily schedule and the job's queue, policies and run reports.

One middleware runs around every invocation, HTTP and events alike: fresh logging state, a
correlation id, a trace subsegment, metrics flushed. Inside it, HTTP requests are bound to their
thread for the endpoint decorator (`chalice local` serves requests concurrently).
"""

from chalice import Chalice

from chalicelib.cancel.routes import bp as cancel
from chalicelib.core.http import bind_request
from chalicelib.core.observability import observe
from chalicelib.offers.routes import bp as offers
from chalicelib.sunset.routes import bp as sunset
from chalicelib.unsubscribe.routes import bp as unsubscribe

app = Chalice(app_name="offboard")
# A sender's message reaches the preflight byte for byte: API Gateway passes any other media type
# as UTF-8 text, which mangles an 8-bit body and so its DKIM body hash.
app.api.binary_types.append("message/rfc822")
app.register_middleware(observe, "all")
app.register_middleware(bind_request, "http")
app.register_blueprint(unsubscribe)
app.register_blueprint(offers)
app.register_blueprint(sunset)
app.register_blueprint(cancel)

# Lambda imports only the module a function's Handler names. Chalice names a Blueprint's event
# handler by its own module, which skips this file, so the middleware above would never run
# around it (chalice#1566): infra/resources.yaml points each event function at `app.<name>`.
from chalicelib.cancel.routes import cancel_webhooks  # noqa: E402,F401
from chalicelib.sunset.routes import daily_sunset_run, ses_event_from_eventbridge, ses_event_from_sns, sunset_step  # noqa: E402,F401
from chalicelib.unsubscribe.routes import deferred_unsubscribe, mailto_unsubscribe, sms_keyword  # noqa: E402,F401
