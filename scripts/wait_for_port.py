"""Wait until something listens on 127.0.0.1:PORT (at most 30 s)."""

import socket
import sys
import time

port, deadline = int(sys.argv[1]), time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"nothing listens on port {port}")
