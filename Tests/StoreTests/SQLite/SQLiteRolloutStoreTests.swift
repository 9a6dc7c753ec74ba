import Engine
import Foundation
import RolloutCore
import Testing
@testable import StoreSQLite

/// What only the SQLite store does: files, reopening, migrations, the worker lock, transactions.
@Suite struct SQLiteRolloutStoreTests {
    // MARK: reopening

    @Test func reopenedFileDatabaseReadsEverythingBack() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("rollout.db")
            let (script, commits) = RolloutScript.completedRollout(id: "sensor-0a1b2c3d")
            let written: RolloutStoreContract.Snapshot
            do {
                let store = try SQLiteRolloutStore(path: path, role: .worker)
                #expect(try store.create(script.newRollout, commit: commits[0]))
                for commit in commits.dropFirst() {
                    try store.commit(commit)
                }
                try store.deferEffect(rolloutId: script.id, key: "cleanup:\(script.id)-canary", attempts: 2,
                                      nextAttemptAt: script.now.addingTimeInterval(7.000_123_4), lastError: "503")
                written = try RolloutStoreContract.snapshot(store, script.id)
            }

            for role in [SQLiteRolloutStore.OpenRole.worker, .reader] {
                let store = try SQLiteRolloutStore(path: path, role: role)
                let read = try RolloutStoreContract.snapshot(store, script.id)
                #expect(read == written)
                // Dates come back bit for bit, sub-millisecond fractions included.
                #expect(read.events.map(\.at) == script.records.map(\.at))
                #expect(read.state == script.state)
                let stored = try #require(try store.rollout(id: script.id))
                #expect(stored.plan == script.plan)
                #expect(stored.planSource == script.newRollout.planSource)
                #expect(RolloutStateMachine.replay(rolloutId: script.id, plan: stored.plan, events: read.events) == stored.state)
                #expect(try store.cohorts(rolloutId: script.id) == Fixtures.cohorts(sizes: [2, 3, 5]))
                #expect(try store.quickCheck() == [])
            }
        }
    }

    @Test func migrationsRunOnceAndAreIdempotentOnReopen() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("rollout.db")
            for round in 0..<3 {
                let store = try SQLiteRolloutStore(path: path, role: .worker)
                #expect(try store.schemaVersion() == StoreSchema.latestVersion)
                let rows = try store.withConnection { db in
                    try db.withStatement("SELECT count(*) FROM schema_version") { try $0.step() ? $0.int(0) : -1 }
                }
                #expect(rows == 1)
                if round == 0 { try Fixtures.create(store, id: "r1") }
                #expect(try store.rollout(id: "r1") != nil)
                let journal = try store.withConnection { try $0.scalarText("PRAGMA journal_mode") }
                #expect(journal == "wal")
                let synchronous = try store.withConnection { try $0.scalarText("PRAGMA synchronous") }
                #expect(synchronous == "2")  // FULL
                let foreignKeys = try store.withConnection { try $0.scalarText("PRAGMA foreign_keys") }
                #expect(foreignKeys == "1")
                let pageSize = try store.withConnection { try $0.scalarText("PRAGMA page_size") }
                #expect(pageSize == "\(SQLiteRolloutStore.pageSizeBytes)")
            }
        }
    }

    @Test func refusesADatabaseFromANewerBuild() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("rollout.db")
            do {
                let store = try SQLiteRolloutStore(path: path, role: .worker)
                try store.withConnection { try $0.execute("UPDATE schema_version SET version = \(StoreSchema.latestVersion + 1)") }
            }
            for role in [SQLiteRolloutStore.OpenRole.worker, .reader] {
                let error = #expect(throws: StoreError.self) { try SQLiteRolloutStore(path: path, role: role) }
                guard case .database(let message) = error else {
                    Issue.record("expected a database error, got \(String(describing: error))")
                    continue
                }
                #expect(message.contains("schema version \(StoreSchema.latestVersion + 1), newer than this build"))
                #expect(message.contains(path))
            }
        }
    }

    @Test func readerNeitherCreatesNorMigrates() throws {
        try withTemporaryDirectory { directory in
            let missing = directory.file("missing.db")
            #expect(throws: StoreError.database("no database at \(missing) (a rollout worker creates it)")) {
                try SQLiteRolloutStore(path: missing, role: .reader)
            }
            #expect(!FileManager.default.fileExists(atPath: missing))

            // An empty database file (version 0) is not upgraded by a reader.
            let empty = directory.file("empty.db")
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            let error = #expect(throws: StoreError.self) { try SQLiteRolloutStore(path: empty, role: .reader) }
            #expect(String(describing: error).contains("schema version 0"))
        }
    }

    // MARK: the worker lock

    @Test func secondWorkerInTheSameProcessIsRefused() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("rollout.db")
            do {
                let first = try SQLiteRolloutStore(path: path, role: .worker)
                withExtendedLifetime(first) {
                    #expect(throws: StoreError.locked("database \(path) is in use by another rollout worker (pid \(getpid()))")) {
                        try SQLiteRolloutStore(path: path, role: .worker)
                    }
                    // The refused worker did not disturb the first one's lock.
                    #expect(throws: StoreError.self) { try SQLiteRolloutStore(path: path, role: .worker) }
                }
            }
            // Released with the store.
            let next = try SQLiteRolloutStore(path: path, role: .worker)
            #expect(try next.schemaVersion() == StoreSchema.latestVersion)
        }
    }

    @Test func closeReleasesTheLockAtOnce() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("rollout.db")
            let first = try SQLiteRolloutStore(path: path, role: .worker)
            try Fixtures.create(first, id: "r1")
            first.close()
            first.close()  // idempotent
            #expect(throws: StoreError.database("database \(path) is closed (while reading rollout r1)")) {
                try first.rollout(id: "r1")
            }
            // Reopened while `first` is still referenced: a restart in the same process.
            let second = try SQLiteRolloutStore(path: path, role: .worker)
            #expect(try second.rollout(id: "r1")?.state.eventCount == 1)
            withExtendedLifetime(first) {}
        }
    }

    @Test func lockFileIsPrivateNamesTheHolderAndIsHeldAgainstOtherProcesses() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("rollout.db")
            let lockPath = path + ".lock"
            do {
                let store = try SQLiteRolloutStore(path: path, role: .worker)
                try withExtendedLifetime(store) {
                    let attributes = try FileManager.default.attributesOfItem(atPath: lockPath)
                    #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
                    #expect(try String(contentsOfFile: lockPath, encoding: .utf8) == "\(getpid())\n")
                    #expect(try run("/usr/bin/flock", ["-n", lockPath, "true"]) == 1)  // flock -n: 1 when held
                }
            }
            #expect(try run("/usr/bin/flock", ["-n", lockPath, "true"]) == 0)
        }
    }

    /// The database holds the plans (and so whatever they name): only its owner may read it, whatever the umask.
    @Test func databaseFilesAreCreatedOwnerOnly() throws {
        // 022, the usual umask, would let SQLite's own creation leave the files world-readable (0644). Set for this
        // test only (the umask is per process; any file another test creates meanwhile is merely as usual).
        let previous = umask(0o022)
        defer { umask(previous) }
        try withTemporaryDirectory { directory in
            let path = directory.file("rollout.db")
            let store = try SQLiteRolloutStore(path: path, role: .worker)
            let (script, commits) = RolloutScript.completedRollout(id: "sensor-0a1b2c3d")
            try withExtendedLifetime(store) {
                #expect(try store.create(script.newRollout, commit: commits[0]))  // a write: the WAL exists now
                for file in [path, path + "-wal", path + "-shm", path + ".lock"] {
                    let attributes = try FileManager.default.attributesOfItem(atPath: file)
                    #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(file)")
                }
            }
            store.close()
            // Reopening an existing database leaves it as it is (and readable again).
            let reopened = try SQLiteRolloutStore(path: path, role: .worker)
            #expect(try reopened.rollout(id: script.id) != nil)
        }
    }

    @Test func workerIsRefusedWhileAnotherProcessHoldsTheLock() throws {
        guard let python = Self.executable(named: "python3") else {
            Issue.record("python3 is needed to hold the lock from another process")
            return
        }
        try withTemporaryDirectory { directory in
            let path = directory.file("rollout.db")
            // Another process takes the lock the way a worker does, says so, and holds it until its stdin closes.
            let holder = Process()
            holder.executableURL = URL(fileURLWithPath: python)
            holder.arguments = ["-c", """
                import fcntl, os, sys
                fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.ftruncate(fd, 0); os.pwrite(fd, (str(os.getpid()) + "\\n").encode(), 0)
                print("locked", flush=True)
                sys.stdin.read()
                """, path + ".lock"]
            let input = Pipe()
            let output = Pipe()
            holder.standardInput = input
            holder.standardOutput = output
            try holder.run()
            defer {
                try? input.fileHandleForWriting.close()
                holder.waitUntilExit()
            }
            // Wait for the holder's line (each read blocks until it writes or exits; a pipe may split the line).
            var ready = Data()
            for _ in 0..<64 where !ready.contains(0x0A) {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                ready.append(chunk)
            }
            #expect(String(decoding: ready, as: UTF8.self) == "locked\n")

            #expect(throws: StoreError.locked("database \(path) is in use by another rollout worker (pid \(holder.processIdentifier))")) {
                try SQLiteRolloutStore(path: path, role: .worker)
            }
            #expect(!FileManager.default.fileExists(atPath: path))  // refused before touching the database

            try input.fileHandleForWriting.close()
            holder.waitUntilExit()
            #expect(holder.terminationStatus == 0)
            let store = try SQLiteRolloutStore(path: path, role: .worker)
            #expect(try store.activeRolloutIds().isEmpty)
        }
    }

    @Test func readerOpensAndFollowsWhileTheWorkerHoldsTheLock() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("rollout.db")
            let worker = try SQLiteRolloutStore(path: path, role: .worker)
            try Fixtures.create(worker, id: "r1", effects: [Fixtures.notify("n1")])

            let reader = try SQLiteRolloutStore(path: path, role: .reader)
            #expect(try reader.rollout(id: "r1")?.state.eventCount == 1)
            #expect(try reader.activeRolloutIds() == ["r1"])

            try worker.commit(Fixtures.commit(id: "r1", after: 1, phase: .completed, completing: "n1"))
            #expect(try reader.rollout(id: "r1")?.state.phase == .completed)
            #expect(try reader.activeRolloutIds().isEmpty)
            #expect(try reader.events(rolloutId: "r1", afterSequence: 0, limit: 10).count == 2)
            withExtendedLifetime(worker) {}
        }
    }

    // MARK: transactions

    /// A failure late in a commit (here: the verdict insert) rolls back the event, the state and the effects.
    @Test func failedCommitRollsBackEverything() throws {
        let store = try SQLiteRolloutStore(path: SQLiteRolloutStore.memoryPath, role: .worker)
        try Fixtures.create(store, id: "r1", effects: [EffectRecord(key: "prepare", effect: .prepare)])
        let before = try RolloutStoreContract.snapshot(store, "r1")
        try store.withConnection { db in
            try db.execute("""
                CREATE TRIGGER refuse_verdicts BEFORE INSERT ON verdicts BEGIN SELECT RAISE(ABORT, 'injected failure'); END
                """)
        }
        let commit = Fixtures.commit(id: "r1", after: 1, phase: .deploying,
                                     effects: [EffectRecord(key: "create-job:canary", effect: .createJob(stage: 0))],
                                     verdicts: [VerdictRecord(stage: "canary", at: Fixtures.start, evaluation: Fixtures.evaluation(.pass))],
                                     completing: "prepare", cohorts: Fixtures.cohorts(sizes: [3, 4]))
        let error = #expect(throws: StoreError.self) { try store.commit(commit) }
        let message = String(describing: error)
        #expect(message.contains("injected failure"))
        #expect(message.contains("while committing event 2 (timerFired) of rollout r1"))
        #expect(try RolloutStoreContract.snapshot(store, "r1") == before)
        #expect(try store.withConnection { $0.isAutocommit })

        try store.withConnection { try $0.execute("DROP TRIGGER refuse_verdicts") }
        try store.commit(commit)
        #expect(try store.rollout(id: "r1")?.state == commit.state)
        #expect(try store.cohorts(rolloutId: "r1") == Fixtures.cohorts(sizes: [3, 4]))
    }

    @Test func failedCreateLeavesNoRollout() throws {
        let store = try SQLiteRolloutStore(path: SQLiteRolloutStore.memoryPath, role: .worker)
        try store.withConnection { db in
            try db.execute("CREATE TRIGGER refuse_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'no events'); END")
        }
        #expect(throws: StoreError.self) { try Fixtures.create(store, id: "r1") }
        #expect(try store.rollout(id: "r1") == nil)
        #expect(try store.rollouts(phases: nil, limit: 10).isEmpty)
    }

    // MARK: helpers

    /// Runs a program to completion and returns its exit status.
    private func run(_ program: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private static func executable(named name: String) -> String? {
        let directories = ["/usr/bin"] + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
