"""Several processes: the embedded first start, and two servers sharing one database."""
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

import requests

from conftest import BIN, HOME, create_key, database_url, event, eventually, run


def sundsvall_document(server, admin_key):
    return server.get("/admin/v1/rules", key=admin_key).json()


def test_embedded_first_start_serves_sundsvall_and_stops_its_cluster(server_factory):
    # Not pytest's tmp_path: it is private to root, and the cluster runs as 'postgres' when we are root.
    parent = tempfile.mkdtemp(prefix="statusbro-embedded-")
    os.chmod(parent, 0o755)
    data = pathlib.Path(parent) / "data"
    server = server_factory(args=("--data-dir", str(data)), name="embedded")
    health = server.wait_healthy(timeout=90)
    assert health["database"] == "ok"
    assert health["tenants"]["sundsvall"]["rulesVersion"] >= 1
    # A key made next to the running server works at once.
    key = create_key("sundsvall", "oep-portal", {"STATUSBRO_DATA_DIR": str(data)})
    assert server.get("/casestatus/1.0/NONE/status", key=key).json()["code"] == "NOT_FOUND"
    # A second serve on the same folder refuses clearly instead of sharing the lifecycle.
    second = subprocess.run([BIN, "serve", "--port", "0", "--data-dir", str(data)], cwd=HOME, capture_output=True, text=True, timeout=60)
    assert second.returncode != 0 and "another statusbro serve is using" in second.stderr
    assert server.stop() == 0
    postmaster = data / "pgdata" / "postmaster.pid"
    assert eventually(lambda: not postmaster.exists(), timeout=10), "the embedded cluster kept running"
    shutil.rmtree(parent, ignore_errors=True)


def test_two_servers_one_database_hot_reload_and_lost_notification(server_factory):
    env = {"DATABASE_URL": database_url()}
    a = server_factory(env=env, name="a")
    a.wait_healthy()
    b = server_factory(env=env, name="b")
    b.wait_healthy()
    admin = create_key("sundsvall", "municipality-admin", env)
    byggr = create_key("sundsvall", "byggr", env)
    portal = create_key("sundsvall", "oep-portal", env)
    assert a.post("/api/v1/events", key=byggr, json=event("BYGG-1", "KOMPTEK")).status_code == 201
    assert b.get("/casestatus/1.0/BYGG-1/oepstatus", key=portal).json()["value"] == "Kompletterad"

    # Publish through A; B serves the new mapping.
    document = sundsvall_document(a, admin)["document"]
    document["sources"]["BYGGR"]["codes"]["KOMPTEK"] = "Under behandling"
    published = a.post("/admin/v1/rules/publish", key=admin, json={"baseVersion": 1, "comment": "via A", "document": document})
    assert published.status_code == 201, published.text
    assert eventually(lambda: b.get("/casestatus/1.0/BYGG-1/oepstatus", key=portal).json()["value"] == "Under behandling")

    # Cut every listening connection, publish while they are gone: B still catches up.
    run_sql(env["DATABASE_URL"], "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
    document["sources"]["BYGGR"]["codes"]["KOMPTEK"] = "Klart"
    published = a.post("/admin/v1/rules/publish", key=admin, json={"baseVersion": 2, "comment": "while B was deaf", "document": document})
    assert published.status_code == 201, published.text
    assert eventually(lambda: b.get("/casestatus/1.0/BYGG-1/oepstatus", key=portal).json()["value"] == "Klart", timeout=15)
    assert eventually(lambda: b.get("/health").json().get("rulesListener") == "connected")
    assert b.get("/health").json()["tenants"]["sundsvall"]["rulesVersion"] == 3


def run_sql(url, sql):
    """Runs SQL as the owner through psql (from the PostgreSQL client the test command installs)."""
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True, capture_output=True, timeout=30)
