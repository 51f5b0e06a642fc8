"""Free ports on 127.0.0.1 for the servers the tests start."""

from __future__ import annotations

import socket


def free_port(paired_offset: int = 0) -> int:
    """A free port on 127.0.0.1; with paired_offset, port + offset is free too (SeaweedFS puts each
    server's gRPC port at +10000)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if not paired_offset:
            return port
        if port + paired_offset > 65535:
            continue
        with socket.socket() as paired:
            try:
                paired.bind(("127.0.0.1", port + paired_offset))
            except OSError:
                continue
        return port
