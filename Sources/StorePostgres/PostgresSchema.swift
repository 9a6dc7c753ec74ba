import Engine
import PostgresNIO

/// The PostgreSQL schema as numbered migrations, applied in order by the first worker of a build that needs them,
/// in one transaction under an advisory lock (workers starting together migrate once).
///
/// The same tables as StoreSQLite's, with the same encodings (`StoreJSON` text, instants as the `Double` inside a
/// `Date`, cohorts as one `DeviceIdBlob`), plus what several workers need: each rollout's lease (`lease_owner`,
/// `lease_expires_at` on the database's clock, `lease_epoch`), `changed_at` for the change feed, and `workers`.
/// Never edit a released migration: append one.
enum PostgresSchema {
    struct Migration {
        var version: Int
        var summary: String
        var statements: [String]
    }

    /// `pg_advisory_xact_lock` key of migrations ("rollout" in ASCII).
    static let migrationLockKey: Int64 = 0x726F_6C6C_6F75_74

    static let migrations: [Migration] = [
        Migration(version: 1, summary: "rollouts with leases, events, effects, verdicts, cohorts, rollback sets, workers",
                  statements: [
            """
            CREATE TABLE rollouts (
                id               text PRIMARY KEY,
                created_order    bigserial NOT NULL,
                plan_json        text NOT NULL,
                plan_source      text NOT NULL,
                fleet_kind       text NOT NULL,
                state_json       text NOT NULL,
                event_count      integer NOT NULL CHECK (event_count >= 0),
                display_phase    text NOT NULL,
                due_at           double precision,
                created_at       double precision NOT NULL,
                updated_at       double precision NOT NULL,
                purge_at         double precision,
                changed_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
                lease_owner      text,
                lease_expires_at timestamptz,
                lease_epoch      bigint NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX rollouts_by_created ON rollouts (created_at, created_order)",
            "CREATE INDEX rollouts_by_phase ON rollouts (display_phase, created_at)",
            "CREATE INDEX rollouts_by_purge ON rollouts (purge_at) WHERE purge_at IS NOT NULL",
            "CREATE INDEX rollouts_by_change ON rollouts (changed_at)",
            "CREATE INDEX rollouts_by_owner ON rollouts (lease_owner) WHERE lease_owner IS NOT NULL",
            """
            CREATE TABLE events (
                rollout_id text NOT NULL REFERENCES rollouts (id),
                seq        integer NOT NULL CHECK (seq >= 1),
                at         double precision NOT NULL,
                kind       text NOT NULL,
                json       text NOT NULL,
                PRIMARY KEY (rollout_id, seq)
            )
            """,
            """
            CREATE TABLE effects (
                rollout_id      text NOT NULL REFERENCES rollouts (id),
                key             text NOT NULL,
                kind            text NOT NULL,
                json            text NOT NULL,
                status          text NOT NULL CHECK (status IN ('pending', 'done', 'skipped', 'failed')),
                attempts        integer NOT NULL DEFAULT 0,
                next_attempt_at double precision,
                last_error      text,
                queued_seq      integer NOT NULL,
                PRIMARY KEY (rollout_id, key)
            )
            """,
            "CREATE INDEX effects_pending ON effects (rollout_id, queued_seq) WHERE status = 'pending'",
            """
            CREATE TABLE verdicts (
                id         bigserial PRIMARY KEY,
                rollout_id text NOT NULL REFERENCES rollouts (id),
                stage      text NOT NULL,
                at         double precision NOT NULL,
                verdict    text NOT NULL,
                json       text NOT NULL
            )
            """,
            "CREATE INDEX verdicts_by_rollout ON verdicts (rollout_id, id)",
            """
            CREATE TABLE cohorts (
                rollout_id       text PRIMARY KEY REFERENCES rollouts (id),
                device_count     integer NOT NULL CHECK (device_count >= 0),
                device_ids       bytea NOT NULL,
                stage_sizes_json text NOT NULL,
                eligible_count   integer NOT NULL
            )
            """,
            """
            CREATE TABLE rollback_sets (
                rollout_id   text PRIMARY KEY REFERENCES rollouts (id),
                device_count integer NOT NULL CHECK (device_count >= 0),
                device_ids   bytea NOT NULL
            )
            """,
            """
            CREATE TABLE workers (
                id                 text PRIMARY KEY,
                host               text NOT NULL,
                pid                integer NOT NULL,
                listen             text,
                started_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
                heartbeat_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
                stopped_at         timestamptz,
                leases_held        integer NOT NULL DEFAULT 0,
                takeovers          bigint NOT NULL DEFAULT 0,
                fencing_rejections bigint NOT NULL DEFAULT 0
            )
            """,
        ]),
        Migration(version: 2, summary: "a worker row may be a `rollout run` driving one rollout; each row's lease",
                  statements: [
            // NULL: a worker taking its share of every rollout; else the one rollout a `rollout run` drives (not
            // counted when workers divide the rollouts among themselves, counted when they divide the AWS budget).
            "ALTER TABLE workers ADD COLUMN drives text",
            // The holder's own --lease-seconds: it is alive while its heartbeat is younger than that, whatever the
            // lease of whoever asks (a run on a short lease must not take workers on a long one for dead).
            "ALTER TABLE workers ADD COLUMN lease_seconds double precision NOT NULL DEFAULT 30",
        ]),
    ]

    static var latestVersion: Int { migrations.last!.version }

    /// Brings the database to `latestVersion` (cheap when it is there: one read).
    static func migrate(_ session: PostgresSession) throws {
        precondition(migrations.enumerated().allSatisfy { $0.element.version == $0.offset + 1 },
                     "migrations are numbered 1, 2, 3, … without gaps")
        if try version(session) == latestVersion { return }
        try session.transaction("migrating the schema") {
            try session.run("SELECT pg_advisory_xact_lock(\(migrationLockKey))", "waiting for another worker's migration")
            try session.run("""
                CREATE TABLE IF NOT EXISTS schema_version (
                    id      integer PRIMARY KEY CHECK (id = 1),
                    version integer NOT NULL
                )
                """, "creating schema_version")
            let current = try version(session)
            for migration in migrations where migration.version > current {
                for statement in migration.statements {
                    try session.run(PostgresQuery(unsafeSQL: statement), "applying migration \(migration.version)")
                }
            }
            try session.run("""
                INSERT INTO schema_version (id, version) VALUES (1, \(latestVersion))
                ON CONFLICT (id) DO UPDATE SET version = excluded.version
                """, "recording the schema version")
        }
    }

    /// The schema version of the database: 0 for an empty one; a newer one than this build knows is refused.
    static func version(_ session: PostgresSession) throws -> Int {
        let exists = try session.run("SELECT to_regclass('schema_version') IS NOT NULL", "reading the schema version")
        guard let row = exists.rows.first, try row.decode(Bool.self) else { return 0 }
        let rows = try session.run("SELECT version FROM schema_version WHERE id = 1", "reading the schema version").rows
        let version = try rows.first.map { try $0.decode(Int.self) } ?? 0
        guard version <= latestVersion else {
            throw StoreError.database("database \(session.location) has schema version \(version), newer than this build "
                                      + "of rollout understands (\(latestVersion)); use a newer rollout")
        }
        return version
    }
}
