"""Debian's redis-server on 127.0.0.1, the shared cache of several web hosts (docs/production.md).

No persistence (``--save ""``, no append-only file): a cache, its folder
removed with it. Started in a subprocess, ended by its PID.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from devstack.processes import LOOPBACK, WaitError, free_port, stop_process, tail

REDIS_SERVER = "/usr/bin/redis-server"


class RedisServer:
    """redis-server on 127.0.0.1:``port`` (0: a free one), its files in a folder of its own."""

    def __init__(self, port: int = 0) -> None:
        self.port = port or free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="crans-mailman-web-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The URL of database 0, as ``MAILMAN_WEB_CACHE_URL`` takes it."""
        return f"redis://{LOOPBACK}:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> RedisServer:
        log = self.folder / "redis.log"
        self.process = subprocess.Popen(
            [
                REDIS_SERVER, "--bind", LOOPBACK, "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", str(self.folder), "--logfile", str(log),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise WaitError(f"redis-server did not start on port {self.port}:\n{tail(log)}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
