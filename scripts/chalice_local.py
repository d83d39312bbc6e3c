"""`chalice local`, with TCP_NODELAY on every connection it accepts.

chalice's request handler writes a response's headers and its body in two sends and leaves
Nagle's algorithm on, so on a kept-alive connection (a browser's, a `requests.Session`'s) the
body waits for the client's delayed ACK: 44 ms a request against 1 ms with TCP_NODELAY
(GET /u/x, median of 30, docs/try.md). Everything else is chalice's own CLI:

    .venv/bin/python scripts/chalice_local.py local --host 127.0.0.1 --port 8000 --stage dev

Local use only (run-local and the tests' stack): nothing here ships to Lambda.
"""

import sys

from chalice import local
from chalice.cli import cli

local.ChaliceRequestHandler.disable_nagle_algorithm = True


def main(args: list[str]) -> int:
    # chalice's reloader (without --no-autoreload) starts `sys.argv` again as its worker process.
    sys.argv = [sys.executable, __file__, *args]
    return cli.main(args=args, prog_name="chalice", obj={})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
