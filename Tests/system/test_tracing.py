"""Traces leave `statusbro serve` over OTLP/HTTP: one trace per request, the SQL under it, no identity number.

The collector is a stand-in in this process: an HTTP server taking OTLP/JSON on /v1/traces, so what is
checked is exactly what the exporter sends.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import create_key, database_url, event, eventually, free_port
from test_zz_privacy import leaked

SERVER_KIND, CLIENT_KIND = 2, 3  # OTLP's SpanKind numbers (the exporter writes enums as numbers)


class Collector:
    """Receives OTLP/JSON trace exports; keeps every body as sent and the spans in them."""

    def __init__(self):
        self.bodies = []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                with collector.lock:
                    collector.bodies.append((self.path, self.headers.get("Content-Type"), body))
                answer = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self):
        with self.lock:
            bodies = list(self.bodies)
        found = []
        for _, _, body in bodies:
            for resource in json.loads(body).get("resourceSpans", []):
                service = {a["key"]: a["value"] for a in resource.get("resource", {}).get("attributes", [])}.get("service.name")
                for scope in resource.get("scopeSpans", []):
                    for span in scope.get("spans", []):
                        span["attributes"] = {a["key"]: next(iter(a["value"].values()), None) for a in span.get("attributes", [])}
                        span["service"] = service and next(iter(service.values()))
                        found.append(span)
        return found

    def close(self):
        self.server.shutdown()


def test_serve_exports_a_trace_per_request_with_its_sql(server_factory):
    collector = Collector()
    try:
        env = {"DATABASE_URL": database_url()}
        traced = dict(
            env,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.port}",
            OTEL_EXPORTER_OTLP_PROTOCOL="http/json",
            OTEL_BSP_SCHEDULE_DELAY="100",
        )
        server = server_factory(env=traced, name="tracing")
        server.wait_healthy()
        writer = create_key("sundsvall", "byggr", env)
        portal = create_key("sundsvall", "oep-portal", env)
        client_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        requests_made = {
            "trace-event": server.post(
                "/api/v1/events", key=writer, json=event("19121212-1212", "ANM", organisationNumber="556490-0008"),
                headers={"X-Correlation-ID": "trace-event", "traceparent": f"00-{client_trace}-00f067aa0ba902b7-01"},
            ),
            "trace-status": server.get("/casestatus/1.0/5564900008/statuses", key=portal, headers={"X-Correlation-ID": "trace-status"}),
            "trace-case": server.get("/casestatus/1.0/191212121212/status", key=portal, headers={"X-Correlation-ID": "trace-case"}),
        }
        assert [r.status_code for r in requests_made.values()] == [201, 200, 404]
        # Stopping flushes: the exporter is the first service of the group, so it stops last.
        assert server.stop() == 0

        spans = eventually(lambda: len(collector.spans()) and collector.spans(), timeout=5)
        assert spans, f"no trace reached the collector:\n{server.log_path.read_text()}"
        assert all(path == "/v1/traces" and kind == "application/json" for path, kind, _ in collector.bodies)
        assert {span["service"] for span in spans} == {"statusbro"}

        traces = set()
        for correlation in requests_made:
            roots = [s for s in spans if s["kind"] == SERVER_KIND and s["attributes"].get("statusbro.correlation_id") == correlation]
            assert len(roots) == 1, f"one request span for {correlation}"
            root = roots[0]
            assert not root.get("parentSpanId"), "the request span starts its trace (a client's traceparent is not adopted)"
            traces.add(root["traceId"])
            trace = {s["spanId"]: s for s in spans if s["traceId"] == root["traceId"]}
            for span in trace.values():
                current, hops = span, 0
                while current.get("parentSpanId") and hops < 10:
                    current, hops = trace[current["parentSpanId"]], hops + 1
                assert current["spanId"] == root["spanId"], f"{span['name']} hangs under the request span of {correlation}"
            sql = [s for s in trace.values() if s["kind"] == CLIENT_KIND and s["attributes"].get("db.system.name") == "postgresql"]
            assert sql, f"the SQL of {correlation} is in its trace"
        assert len(traces) == len(requests_made), "a trace per request"
        # The readiness polls of /health are requests too; nothing without a request behind it is traced.
        request_traces = {s["traceId"] for s in spans if s["kind"] == SERVER_KIND and not s.get("parentSpanId")}
        assert traces <= request_traces and all(s["traceId"] in request_traces for s in spans)
        names = {s["name"] for s in spans}
        assert {"POST /api/v1/events", "CALL statusbro_record_changes", "rules.snapshot"} <= names
        assert any(n.startswith("GET /casestatus/") and n.endswith("/status") and "{" in n for n in names), names

        # What left the process, byte for byte: no identity number, though every request carried one.
        for _, _, body in collector.bodies:
            assert leaked(body) == [], body
    finally:
        collector.close()


def test_tracing_stays_off_when_disabled(server_factory):
    collector = Collector()
    try:
        env = {
            "DATABASE_URL": database_url(),
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_SDK_DISABLED": "true",
        }
        server = server_factory(env=env, name="tracing-off")
        server.wait_healthy()
        assert server.post("/api/v1/events", key=create_key("sundsvall", "byggr", env), json=event("B-1", "ANM")).status_code == 201
        assert server.stop() == 0
        assert collector.bodies == []
        assert "tracing on" not in server.log_path.read_text()
    finally:
        collector.close()


def test_an_exporter_protocol_not_built_in_is_refused_with_the_reason(server_factory):
    env = {"DATABASE_URL": database_url(), "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    server = server_factory(env=env, name="tracing-grpc")
    assert server.process.wait(timeout=60) != 0
    assert "grpc is not built in" in server.log_path.read_text()
