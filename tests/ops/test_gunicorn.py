"""gunicorn with the project's own gunicorn.conf.py: threaded workers, JSON access lines that
carry the request id, and a graceful reload (HUP) that drops no request."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.waiting import wait_for

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.out = directory / "gunicorn.out"
        self.err = directory / "gunicorn.err"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mentorship.settings.test",
            "DATABASE_URL": f"sqlite:///{directory / 'db.sqlite3'}",
            "LOG_FORMAT": "json",
        }
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                [
                    # The console script, as the Dockerfile runs it.
                    *(str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"),
                    *("--bind", f"127.0.0.1:{self.port}", "--workers", "2"),
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=err,
            )

    def get(self, path: str) -> tuple[int, dict[str, str]]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=60) as response:
            return response.status, dict(response.headers)

    def answers(self) -> bool:
        try:
            return self.get("/accounts/login/")[0] == 200
        except OSError:
            return False

    def entries(self, stream: Path) -> list[dict]:
        entries = []
        for line in stream.read_text().splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
        return entries

    def booted_workers(self) -> list[str]:
        return [e["message"] for e in self.entries(self.err) if "Booting worker" in e["message"]]

    def exited_workers(self) -> list[str]:
        return [e["message"] for e in self.entries(self.err) if "Worker exiting" in e["message"]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module: starting one takes seconds."""
    started = Server(tmp_path_factory.mktemp("gunicorn"))
    try:
        wait_for(started.answers, what="gunicorn to answer")
        yield started
    finally:
        if started.process.poll() is None:
            started.process.terminate()  # its own pid: never kill servers by name
            try:
                started.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                started.process.kill()
                started.process.wait()
        sys.stdout.write(started.err.read_text()[-3000:])


def test_the_access_log_is_json_with_the_request_id_returned_to_the_browser(server: Server):
    status, headers = server.get("/accounts/login/?next=/")

    request_id = headers["X-Request-ID"]

    def access_line() -> dict | None:
        for entry in server.entries(server.out):
            if entry.get("request_id") == request_id:
                return entry
        return None

    wait_for(lambda: access_line() is not None, what="the access line")
    line = access_line()
    assert line is not None
    assert status == 200
    assert line["logger"] == "gunicorn.access"
    assert (line["method"], line["path"], line["query"], line["status"]) == (
        "GET",
        "/accounts/login/",
        "next=/",
        200,
    )
    assert isinstance(line["duration_ms"], int)


def test_it_runs_threaded_workers_and_reloads_on_hup_without_dropping_a_request(server: Server):
    assert len(server.booted_workers()) == 2  # this test runs before any other reload
    assert any("gthread" in e["message"] for e in server.entries(server.err))

    failures: list[str] = []
    served: list[int] = []
    stop = threading.Event()

    def browse() -> None:
        while not stop.is_set():
            try:
                status, _ = server.get("/accounts/login/")
            except (OSError, urllib.error.URLError) as error:
                failures.append(repr(error))
            else:
                served.append(status)

    browsers = [threading.Thread(target=browse) for _ in range(3)]
    for browser in browsers:
        browser.start()
    try:
        wait_for(lambda: len(served) >= 3, what="the first pages")
        server.process.send_signal(signal.SIGHUP)
        wait_for(lambda: len(server.booted_workers()) == 4, what="two new workers")
        wait_for(lambda: len(server.exited_workers()) >= 2, what="the two old workers to exit")
        served_by_old_workers = len(served)
        wait_for(lambda: len(served) >= served_by_old_workers + 5, what="the new workers' pages")
    finally:
        stop.set()
        for browser in browsers:
            browser.join()

    assert failures == []
    assert set(served) == {200}
    assert server.process.poll() is None  # the master stayed up throughout
