import socket

import pytest


def free_port() -> int:
    """A port below 32768 that nothing listens on now (above it the kernel hands out client ports)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 32768:
            return port
    for port in range(20000, 32000):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32768")


@pytest.fixture
def port() -> int:
    return free_port()
