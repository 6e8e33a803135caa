"""Shared fixtures for the system tests: they run the built `statusbro` binary as a user would.

The test command (scripts/test) builds the binary, starts a throwaway PostgreSQL and exports
STATUSBRO_BIN, STATUSBRO_HOME and STATUSBRO_TEST_DATABASE_URL.
"""
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

BIN = os.environ.get("STATUSBRO_BIN")
HOME = Path(os.environ.get("STATUSBRO_HOME", Path(__file__).resolve().parents[2]))
SERVER_URL = os.environ.get("STATUSBRO_TEST_DATABASE_URL")
ARTIFACTS = HOME / "artifacts"


def require_environment():
    if not BIN or not SERVER_URL:
        pytest.fail("run the system tests through scripts/test (STATUSBRO_BIN and STATUSBRO_TEST_DATABASE_URL are not set)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(name=None):
    """A URL for a new database on the test server; statusbro creates it on first use."""
    require_environment()
    name = name or "sys_" + uuid.uuid4().hex[:16]
    return SERVER_URL.rsplit("/", 1)[0] + "/" + name


def environment(env):
    """This process's environment without DATABASE_URL, then `env` (a value of None removes a variable)."""
    full_env = dict(os.environ)
    full_env.pop("DATABASE_URL", None)
    for name, value in (env or {}).items():
        if value is None:
            full_env.pop(name, None)
        else:
            full_env[name] = value
    return full_env


def run(args, env=None, cwd=None, check=True, timeout=120):
    """Runs statusbro with `args`; returns the completed process (text mode)."""
    require_environment()
    full_env = environment(env)
    result = subprocess.run([BIN, *args], env=full_env, cwd=cwd or HOME, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"statusbro {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


class Server:
    """A running `statusbro serve`, stopped with SIGTERM."""

    def __init__(self, env=None, cwd=None, args=(), name="serve", port=None):
        require_environment()
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        ARTIFACTS.mkdir(exist_ok=True)
        self.log_path = ARTIFACTS / f"{name}-{self.port}.log"
        self.log = open(self.log_path, "w")
        full_env = environment(env)
        self.process = subprocess.Popen(
            [BIN, "serve", "--port", str(self.port), *args], env=full_env, cwd=cwd or HOME, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_healthy(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited early ({self.process.returncode}):\n{self.log_path.read_text()}")
            try:
                reply = requests.get(self.base + "/health", timeout=1)
                if reply.status_code == 200 and reply.json().get("tenants"):
                    return reply.json()
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not become healthy:\n{self.log_path.read_text()}")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode

    def get(self, path, key=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if key:
            headers["apikey"] = key
        return requests.get(self.base + path, headers=headers, timeout=10, **kwargs)

    def post(self, path, key=None, json=None, **kwargs):
        return self.send("POST", path, key=key, json=json, **kwargs)

    def put(self, path, key=None, json=None, **kwargs):
        return self.send("PUT", path, key=key, json=json, **kwargs)

    def delete(self, path, key=None, **kwargs):
        return self.send("DELETE", path, key=key, **kwargs)

    def send(self, method, path, key=None, json=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if key:
            headers["apikey"] = key
        return requests.request(method, self.base + path, headers=headers, json=json, timeout=30, **kwargs)


@pytest.fixture
def server_factory():
    servers = []

    def start(**kwargs):
        server = Server(**kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def create_key(tenant, role, env):
    """Creates an API key with the CLI; the key is the last line of standard output."""
    return run(["keys", "create", "--tenant", tenant, "--role", role], env=env).stdout.strip().splitlines()[-1]


def event(external_case_id, status, source="BYGGR", occurred_at="2024-04-23T12:47:17+02:00", **extra):
    body = {
        "messageId": str(uuid.uuid4()),
        "sourceSystem": source,
        "externalCaseId": external_case_id,
        "caseType": "Nybyggnadskarta",
        "status": status,
        "occurredAt": occurred_at,
    }
    body.update(extra)
    return body


def eventually(check, timeout=10, interval=0.02):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    return last
