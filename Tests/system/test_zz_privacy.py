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
    "13097248022", "10068831950", "53097248016",  # NAV: a valid fnr, the document's invalid example, a D-number
    "211062-5629", "2110625629", "3102621234",  # Danish CPR numbers (the last names 31 February)
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
    # NAV cards and STAR messages: accepted, refused for their ident, parked, and read back by person.
    arena = create_key("nav-oslo", "arena-acl", env)
    call = {"Nav-Call-Id": "privacy"}
    card = {
        "messageId": str(uuid.uuid4()), "source": "ARENA_TILTAK_AKTIVITET_ACL", "aktivitetskortType": "ARBEIDSTRENING",
        "actionType": "UPSERT_AKTIVITETSKORT_V1",
        "aktivitetskort": {
            "id": str(uuid.uuid4()), "personIdent": "13097248022", "tittel": "Arbeidstrening", "aktivitetStatus": "FULLFORT",
            "endretAv": {"ident": "53097248016", "identType": "PERSONBRUKERIDENT"}, "endretTidspunkt": "2024-05-01T10:00:00",
            "avtaltMedNav": False,
        },
    }
    assert server.post("/nav/aktivitetskort/v1", key=arena, json=card, headers=call).status_code == 201
    card["messageId"] = str(uuid.uuid4())
    assert server.post("/nav/aktivitetskort/v1", key=arena, json=card, headers=call).status_code == 409  # final: parked
    card["aktivitetskort"]["personIdent"] = "10068831950"
    assert server.post("/nav/aktivitetskort/v1", key=arena, json=card, headers=call).status_code == 400
    star = create_key("aarhus", "star-wsb", env)
    jobcenter = create_key("aarhus", "jobcenter-portal", env)
    besked = {
        "BeskedIdentifier": str(uuid.uuid4()), "HaendelsesTid": "2024-04-23T12:47:17+02:00", "EntitetstypeNavn": "Indkaldelse",
        "EksternIdentifier": "P-" + uuid.uuid4().hex[:8], "Identifikation": "211062-5629", "IdentifikationstypeId": 1, "AendringstypeId": 1,
    }
    assert server.post("/star/v1/wsb", key=star, json=besked).status_code == 201
    assert server.post("/star/v1/wsb", key=star, json=dict(besked, Identifikation="3102621234")).status_code == 400
    assert server.get("/star/v1/Indkaldelse/historik?identifikation=2110625629", key=jobcenter).status_code == 200
    assert server.get("/star/v1/Indkaldelse/historik?identifikation=3102621234", key=jobcenter).status_code == 400
    server.stop()
    text = server.log_path.read_text()
    # The numbers did reach the log — masked — or this check would prove nothing.
    assert "/casestatus/1.0/**********/statuses" in text
    assert "/casestatus/1.0/************/status" in text
    assert "identifikation=**********" in text
    assert leaked(text) == []


def test_no_server_log_of_the_whole_suite_holds_an_identity_number():
    """Runs last (file order): every server the system tests started wrote its log to artifacts/."""
    logs = sorted(ARTIFACTS.glob("*.log"))
    assert logs, "no server logs to check"
    for log in logs:
        assert leaked(log.read_text(errors="replace")) == [], log.name
