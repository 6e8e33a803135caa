"""Backfills: `statusbro events import` and `POST /api/v1/events:batch`, killed midway and run again."""
import json
import os
import signal
import subprocess
import threading
import uuid

import requests

from conftest import BIN, HOME, Server, create_key, database_url, eventually, run
from test_reliability import assert_every_event_has_its_case, psql


def line(external_case_id, status, n, **extra):
    body = {
        "messageId": str(uuid.UUID(int=n + 1)),
        "sourceSystem": "BYGGR",
        "externalCaseId": external_case_id,
        "caseType": "Bygglov",
        "status": status,
        "occurredAt": f"2024-04-{1 + n // 86400:02d}T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
    }
    body.update(extra)
    return json.dumps(body, ensure_ascii=False)


def assert_each_event_once(url, expected):
    assert psql(url, "SELECT count(*), count(DISTINCT message_id) FROM case_events") == f"{expected}|{expected}"
    assert psql(url, "SELECT count(*) FROM idempotency_keys") == str(expected)
    # Every applied event has exactly one feed entry.
    assert psql(url, "SELECT count(*) FROM case_events WHERE applied") == psql(url, "SELECT count(*) FROM feed_entries")
    assert_every_event_has_its_case(url)


def test_import_reports_every_line_and_running_it_again_changes_nothing(tmp_path):
    url = database_url()
    env = {"DATABASE_URL": url}
    run(["tenants", "import"], env=env)
    source = tmp_path / "events.ndjson"
    source.write_text("\n".join([
        line("IMP-1", "ANM", 1),
        line("IMP-1", "KOMP", 2),
        "",
        "{not json",
        line("IMP-2", "GRANSK", 3),
        line("IMP-3", "ANM", 4, organisationNumber="5564900009"),
        line("IMP-4", "ANM", 5),
    ]) + "\n")
    results = tmp_path / "results.ndjson"
    first = run(["events", "import", str(source), "--tenant", "sundsvall", "--results", str(results)], env=env, check=False)
    assert first.returncode == 1, first.stderr
    assert "6 events: 3 accepted, 0 replayed, 3 refused (3 kept as dead letters)" in first.stdout
    assert "line 4: VALIDATION_FAILED" in first.stderr
    assert "line 5: UNMAPPED_STATUS" in first.stderr
    assert "line 6: INVALID_IDENT" in first.stderr
    assert "5564900009" not in first.stderr, "identity numbers are masked on the terminal too"
    rows = [json.loads(text) for text in results.read_text().splitlines()]
    assert [row["line"] for row in rows] == [1, 2, 4, 5, 6, 7]
    assert [row["outcome"] for row in rows] == ["accepted", "accepted", "refused", "refused", "refused", "accepted"]
    assert rows[1]["receipt"]["status"] == "Väntar på komplettering"
    assert all(row.get("deadLetterId") for row in rows if row["outcome"] == "refused")

    again = run(["events", "import", str(source), "--tenant", "sundsvall", "--results", str(results)], env=env, check=False)
    assert "6 events: 0 accepted, 3 replayed, 3 refused (3 kept as dead letters)" in again.stdout
    rerun = [json.loads(text) for text in results.read_text().splitlines()]
    assert [row.get("receipt") for row in rerun if row["outcome"] != "refused"] == [row["receipt"] for row in rows if row["outcome"] == "accepted"]
    assert [row.get("deadLetterId") for row in rerun] == [row.get("deadLetterId") for row in rows]
    assert_each_event_once(url, 3)
    assert psql(url, "SELECT count(*) FROM dead_letters WHERE state = 'pending'") == "3"


def test_a_running_server_shows_what_an_import_changed_at_once(tmp_path, server_factory):
    """The import command announces its changes like a server does: a running server's cached
    reads show them at once, not when the cache expires a minute later."""
    url = database_url()
    env = {"DATABASE_URL": url}
    run(["tenants", "import"], env=env)
    server = server_factory(env=env, name="cached")
    server.wait_healthy()
    writer = create_key("sundsvall", "byggr", env)
    portal = create_key("sundsvall", "oep-portal", env)
    assert server.post("/api/v1/events", writer, json=json.loads(line("CLI-1", "ANM", 1))).status_code == 201
    assert server.post("/api/v1/events", writer, json=json.loads(line("CLI-2", "ANM", 2))).status_code == 201
    for _ in range(3):  # the first read fills the cache, the others are answered from it
        assert server.get("/casestatus/1.0/CLI-1/status", portal).json()["status"] == "Inskickat"

    source = tmp_path / "later.ndjson"
    source.write_text(line("CLI-1", "KOMP", 3) + "\n")
    assert "1 events: 1 accepted" in run(["events", "import", str(source), "--tenant", "sundsvall"], env=env).stdout
    shown = eventually(lambda: server.get("/casestatus/1.0/CLI-1/status", portal).json()["status"] == "Väntar på komplettering",
                       timeout=5)
    assert shown, "the server kept the case it had cached"


def test_import_explains_a_missing_file_and_an_unknown_tenant(tmp_path):
    env = {"DATABASE_URL": database_url()}
    missing = run(["events", "import", str(tmp_path / "nope.ndjson"), "--tenant", "sundsvall"], env=env, check=False)
    assert missing.returncode == 2 and "no such file" in missing.stderr and "nope.ndjson" in missing.stderr
    directory = run(["events", "import", str(tmp_path), "--tenant", "sundsvall"], env=env, check=False)
    assert directory.returncode == 2 and "not a readable file" in directory.stderr
    source = tmp_path / "one.ndjson"
    source.write_text(line("X", "ANM", 1) + "\n")
    run(["tenants", "import"], env=env)
    unknown = run(["events", "import", str(source), "--tenant", "nosuchkommun"], env=env, check=False)
    assert unknown.returncode == 2 and "tenant 'nosuchkommun' has no published rules" in unknown.stderr


def test_an_import_killed_midway_and_run_again_leaves_every_event_exactly_once(tmp_path):
    url = database_url()
    env = {"DATABASE_URL": url}
    run(["tenants", "import"], env=env)
    total = 60_000
    codes = ["ANM", "Kv2", "UNDER", "KOMP", "KOMPL"]
    source = tmp_path / "backfill.ndjson"
    source.write_text("".join(line(f"KILL-{n % 3000}", codes[n % 5], n) + "\n" for n in range(total)))

    full_env = dict(os.environ, **env)
    process = subprocess.Popen([BIN, "events", "import", str(source), "--tenant", "sundsvall"], env=full_env, cwd=HOME,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Kill it once part of the file is in, before all of it is.
    stored = eventually(lambda: int(psql(url, "SELECT count(*) FROM case_events") or 0) >= 4_000, timeout=120, interval=0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = int(psql(url, "SELECT count(*) FROM case_events"))
    assert stored and 0 < partial < total, f"killed with {partial} of {total} events in: the test proved nothing"
    # Whole chunks only: what was in flight rolled back with the connection.
    assert partial % 2_000 == 0

    again = run(["events", "import", str(source), "--tenant", "sundsvall"], env=env, timeout=600)
    assert f"{total} events: {total - partial} accepted, {partial} replayed, 0 refused" in again.stdout
    assert_each_event_once(url, total)


def test_batches_to_a_server_killed_midway_and_sent_again_leave_every_event_exactly_once():
    url = database_url()
    env = {"DATABASE_URL": url}
    server = Server(env=env, name="batch-kill")
    server.wait_healthy()
    key = create_key("sundsvall", "byggr", env)
    batches = [[line(f"BK-{n % 400}", "ANM", n) for n in range(start, start + 5_000)] for start in range(0, 40_000, 5_000)]

    def send(batch):
        return requests.post(server.base + "/api/v1/events:batch", data="\n".join(batch).encode(), timeout=120,
                             headers={"apikey": key, "content-type": "application/x-ndjson"})

    assert send(batches[0]).status_code == 200
    # Kill the server while the next batches are being applied.
    errors = []
    sender = threading.Thread(target=lambda: [errors.append(e) for e in _send_all(send, batches[1:])], daemon=True)
    sender.start()
    eventually(lambda: int(psql(url, "SELECT count(*) FROM case_events")) > 12_000, timeout=120, interval=0.01)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    server.log.close()
    sender.join(timeout=120)
    partial = int(psql(url, "SELECT count(*) FROM case_events"))
    assert 5_000 < partial < 40_000, f"{partial} events stored when the server was killed: the test proved nothing"

    server = Server(env=env, name="batch-kill-restart", port=server.port)
    server.wait_healthy()
    try:
        counts = {"accepted": 0, "replayed": 0, "refused": 0}
        for batch in batches:
            reply = send(batch)
            assert reply.status_code == 200
            for name in counts:
                counts[name] += reply.json()[name]
        assert counts == {"accepted": 40_000 - partial, "replayed": partial, "refused": 0}
    finally:
        server.stop()
    assert_each_event_once(url, 40_000)


def _send_all(send, batches):
    failures = []
    for batch in batches:
        try:
            send(batch)
        except requests.RequestException as error:
            failures.append(error)
            break
    return failures
