import Engine
import Foundation
import RolloutCore

/// `RolloutStore` in one SQLite file (WAL): rollouts, their event logs, the effects outbox, verdicts and cohorts.
///
/// - A `.worker` holds an exclusive `flock` on `<path>.lock` for the store's lifetime, so a second worker on the
///   same database refuses to start (`StoreError.locked`, naming the holder's pid). It creates and migrates the
///   database and commits with `synchronous=FULL`: a commit that returned survives a power cut.
/// - A `.reader` takes no lock (`rollout status --db` beside a running worker), never creates or migrates, and
///   waits up to `busyTimeoutMilliseconds` for the writer. Its writes, if any, are safe: every `commit` checks
///   the event count under SQLite's write lock.
/// - `:memory:` is a private database for tests (no lock file).
///
/// Every call is serialized by one lock around the connection; statements are prepared once and cached.
/// Calls block on disk I/O (and, for a reader, on the writer): keep them off Swift's cooperative pool where
/// that matters. Schema and encodings: `StoreSchema`, `StoreJSON`, `DeviceIdBlob`.
package final class SQLiteRolloutStore: RolloutStore, @unchecked Sendable {
    package enum OpenRole: Sendable, Equatable {
        /// The one process driving rollouts: exclusive lock, creates and migrates the database.
        case worker
        /// Reads while a worker runs: no lock, no schema change.
        case reader
    }

    package static let memoryPath = ":memory:"
    package static let busyTimeoutMilliseconds: Int32 = 5000
    /// Page size of new databases. 16 KiB instead of SQLite's 4 KiB: a 1,000,000-device cohort is a 13 MB blob,
    /// and a quarter of the pages roughly halves its save time (measured: ~100 ms → ~40–70 ms).
    package static let pageSizeBytes = 16_384
    /// Rows one query may return: `limit`s are capped to it, and a longer answer means something is wrong.
    package static let rowsPerQueryMax = 1 << 20

    package let path: String
    package let role: OpenRole
    /// Guards `connection`, `lockFile` and `json`: every public method runs under it.
    private let lock = NSLock()
    /// Nil once closed.
    private var connection: SQLiteConnection?
    let json = StoreJSON()
    /// Held (worker on a file) until `close()` or the store is released.
    private var lockFile: DatabaseLockFile?

    /// What a returned commit survives.
    package enum Durability: Sendable, Equatable {
        /// `synchronous=FULL`: a process crash and a power cut (the worker: acknowledged commands must stay).
        case powerLoss
        /// `synchronous=NORMAL` in WAL: a process crash (SIGKILL) loses nothing; a power cut may lose the last
        /// commits. For rehearsals (`rollout simulate`, tests), where an fsync per transition is pure cost.
        case processCrash
    }

    package init(path: String, role: OpenRole, durability: Durability = .powerLoss) throws {
        precondition(!path.isEmpty, "database path is empty")
        let inMemory = path == Self.memoryPath
        self.path = path
        self.role = role
        // Lock before touching the database: a refused worker must not even migrate it.
        self.lockFile = role == .worker && !inMemory ? try DatabaseLockFile(databasePath: path) : nil
        if role == .reader && !inMemory && !FileManager.default.fileExists(atPath: path) {
            throw StoreError.database("no database at \(path) (a rollout worker creates it)")
        }
        do {
            let connection = try SQLiteConnection(path: path, create: role == .worker,
                                                  busyTimeoutMilliseconds: Self.busyTimeoutMilliseconds)
            try connection.execute("PRAGMA foreign_keys = ON")
            if role == .worker && !inMemory {
                // Only takes effect on a new database (before its first table; WAL fixes it afterwards).
                try connection.execute("PRAGMA page_size = \(Self.pageSizeBytes)")
                let mode = try connection.scalarText("PRAGMA journal_mode = WAL")
                guard mode?.lowercased() == "wal" else {
                    throw StoreError.database("database \(path) cannot use write-ahead logging (journal mode \(mode ?? "?"))")
                }
            }
            // FULL: in WAL mode NORMAL may lose the last commits on power loss; an acknowledged command must not be.
            try connection.execute(durability == .powerLoss ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
            try StoreSchema.migrate(connection, allowed: role == .worker || inMemory)
            self.connection = connection
        } catch let error as SQLiteError {
            throw StoreError.database("\(error.message) while opening database \(path) (\(error.context))")
        }
    }

    deinit {
        connection = nil  // close the database before letting the next worker in
        lockFile = nil
    }

    // MARK: RolloutStore

    package func create(_ rollout: NewRollout, commit: StoreCommit) throws -> Bool {
        precondition(commit.rolloutId == rollout.id, "the first commit belongs to the new rollout")
        precondition(commit.expectedEventCount == 0, "a new rollout has no event yet")
        commit.validate()
        return try perform("creating rollout \(rollout.id)") { db in
            let planJSON = try json.encode(rollout.plan, "plan of rollout \(rollout.id)")
            let stateJSON = try json.encode(commit.state, "state of rollout \(rollout.id)")
            return try db.immediateTransaction {
                let inserted = try db.withStatement("""
                    INSERT INTO rollouts (id, plan_json, plan_source, fleet_kind, state_json, event_count,
                                          display_phase, due_at, created_at, updated_at)
                    VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?9)
                    ON CONFLICT (id) DO NOTHING
                    """) { statement in
                    try statement.bind(1, rollout.id)
                    try statement.bind(2, json: planJSON)
                    try statement.bind(3, rollout.planSource)
                    try statement.bind(4, rollout.fleetKind)
                    try statement.bind(5, json: stateJSON)
                    try statement.bind(6, commit.state.displayPhase.rawValue)
                    try statement.bind(7, commit.state.dueAt)
                    try statement.bind(8, commit.state.createdAt)
                    try statement.bind(9, commit.state.updatedAt)
                    try statement.run()
                    return db.changes == 1
                }
                guard inserted else { return false }
                try write(commit, stateJSON: stateJSON, db)
                return true
            }
        }
    }

    package func rollout(id: String) throws -> StoredRollout? {
        try perform("reading rollout \(id)") { db in
            try db.withStatement("""
                SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count FROM rollouts WHERE id = ?1
                """) { statement in
                try statement.bind(1, id)
                return try statement.step() ? try EncodedRollout(statement).decode(json) : nil
            }
        }
    }

    package func rollouts(phases: Set<RolloutPhase>?, limit: Int) throws -> [StoredRollout] {
        precondition(limit > 0, "limit must be positive")
        let names = phases.map { $0.map(\.rawValue).sorted() }
        if names?.isEmpty == true { return [] }
        let filter = names.map { names in
            "WHERE display_phase IN (" + names.indices.map { "?\($0 + 2)" }.joined(separator: ", ") + ")"
        } ?? ""
        let rowsMax = min(limit, Self.rowsPerQueryMax)
        let rows = try perform("listing rollouts") { db in
            try db.withStatement("""
                SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count FROM rollouts \(filter)
                ORDER BY created_at DESC, rowid DESC LIMIT ?1
                """) { statement in
                try statement.bind(1, rowsMax)
                for (offset, name) in (names ?? []).enumerated() {
                    try statement.bind(Int32(offset + 2), name)
                }
                var rows: [EncodedRollout] = []
                for _ in 0..<rowsMax {
                    guard try statement.step() else { break }
                    rows.append(EncodedRollout(statement))
                }
                return rows
            }
        }
        // Decoded outside the lock, on every core when there are many (a worker's start reads them all).
        return try EncodedRollout.decodeAll(rows)
    }

    package func rolloutsDueForPurge(at now: Date, fleetKind: String, limit: Int) throws -> [StoredRollout] {
        precondition(limit > 0, "limit must be positive")
        let rowsMax = min(limit, Self.rowsPerQueryMax)
        let rows = try perform("listing rollouts due for purging") { db in
            try db.withStatement("""
                SELECT id, plan_json, plan_source, fleet_kind, state_json, event_count FROM rollouts
                WHERE purge_at IS NOT NULL AND purge_at <= ?1 AND fleet_kind = ?3 ORDER BY purge_at, rowid LIMIT ?2
                """) { statement in
                try statement.bind(1, now)
                try statement.bind(2, rowsMax)
                try statement.bind(3, fleetKind)
                return try readAll(statement, what: "rollouts due for purging") { EncodedRollout($0) }
            }
        }
        return try EncodedRollout.decodeAll(rows)
    }

    package func activeRolloutIds() throws -> [String] {
        try perform("listing active rollouts") { db in
            try db.withStatement("""
                SELECT id FROM rollouts
                WHERE id IN (SELECT id FROM rollouts WHERE display_phase IN (\(Self.livePhasesSQL))
                             UNION SELECT rollout_id FROM effects WHERE status = 'pending')
                ORDER BY created_at, rowid
                """) { statement in
                try readAll(statement, what: "active rollouts") { $0.text(0) }
            }
        }
    }

    package func commit(_ commit: StoreCommit) throws {
        commit.validate()
        try perform("committing event \(commit.event.sequence) (\(commit.event.event.kind)) of rollout \(commit.rolloutId)") { db in
            let stateJSON = try json.encode(commit.state, "state of rollout \(commit.rolloutId)")
            try db.immediateTransaction {
                try write(commit, stateJSON: stateJSON, db)
            }
        }
    }

    package func pendingEffects(rolloutId: String) throws -> [PendingEffect] {
        try perform("reading pending effects of rollout \(rolloutId)") { db in
            try db.withStatement("""
                SELECT key, json, attempts, next_attempt_at, last_error FROM effects
                WHERE rollout_id = ?1 AND status = 'pending' ORDER BY queued_seq
                """) { statement in
                try statement.bind(1, rolloutId)
                return try readAll(statement, what: "pending effects of rollout \(rolloutId)") { statement in
                    let key = statement.text(0)
                    let effect = try json.decode(Effect.self, from: statement.data(1), "effect \(key) of rollout \(rolloutId)")
                    return PendingEffect(record: EffectRecord(key: key, effect: effect), attempts: statement.int(2),
                                         nextAttemptAt: statement.optionalDate(3), lastError: statement.optionalText(4))
                }
            }
        }
    }

    package func pendingEffectKeys() throws -> [String: Set<String>] {
        try perform("reading pending effect keys") { db in
            try db.withStatement("SELECT rollout_id, key FROM effects WHERE status = 'pending'") { statement in
                var keys: [String: Set<String>] = [:]
                while try statement.step() {
                    keys[statement.text(0), default: []].insert(statement.text(1))
                }
                return keys
            }
        }
    }

    /// One worker per database: there is no lease, so `fence` is never checked.
    package func deferEffect(rolloutId: String, key: String, attempts: Int, nextAttemptAt: Date, lastError: String,
                             fence: LeaseFence?) throws {
        precondition(attempts >= 0, "attempts are never negative")
        try perform("deferring effect \(key) of rollout \(rolloutId)") { db in
            try db.withStatement("""
                UPDATE effects SET attempts = ?3, next_attempt_at = ?4, last_error = ?5
                WHERE rollout_id = ?1 AND key = ?2
                """) { statement in
                try statement.bind(1, rolloutId)
                try statement.bind(2, key)
                try statement.bind(3, attempts)
                try statement.bind(4, nextAttemptAt)
                try statement.bind(5, lastError)
                try statement.run()
            }
            guard db.changes == 1 else { throw StoreError.database("rollout \(rolloutId) has no effect \(key) to defer") }
        }
    }

    package func finishEffect(rolloutId: String, key: String, status: EffectStatus, fence: LeaseFence?) throws {
        precondition(status != .pending, "an effect finishes as done, skipped or failed")
        try perform("finishing effect \(key) of rollout \(rolloutId)") { db in
            try db.withStatement("UPDATE effects SET status = ?3 WHERE rollout_id = ?1 AND key = ?2") { statement in
                try statement.bind(1, rolloutId)
                try statement.bind(2, key)
                try statement.bind(3, status.rawValue)
                try statement.run()
            }
            guard db.changes == 1 else { throw StoreError.database("rollout \(rolloutId) has no effect \(key) to finish") }
        }
    }

    package func events(rolloutId: String, afterSequence: Int, limit: Int) throws -> [RolloutEventRecord] {
        precondition(afterSequence >= 0, "sequences start at 1")
        precondition(limit > 0, "limit must be positive")
        let rowsMax = min(limit, Self.rowsPerQueryMax)
        return try perform("reading events of rollout \(rolloutId)") { db in
            try db.withStatement("""
                SELECT seq, at, json FROM events WHERE rollout_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3
                """) { statement in
                try statement.bind(1, rolloutId)
                try statement.bind(2, afterSequence)
                try statement.bind(3, rowsMax)
                var records: [RolloutEventRecord] = []
                for _ in 0..<rowsMax {
                    guard try statement.step() else { break }
                    let sequence = statement.int(0)
                    let event = try json.decode(RolloutEvent.self, from: statement.data(2),
                                                "event \(sequence) of rollout \(rolloutId)")
                    records.append(RolloutEventRecord(sequence: sequence, at: statement.date(1), event: event))
                }
                return records
            }
        }
    }

    package func verdicts(rolloutId: String) throws -> [VerdictRecord] {
        try perform("reading verdicts of rollout \(rolloutId)") { db in
            try db.withStatement("SELECT stage, at, json FROM verdicts WHERE rollout_id = ?1 ORDER BY id") { statement in
                try statement.bind(1, rolloutId)
                return try readAll(statement, what: "verdicts of rollout \(rolloutId)") { statement in
                    let stage = statement.text(0)
                    let evaluation = try json.decode(GateEvaluation.self, from: statement.data(2),
                                                     "verdict of \(stage) of rollout \(rolloutId)")
                    return VerdictRecord(stage: stage, at: statement.date(1), evaluation: evaluation)
                }
            }
        }
    }

    package func latestInstant() throws -> Date? {
        try perform("reading the latest instant") { db in
            try db.withStatement("SELECT max(updated_at) FROM rollouts") { statement in
                try statement.step() ? statement.optionalDate(0) : nil
            }
        }
    }

    package func cohorts(rolloutId: String) throws -> CohortAssignment? {
        try perform("reading cohorts of rollout \(rolloutId)") { db in
            try db.withStatement("""
                SELECT device_count, device_ids, stage_sizes_json, eligible_count FROM cohorts WHERE rollout_id = ?1
                """) { statement in
                try statement.bind(1, rolloutId)
                guard try statement.step() else { return nil }
                let count = statement.int(0)
                let sizes = try json.decode([Int].self, from: statement.data(2), "stage sizes of rollout \(rolloutId)")
                let ids = statement.withBytes(1) { DeviceIdBlob.decode($0, count: count) }
                guard let ids, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == count else {
                    throw StoreError.database("cohorts of rollout \(rolloutId) are corrupt: \(count) devices expected")
                }
                return CohortAssignment(deviceIds: ids, stageSizes: sizes, eligibleCount: statement.int(3))
            }
        }
    }

    // MARK: maintenance

    /// SQLite's `PRAGMA quick_check`: the problems found, empty when the database is sound. Reads every page.
    package func quickCheck() throws -> [String] {
        try perform("checking database \(path)") { db in
            try db.withStatement("PRAGMA quick_check") { statement in
                let lines = try readAll(statement, what: "quick_check results") { $0.text(0) }
                return lines == ["ok"] ? [] : lines
            }
        }
    }

    /// The schema version of the open database (`StoreSchema.latestVersion` once open).
    package func schemaVersion() throws -> Int {
        try perform("reading the schema version") { try StoreSchema.version($0) }
    }

    /// Closes the database and releases the worker lock now, rather than when the last reference goes away
    /// (a simulated crash, or a restart in the same process, can then open the file again). Idempotent; every
    /// later call throws `StoreError.database`.
    package func close() {
        lock.lock()
        defer { lock.unlock() }
        connection = nil  // finalizes the statements and closes the connection (WAL checkpoint on last close)
        lockFile = nil  // then lets the next worker in
    }

    /// Closes a database that is about to be deleted (a rehearsal's temporary one): like `close()`, without first
    /// copying the write-ahead log into the database file (for a million devices, a 12 MB copy and an fsync).
    package func closeForDeletion() {
        lock.lock()
        defer { lock.unlock() }
        connection?.skipCheckpointOnClose()
        connection = nil
        lockFile = nil
    }

    /// Test hook: runs `body` with the connection, under the store's lock.
    func withConnection<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try perform("running a maintenance statement", body)
    }

    // MARK: reading

    /// Every row of `statement`, at most `rowsPerQueryMax`.
    private func readAll<T>(_ statement: SQLiteStatement, what: String,
                            _ row: (SQLiteStatement) throws -> T) throws -> [T] {
        var rows: [T] = []
        for _ in 0..<Self.rowsPerQueryMax {
            guard try statement.step() else { return rows }
            rows.append(try row(statement))
        }
        throw StoreError.database("more than \(Self.rowsPerQueryMax) \(what)")
    }

    // MARK: plumbing

    /// Runs `body` under the lock, turning SQLite failures into `StoreError.database("… while <doing>")`.
    func perform<T>(_ doing: @autoclosure () -> String, _ body: (SQLiteConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let connection else { throw StoreError.database("database \(path) is closed (while \(doing()))") }
        do {
            return try body(connection)
        } catch let error as SQLiteError {
            throw StoreError.database("\(error.message) while \(doing()) (sqlite error \(error.code), \(error.context))")
        }
    }

    /// `'scheduled', 'preparing', …`: every non-terminal phase (constants, not data).
    private static let livePhasesSQL = RolloutPhase.allCases.filter { !$0.isTerminal }
        .map { "'\($0.rawValue)'" }.joined(separator: ", ")
}
