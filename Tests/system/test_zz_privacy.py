"""Personal identity numbers never reach the logs in clear."""
import re
import uuid

from conftest import ARTIFACTS, create_key, database_url, event

# Identity and organisation numbers the system tests send (valid ones and ones failing their check digits).
IDENTITY_NUMBERS = [
    "191212121212", "19121212-1212", "121212-1212",  # a Swedish personnummer (Skatteverket's test person)
    "15078610090", "15078610091", "55078610084",  # Norwegian fødselsnummer / D-number
    "5564900008", "556490-0008", "5564900009",  # Swedish organisation numbers
    "0102031234", "010203-1234",  # Danish CPR shape
]


def digits_only(text):
    return re.sub(r"\D", "", text)


def leaked(log_text):
    """The identity numbers that appear in clear (with or without separators) in `log_text`."""
    runs = set(digits_only(m) for m in re.findall(r"\d[\d\-+]{8,14}\d", log_text))
    return sorted(n for n in IDENTITY_NUMBERS if digits_only(n) in runs)


def test_identity_numbers_in_traffic_are_masked_in_trace_logs(server_factory):
    env = {"DATABASE_URL": database_url(), "LOG_LEVEL": "trace", "LOG_FORMAT": "json"}
    server = server_factory(env=env, name="privacy")
    server.wait_healthy()
    writer = create_key("sundsvall", "byggr", env)
    portal = create_key("sundsvall", "oep-portal", env)
    vendor = create_key("bergen", "ebygg-vendor", env)
    # Identity numbers in bodies, in ids, in paths and queries, valid and invalid, accepted and refused.
    assert server.post("/api/v1/events", key=writer, json=event("19121212-1212", "ANM", organisationNumber="556490-0008")).status_code == 201
    assert server.post("/api/v1/events", key=writer, json=event("PNR-2", "ANM", organisationNumber="5564900009")).status_code == 400
    assert server.post("/api/v1/events", key=writer, json=event("010203-1234", "NYKOD")).status_code == 422
    assert server.get("/casestatus/1.0/5564900008/statuses", key=portal).status_code == 200
    assert server.get("/casestatus/1.0/5564900009/statuses", key=portal).status_code == 400
    assert server.get("/casestatus/1.0/191212121212/status", key=portal).status_code == 404
    receipt = {
        "metadata": {"innsendingReferanse": "AR" + uuid.uuid4().hex[:8]},
        "saksnummer": {"saksaar": "2024", "sakssekvensnummer": "77"},
        "milepæl": "MS",
        "avsenderKontaktpunkt": {"navn": "Ola", "fodselsnummer": "15078610090"},
    }
    assert server.post("/dibk/api/v1/kvittering", key=vendor, json=receipt).status_code == 201
    receipt["avsenderKontaktpunkt"]["fodselsnummer"] = "15078610091"
    receipt["metadata"]["innsendingReferanse"] = "AR" + uuid.uuid4().hex[:8]
    assert server.post("/dibk/api/v1/kvittering", key=vendor, json=receipt).status_code == 400
    server.stop()
    text = server.log_path.read_text()
    # The numbers did reach the log — masked — or this check would prove nothing.
    assert "/casestatus/1.0/**********/statuses" in text
    assert "/casestatus/1.0/************/status" in text
    assert leaked(text) == []


def test_no_server_log_of_the_whole_suite_holds_an_identity_number():
    """Runs last (file order): every server the system tests started wrote its log to artifacts/."""
    logs = sorted(ARTIFACTS.glob("*.log"))
    assert logs, "no server logs to check"
    for log in logs:
        assert leaked(log.read_text(errors="replace")) == [], log.name
