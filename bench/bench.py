#!/usr/bin/env python3
"""Runs Statusbro's benchmarks side by side and rewrites BENCHMARKS.md.

Started by bench/run, which builds release binaries and starts a durable PostgreSQL; the
environment carries STATUSBRO_BIN, STATUSBRO_BENCH_BIN, STATUSBRO_HOME, STATUSBRO_TEST_DATABASE_URL
and PGBENCH. Each benchmark returns rows for the summary table and a section of details.
"""
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

HOME = Path(os.environ["STATUSBRO_HOME"])
BIN = os.environ["STATUSBRO_BIN"]
BENCH_BIN = os.environ["STATUSBRO_BENCH_BIN"]
SERVER_URL = os.environ["STATUSBRO_TEST_DATABASE_URL"]
PGBENCH = os.environ.get("PGBENCH", "pgbench")
WORK = Path(tempfile.mkdtemp(prefix="statusbro-bench-"))
os.chmod(WORK, 0o755)
CONNECTIONS = 64
DURATION = int(os.environ.get("BENCH_SECONDS", "15"))


def log(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def serving(name):
    """A fresh database `bench_{name}` and a server on it, up; returns (url, server)."""
    url = database(f"bench_{name}")
    server = Server(url, name)
    server.wait()
    return url, server


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database(name):
    return SERVER_URL.rsplit("/", 1)[0] + "/" + name


def psql(url, sql, stdin=None):
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], input=stdin, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def cli(args, url):
    env = dict(os.environ, DATABASE_URL=url)
    result = subprocess.run([BIN, *args], env=env, cwd=HOME, capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


class Server:
    def __init__(self, url, name, extra_env=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(WORK / f"{name}.log", "w")
        env = dict(os.environ, DATABASE_URL=url, LOG_LEVEL="warning", **(extra_env or {}))
        self.started = time.perf_counter()
        self.process = subprocess.Popen([BIN, "serve", "--port", str(self.port)], env=env, cwd=HOME, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, tenants=1, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                health = requests.get(self.base + "/health", timeout=2).json()
                if len(health.get("tenants", {})) >= tenants:
                    return time.perf_counter() - self.started
            except requests.RequestException:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"server {self.base} did not come up")

    def rss_mb(self):
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wrk(url, script, connections=CONNECTIONS, seconds=DURATION, env=None, threads=2):
    """Runs wrk with `script` and returns requests/s and latency percentiles (ms)."""
    path = WORK / f"wrk-{uuid.uuid4().hex[:8]}.lua"
    path.write_text(script)
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(path), url],
        capture_output=True, text=True, env=dict(os.environ, **(env or {})), check=True)
    out = result.stdout

    def latency(label):
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency("50%"), "p90": latency("90%"), "p99": latency("99%"),
        "non2xx": int(errors.group(1)) if errors else 0,
        "socketErrors": socket_errors.group(1) if socket_errors else "",
        "raw": out,
    }


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    memory = int(next(l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))) // 1024 // 1024
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    postgres = psql(SERVER_URL, "SHOW server_version")
    return f"{os.cpu_count()} cores ({cpu}), {memory} GiB, Linux {platform.release()}; {swift}; PostgreSQL {postgres} (fsync on); wrk, nginx, PostgreSQL and Statusbro all on this machine"


# ---------------------------------------------------------------------------------------------
# The benchmarks


def bench_lookups():
    log("mapping lookups")
    runs = [json.loads(subprocess.run([BENCH_BIN, "lookups"], capture_output=True, text=True, check=True).stdout) for _ in range(3)]
    best = statistics.median(r["perSecond"] for r in runs)
    compile_run = json.loads(subprocess.run([BENCH_BIN, "compile"], capture_output=True, text=True, check=True).stdout)
    rows = [("Mapping lookups per second, one core", "≥ 10,000,000", f"{best:,.0f}", best >= 10_000_000)]
    details = f"""### Mapping lookups

`statusbro-bench lookups` (release): {runs[0]['lookups']:,} lookups of (source system, code) pairs drawn
from 65,536 fresh strings over a table of {runs[0]['codes']:,} codes in 5 source systems (about 9% unmapped),
on one thread. Median of three runs: **{best:,.0f} lookups/s** (runs: {', '.join(f"{r['perSecond']:,.0f}" for r in runs)}).
Compiling 1,000 tenants of 200 codes each in-process: {compile_run['seconds']:.2f} s.
"""
    return rows, details


def publish(server, key, document, base):
    return requests.post(server.base + "/admin/v1/rules/publish", headers={"apikey": key},
                         json={"baseVersion": base, "comment": "bench", "document": document}, timeout=30)


def bench_reload():
    log("publish → served by another process")
    url = database("bench_reload")
    a = Server(url, "reload-a")
    a.wait()
    b = Server(url, "reload-b")
    b.wait()
    admin = cli(["keys", "create", "--tenant", "sundsvall", "--role", "municipality-admin"], url)
    document = requests.get(a.base + "/admin/v1/rules", headers={"apikey": admin}).json()["document"]
    session = requests.Session()
    from_request, from_answer = [], []
    statuses = ["Under behandling", "Kompletterad"]
    for n in range(120):
        target = statuses[n % 2]
        document["sources"]["BYGGR"]["codes"]["KOMPTEK"] = target
        start = time.perf_counter()
        reply = publish(a, admin, document, n + 1)
        answered = time.perf_counter()
        assert reply.status_code == 201, reply.text
        while True:
            simulated = session.post(b.base + "/admin/v1/rules/simulate", headers={"apikey": admin},
                                     json={"sourceSystem": "BYGGR", "code": "KOMPTEK"}).json()
            if simulated["status"] == target:
                break
        served = time.perf_counter()
        from_request.append((served - start) * 1000)
        from_answer.append((served - answered) * 1000)
    a.stop()
    b.stop()

    def p99(values):
        return sorted(values)[int(len(values) * 0.99) - 1]

    rows = [
        ("Publish → served by another process, median", "—", f"{statistics.median(from_request):.1f} ms", True),
        ("Publish → served by another process, p99", "< 100 ms", f"{p99(from_request):.1f} ms", p99(from_request) < 100),
    ]
    details = f"""### Publish → served by another process

Two `statusbro serve` processes on one database. 120 publishes through process A's admin API
(each changes a mapping); after each, a client asks process B to simulate that code until B answers
with the new status. Measured from sending the publish request (which includes its validation and
transaction) to B's first answer with the new mapping: median **{statistics.median(from_request):.1f} ms**,
p99 **{p99(from_request):.1f} ms**, max {max(from_request):.1f} ms. From A's answer to B serving it
(notification, reload, compile, swap): median {statistics.median(from_answer):.1f} ms, p99 {p99(from_answer):.1f} ms.
"""
    return rows, details


READ_SCRIPT = """
local key = os.getenv("BENCH_KEY")
local count = tonumber(os.getenv("BENCH_CASES"))
local prefix = os.getenv("BENCH_PREFIX") or "/casestatus/1.0/BENCH-"
local suffix = os.getenv("BENCH_SUFFIX") or "/status"
-- BENCH_IDS: a comma-separated list of ids to cycle through instead of 0..BENCH_CASES-1.
local ids = nil
if os.getenv("BENCH_IDS") then
  ids = {}
  for id in string.gmatch(os.getenv("BENCH_IDS"), "[^,]+") do table.insert(ids, id) end
end
local counter = 0
request = function()
  counter = counter + 1
  local id
  if ids then id = ids[1 + (counter * 7919) % #ids] else id = (counter * 7919) % count end
  return wrk.format("GET", prefix .. id .. suffix, {["apikey"] = key})
end
"""


def seed_cases(url, tenant, count, prefix="BENCH-", organisations=None):
    """`count` cases; with `organisations` (a list of numbers), case i belongs to organisations[i % n]."""
    organisation = "NULL"
    if organisations:
        organisation = f"(ARRAY[{', '.join(repr(o) for o in organisations)}])[1 + i % {len(organisations)}]"
    psql(url, f"""
        INSERT INTO cases (tenant_id, case_id, external_case_id, case_type, source_system, raw_status, status, category,
                           rule_version, last_status_change, organisation_number)
        SELECT '{tenant}', gen_random_uuid(), '{prefix}' || i, 'Nybyggnadskarta', 'BYGGR',
               (ARRAY['ANM','Kv2','KOMP','KOMPL','UAB'])[1 + i % 5], 'Inskickat', 'Mottagningskvittens', 1,
               now() - (i || ' minutes')::interval, {organisation}
          FROM generate_series(0, {count - 1}) AS i""")


def organisation_numbers(count):
    """`count` valid Swedish organisation numbers (ten digits, Luhn check digit)."""
    numbers = []
    for n in range(count):
        body = f"55{n:07d}"
        total = sum((d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d for i, d in enumerate(map(int, body)))
        numbers.append(body + str((10 - total % 10) % 10))
    return numbers


def nginx_server(body_size):
    root = WORK / "nginx"
    root.mkdir(exist_ok=True)
    # Spaces after a JSON value keep it JSON; only the size matters to nginx.
    body = "{}" + " " * max(0, body_size - 2)
    (root / "status.json").write_text(body)
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(f"""
worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location / {{ default_type application/json; try_files /status.json =404; }}
  }}
}}
""")
    process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(root), "-g", "daemon off;"])
    time.sleep(0.5)
    return process, f"http://127.0.0.1:{port}"


def warm_up(server, url, env, rounds=15):
    """Reads with `env`'s script in 2 s rounds until a round costs the database (almost) no
    transactions: every case the script reads is cached. Returns the seconds it took."""
    def commits():
        return int(psql(url, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"))
    for round in range(1, rounds + 1):
        before = commits()
        wrk(server.base, READ_SCRIPT, seconds=2, env=env)
        if commits() - before < 50:
            return 2 * round
    raise RuntimeError(f"reads still reach the database after {2 * rounds} s of warm-up")


WRITES_PER_SECOND = int(os.environ.get("BENCH_WRITES_PER_SECOND", "10"))
READ_ROUNDS = int(os.environ.get("BENCH_READ_ROUNDS", "3"))
READ_SECONDS = int(os.environ.get("BENCH_READ_SECONDS", "10"))


def read_while_writing(server, url, portal):
    """`status` reads with wrk while a thread posts WRITES_PER_SECOND events a second to random
    cases among those read; returns wrk's figures and the writes' tally."""
    writer = cli(["keys", "create", "--tenant", "sundsvall", "--role", "byggr"], url)
    env = {"BENCH_KEY": portal, "BENCH_CASES": "10000", "BENCH_SUFFIX": "/status"}
    warm_up(server, url, env)
    stop = threading.Event()
    tally = {}

    def write():
        session = requests.Session()
        codes = ["ANM", "Kv2", "KOMP", "KOMPL", "UAB"]
        started, sent = time.perf_counter(), 0
        while not stop.is_set():
            case = uuid.uuid4().int % 10_000
            event = {"messageId": str(uuid.uuid4()), "sourceSystem": "BYGGR", "externalCaseId": f"BENCH-{case}",
                     "caseType": "Nybyggnadskarta", "status": codes[sent % len(codes)],
                     "occurredAt": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
            reply = session.post(server.base + "/api/v1/events", json=event, headers={"apikey": writer}, timeout=10)
            tally[reply.status_code] = tally.get(reply.status_code, 0) + 1
            sent += 1
            time.sleep(max(0.0, started + sent / WRITES_PER_SECOND - time.perf_counter()))

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(1)
    try:
        result = wrk(server.base, READ_SCRIPT, env=env, seconds=READ_SECONDS)
    finally:
        stop.set()
        thread.join()
    return result, tally


def bench_read():
    log("status reads against nginx")
    url, server = serving("read")
    organisations = organisation_numbers(500)
    seed_cases(url, "sundsvall", 10_000, organisations=organisations)  # 20 cases per organisation
    portal = cli(["keys", "create", "--tenant", "sundsvall", "--role", "oep-portal"], url)
    reads = [
        ("status", "`GET /casestatus/1.0/{id}/status` over 10,000 cases", {"BENCH_SUFFIX": "/status"}),
        ("oepstatus", "`GET /casestatus/1.0/{id}/oepstatus` over 10,000 cases", {"BENCH_SUFFIX": "/oepstatus"}),
        ("statuses", "`GET /casestatus/1.0/{organisation}/statuses` over 500 organisations of 20 cases each",
         {"BENCH_SUFFIX": "/statuses", "BENCH_PREFIX": "/casestatus/1.0/", "BENCH_IDS": ",".join(organisations)}),
    ]
    rows, tables, ours_by_name = [], [], {}
    for name, what, extra in reads:
        env = dict({"BENCH_KEY": portal, "BENCH_CASES": "10000"}, **extra)
        first = extra.get("BENCH_IDS", "1234").split(",")[0]
        sample = requests.get(server.base + env.get("BENCH_PREFIX", "/casestatus/1.0/BENCH-") + first + extra["BENCH_SUFFIX"],
                              headers={"apikey": portal})
        assert sample.status_code == 200 and len(sample.content) > 20, sample.text
        nginx, nginx_base = nginx_server(len(sample.content))
        # Rounds of nginx then Statusbro, alternating: on this shared machine either one's rate moves
        # by a tenth from one moment to the next, and one window should not decide the figure.
        rounds = []
        for _ in range(READ_ROUNDS):
            ceiling = wrk(nginx_base, READ_SCRIPT, env=env, seconds=READ_SECONDS)
            warm_up_seconds = warm_up(server, url, env)
            ours = wrk(server.base, READ_SCRIPT, env=env, seconds=READ_SECONDS)
            rounds.append({"nginx": ceiling, "ours": ours, "ratio": ours["rps"] / ceiling["rps"], "warm": warm_up_seconds})
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait()
        median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
        ours_by_name[name] = median["ours"]
        ratio = median["ratio"]
        p99 = statistics.median(r["ours"]["p99"] for r in rounds)
        non2xx = sum(r["ours"]["non2xx"] for r in rounds)
        clean = non2xx == 0 and not any(r["ours"]["socketErrors"] for r in rounds)
        rows += [
            (f"`{name}` reads: ratio to nginx serving a same-size static file (median of {READ_ROUNDS} rounds)", "≥ 0.5",
             f"{ratio:.2f}", ratio >= 0.5),
            (f"`{name}` reads: p99 at {CONNECTIONS} connections (median of {READ_ROUNDS}), non-2xx", "< 5 ms, 0",
             f"{p99:.2f} ms, {non2xx}", p99 < 5 and clean),
        ]
        lines = "\n".join(
            f"| {index} | {r['nginx']['rps']:,.0f} | {r['nginx']['p99']:.2f} ms | {r['ours']['rps']:,.0f} | {r['ours']['p50']:.2f} ms"
            f" | {r['ours']['p90']:.2f} ms | {r['ours']['p99']:.2f} ms | {r['ours']['non2xx']} | {r['ratio']:.2f} | {r['warm']} s |"
            for index, r in enumerate(rounds, 1))
        tables.append(f"""{what} ({len(sample.content)} bytes each; nginx serves a static file of that size):

| round | nginx requests/s | nginx p99 | Statusbro requests/s | p50 | p90 | p99 | non-2xx | ratio | warmed for |
|---|---|---|---|---|---|---|---|---|---|
{lines}

Median ratio **{ratio:.2f}**; median p99 {p99:.2f} ms.
""")
    status_alone = ours_by_name["status"]
    while_writing, written = read_while_writing(server, url, portal)
    rss = server.rss_mb()
    server.stop()
    tables.append(f"""`status` reads again while the same tenant writes {WRITES_PER_SECOND} events a second to cases being read
(a case-management system at work while portals poll): the cases a write changed are read from the
database once more, the rest stay cached.

| | requests/s | p50 | p90 | p99 | non-2xx |
|---|---|---|---|---|---|
| Statusbro, no writes (the median round above) | {status_alone['rps']:,.0f} | {status_alone['p50']:.2f} ms | {status_alone['p90']:.2f} ms | {status_alone['p99']:.2f} ms | {status_alone['non2xx']} |
| Statusbro, {WRITES_PER_SECOND} writes/s | {while_writing['rps']:,.0f} | {while_writing['p50']:.2f} ms | {while_writing['p90']:.2f} ms | {while_writing['p99']:.2f} ms | {while_writing['non2xx']} |

Events posted during the run, by answer: {', '.join(f"{count} × {code}" for code, count in sorted(written.items()))} (409: a transition
the rules forbid, kept as a dead letter; it changes no case). Reads: **{while_writing['rps'] / status_alone['rps']:.2f}×** the reads without writes.
""")
    details = f"""### Status reads against nginx

Each read with an `apikey`: the wrk script against nginx serving a static file of the same size,
then against Statusbro, wrk with 2 threads and {CONNECTIONS} connections for {READ_SECONDS} s each, in
{READ_ROUNDS} alternating rounds; the summary gives the round of the median ratio and the median p99.
Before each of Statusbro's runs, the same reads warm it up in 2 s rounds until a round makes
(almost) no database reads: what is measured is the steady state of portals polling cases they
polled before, every case in the cache. Cached cases expire 54–60 s after they were read from the
database (the bound on a lost change notification), so a process re-reads each polled case about
once a minute; a later round can include some of those re-reads.

""" + "\n".join(tables) + f"""
Statusbro's resident memory after the runs: {rss:.0f} MB.
"""
    return rows, details


INGEST_SCRIPT = """
local key = os.getenv("BENCH_KEY")
local codes = {"ANM", "Kv2", "UNDER", "KOMP", "KOMPL"}
local counter = 0
local thread_id = 0
local threads = {}
setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
init = function(args)
  thread_id = id
end
request = function()
  counter = counter + 1
  local message = string.format("%08x-0000-4000-8000-%012x", thread_id, counter)
  local body = string.format(
    '{"messageId":"%s","sourceSystem":"BYGGR","externalCaseId":"ING-%d","caseType":"Bygglov","status":"%s","occurredAt":"2024-04-23T12:%02d:%02d+02:00"}',
    message, (counter * 31 + thread_id) % 10000, codes[1 + counter % 5], math.floor(counter / 60) % 60, counter % 60)
  return wrk.format("POST", "/api/v1/events", {["apikey"] = key, ["Content-Type"] = "application/json"}, body)
end
"""


def bench_ingest():
    log("event ingestion against pgbench")
    url, server = serving("ingest")
    writer = cli(["keys", "create", "--tenant", "sundsvall", "--role", "byggr"], url)
    psql(url, "CREATE TABLE pgbench_single (id bigserial PRIMARY KEY, payload text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
    script = WORK / "insert.sql"
    script.write_text("INSERT INTO pgbench_single (payload) VALUES ('one single-row insert per transaction');\n")
    pgbench = subprocess.run([PGBENCH, "-n", "-c", str(CONNECTIONS), "-j", "2", "-T", str(DURATION), "-f", str(script), url],
                             capture_output=True, text=True, check=True).stdout
    pg_tps = float(re.search(r"tps = ([\d.]+)", pgbench).group(1))
    ours = wrk(server.base, INGEST_SCRIPT, env={"BENCH_KEY": writer})
    stored = int(psql(url, "SELECT count(*) FROM case_events"))
    server.stop()
    ratio = ours["rps"] / pg_tps
    rows = [
        ("Event ingestion: ratio to pgbench single-row inserts", "≥ 0.6", f"{ratio:.2f}", ratio >= 0.6),
        ("Event ingestion: p99 latency at 64 connections", "< 50 ms", f"{ours['p99']:.2f} ms", ours["p99"] < 50),
    ]
    details = f"""### Event ingestion against pgbench

`POST /api/v1/events` with unique message ids over 10,000 cases, wrk with 2 threads and {CONNECTIONS}
connections for {DURATION} s; each acknowledged event is committed durably (fsync on) together with its
case, history, idempotency record and feed entry. In the same run, pgbench with {CONNECTIONS} clients
doing one single-row INSERT per transaction on the same database.

| | per second | p50 | p99 | non-2xx |
|---|---|---|---|---|
| pgbench (one INSERT per transaction) | {pg_tps:,.0f} | | | |
| Statusbro events | {ours['rps']:,.0f} | {ours['p50']:.2f} ms | {ours['p99']:.2f} ms | {ours['non2xx']} |

Ratio **{ratio:.2f}**; {stored:,} events stored.
"""
    return rows, details


BACKFILL_EVENTS = int(os.environ.get("BENCH_BACKFILL_EVENTS", "1000000"))
BACKFILL_CASES = BACKFILL_EVENTS // 10


def backfill_rows():
    """The backfill's events: ten per case, in time order, the cases interleaved."""
    codes = ["ANM", "Kv2", "UNDER", "KOMP", "KOMPL"]
    for n in range(BACKFILL_EVENTS):
        seconds = n // BACKFILL_CASES * 3600 + n % BACKFILL_CASES % 3600
        yield (f"{n:08x}-0000-4000-8000-{n:012x}", "BYGGR", f"BF-{n % BACKFILL_CASES}", "Bygglov", codes[n // BACKFILL_CASES % 5],
               f"2024-01-{1 + seconds // 86400:02d}T{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z")


def bench_backfill():
    log(f"backfill of {BACKFILL_EVENTS:,} events")
    url = database("bench_backfill")
    cli(["migrate"], url)
    cli(["tenants", "import"], url)
    source = WORK / "backfill.ndjson"
    table = WORK / "backfill.tsv"
    with open(source, "w") as ndjson, open(table, "w") as tsv:
        for message_id, system, case, case_type, status, at in backfill_rows():
            ndjson.write(f'{{"messageId":"{message_id}","sourceSystem":"{system}","externalCaseId":"{case}",'
                         f'"caseType":"{case_type}","status":"{status}","occurredAt":"{at}"}}\n')
            tsv.write(f"{message_id}\t{system}\t{case}\t{case_type}\t{status}\t{at}\n")
    size_mb = source.stat().st_size / 1e6

    # The floor: PostgreSQL's COPY of the same rows into a plain table (no index, no rules, no history).
    psql(url, "CREATE TABLE copy_baseline (message_id uuid, source_system text, external_case_id text, case_type text, "
              "status text, occurred_at timestamptz)")
    start = time.perf_counter()
    psql(url, f"\\copy copy_baseline FROM '{table}'")
    copy_seconds = time.perf_counter() - start
    copy_rate = BACKFILL_EVENTS / copy_seconds

    env = dict(os.environ, DATABASE_URL=url)
    start = time.perf_counter()
    result = subprocess.run([BIN, "events", "import", str(source), "--tenant", "sundsvall"], env=env, cwd=HOME,
                            capture_output=True, text=True)
    import_seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-2000:]
    stored = int(psql(url, "SELECT count(*) FROM case_events"))
    assert stored == BACKFILL_EVENTS, f"{stored} events stored"
    rate = BACKFILL_EVENTS / import_seconds

    # Running the same file again changes nothing and is answered from the idempotency records.
    start = time.perf_counter()
    again = subprocess.run([BIN, "events", "import", str(source), "--tenant", "sundsvall"], env=env, cwd=HOME,
                           capture_output=True, text=True)
    rerun_seconds = time.perf_counter() - start
    assert again.returncode == 0 and f"{BACKFILL_EVENTS} replayed" in again.stdout, again.stdout
    source.unlink()
    table.unlink()
    ratio = rate / copy_rate
    rows = [
        (f"Backfill of {BACKFILL_EVENTS:,} events, durable", "≥ 30,000 events/s", f"{rate:,.0f} events/s ({ratio:.2f} of COPY)", rate >= 30_000),
    ]
    details = f"""### Backfill

`statusbro events import` of an NDJSON file of {BACKFILL_EVENTS:,} events ({size_mb:.0f} MB; {BACKFILL_CASES:,} cases with ten
events each, in time order) into a durable database (fsync on), timed from process start to exit:
every event mapped, checked against the transition rules, recorded with its case projection, history,
feed entry and idempotency record, in transactions of 2,000. In the same run, `psql \\copy` of the same
rows (six columns) into a plain table with no index: the floor of what PostgreSQL can take in.

| | seconds | events/s |
|---|---|---|
| COPY into a plain table | {copy_seconds:.1f} | {copy_rate:,.0f} |
| `statusbro events import` | {import_seconds:.1f} | {rate:,.0f} |
| the same file again (every event answered as replayed) | {rerun_seconds:.1f} | {BACKFILL_EVENTS / rerun_seconds:,.0f} |

Ratio to COPY **{ratio:.2f}**; {stored:,} events stored.
"""
    return rows, details


def tenant_document(n):
    statuses = ["Inskickat", "Under behandling", "Väntar på komplettering", "Kompletterad", "Klart"]
    return {
        "tenant": f"tenant-{n:04d}", "displayName": f"Kommun {n}", "country": "SE", "timeZone": "Europe/Stockholm",
        "feedRetentionDays": 90, "categories": ["Mottagningskvittens", "Upplysning", "Kompletteringsbegäran", "Svar", "Beslut"],
        "statuses": [
            {"name": statuses[0], "category": "Mottagningskvittens", "initial": True}, {"name": statuses[1], "category": "Upplysning"},
            {"name": statuses[2], "category": "Kompletteringsbegäran"}, {"name": statuses[3], "category": "Svar"},
            {"name": statuses[4], "category": "Beslut"}],
        "sources": {f"SYSTEM{s}": {"unmapped": "reject", "codes": {f"KOD-{c}": statuses[(c + s) % 5] for c in range(100)}} for s in range(2)},
        "transitions": {"default": "allow", "rules": []},
        "roles": {"portal": ["status:read"], "admin": ["rules:read", "rules:write", "rules:publish"]},
        "jwtIssuers": [], "tests": [],
    }


def bench_scale():
    log("1,000 tenants")
    url = database("bench_scale")
    cli(["migrate"], url)
    rows_tenants = "\n".join(f"tenant-{n:04d}" for n in range(1000))
    psql(url, "\\copy tenants (tenant_id) FROM STDIN", stdin=rows_tenants + "\n")
    # Releases inserted directly (as the owner): the trigger moves each tenant to version 1.
    lines = []
    for n in range(1000):
        document = json.dumps(tenant_document(n), ensure_ascii=False).replace("\\", "\\\\")
        lines.append(f"tenant-{n:04d}\t1\t{document}\tbench\tbench")
    psql(url, "\\copy rule_releases (tenant_id, version, document, sha256, published_by) FROM STDIN", stdin="\n".join(lines) + "\n")
    # Cases for two tenants, to read one while the other publishes.
    seed_cases(url, "tenant-0002", 5000, prefix="S-")
    server = Server(url, "scale")
    load_seconds = server.wait(tenants=1000)
    time.sleep(1)
    rss_loaded = server.rss_mb()
    portal = cli(["keys", "create", "--tenant", "tenant-0002", "--role", "portal"], url)
    admin = cli(["keys", "create", "--tenant", "tenant-0001", "--role", "admin"], url)
    env = {"BENCH_KEY": portal, "BENCH_CASES": "5000", "BENCH_PREFIX": "/casestatus/1.0/S-"}
    # Warm up first (the case cache, the connection pool), so both runs below start equal.
    wrk(server.base, READ_SCRIPT, seconds=5, env=env)
    quiet = wrk(server.base, READ_SCRIPT, seconds=10, env=env)
    stop = threading.Event()
    published = [0]

    def publisher():
        document = tenant_document(1)
        version = 1
        while not stop.is_set():
            document["sources"]["SYSTEM0"]["codes"]["KOD-0"] = ["Klart", "Inskickat"][version % 2]
            if publish(server, admin, document, version).status_code == 201:
                version += 1
                published[0] += 1
            time.sleep(0.05)

    thread = threading.Thread(target=publisher)
    thread.start()
    busy = wrk(server.base, READ_SCRIPT, seconds=10, env=env)
    stop.set()
    thread.join()
    rss_after = server.rss_mb()
    server.stop()
    slowdown = busy["p99"] / quiet["p99"]
    throughput = busy["rps"] / quiet["rps"]
    rows = [
        ("1,000 tenants × 200 codes: start-up until all served", "< 1 s", f"{load_seconds:.2f} s", load_seconds < 1),
        ("1,000 tenants × 200 codes: resident memory", "< 150 MB", f"{max(rss_loaded, rss_after):.0f} MB", max(rss_loaded, rss_after) < 150),
        (
            "Reads of one tenant while another publishes",
            "no slowdown (p99 < 1.5×, requests/s > 0.85×)",
            f"p99 {quiet['p99']:.2f} → {busy['p99']:.2f} ms, {quiet['rps']:,.0f} → {busy['rps']:,.0f} req/s",
            slowdown < 1.5 and throughput > 0.85,
        ),
    ]
    details = f"""### 1,000 tenants

1,000 tenants with 200 codes each (two source systems) are in the database; `statusbro serve` is started
and timed from process start until `/health` lists all 1,000 with their rules version: **{load_seconds:.2f} s**
(this includes the process start, migrations check and loading and compiling every release). Resident
memory after loading: {rss_loaded:.0f} MB; after the read runs below: {rss_after:.0f} MB.

Reads of tenant-0002 (5,000 cases, wrk 2 threads, {CONNECTIONS} connections, 10 s) alone, then while
tenant-0001 publishes a new release every 50 ms ({published[0]} publishes during the run):

| | requests/s | p50 | p99 |
|---|---|---|---|
| alone | {quiet['rps']:,.0f} | {quiet['p50']:.2f} ms | {quiet['p99']:.2f} ms |
| while another tenant publishes | {busy['rps']:,.0f} | {busy['p50']:.2f} ms | {busy['p99']:.2f} ms |

Reads never wait for a publish (a reload compiles off the request path and swaps the tenant's snapshot
atomically), but each publish (validation, impact, transaction, notification, reload) runs on the same
two cores as the reads, wrk and PostgreSQL, so what it costs in CPU shows as fewer reads per second.
"""
    return rows, details


PACED_READ_SCRIPT = READ_SCRIPT + """
local pause = tonumber(os.getenv("BENCH_PAUSE_MS") or "0")
delay = function()
  return pause
end
"""

FLOOD_LIMITS = {"tenant": {"writes": {"perSecond": 50, "burst": 50}}, "perKey": {"writes": {"perSecond": 50, "burst": 50}}}


def bench_neighbours():
    log("noisy neighbours: one tenant floods, another reads")
    url, server = serving("neighbours")
    admin = cli(["keys", "create", "--tenant", "sundsvall", "--role", "municipality-admin"], url)
    sundsvall = requests.get(server.base + "/admin/v1/rules", headers={"apikey": admin}).json()["document"]
    noisy = dict(sundsvall, tenant="noisy", displayName="Bullriga kommun", limits=FLOOD_LIMITS)
    # tenants import reads YAML, and JSON is YAML.
    yaml_path = WORK / "noisy.yaml"
    yaml_path.write_text(json.dumps(noisy, ensure_ascii=False))
    cli(["tenants", "import", str(yaml_path)], url)
    seed_cases(url, "sundsvall", 5000, prefix="N-")
    portal = cli(["keys", "create", "--tenant", "sundsvall", "--role", "oep-portal"], url)
    flooder = cli(["keys", "create", "--tenant", "noisy", "--role", "byggr"], url)
    noisy_admin = cli(["keys", "create", "--tenant", "noisy", "--role", "municipality-admin"], url)
    seconds = int(os.environ.get("BENCH_NEIGHBOUR_SECONDS", "8"))
    reader = {"BENCH_KEY": portal, "BENCH_CASES": "5000", "BENCH_PREFIX": "/casestatus/1.0/N-", "BENCH_PAUSE_MS": "10"}

    def read():
        return wrk(server.base, PACED_READ_SCRIPT, connections=16, seconds=seconds, env=reader, threads=1)

    def read_while_flooding():
        path = WORK / "flood.lua"
        path.write_text(INGEST_SCRIPT)
        flood = subprocess.Popen(
            ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds + 2}s", "--latency", "-s", str(path), server.base],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ, BENCH_KEY=flooder))
        time.sleep(1)
        result = read()
        out, _ = flood.communicate(timeout=seconds + 60)
        total = int(re.search(r"(\d+) requests in", out).group(1))
        refused = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
        return result, {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "total": total, "refused": refused}

    read()  # warm-up: the case cache, the pool
    # Alone and under the flood, five times each, interleaved: this machine is shared, and a moment's
    # noise should not decide the figure. The medians are reported.
    runs = {"alone": [], "limited": [], "flood": []}
    for _ in range(5):
        runs["alone"].append(read())
        limited_run, flood_run = read_while_flooding()
        runs["limited"].append(limited_run)
        runs["flood"].append(flood_run)

    def median_run(results):
        return sorted(results, key=lambda r: r["p99"])[len(results) // 2]

    alone = median_run(runs["alone"])
    limited = median_run(runs["limited"])
    flood_limited = runs["flood"][runs["limited"].index(limited)]
    accepted = int(psql(url, "SELECT count(*) FROM case_events WHERE tenant_id = 'noisy'"))
    # The same flood with the limits taken out, to show what they buy.
    unlimited_document = dict(noisy)
    unlimited_document.pop("limits")
    reply = requests.post(server.base + "/admin/v1/rules/publish", headers={"apikey": noisy_admin},
                          json={"baseVersion": 1, "comment": "bench: no limits", "document": unlimited_document}, timeout=30)
    assert reply.status_code == 201, reply.text
    unlimited, flood_unlimited = read_while_flooding()
    server.stop()
    ratio = limited["p99"] / alone["p99"]
    rows = [(
        "Noisy neighbour: tenant B's read p99 while tenant A floods writes, to B alone",
        "≤ 1.5×",
        f"{ratio:.2f}× ({alone['p99']:.2f} → {limited['p99']:.2f} ms)",
        ratio <= 1.5,
    )]
    details = f"""### Noisy neighbours

Tenant B (sundsvall) reads case statuses at a steady pace: wrk, 16 connections, each pausing 10 ms
between requests, {seconds} s per run, over 5,000 cases. Tenant A ("noisy", sundsvall's rules under another
tenant id) floods `POST /api/v1/events` at full speed from a second wrk ({CONNECTIONS} connections, no pause),
with `limits: {json.dumps(FLOOD_LIMITS)}` in its rules; then again with the limits published away.

| run | B requests/s | B p50 | B p99 | B non-2xx | A requests/s | A refused (429) |
|---|---|---|---|---|---|---|
| B alone (median p99 of 5: {', '.join(f"{r['p99']:.2f}" for r in runs['alone'])} ms) | {alone['rps']:,.0f} | {alone['p50']:.2f} ms | {alone['p99']:.2f} ms | {alone['non2xx']} | | |
| A floods, with limits (of 5: {', '.join(f"{r['p99']:.2f}" for r in runs['limited'])} ms) | {limited['rps']:,.0f} | {limited['p50']:.2f} ms | {limited['p99']:.2f} ms | {limited['non2xx']} | {flood_limited['rps']:,.0f} | {flood_limited['refused']:,} of {flood_limited['total']:,} |
| A floods, no limits | {unlimited['rps']:,.0f} | {unlimited['p50']:.2f} ms | {unlimited['p99']:.2f} ms | {unlimited['non2xx']} | {flood_unlimited['rps']:,.0f} | {flood_unlimited['refused']:,} of {flood_unlimited['total']:,} |

B's p99 with A flooding under its limits is **{ratio:.2f}×** its figure alone ({unlimited['p99'] / alone['p99']:.2f}× without limits).
A's events accepted under the limits, over the five runs: {accepted:,} (the bucket allows {FLOOD_LIMITS['tenant']['writes']['perSecond']}/s, about a tenth of
what this machine ingests at most). A refused request is answered after a one-second pause, so A's 64
connections ask about 64 times a second instead of thousands.
"""
    return rows, details


BENCHMARKS = {
    "lookups": bench_lookups, "reload": bench_reload, "read": bench_read, "ingest": bench_ingest, "backfill": bench_backfill,
    "scale": bench_scale, "neighbours": bench_neighbours,
}


def main():
    chosen = sys.argv[1:] or list(BENCHMARKS)
    rows, sections = [], []
    for name in chosen:
        r, d = BENCHMARKS[name]()
        rows += r
        sections.append(d)
    shutil.rmtree(WORK, ignore_errors=True)
    table = "\n".join(f"| {figure} | {target} | {value} | {'met' if met else '**not met**'} |" for figure, target, value, met in rows)
    text = f"""# Benchmarks

Measured by `bench/run` ({'all benchmarks' if not sys.argv[1:] else 'benchmarks: ' + ', '.join(chosen)}), which builds in release
mode, starts a durable PostgreSQL and runs everything in one go, side by side, on one machine:
{machine()}. Run on {time.strftime('%Y-%m-%d')}.

| figure | target | value | |
|---|---|---|---|
{table}

{chr(10).join(sections)}"""
    notes = HOME / "bench" / "NOTES.md"
    if notes.exists():
        text += "\n" + notes.read_text()
    (HOME / "BENCHMARKS.md").write_text(text)
    print(table)


if __name__ == "__main__":
    main()
