/// Every portal status with the statuses a case in it may move to, read from a compiled snapshot.
/// The console draws its transition matrix and status flow from this, so it holds no rule of its
/// own that could disagree with what ingestion enforces.
public struct StatusMoves: Sendable, Equatable {
    /// What decides where a case in a status may move.
    public enum Basis: String, Sendable, Equatable {
        /// The status is final (flagged, or a rule lists no target): a case never leaves it.
        case final
        /// A transition rule names the status: only the statuses the last such rule lists.
        case rule
        /// No rule names the status: the document's default applies.
        case `default`
    }

    /// One portal status and its moves.
    public struct Row: Sendable, Equatable {
        /// The status.
        public var status: String
        /// Whether a case never leaves it.
        public var isFinal: Bool
        /// What decides its moves.
        public var basis: Basis
        /// The statuses a case in it may move to, in document order; never the status itself,
        /// because staying is not a move.
        public var to: [String]
    }

    /// What applies to a status that no rule names.
    public var byDefault: TransitionPolicy.Default
    /// One row per portal status, in document order (the first definition of a name).
    public var rows: [Row]
}

extension RuleSnapshot {
    /// The moves as `isTransitionAllowed` answers them, pair by pair, so that this can never say
    /// other than what an event is judged by.
    public var moves: StatusMoves {
        let ruled = Set(document.transitions.rules.map(\.from))
        let rows = statuses.map { from in
            StatusMoves.Row(
                status: from.name, isFinal: from.isFinal,
                basis: from.isFinal ? .final : ruled.contains(from.name) ? .rule : .default,
                to: statuses.filter { $0.index != from.index && isTransitionAllowed(from: from, to: $0) }.map(\.name))
        }
        return StatusMoves(byDefault: document.transitions.default, rows: rows)
    }
}

extension RulesDocument {
    /// The moves of this document compiled as the validator compiles it (an entry naming an unknown
    /// status is left out), so a draft that has other errors still shows them.
    public var moves: StatusMoves {
        RuleSnapshot(lenient: self, version: 0).moves
    }
}
