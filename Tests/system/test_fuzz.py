"""Fuzzes a live `statusbro serve` with schemathesis against its own OpenAPI 3.1 document.

Every operation of the document the server serves at /openapi.json is called with generated
requests: the document's own examples first, then requests that conform to the document (positive)
and requests that break it somewhere (negative), from a fixed seed. Every response must be no
server error and conform to the document: a status the operation lists, its content type, headers
and body (`not_a_server_error`, `status_code_conformance` and `status_code_is_listed`,
`content_type_conformance`, `response_headers_conformance`, `response_schema_conformance`). An
operation that needs a credential must answer 401 without one and with an invalid one
(`ignored_auth`, which sends each successful request again so).

About half of the generated writes are steered to values the tenants' rules know (a mapped source
system and code, a few shared cases, the seeded receipt, an existing release, a valid rules change),
and every successful write is read back through the operations that show it, so that answers with
real content are checked too, not only "not found".

Two more tests judge what the fuzzing collected, so that such a finding does not stop the fuzzing
of its operation: a request that breaks the document is refused (4xx), and a request that conforms
to it is refused as malformed (400) only for a reason the document gives in words.

Credentials: each tenant gets an extra role `fuzzer` with every permission, in copies of
`tenants/*.yaml` in a temporary home, so that requests reach the handlers instead of stopping at 403,
and the role is in version 1 of the rules (a rollback keeps it). `/dibk/…` is fuzzed as Bergen (the
tenant with source system DIBK), `/nav/…` as NAV Oslo, `/star/…` as Aarhus, everything else as Sundsvall. When a fuzzed publish makes a release
without the role, the tenant's file is imported again.

Reproducibility: Hypothesis is derandomized, but hypothesis-jsonschema builds some negative
examples in set-iteration order, so the examples also depend on the interpreter's string hash seed.
The test command (scripts/test) runs pytest with PYTHONHASHSEED=0: the same requests on every run. Summary in artifacts/fuzz-summary.json.
"""
import json
import os
import re
import shutil
import tempfile
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationConfig
from schemathesis.specs.openapi._hypothesis import get_schema_for_location
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import ARTIFACTS, HOME, Server, create_key, database_url, eventually, run

schemathesis.experimental.OPEN_API_3_1.enable()


@schemathesis.serializer("application/x-ndjson")
class NDJSONSerializer:
    """`POST /api/v1/events:batch` takes NDJSON: a string is sent as it is, a list one JSON value
    per line, anything else (a negative example) as its JSON text."""

    @staticmethod
    def _encode(value):
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode()
        if isinstance(value, list):
            return "\n".join(json.dumps(item, ensure_ascii=False) for item in value).encode()
        return json.dumps(value, ensure_ascii=False).encode()

    def as_requests(self, context, value):
        return {"data": self._encode(value)}

    def as_werkzeug(self, context, value):
        return {"data": self._encode(value)}

# Generated examples per operation (positive and negative together), on top of the document's own
# examples. With the read-backs, about 2,300 checked responses in two and a half minutes on two cores.
MAX_EXAMPLES = 75



def status_code_is_listed(ctx, response, case):
    """`status_code_conformance` accepts any status of an operation that documents `default`, as
    every operation of this document does (for 500): a status below 500 must be listed itself."""
    listed = {str(code).upper() for code in case.operation.definition.raw["responses"]} - {"DEFAULT"}
    code = str(response.status_code)
    if response.status_code < 500 and code not in listed and code[0] + "XX" not in listed:
        raise AssertionError(f"{code} is not among the statuses {case.operation.verbose_name} lists: {sorted(listed)}")


CHECKS = (
    not_a_server_error,
    status_code_conformance,
    status_code_is_listed,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
)

EVERY_PERMISSION = [
    "status:read", "events:write", "dibk:write", "dibk:read", "feed:read",
    "rules:read", "rules:write", "rules:publish", "audit:export", "deadletters:manage",
]

# Refusals (400) of conforming requests for reasons the document gives in words, because JSON Schema
# cannot say them: (operation or None for any, the error's pointer or None for any, a fragment of
# its message). A date at the edge of the year range is handled in `explained`.
EXPLAINED_REFUSALS = [
    # "the last digit is a Luhn check digit over the last ten"
    ("GET /casestatus/{version}/{id}/statuses", "/path/id", "check digit"),
    ("GET /caseStatus/{version}/api/{id}/statuses", "/path/id", "check digit"),
    ("POST /api/v1/events", "/organisationNumber", "check digit"),
    # "A token this server did not issue is 400"
    ("GET /api/v1/changes", "/query/offset", "not an offset this server issued"),
    ("GET /api/v1/changes/parties", "/query/offset", "not an offset this server issued"),
    # "a body that cannot be read as a batch at all (no events, …) is 400"
    ("POST /api/v1/events:batch", "/", "the body holds no events"),
    # "by innsendingReferanse …, or by saksaar and sakssekvensnummer; … neither is 400"
    ("GET /dibk/api/v1/status", "/query", "give innsendingReferanse, or saksaar and sakssekvensnummer"),
    # "a portal status of the rules used, else 400"
    ("POST /admin/v1/rules/simulate", "/fromStatus", "is not a portal status"),
    # "a body that cannot be read as a batch at all (no events, …) is 400"
    ("POST /api/v1/events:batch", "/", "the body holds no events"),
    # "No string or member name anywhere in a request body may contain NUL"
    (None, None, "must not contain NUL characters"),
    # "with two valid mod-11 check digits" (personIdent; endretAv.ident of a person or an organiser)
    ("POST /nav/aktivitetskort/v1", None, "check digit"),
    # "Must differ from `messageId`"
    ("POST /nav/aktivitetskort/v1", "/messageId", "must not be the card's id"),
    # "naming a birth date that exists and is not in the future"
    ("POST /star/v1/wsb", "/Identifikation", "naming a birth date that exists"),
    ("GET /star/v1/{entitet}/historik", "/query/identifikation", "naming a birth date that exists"),
    # "Given with `EntitetstypeNavn`, the pair must be the document's"; "it must be the name of `AendringstypeId`"
    ("POST /star/v1/wsb", "/EntitetstypeId", "does not match EntitetstypeNavn"),
    ("POST /star/v1/wsb", "/AendringstypeNavn", "does not match AendringstypeId"),
]

# Values the tenants' rules know, to steer generated writes past the rules: random codes are almost
# never mapped, so every write would be dead-lettered and nothing read back.
BYGGR_CODES = ["ANM", "UNDER", "KOMP", "KOMP1", "KOMPL", "SLU", "Avslutat", "OKÄND"]  # OKÄND: unmapped
DIBK_CODES = ["MS", "FS", "MB", "VF", "FA", "XX"]  # XX: unmapped
UTFALL_TYPES = ["MANGEL", "OPPFYLT", "VEDTAK", "AVVIST", "UKJENT"]  # UKJENT: unmapped
CASE_IDS = ["FUZZ 1", "FUZZ/2", "FUZZ %3"]  # a few shared cases, so that transitions happen
ORGANISATION_NUMBERS = ["5564900008", "556490-0008", "165564900008"]  # one organisation, three forms
SEEDED_RECEIPT = "AR12345679"  # the document's example receipt, seeded
PERSONS = ["13097248022", "53097248016", "10068831950"]  # NAV: an fnr, a D-number, the document's invalid example
NAV_CARDS = ["497f6eca-6276-4993-bfeb-53cbbbba6f08", "6d1f3e2a-9b8c-4d7e-a6f5-0e1d2c3b4a59"]  # the example card and one more
CPRS = ["1111111111", "111111-1111", "2110625629", "3102621234"]  # STAR: the example, its hyphen form, another, 31 February
STAR_CODES = [1, 2, 3, 4, 99]  # Indkaldelse:99 is unmapped
STAR_ENTITIES = ["xxxxxxxx-54a7-4f3b-9b81-dd2661e45600", "FUZZ-STAR-1"]


# What the fuzzing saw. Per operation: the validated responses' status codes by kind of request.
SEEN = defaultdict(Counter)
ACCEPTED_NEGATIVE = defaultdict(list)
REFUSED_POSITIVE = defaultdict(list)
RULES_RESTORES = []


# ---- the server -------------------------------------------------------------------------------


TENANTS = {"/dibk/": "bergen", "/nav/": "nav-oslo", "/star/": "aarhus"}


def tenant_of(operation_path):
    return next((tenant for prefix, tenant in TENANTS.items() if operation_path.startswith(prefix)), "sundsvall")


def make_home():
    """A home folder like the repository's, whose tenants also have the role `fuzzer`."""
    home = Path(tempfile.mkdtemp(prefix="statusbro-fuzz-"))
    for name in ("sql", "admin", "openapi.json"):
        (home / name).symlink_to(HOME / name)
    (home / "tenants").mkdir()
    role = "  fuzzer: [" + ", ".join(EVERY_PERMISSION) + "]\n"
    for source in sorted((HOME / "tenants").glob("*.yaml")):
        text = source.read_text(encoding="utf-8")
        assert "\nroles:\n" in text, source
        (home / "tenants" / source.name).write_text(text.replace("\nroles:\n", "\nroles:\n" + role, 1), encoding="utf-8")
    return home


@pytest.fixture(scope="module")
def service():
    home = make_home()
    env = {"DATABASE_URL": database_url(), "STATUSBRO_HOME": str(home)}
    server = Server(env=env, name="fuzz")
    try:
        server.wait_healthy()
        keys = {tenant: create_key(tenant, "fuzzer", env) for tenant in ("sundsvall", *TENANTS.values())}
        seed(server, keys)
        yield SimpleNamespace(server=server, keys=keys, env=env, home=home)
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def seed(server, keys):
    """Data for the document's examples to find: its event, receipt, aktivitetskort and WSB examples
    (so that those examples are retries, answered 200), a dead letter, and a second case of the same
    organisation."""
    schemas = json.loads((HOME / "openapi.json").read_text(encoding="utf-8"))["components"]["schemas"]
    example = schemas["EventSubmission"]["examples"][0]
    assert server.post("/api/v1/events", key=keys["sundsvall"], json=example).status_code == 201
    second = dict(example, messageId="5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f", externalCaseId="BYGG 2024-000124", flowInstanceId="771235")
    assert server.post("/api/v1/events", key=keys["sundsvall"], json=second).status_code == 201
    parked = dict(example, messageId="6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", externalCaseId="BYGG 2024-000125", status="NYKOD")
    assert server.post("/api/v1/events", key=keys["sundsvall"], json=parked).status_code == 422
    receipt = schemas["Kvittering"]["examples"][0]
    assert server.post("/dibk/api/v1/kvittering", key=keys["bergen"], json=receipt).status_code == 201
    card = schemas["AktivitetskortBestilling"]["examples"][0]
    reply = server.post("/nav/aktivitetskort/v1", key=keys["nav-oslo"], json=card, headers={"Nav-Call-Id": "fuzz-seed"})
    assert reply.status_code == 201, reply.text
    besked = schemas["STARBesked"]["examples"][0]
    assert server.post("/star/v1/wsb", key=keys["aarhus"], json=besked).status_code == 201


@pytest.fixture(scope="module")
def api_schema(service):
    """The document as the server serves it, aimed at the server."""
    return schemathesis.from_uri(
        service.server.base + "/openapi.json",
        base_url=service.server.base,
        data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
        # The credential is passed explicitly; generated `apikey`/`Authorization` values would only
        # test that an explicit key wins over them. No NUL: the document refuses it everywhere.
        generation_config=GenerationConfig(with_security_parameters=False, allow_x00=False),
    )


schema = schemathesis.from_pytest_fixture("api_schema")


def keep_fuzzer_role(service, tenant):
    """A fuzzed publish may make a release without the `fuzzer` role (the document's example rules
    have none): import the tenant's file again so that the next requests still reach the handlers."""
    key = service.keys[tenant]
    permissions = lambda: service.server.get("/admin/v1/me", key=key).json().get("permissions", [])  # noqa: E731
    if set(EVERY_PERMISSION) <= set(permissions()):
        return
    RULES_RESTORES.append(tenant)
    run(["tenants", "import", str(service.home / "tenants" / f"{tenant}.yaml")], env=service.env)
    assert eventually(lambda: set(EVERY_PERMISSION) <= set(permissions()), timeout=15), "the fuzzer role did not come back"


# ---- steering and reading back ------------------------------------------------------------------


def steer(case, service):
    """Rewrites about half of the generated positive writes (not the document's examples) with
    values the rules know. Deterministic: the choice comes from the generated body."""
    if not (case.meta and case.meta.phase.name == "GENERATE" and case.data_generation_method.is_positive):
        return
    body = case.body
    if not isinstance(body, dict):
        return
    choice = zlib.crc32(json.dumps(body, sort_keys=True).encode())
    if choice % 2:
        return
    pick = lambda options, salt=0: options[(choice // 2 + salt) % len(options)]  # noqa: E731
    name = case.operation.verbose_name
    if name == "POST /api/v1/events":
        body.update(sourceSystem="BYGGR", status=pick(BYGGR_CODES))
        if choice % 3 == 0:
            body["externalCaseId"] = pick(CASE_IDS, 1)
        if body.get("organisationNumber") is not None:
            body["organisationNumber"] = pick(ORGANISATION_NUMBERS, 2)
    elif name == "POST /dibk/api/v1/kvittering":
        body["milepæl"] = pick(DIBK_CODES)
    elif name == "POST /dibk/api/v1/oppdatering":
        body["metadata"]["innsendingReferanse"] = [SEEDED_RECEIPT] + body["metadata"]["innsendingReferanse"][1:]
        if "milepæl" in body:
            body["milepæl"] = pick(DIBK_CODES)
        for index, outcome in enumerate(body.get("utfall") or []):
            outcome["utfallType"] = pick(UTFALL_TYPES, index)
    elif name == "POST /nav/aktivitetskort/v1":
        body["source"] = pick(["ARENA_TILTAK_AKTIVITET_ACL", "TEAM_TILTAK"])
        card = body.get("aktivitetskort")
        person = pick(PERSONS, 1)
        if isinstance(card, dict):
            card.update(id=pick(NAV_CARDS, 2), personIdent=person)
            changed_by = card.get("endretAv")
            if isinstance(changed_by, dict) and changed_by.get("identType") in ("PERSONBRUKERIDENT", "TILTAKSARRAGOER", "ARBEIDSGIVER"):
                changed_by.update(ident="AAA123", identType="ARENAIDENT")
        else:
            body.update(aktivitetsId=pick(NAV_CARDS, 2), personIdent=person)
    elif name == "POST /star/v1/wsb":
        body.update(
            EntitetstypeNavn="Indkaldelse", EntitetstypeId=90000, Identifikation=pick(CPRS, 1), EksternIdentifier=pick(STAR_ENTITIES, 2),
            Body={"Indkaldelsehaendelsestype": pick(STAR_CODES, 3)} if choice % 3 else None,
        )
        names = {1: "Create", 2: "Update", 3: "Delete"}
        if body.get("AendringstypeNavn") is not None:
            body["AendringstypeNavn"] = names[body["AendringstypeId"]]
    elif name == "POST /admin/v1/rules/rollback":
        body["toVersion"] = 1  # the first release always exists
    elif name == "POST /admin/v1/rules/publish":
        # The active rules with KOMP1 (a code no rules test pins) mapped to another status, so the
        # cases that show it are remapped.
        active = service.server.get("/admin/v1/rules", key=service.keys["sundsvall"]).json()
        statuses = [status["name"] for status in active["document"]["statuses"]]
        active["document"]["sources"]["BYGGR"]["codes"]["KOMP1"] = pick(statuses)
        body.update(baseVersion=active["version"], document=active["document"])


def sendable_headers(case):
    """HTTP forbids control characters (but tab) in a field value, and the server's HTTP parser
    refuses such a request (400, no body) before any handler can answer what the document says. A
    generated value with one is replaced by one that breaks the document's pattern as well and that
    HTTP can carry."""
    for name, value in list((case.headers or {}).items()):
        if isinstance(value, str) and any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F or ord(c) > 0xFF for c in value):
            case.headers[name] = "not visible ascii only"


def encode_path_parameters(case):
    """The document's path parameters are percent-encoded. schemathesis encodes the ones it
    generates, but sends those of a case made by hand as they are, so an id with `/`, `?`, `#` or
    `%` would name another path (or another operation)."""
    if case.path_parameters:
        case.path_parameters = {
            name: quote(value, safe="") if isinstance(value, str) else value for name, value in case.path_parameters.items()
        }


def call(service, api_schema, tenant, path, method, **parts):
    """Calls one operation with the given parts and checks the answer like a fuzzed one."""
    case = api_schema[path][method].make_case(**parts)
    encode_path_parameters(case)
    case.headers = {}
    response = case.call_and_validate(
        base_url=service.server.base, headers={"apikey": service.keys[tenant]}, checks=CHECKS, timeout=30
    )
    SEEN[case.operation.verbose_name][f"read-back {response.status_code}"] += 1
    return response


def read_back(service, api_schema, case, response):
    """After a write, reads what it made through the operations that show it, so that their
    answers are checked with real content (a random id almost never names anything)."""
    name = case.operation.verbose_name
    tenant = tenant_of(case.operation.path)
    follow = lambda path, method="GET", **parts: call(service, api_schema, tenant, path, method, **parts)  # noqa: E731
    answer = response.json() if "json" in response.headers.get("content-type", "") else None
    if isinstance(answer, dict) and answer.get("deadLetterId"):
        # The overview counts it (with the code it carries) before the replay.
        follow("/admin/v1/stats/deadletters")
        follow("/api/v1/deadletters/{id}/replay", "POST", path_parameters={"id": answer["deadLetterId"]})
    if response.status_code not in (200, 201):
        return
    if name == "POST /api/v1/events":
        external = {"id": answer["externalCaseId"]}
        follow("/api/v1/cases/{id}", path_parameters=external)
        follow("/api/v1/cases/{id}/history", path_parameters=external)
        for form in ("/casestatus/{version}/{id}/", "/caseStatus/{version}/api/{id}/"):
            for view in ("status", "oepstatus"):
                follow(form + view, path_parameters=dict(external, version="1.0"))
        if case.body.get("organisationNumber"):
            follow("/casestatus/{version}/{id}/statuses", path_parameters={"version": "1.0", "id": case.body["organisationNumber"]})
        follow("/admin/v1/stats/cases")
        follow("/admin/v1/stats/ingest", query={"hours": 1})
    elif name in ("POST /dibk/api/v1/kvittering", "POST /dibk/api/v1/oppdatering"):
        reference = case.body["metadata"]["innsendingReferanse"]
        reference = reference[0] if isinstance(reference, list) else reference
        follow("/dibk/api/v1/status", query={"innsendingReferanse": reference})
        if name.endswith("kvittering"):
            follow("/dibk/api/v1/kvittering", query={"innsendingReferanse": reference})
            # (An update's case number counts only when the update is the latest, so it is not looked up.)
            number = case.body["saksnummer"]
            follow("/dibk/api/v1/status", query={"saksaar": str(number["saksaar"]), "sakssekvensnummer": str(number["sakssekvensnummer"])})
    elif name == "POST /nav/aktivitetskort/v1":
        follow("/api/v1/cases/{id}/history", path_parameters={"id": answer["aktivitetId"]})
        follow("/nav/aktivitetskort/v1/feil", query={"state": "all"})
        follow("/api/v1/changes/parties")
    elif name == "POST /star/v1/wsb":
        entity = {"entitet": case.body["EntitetstypeNavn"]}
        follow("/star/v1/{entitet}/historik/{eksternId}", path_parameters=dict(entity, eksternId=answer["externalCaseId"]))
        follow("/star/v1/{entitet}/historik", path_parameters=entity, query={"identifikation": case.body["Identifikation"]})
        follow("/api/v1/changes/parties")
    elif name == "PUT /admin/v1/rules/draft":
        follow("/admin/v1/rules/draft")
    elif name in ("POST /admin/v1/rules/publish", "POST /admin/v1/rules/rollback"):
        follow("/admin/v1/rules/versions/{version}", path_parameters={"version": answer["version"]})
        follow("/admin/v1/rules/diff", query={"from": 1, "to": answer["version"]})
        follow("/admin/v1/stats/cases")  # counted under the new rules


# ---- judging acceptance -------------------------------------------------------------------------


def describe(response):
    request = response.request
    body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
    text = f"{request.method} {request.url}" + (f"  body: {body[:300]}" if body else "")
    return text + f"  -> {response.status_code} {response.text[:1500]}"


def breaks_the_document_as_sent(case, response):
    """Whether a negative case still breaks the document as it went over the wire.

    Not always: an empty list for a query parameter is sent as nothing, and parameters the
    operation does not declare are ignored, as a careful client expects. (schemathesis 3.39 has a
    test of its own for the latter, but it marks the path parameters of an operation that has none
    as negated, so it never lets such a case through.)"""
    meta = case.meta
    # An NDJSON body is text whatever value was generated for it: a "negative" one (a number,
    # `null`) goes over the wire as a line of text, which the document allows.
    ndjson = (case.media_type or "").startswith("application/x-ndjson")
    # The batch reads a JSON array item by item too: an array of the right size whose items break
    # the event schema is a batch, answered 200 with each item refused in `results`, as documented.
    per_item = (
        case.operation.path == "/api/v1/events:batch"
        and isinstance(case.body, list)
        and 1 <= len(case.body) <= 10000
    )
    if meta is None or (meta.body and meta.body.is_negative and not ndjson and not per_item):
        return True
    if case.operation.path_parameters and meta.path_parameters and meta.path_parameters.is_negative:
        return True
    schema_ = get_schema_for_location(case.operation, "query", case.operation.query)
    sent = {}
    for name, values in parse_qs(urlsplit(response.request.url).query, keep_blank_values=True).items():
        if name in schema_["properties"]:
            if schema_["properties"][name].get("type") == "integer":
                values = [int(value) if re.fullmatch(r"-?[0-9]+", value) else value for value in values]
            sent[name] = values[0] if len(values) == 1 else values
    return not case.operation.schema.validator_cls(schema_).is_valid(sent)


def value_at(case, pointer):
    if pointer.startswith("/query/"):
        return (case.query or {}).get(pointer[len("/query/"):])
    value = case.body
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return None
    return value


def explained(name, error, case):
    for operation, pointer, message in EXPLAINED_REFUSALS:
        if operation in (None, name) and pointer in (None, error["pointer"]) and message in error["message"]:
            return True
    # "in the years 1000 to 9999 also in UTC": 1000-01-01 with an offset east of UTC, or
    # 9999-12-31 west of it, is out of range although its digits are not.
    value = value_at(case, error["pointer"])
    return isinstance(value, str) and value[:10] in ("1000-01-01", "9999-12-31")


def judge_acceptance(case, response):
    """Collects a negative request that got a success, and a positive one (or a document example)
    refused as malformed for a reason the document does not give."""
    method = case.data_generation_method
    name = case.operation.verbose_name
    if method is None:
        return
    if method.is_negative and response.status_code < 400 and breaks_the_document_as_sent(case, response):
        ACCEPTED_NEGATIVE[name].append(describe(response))
    if method.is_positive and response.status_code in (400, 413, 415):
        problem = response.json()
        errors = problem.get("errors") or [{"pointer": "", "message": problem["detail"]}]
        if not all(explained(name, error, case) for error in errors):
            REFUSED_POSITIVE[name].append(describe(response))


# ---- the fuzzing --------------------------------------------------------------------------------


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # No shrinking: it would re-run requests against a server whose state has moved on, for
    # minutes; the first failing request is reported as it was sent.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_operation_conforms_to_the_document(case, service, api_schema):
    tenant = tenant_of(case.operation.path)
    steer(case, service)
    # `ignored_auth` puts an invalid key into `case.headers`, which is None when the operation has
    # no header parameters (schemathesis 3.39 then fails with a TypeError of its own).
    case.headers = case.headers or {}
    sendable_headers(case)
    response = case.call_and_validate(
        base_url=service.server.base, headers={"apikey": service.keys[tenant]}, checks=CHECKS, timeout=30
    )
    kind = "example" if case.meta and case.meta.phase.name == "EXPLICIT" else case.data_generation_method.name
    SEEN[case.operation.verbose_name][f"{kind} {response.status_code}"] += 1
    judge_acceptance(case, response)
    if case.operation.path in ("/admin/v1/rules/publish", "/admin/v1/rules/rollback") and response.status_code == 201:
        keep_fuzzer_role(service, tenant)
    read_back(service, api_schema, case, response)


def test_served_document_is_the_repository_file(service):
    served = requests.get(service.server.base + "/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == json.loads((HOME / "openapi.json").read_text(encoding="utf-8"))


def fuzzed_operations(request, api_schema):
    """The operations the fuzzing covered (the tests below run after it, in file order)."""
    if not any(item.originalname == "test_operation_conforms_to_the_document" for item in request.session.items):
        pytest.skip("the fuzzing was deselected")
    return [result.ok().verbose_name for result in api_schema.get_all_operations()]


def report(findings):
    lines = []
    for name, cases in findings.items():
        lines.append(f"{name}: {len(cases)}")
        lines.extend("  " + case for case in cases[:3])
    return "\n".join(lines)


def test_every_operation_was_fuzzed(request, api_schema, capsys):
    operations = fuzzed_operations(request, api_schema)
    summary = {name: dict(sorted(SEEN[name].items())) for name in operations}
    by_kind = Counter()
    for counts in summary.values():
        for key, count in counts.items():
            by_kind[key.split()[0]] += count
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz-summary.json").write_text(json.dumps({
        "operations": summary, "checkedResponses": dict(by_kind), "rulesRestores": RULES_RESTORES,
        "acceptedNegative": ACCEPTED_NEGATIVE, "refusedPositive": REFUSED_POSITIVE,
    }, indent=1, ensure_ascii=False), encoding="utf-8")
    with capsys.disabled():
        print(
            f"\nfuzz: {len(operations)} operations; checked responses: {by_kind['example']} document examples, "
            f"{by_kind['positive']} positive, {by_kind['negative']} negative, {by_kind['read-back']} read-backs "
            f"(artifacts/fuzz-summary.json)"
        )
    missing = [name for name in operations if not summary[name]]
    assert not missing, f"operations never fuzzed: {missing}"


def test_requests_that_break_the_document_are_refused(request, api_schema):
    fuzzed_operations(request, api_schema)
    assert not ACCEPTED_NEGATIVE, "requests that break the document got a success:\n" + report(ACCEPTED_NEGATIVE)


def test_requests_that_conform_are_refused_only_for_documented_reasons(request, api_schema):
    fuzzed_operations(request, api_schema)
    assert not REFUSED_POSITIVE, "conforming requests refused as malformed, for no reason the document gives:\n" + report(REFUSED_POSITIVE)
