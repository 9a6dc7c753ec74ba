import Engine

/// A row of `SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count`, read but not decoded.
extension EncodedRollout {
    init(_ statement: SQLiteStatement) {
        self.init(id: statement.text(0), planJSON: statement.data(1), planSource: statement.text(2),
                  fleetKind: statement.text(3), stateJSON: statement.data(4), eventCount: statement.int(5))
    }
}
