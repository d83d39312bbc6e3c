"""The embedded DynamoDB-compatible server for local runs and tests: moto's server mode.

Adjustments, none of which changes what a client sees:
- moto's backend is not thread-safe, and its transactions are not atomic against concurrent
  requests; DynamoDB's are. Serialising requests behind one lock restores what DynamoDB promises
  (each request atomic and isolated), which the concurrency tests rely on. This one touches no
  moto internals.
- Transactions snapshot the items they name, not whole tables, a Query looks only at the asked
  partition (an index's partitions are mapped again after a write), the response
  serializer computes each member's candidate names once, and each update or condition
  expression is parsed once (scripts/moto_patches.py, shared with the tests' in-process moto).
  Writes, which invalidate the index partition maps, are recognised here by their DynamoDB
  operation name (`X-Amz-Target`), not by moto's method names.

The patches check at import that moto still has what they rely on; the server then refuses to
start, with a clear message, rather than answer wrongly (`--check` runs only that;
`tests/e2e/test_embedded_dynamodb.py` runs it and shows what a change looks like).
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

import moto

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the repository's modules

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import run_simple  # noqa: E402

from scripts import moto_patches  # noqa: E402

try:
    moto_patches.install_item_snapshots()
    moto_patches.install_partition_queries()
    moto_patches.install_response_key_cache()
    moto_patches.install_parsed_expression_cache()
    moto_patches.install_parsed_condition_cache()
    moto_patches.install_method_name_cache()
    moto_patches.install_fast_validation()
except moto_patches.MotoChanged as error:
    if __name__ == "__main__":
        sys.exit(f"local_dynamodb.py: {error}")
    raise


class Serialised:
    """One request at a time, the whole response read inside the lock (WSGI bodies can be lazy).
    A DynamoDB request (its X-Amz-Target) goes straight to moto's DynamoDB app: moto's
    dispatcher would look for the service among all of moto's on every request."""

    def __init__(self, app, dynamodb_app):
        self.app, self.dynamodb_app, self.lock = app, dynamodb_app, threading.Lock()

    def __call__(self, environ, start_response):
        service, _, operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")
        app = self.dynamodb_app if service == "DynamoDB_20120810" else self.app
        with self.lock:
            moto_patches.note_request(operation)
            return list(app(environ, start_response))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--check", action="store_true", help="only check that moto still has what the patches need")
    args = parser.parse_args()
    if args.check:
        print(f"moto {moto.__version__}: everything the embedded server's patches rely on is there")
        return
    app = Serialised(DomainDispatcherApplication(create_backend_app), create_backend_app("dynamodb"))
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
