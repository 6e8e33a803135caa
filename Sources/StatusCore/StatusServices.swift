import Logging

/// What `/health` asks the storage side.
public protocol HealthProbe: Sendable {
    /// Whether the database answers now.
    func databaseIsReachable() async -> Bool
    /// Whether rule notifications are being received (`nil` when this process does not listen).
    var notificationsConnected: Bool? { get }
    /// Pending dead letters per tenant, for metrics.
    func pendingDeadLetters(_ tenants: [TenantID]) async -> [TenantID: Int]
    /// Database operations in flight in this process, for metrics.
    var databaseOperationsInFlight: Int { get }
}

/// Every core operation the faces call, wired to one store.
public struct StatusServices: Sendable {
    public let registry: RulesRegistry
    public let loader: RulesLoader
    public let rules: RulesAdministration
    public let ledger: CaseLedger
    public let events: EventRecorder
    public let cases: CaseDirectory
    public let feed: ChangeFeedReader
    public let deadLetters: DeadLetterDesk
    public let statistics: TenantStatistics
    public let norway: NorwegianSubmissions
    /// NAV's Aktivitetskort.
    public let nav: Aktivitetsplan
    /// STAR's web-service messages (Denmark).
    public let star: STARService
    public let keys: APIKeyAuthenticator
    public let keyStore: any APIKeyStore
    public let keyIssuer: APIKeyIssuer
    public let health: any HealthProbe
    /// Each tenant's request rates (its rules' `limits`), in this process.
    public let limiter = RequestLimiter()

    /// The services over `store`, replaying dead letters with `decoders` (those of every face are always included).
    public init(
        store: any StatusStore, keyStore: any APIKeyStore, health: any HealthProbe, registry: RulesRegistry = RulesRegistry(),
        deadLetterDecoders: [any DeadLetterDecoder] = [], logger: Logger
    ) {
        self.registry = registry
        self.loader = RulesLoader(store: store, registry: registry, logger: logger)
        self.rules = RulesAdministration(store: store, registry: registry, logger: logger)
        self.ledger = CaseLedger(store: store, logger: logger)
        self.events = EventRecorder(ledger: ledger, logger: logger)
        self.cases = CaseDirectory(store: store)
        self.feed = ChangeFeedReader(store: store)
        self.deadLetters = DeadLetterDesk(
            store: store, ledger: ledger,
            decoders: [
                EventDeadLetterDecoder(), NorwegianDeadLetterDecoder(scope: DIBK.receiptScope),
                NorwegianDeadLetterDecoder(scope: DIBK.updateScope), AktivitetskortDeadLetterDecoder(), STARDeadLetterDecoder(),
            ] + deadLetterDecoders, logger: logger)
        self.statistics = TenantStatistics(store: store)
        self.norway = NorwegianSubmissions(store: store, ledger: ledger)
        self.nav = Aktivitetsplan(ledger: ledger, deadLetters: deadLetters)
        self.star = STARService(store: store, ledger: ledger)
        self.keys = APIKeyAuthenticator(store: keyStore)
        self.keyStore = keyStore
        self.keyIssuer = APIKeyIssuer(store: store, keys: keyStore, authenticator: keys)
        self.health = health
    }
}
