import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import StatusCore
import StatusRules
import Synchronization

/// Prometheus metrics at `/metrics`: what swift-metrics records anywhere in the process (HTTP
/// requests, rule reloads, feed entries) plus, at each scrape, every tenant's served rules version,
/// failed reloads and pending dead letters.
public final class StatusMetrics: Sendable {
    /// The registry everything is recorded into.
    public let registry: PrometheusCollectorRegistry
    private let pendingCache = Mutex<(at: ContinuousClock.Instant, counts: [TenantID: Int])?>(nil)

    /// The process's metrics; the first use bootstraps swift-metrics with Prometheus (once per process).
    public static let shared: StatusMetrics = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
            .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return StatusMetrics(registry: registry)
    }()

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The text exposition, with scrape-time values refreshed.
    func render(services: StatusServices) async -> String {
        let status = services.registry.status()
        for (tenant, entry) in status {
            gauge("statusbro_rules", "version", "The rules version served, per tenant", tenant).set(to: Double(entry.servedVersion))
            gauge("statusbro_rules_reload", "failed", "1 when the newest release failed to compile", tenant).set(
                to: entry.failure == nil ? 0 : 1)
        }
        for (tenant, count) in await pendingDeadLetters(services, tenants: Array(status.keys)) {
            gauge("statusbro_dead_letters", "pending", "Dead letters waiting for a replay", tenant).set(to: Double(count))
        }
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "statusbro_db_operations", unitName: "in_flight", helpText: "Database operations in flight")
        )
        .set(to: Double(services.health.databaseOperationsInFlight))
        return registry.emitToString()
    }

    private func gauge(_ name: String, _ unit: String, _ help: String, _ tenant: TenantID) -> Prometheus.Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: name, unitName: unit, helpText: help), labels: [("tenant", tenant.rawValue)])
    }

    /// Counting dead letters is a query per tenant; scrapes within 15 seconds reuse the counts.
    private func pendingDeadLetters(_ services: StatusServices, tenants: [TenantID]) async -> [TenantID: Int] {
        if let cached = pendingCache.withLock({ $0 }), ContinuousClock.now - cached.at < .seconds(15) { return cached.counts }
        let counts = await services.health.pendingDeadLetters(tenants)
        pendingCache.withLock { $0 = (ContinuousClock.now, counts) }
        return counts
    }
}
