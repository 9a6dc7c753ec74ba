import Engine

/// The database schema as numbered migrations, applied in order at open, each batch in one transaction.
///
/// Never edit a released migration: append a new one. `schema_version` holds one row, the number of the last
/// migration applied; a database whose number is higher than `latestVersion` was written by a newer build and is
/// refused rather than misread.
///
/// Instants (`at`, `due_at`, `created_at`, `updated_at`, `next_attempt_at`) are REAL seconds since Foundation's
/// reference date, 2001-01-01 UTC, exactly the `Double` inside a `Date`, so they round-trip bit for bit
/// (`datetime(at + 978307200, 'unixepoch')` shows one). JSON columns use the same encoding (`StoreJSON`).
enum StoreSchema {
    struct Migration {
        var version: Int
        var summary: String
        var sql: String
    }

    static let migrations: [Migration] = [
        Migration(version: 1, summary: "rollouts, events, effects outbox, verdicts, cohorts", sql: """
            CREATE TABLE rollouts (
                id            TEXT PRIMARY KEY NOT NULL,
                plan_json     TEXT NOT NULL,
                plan_source   TEXT NOT NULL,
                fleet_kind    TEXT NOT NULL,
                state_json    TEXT NOT NULL,
                event_count   INTEGER NOT NULL CHECK (event_count >= 0),
                display_phase TEXT NOT NULL,
                due_at        REAL,
                created_at    REAL NOT NULL,
                updated_at    REAL NOT NULL
            );
            CREATE INDEX rollouts_by_created ON rollouts (created_at);
            CREATE INDEX rollouts_by_phase ON rollouts (display_phase, created_at);

            CREATE TABLE events (
                rollout_id TEXT NOT NULL REFERENCES rollouts (id),
                seq        INTEGER NOT NULL CHECK (seq >= 1),
                at         REAL NOT NULL,
                kind       TEXT NOT NULL,
                json       TEXT NOT NULL,
                PRIMARY KEY (rollout_id, seq)
            ) WITHOUT ROWID;

            CREATE TABLE effects (
                rollout_id      TEXT NOT NULL REFERENCES rollouts (id),
                key             TEXT NOT NULL,
                kind            TEXT NOT NULL,
                json            TEXT NOT NULL,
                status          TEXT NOT NULL CHECK (status IN ('pending', 'done', 'skipped', 'failed')),
                attempts        INTEGER NOT NULL DEFAULT 0,
                next_attempt_at REAL,
                last_error      TEXT,
                queued_seq      INTEGER NOT NULL,
                PRIMARY KEY (rollout_id, key)
            );
            CREATE INDEX effects_by_queue ON effects (rollout_id, queued_seq);
            CREATE INDEX effects_pending ON effects (rollout_id, queued_seq) WHERE status = 'pending';

            CREATE TABLE verdicts (
                id         INTEGER PRIMARY KEY,
                rollout_id TEXT NOT NULL REFERENCES rollouts (id),
                stage      TEXT NOT NULL,
                at         REAL NOT NULL,
                verdict    TEXT NOT NULL,
                json       TEXT NOT NULL
            );
            CREATE INDEX verdicts_by_rollout ON verdicts (rollout_id, id);

            CREATE TABLE cohorts (
                rollout_id       TEXT PRIMARY KEY NOT NULL REFERENCES rollouts (id),
                device_count     INTEGER NOT NULL CHECK (device_count >= 0),
                device_ids       BLOB NOT NULL,
                stage_sizes_json TEXT NOT NULL,
                eligible_count   INTEGER NOT NULL
            );
            """),
        Migration(version: 2, summary: "rollback sets, fixed by the first attempt to create the rollback job", sql: """
            CREATE TABLE rollback_sets (
                rollout_id   TEXT PRIMARY KEY NOT NULL REFERENCES rollouts (id),
                device_count INTEGER NOT NULL CHECK (device_count >= 0),
                device_ids   BLOB NOT NULL
            );
            """),
        Migration(version: 3, summary: "when an ended rollout's jobs are due for deletion (aws.retention)", sql: """
            ALTER TABLE rollouts ADD COLUMN purge_at REAL;
            CREATE INDEX rollouts_by_purge ON rollouts (purge_at) WHERE purge_at IS NOT NULL;
            """),
    ]

    static var latestVersion: Int { migrations.last!.version }

    /// Brings the database to `latestVersion`. Cheap when it is already there (one read, no write lock).
    /// - Parameter allowed: false refuses to write (a reader must not change the schema under a running worker).
    static func migrate(_ connection: SQLiteConnection, allowed: Bool) throws {
        precondition(migrations.enumerated().allSatisfy { $0.element.version == $0.offset + 1 },
                     "migrations are numbered 1, 2, 3, … without gaps")
        let current = try version(connection)
        try refuseNewer(current, path: connection.path)
        if current == latestVersion { return }
        guard allowed else {
            throw StoreError.database("database \(connection.path) has schema version \(current); this build needs "
                                      + "\(latestVersion): start a rollout worker of this build once to upgrade it")
        }
        try connection.immediateTransaction {
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS schema_version (
                    id      INTEGER PRIMARY KEY CHECK (id = 1),
                    version INTEGER NOT NULL
                )
                """)
            // Read again under the write lock: another process may have migrated meanwhile.
            let locked = try version(connection)
            try refuseNewer(locked, path: connection.path)
            for migration in migrations where migration.version > locked {
                try connection.execute(migration.sql)
            }
            try connection.execute("INSERT INTO schema_version (id, version) VALUES (1, \(latestVersion)) "
                                   + "ON CONFLICT (id) DO UPDATE SET version = excluded.version")
        }
    }

    /// The schema version of the database; 0 for a new, empty one.
    static func version(_ connection: SQLiteConnection) throws -> Int {
        let exists = try connection.withStatement(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ) { statement in
            try statement.step() && statement.int(0) > 0
        }
        guard exists else { return 0 }
        return try connection.withStatement("SELECT version FROM schema_version WHERE id = 1") { statement in
            try statement.step() ? statement.int(0) : 0
        }
    }

    private static func refuseNewer(_ version: Int, path: String) throws {
        guard version <= latestVersion else {
            throw StoreError.database("database \(path) has schema version \(version), newer than this build of "
                                      + "rollout understands (\(latestVersion)); use a newer rollout")
        }
    }
}
