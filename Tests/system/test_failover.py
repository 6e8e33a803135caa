"""Failover: a primary and a streaming standby; the primary crashes under load and the standby is
promoted. The running server finds the new primary by itself: nothing acknowledged is lost,
nothing is applied twice, and its rules listener reconnects and serves a publish made afterwards.

How long writes pause is measured and written to artifacts/failover.json (README, "Failover");
it is reported, not asserted: a timed assertion would fail on a busy machine, not on a bug."""
import json
import time

from clusters import ReplicatedPair, psql
from conftest import ARTIFACTS, HOME, Server, create_key, eventually, run
from test_reliability import RetryingClient, assert_exactly_once


def test_primary_crash_and_promotion_under_load_loses_nothing_and_the_listener_follows(tmp_path):
    pair = ReplicatedPair()
    try:
        # The standby is listed first: libpq has to pass over it because it does not accept writes.
        url = pair.url("failover", first="standby")
        env = {"DATABASE_URL": url}
        server = Server(env=env, name="failover")
        server.wait_healthy()
        writer = create_key("sundsvall", "byggr", env)
        portal = create_key("sundsvall", "oep-portal", env)
        first = {**RetryingClient.event(0), "externalCaseId": "FAILOVER-1", "status": "KOMPTEK"}
        assert server.post("/api/v1/events", key=writer, json=first).status_code == 201
        primary_url = f"postgresql://postgres@127.0.0.1:{pair.primary.port}/failover"
        assert psql(primary_url, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'statusbro_app'") != "0"

        client = RetryingClient(lambda: server.base, writer, total=2500, threads=8)
        client.start()
        assert eventually(lambda: len(client.acknowledged) >= 300, timeout=60), "ingestion did not get going"
        stopped, promoted = pair.fail_over()
        client.join()
        acknowledged_at = sorted(client.acknowledged_at)

        assert not client.failures, client.failures[:3]
        assert len(client.acknowledged) == 2500
        new_primary = f"postgresql://postgres@127.0.0.1:{pair.standby.port}/failover"
        assert_exactly_once(new_primary, client.acknowledged | {first["messageId"]})
        assert any(t > promoted for t in acknowledged_at), "no write was acknowledged after the failover"
        assert "the database primary moved" in server.log_path.read_text()

        # The listener reconnected to the new primary and resynchronised: a publish made there now is served.
        assert eventually(lambda: server.get("/health").json().get("rulesListener") == "connected", timeout=20)
        changed = (HOME / "tenants" / "sundsvall.yaml").read_text().replace("KOMPTEK: Kompletterad", "KOMPTEK: Under behandling")
        document = tmp_path / "sundsvall.yaml"
        document.write_text(changed)
        assert "published version 2" in run(["tenants", "import", str(document)], env=env).stdout
        assert eventually(lambda: server.get("/casestatus/1.0/FAILOVER-1/oepstatus", key=portal).json().get("value") == "Under behandling",
                          timeout=15)
        listening = psql(new_primary, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'statusbro_app' AND query LIKE 'LISTEN%'")
        assert listening != "0", "the rules listener is not connected to the new primary"
        assert server.stop() == 0

        # An acknowledgement that arrives just after the crash may still be the old primary's; one
        # after the promotion finished is the new primary's. The pause clients saw is the longest gap.
        figures = {
            "events": 2500,
            "retries": client.retries,
            "acknowledgedBeforeCrash": len([t for t in acknowledged_at if t <= stopped]),
            "promotionSeconds": round(promoted - stopped, 3),
            "firstAcknowledgementAfterPromotionSeconds": round(min(t for t in acknowledged_at if t > promoted) - promoted, 3),
            "longestGapBetweenAcknowledgementsSeconds": round(max(b - a for a, b in zip(acknowledged_at, acknowledged_at[1:])), 3),
        }
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "failover.json").write_text(json.dumps(figures, indent=2) + "\n")
        print("failover:", json.dumps(figures))
    finally:
        pair.remove()
