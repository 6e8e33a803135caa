import Foundation
import Hummingbird
import StatusTestSupport
import Testing

@Suite("Operability")
struct MetricsTests {
    @Test("/metrics exposes requests per route and status, rules versions, dead letters and feed entries, without a credential")
    func metrics() async throws {
        try await Harness.run { h in
            let byggr = try await h.key("sundsvall", "byggr")
            let portal = try await h.key("sundsvall", "oep-portal")
            _ = try await h.post(
                "/api/v1/events", key: byggr, Harness.event(externalCaseId: "M-1", status: "ANM", organisationNumber: "5564900008"))
            _ = try await h.post("/api/v1/events", key: byggr, Harness.event(externalCaseId: "M-2", status: "OKÄND"))
            _ = try await h.get("/casestatus/1.0/5564900008/statuses", key: portal)
            let reply = try await h.get("/metrics", key: nil)
            #expect(reply.status == .ok && reply.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = reply.text
            // Hummingbird's MetricsMiddleware, in OpenTelemetry's names.
            #expect(text.contains(#"hb_requests{http_route="/api/v1/events",http_request_method="POST",http_response_status_code="201"} "#))
            #expect(text.contains(#"hb_requests{http_route="/api/v1/events",http_request_method="POST",http_response_status_code="422"} "#))
            #expect(
                text.contains(
                    #"http_server_request_duration_bucket{http_route="/casestatus/{version}/{id}/statuses",http_request_method="GET""#))
            #expect(text.contains(#"statusbro_rules_version{tenant="sundsvall"} 1.0"#))
            #expect(text.contains(#"statusbro_dead_letters_pending{tenant="sundsvall"}"#))
            #expect(text.contains(#"statusbro_feed_entries_written_total{reason="event"} "#))
            // The case cache: the list read went to the database, and the event forgot just its case.
            #expect(text.contains(#"statusbro_case_cache_misses_total{read="organisation"} "#))
            #expect(text.contains(#"statusbro_case_cache_invalidations_total{scope="cases"} "#))
            #expect(text.contains("statusbro_case_cache_entries "))
            // Routes are labelled by pattern: no identifier or identity number becomes a label.
            #expect(!text.contains("5564900008") && !text.contains("M-1"))
        }
    }
}
