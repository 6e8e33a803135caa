/// The result of one of a document's own tests.
public struct RuleTestResult: Sendable, Codable, Equatable {
    /// Position in the document's `tests`.
    public var index: Int
    /// The test's name, or a generated label.
    public var label: String
    /// Whether it passed.
    public var passed: Bool
    /// What was expected.
    public var expected: String
    /// What the rules gave.
    public var actual: String
    /// Why it failed, for a person.
    public var message: String?
}

extension RuleSnapshot {
    /// Runs one test against this snapshot.
    public func run(_ test: RuleTest, index: Int) -> RuleTestResult {
        switch test {
        case .mapping(let name, let source, let code, let expect):
            let label = name ?? "\(source) \(code)"
            let outcome = map(source: source, code: code)
            let actual: String =
                switch outcome {
                case .mapped(let status, _): "\(status.name) (\(status.category))"
                case .unmapped: "unmapped"
                case .unknownSource: "unknown source system"
                }
            switch expect {
            case .unmapped:
                let passed = outcome == .unmapped
                return RuleTestResult(
                    index: index, label: label, passed: passed, expected: "unmapped", actual: actual,
                    message: passed ? nil : "expected the code to be unmapped, it maps to \(actual)"
                )
            case .status(let status, let category):
                let expected = category.map { "\(status) (\($0))" } ?? status
                var passed = false
                if case .mapped(let mapped, _) = outcome {
                    passed = mapped.name == status && (category == nil || mapped.category == category)
                }
                return RuleTestResult(
                    index: index, label: label, passed: passed, expected: expected, actual: actual,
                    message: passed ? nil : "expected \(expected), got \(actual)"
                )
            }
        case .transition(let name, let from, let to, let expectAllowed):
            let label = name ?? "\(from) → \(to)"
            let expected = expectAllowed ? "allow" : "deny"
            guard let fromStatus = status(named: from), let toStatus = status(named: to) else {
                return RuleTestResult(
                    index: index, label: label, passed: false, expected: expected, actual: "unknown status",
                    message: "the test names a status that does not exist"
                )
            }
            let allowed = isTransitionAllowed(from: fromStatus, to: toStatus)
            let actual = allowed ? "allow" : "deny"
            return RuleTestResult(
                index: index, label: label, passed: allowed == expectAllowed, expected: expected, actual: actual,
                message: allowed == expectAllowed ? nil : "expected \(expected), got \(actual)"
            )
        }
    }

    /// Runs every test of the document.
    public func runTests() -> [RuleTestResult] {
        document.tests.enumerated().map { run($1, index: $0) }
    }
}

/// What a code would map to, and whether a case could make that move.
public struct RuleSimulation: Sendable, Codable, Equatable {
    /// The portal status, or `nil` when the code is rejected.
    public var status: String?
    /// Its category.
    public var category: String?
    /// Whether the move from `fromStatus` is allowed; `nil` when the code maps to nothing.
    public var transitionAllowed: Bool?
    /// Whether an explicit table entry matched (false when a default applied or nothing did).
    public var matched: Bool
    /// `mapped`, `default`, `unmapped` or `unknownSource`.
    public var outcome: String
}

extension RuleSnapshot {
    /// Simulates a message with `code` from `source` arriving for a case now showing `fromStatus`
    /// (`nil`: a new case).
    public func simulate(source: String, code: String, fromStatus: PortalStatus?) -> RuleSimulation {
        switch map(source: source, code: code) {
        case .mapped(let status, let matched):
            return RuleSimulation(
                status: status.name, category: status.category,
                transitionAllowed: isTransitionAllowed(from: fromStatus, to: status), matched: matched,
                outcome: matched ? "mapped" : "default"
            )
        case .unmapped:
            return RuleSimulation(status: nil, category: nil, transitionAllowed: nil, matched: false, outcome: "unmapped")
        case .unknownSource:
            return RuleSimulation(status: nil, category: nil, transitionAllowed: nil, matched: false, outcome: "unknownSource")
        }
    }
}
