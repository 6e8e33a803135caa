"""The Swedish status reads answered from memory on the event loop (StatusHTTP/Sweden/HotReads.swift),
against a real `statusbro serve`: the answer from memory is the router's answer byte for byte, and the
caches behind it are exact (a write, a publish, a revoked key show on the very next read; one
tenant's warm entries never answer another)."""
import re
import socket

from conftest import create_key, database_url, event, eventually, run

ORGANISATION = "5564900008"


def started(server_factory):
    env = {"DATABASE_URL": database_url()}
    # Two event loops, whatever the machine: each keeps its own encoded bodies, and `shown` below
    # reads often enough to reach both (each request is a new connection, given to the loops in turn).
    server = server_factory(env=dict(env, STATUSBRO_EVENT_LOOPS="2"), name="hot")
    server.wait_healthy()
    keys = {role: create_key("sundsvall", role, env) for role in ("byggr", "oep-portal", "municipality-admin")}
    keys["bergen"] = create_key("bergen", "municipality-admin", env)
    return server, env, keys


def read_twice(server, path, key, headers=None):
    """The first read fills the caches (router); the second is answered from memory."""
    first = server.get(path, key=key, headers=dict(headers or {}))
    second = server.get(path, key=key, headers=dict(headers or {}))
    return first, second


def comparable(reply):
    headers = {name.lower(): value for name, value in reply.headers.items() if name.lower() != "date"}
    return reply.status_code, headers, reply.content


def metric(server, route):
    text = server.get("/metrics").text
    pattern = rf'^hb_requests\{{http_route="{re.escape(route)}",http_request_method="GET",http_response_status_code="200"\}} (\d+)'
    return int(re.search(pattern, text, re.M).group(1))


def test_the_answer_from_memory_is_the_routers_byte_for_byte(server_factory):
    server, _, keys = started(server_factory)
    byggr, portal = keys["byggr"], keys["oep-portal"]
    for n, code in enumerate(["ANM", "KOMP"]):
        reply = server.post("/api/v1/events", key=byggr, json=event(f"HOT-{n}", code, flowInstanceId=f"FLOW-{n}", organisationNumber=ORGANISATION))
        assert reply.status_code == 201, reply.text
    paths = [
        "/casestatus/1.0/HOT-0/status",
        "/casestatus/1.0/FLOW-1/oepstatus",
        "/casestatus/1.0/HOT-1/oepstatus",
        f"/casestatus/1.0/{ORGANISATION}/statuses",
        f"/casestatus/1.0/556490-0008/statuses",
        "/caseStatus/1.0/api/HOT-0/status",
    ]
    for path in paths:
        for headers in ({}, {"X-Correlation-ID": "portal-42"}, {"Nav-Call-Id": "nav-7"}):
            first, second = read_twice(server, path, portal, headers)
            assert first.status_code == 200, (path, first.text)
            if headers:
                assert comparable(first) == comparable(second), path
            else:
                # A correlation id is made per request when the client brings none.
                assert comparable(first)[2] == comparable(second)[2]
                assert first.headers["X-Correlation-ID"] != second.headers["X-Correlation-ID"]
                assert set(first.headers) == set(second.headers)
            assert second.headers["Date"].endswith(" GMT")
    # The same key in the Authorization header reads the same from memory.
    first, second = read_twice(server, "/casestatus/1.0/HOT-0/status", None, {"Authorization": f"Bearer {portal}", "X-Correlation-ID": "x"})
    assert comparable(first) == comparable(second)
    # Counted under the router's own labels: once per read, whichever answered it.
    before = metric(server, "/casestatus/{version}/{id}/status")
    for _ in range(5):
        assert server.get("/casestatus/1.0/HOT-0/status", key=portal).status_code == 200
    assert metric(server, "/casestatus/{version}/{id}/status") == before + 5


def test_refusals_and_odd_requests_get_the_routers_answer(server_factory):
    server, _, keys = started(server_factory)
    portal = keys["oep-portal"]
    server.post("/api/v1/events", key=keys["byggr"], json=event("ODD-1", "ANM"))
    assert server.get("/casestatus/1.0/ODD-1/status", key=portal).status_code == 200  # warm
    assert server.get("/casestatus/2.0/ODD-1/status", key=portal).json()["code"] == "NOT_FOUND"
    assert server.get("/casestatus/1.0/ODD-1/status").json()["code"] == "UNAUTHENTICATED"
    assert server.get("/casestatus/1.0/ODD-1/status", key=keys["byggr"]).json()["code"] == "FORBIDDEN"
    assert server.get("/casestatus/1.0/5564900009/statuses", key=portal).json()["code"] == "INVALID_IDENT"
    assert server.get("/casestatus/1.0/ODD%2D1/status", key=portal).json()["status"] == "Inskickat"
    assert server.get("/casestatus/1.0/ODD-1/status?x=1", key=portal).json()["status"] == "Inskickat"
    closing = server.get("/casestatus/1.0/ODD-1/status", key=portal, headers={"Connection": "close"})
    assert closing.status_code == 200 and closing.json()["id"] == "ODD-1"

    # The tenant's request limits hold for reads answered from memory too.
    admin = keys["municipality-admin"]
    active = server.get("/admin/v1/rules", key=admin).json()
    document = dict(active["document"], limits={"perKey": {"reads": {"perSecond": 1, "burst": 2}}})
    published = server.post("/admin/v1/rules/publish", key=admin, json={"baseVersion": active["version"], "document": document})
    assert published.status_code == 201, published.text
    answers = [server.get("/casestatus/1.0/ODD-1/status", key=portal) for _ in range(4)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    refused = [a for a in answers[2:] if a.status_code == 429]
    assert refused and refused[0].json()["code"] == "RATE_LIMITED" and refused[0].headers["Retry-After"]


def test_pipelined_reads_are_answered_in_order_around_the_router(server_factory):
    server, _, keys = started(server_factory)
    portal = keys["oep-portal"]
    for n in range(3):
        server.post("/api/v1/events", key=keys["byggr"], json=event(f"PIPE-{n}", "ANM"))
        assert server.get(f"/casestatus/1.0/PIPE-{n}/status", key=portal).status_code == 200  # warm
    # Warm, cold (the router), warm, unknown (the router), warm: one write, answers in request order.
    ids = ["PIPE-0", "COLD-X", "PIPE-1", "NONE", "PIPE-2"]
    request = "".join(
        f"GET /casestatus/1.0/{case}/status HTTP/1.1\r\nHost: x\r\napikey: {portal}\r\nX-Correlation-ID: c-{n}\r\n\r\n" for n, case in enumerate(ids))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request.encode())
        received = b""
        while received.count(b"HTTP/1.1 ") < len(ids) or not received.endswith(b"}"):
            chunk = connection.recv(65536)
            assert chunk, received
            received += chunk
    answers = received.split(b"HTTP/1.1 ")[1:]
    assert [a.split(b" ", 1)[0] for a in answers] == [b"200", b"404", b"200", b"404", b"200"]
    assert [re.search(rb"X-Correlation-ID: (\S+)", a, re.I).group(1) for a in answers] == [f"c-{n}".encode() for n in range(5)]
    assert b'"id":"PIPE-2"' in answers[4]


def test_the_next_read_shows_a_write_a_publish_a_revocation_and_never_another_tenant(server_factory):
    server, env, keys = started(server_factory)
    byggr, portal, admin = keys["byggr"], keys["oep-portal"], keys["municipality-admin"]
    server.post("/api/v1/events", key=byggr, json=event("EXACT-1", "KOMPTEK", organisationNumber=ORGANISATION))
    paths = ["/casestatus/1.0/EXACT-1/status", "/casestatus/1.0/EXACT-1/oepstatus", f"/casestatus/1.0/{ORGANISATION}/statuses"]

    def shown():
        """What the three reads show, the same each of four times: the first may fill the caches
        (router), the others are answered from memory, on both event loops."""
        seen = set()
        for _ in range(4):
            answers = [server.get(path, key=portal).json() for path in paths]
            seen.add((answers[0]["status"], answers[1]["value"], answers[2][0]["status"]))
        assert len(seen) == 1, seen
        return seen.pop()

    assert shown() == ("Kompletterad",) * 3

    # A write.
    reply = server.post("/api/v1/events", key=byggr, json=event("EXACT-1", "UNDER", occurred_at="2024-04-24T09:00:00+02:00", organisationNumber=ORGANISATION))
    assert reply.status_code == 201, reply.text
    assert shown() == ("Under behandling",) * 3

    # A publish that maps the case's code elsewhere.
    server.post("/api/v1/events", key=byggr, json=event("EXACT-1", "KOMPTEK", occurred_at="2024-04-25T09:00:00+02:00", organisationNumber=ORGANISATION))
    assert shown() == ("Kompletterad",) * 3
    active = server.get("/admin/v1/rules", key=admin).json()
    document = active["document"]
    document["sources"]["BYGGR"]["codes"]["KOMPTEK"] = "Under behandling"
    published = server.post("/admin/v1/rules/publish", key=admin, json={"baseVersion": active["version"], "document": document, "comment": "hot"})
    assert published.status_code == 201, published.text
    assert shown() == ("Under behandling",) * 3

    # Another tenant's key, with the same warm entries in memory.
    for path in paths[:2]:
        assert server.get(path, key=keys["bergen"]).json()["code"] == "NOT_FOUND"
    assert server.get(paths[2], key=keys["bergen"]).json() == []

    # A revoked key: refused as soon as this server hears of the revocation (another process made
    # it; in the revoking process it is at once, StatusHTTPTests/AccessTests), warm entries or not.
    created = run(["keys", "create", "--tenant", "sundsvall", "--role", "oep-portal"], env=env).stdout.strip().splitlines()
    key_id, key = re.search(r"created key (\S+)", created[0]).group(1), created[-1]
    assert server.get(paths[0], key=key).status_code == 200
    assert server.get(paths[0], key=key).status_code == 200  # from memory
    run(["keys", "revoke", key_id], env=env)
    assert eventually(lambda: server.get(paths[0], key=key).status_code == 401, timeout=5)
    assert server.get(paths[0], key=key).json()["code"] == "UNAUTHENTICATED"
