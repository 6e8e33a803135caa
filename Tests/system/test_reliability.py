"""Crashes and restarts: nothing acknowledged is lost, nothing is applied twice, and the service
heals by itself when its database comes back."""
import random
import signal
import threading
import time
import uuid

import requests

from clusters import PrivateCluster, psql
from conftest import HOME, Server, create_key, database_url, eventually, run


class RetryingClient:
    """Posts events, retrying each (same body, same messageId) until the service acknowledges it."""

    def __init__(self, base_of, key, total, threads=8, deadline=240):
        self.base_of = base_of
        self.key = key
        self.acknowledged = set()
        self.acknowledged_at = []  # when each acknowledgement arrived, for measuring outages
        self.lock = threading.Lock()
        self.retries = 0
        self.failures = []
        start = time.time()
        self.deadline = start + deadline
        self.queue = [self.event(n) for n in range(total)]
        self.threads = [threading.Thread(target=self.work, args=(i,), daemon=True) for i in range(threads)]

    @staticmethod
    def event(n):
        return {
            "messageId": str(uuid.uuid4()),
            "sourceSystem": "BYGGR",
            "externalCaseId": f"CRASH-{n % 500}",
            "caseType": "Bygglov",
            "status": random.choice(["ANM", "Kv2", "UNDER", "KOMP", "KOMPL"]),
            "occurredAt": f"2024-04-23T{10 + n // 3600:02d}:{(n // 60) % 60:02d}:{n % 60:02d}Z",
        }

    def start(self):
        for thread in self.threads:
            thread.start()

    def join(self):
        for thread in self.threads:
            thread.join()

    def work(self, index):
        session = requests.Session()
        while True:
            with self.lock:
                if not self.queue:
                    return
                body = self.queue.pop()
            while time.time() < self.deadline:
                try:
                    reply = session.post(self.base_of() + "/api/v1/events", json=body, headers={"apikey": self.key}, timeout=10)
                    if reply.status_code in (200, 201):
                        with self.lock:
                            self.acknowledged.add(body["messageId"])
                            self.acknowledged_at.append(time.time())
                        break
                    if reply.status_code < 500:
                        with self.lock:
                            self.failures.append((reply.status_code, reply.text))
                        break
                except requests.RequestException:
                    pass
                with self.lock:
                    self.retries += 1
                time.sleep(0.1)


def assert_exactly_once(url, acknowledged):
    duplicates = psql(url, "SELECT count(*) FROM (SELECT message_id FROM case_events GROUP BY message_id HAVING count(*) > 1) d")
    assert duplicates == "0", "an event was applied twice"
    stored = set(psql(url, "SELECT message_id FROM case_events").split())
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged events are missing"
    # Every applied event has exactly one feed entry, and every stored answer one event.
    applied = psql(url, "SELECT count(*) FROM case_events WHERE applied")
    entries = psql(url, "SELECT count(*) FROM feed_entries WHERE reason = 'event'")
    assert applied == entries
    assert psql(url, "SELECT count(*) FROM idempotency_keys") == psql(url, "SELECT count(*) FROM case_events")
    assert_every_event_has_its_case(url)


def assert_every_event_has_its_case(url):
    """The hot tables keep no foreign keys (sql/003_ingest.sql); what the key to the case guarded is checked here."""
    orphans = psql(url, "SELECT count(*) FROM case_events e WHERE NOT EXISTS "
                        "(SELECT 1 FROM cases c WHERE c.tenant_id = e.tenant_id AND c.case_id = e.case_id)")
    assert orphans == "0", f"{orphans} events without their case"


def test_sigkill_and_restart_under_load_loses_nothing_and_applies_nothing_twice():
    url = database_url()
    env = {"DATABASE_URL": url}
    server = Server(env=env, name="crash")
    server.wait_healthy()
    key = create_key("sundsvall", "byggr", env)
    current = [server]
    client = RetryingClient(lambda: server.base, key, total=3000)
    client.start()
    for round in range(3):
        time.sleep(2.5)
        victim = current[0]
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        victim.log.close()
        # Restart on the same port: the client keeps talking to the same address.
        current[0] = Server(env=env, name=f"crash-restart-{round}", port=victim.port)
        current[0].wait_healthy()
    client.join()
    current[0].stop()
    assert not client.failures, client.failures[:3]
    assert len(client.acknowledged) == 3000
    assert client.retries > 0, "the server was never caught mid-request; the test proved nothing"
    assert_exactly_once(url, client.acknowledged)


def test_database_restart_under_load_heals_and_serves_a_publish_made_during_the_outage(tmp_path):
    cluster = PrivateCluster()
    cluster.start()
    try:
        env = {"DATABASE_URL": cluster.url}
        server = Server(env=env, name="pg-restart")
        server.wait_healthy()
        key = create_key("sundsvall", "byggr", env)
        portal = create_key("sundsvall", "oep-portal", env)
        assert server.post("/api/v1/events", key=key, json={**RetryingClient.event(0), "externalCaseId": "RESTART-1", "status": "KOMPTEK"}).status_code == 201
        client = RetryingClient(lambda: server.base, key, total=600, threads=4)
        client.start()
        time.sleep(1)
        cluster.stop()
        health = eventually(lambda: (r := server.get("/health")).status_code == 503 and r.json()["database"] == "unreachable", timeout=10)
        assert health, "the service did not report the database as unreachable"
        cluster.start()
        # Publish straight away, while the service has not reconnected its listener yet.
        changed = (HOME / "tenants" / "sundsvall.yaml").read_text().replace("KOMPTEK: Kompletterad", "KOMPTEK: Under behandling")
        document = tmp_path / "sundsvall.yaml"
        document.write_text(changed)
        assert "published version 2" in run(["tenants", "import", str(document)], env=env).stdout
        assert eventually(lambda: server.get("/health").status_code == 200, timeout=15), "the service did not recover by itself"
        assert eventually(lambda: server.get("/health").json()["tenants"]["sundsvall"]["rulesVersion"] == 2, timeout=15)
        assert server.get("/casestatus/1.0/RESTART-1/oepstatus", key=portal).json()["value"] == "Under behandling"
        client.join()
        server.stop()
        assert not client.failures, client.failures[:3]
        assert len(client.acknowledged) == 600
        assert_exactly_once(cluster.url, client.acknowledged)
    finally:
        cluster.remove()
