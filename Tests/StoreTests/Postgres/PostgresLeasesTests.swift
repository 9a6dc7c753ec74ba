import Engine
import Foundation
import PostgresTestSupport
import RolloutCore
import Testing
@testable import StorePostgres

/// Leases, fencing, notifications and reconnection on the tests' real PostgreSQL server.
@Suite struct PostgresLeasesTests {
    struct Database {
        let url: String
        let location: PostgresLocation
        let store: PostgresRolloutStore

        init() throws {
            url = try PostgresTestServer.shared.freshDatabase()
            location = try PostgresLocation(url: url)
            store = try PostgresRolloutStore(location: location)
        }

        func leases(_ seconds: Double = 30) throws -> PostgresLeases {
            try PostgresLeases(location: location, configuration: .init(leaseSeconds: seconds))
        }

        /// Makes every lease of `id` look expired, as if its owner had stopped renewing long ago.
        func expire(_ id: String) throws {
            try PostgresTestServer.shared.sql(
                "UPDATE rollouts SET lease_expires_at = clock_timestamp() - interval '1 hour' WHERE id = '\(id)'",
                database: location.database)
        }
    }

    @Test func workersShareTheActiveRolloutsAndNeverClaimTheSameOne() throws {
        let db = try Database()
        for index in 0..<10 { _ = try Fixtures.create(db.store, id: "r\(index)") }
        let first = try db.leases()
        let second = try db.leases()
        defer { first.stop(); second.stop() }

        let alone = try first.round()
        #expect(alone.claimed.count == 10)  // the only worker alive takes everything
        #expect(try second.round().claimed.isEmpty)  // nothing free: every lease is valid
        let shed = try first.round()  // two workers now: five each
        #expect(shed.lost.count == 5)
        let joined = try second.round()
        #expect(joined.claimed.count == 5)
        #expect(joined.workersAlive == 2)
        let mine = Set((0..<10).map { "r\($0)" }.filter { first.fence(for: $0) != nil })
        let theirs = Set((0..<10).map { "r\($0)" }.filter { second.fence(for: $0) != nil })
        #expect(mine.isDisjoint(with: theirs))
        #expect(mine.union(theirs).count == 10)
        #expect(try db.store.workers().map(\.leases).sorted() == [5, 5])
        #expect(first.sweepsRetention && !second.sweepsRetention)  // the longest-running worker sweeps, alone
    }

    @Test func aRunLeasesItsOneRolloutAndIsLeftOutOfTheWorkersShares() throws {
        let db = try Database()
        for index in 0..<4 { _ = try Fixtures.create(db.store, id: "r\(index)") }
        let run = try PostgresLeases(location: db.location, configuration: .init(leaseSeconds: 30, scope: .oneRollout("r0")))
        let worker = try PostgresLeases(location: db.location, configuration: .init(leaseSeconds: 30), listen: "127.0.0.1:9")
        defer { run.stop(); worker.stop() }

        let taken = try run.round()
        #expect(taken.claimed == ["r0"])  // its own rollout, nothing else
        #expect(["r1", "r2", "r3"].allSatisfy { run.fence(for: $0) == nil })
        #expect(try run.holder(of: "r0") == nil)  // itself is no other holder

        let shared = try worker.round()
        #expect(Set(shared.claimed) == ["r1", "r2", "r3"])  // one sharing worker: all the rest, not the run's
        #expect(shared.workersAlive == 2)  // the run spends the AWS budget too
        #expect(try worker.round().lost.isEmpty)  // the run is no worker to give a share to
        #expect(worker.sweepsRetention && !run.sweepsRetention)  // a run sweeps nothing, though it started first

        let holder = try #require(try worker.holder(of: "r0"))
        #expect(holder.workerId == run.workerId && holder.isRun && holder.pid == Int(getpid()))
        #expect(holder.secondsLeft > 20 && holder.secondsLeft <= 30)
        #expect(!run.isGoneFromThisMachine(holder))  // this very process
        let byRun = try #require(try run.holder(of: "r1"))
        #expect(byRun.workerId == worker.workerId && !byRun.isRun && byRun.listen == "127.0.0.1:9")

        // A second run of the same rollout gets nothing while the first holds it; after it expires, takes it over.
        let second = try PostgresLeases(location: db.location, configuration: .init(leaseSeconds: 30, scope: .oneRollout("r0")))
        defer { second.stop() }
        #expect(try second.round().claimed.isEmpty)
        try db.expire("r0")
        #expect(try second.round().claimed == ["r0"])
        #expect(second.statistics.takeovers == 1)
        #expect(try run.round().lost == ["r0"])
        let listed = try db.store.workers()
        #expect(listed.filter { $0.drives == "r0" }.count == 2 && listed.filter { $0.drives == nil }.count == 1)

        // Each holder is alive by its own lease: a run on a 3 s lease still counts a worker on 30 s whose last
        // heartbeat is 10 s old.
        try PostgresTestServer.shared.sql("""
            UPDATE workers SET heartbeat_at = clock_timestamp() - interval '10 seconds' WHERE id = '\(worker.workerId)'
            """, database: db.location.database)
        let short = try PostgresLeases(location: db.location, configuration: .init(leaseSeconds: 3, scope: .oneRollout("r3")))
        defer { short.stop() }
        #expect(try short.round().workersAlive == 4)
        #expect(try db.store.workers().contains { $0.id == worker.workerId && $0.alive && $0.leaseSeconds == 30 })
    }

    @Test func aTakenOverLeaseFencesTheFormerOwnersCommits() throws {
        let db = try Database()
        let created = try Fixtures.create(db.store, id: "r1")
        let former = try db.leases()
        let successor = try db.leases()
        defer { former.stop(); successor.stop() }
        #expect(try former.claim("r1"))
        let stale = try #require(former.fence(for: "r1"))
        #expect(try !successor.claim("r1"))  // valid lease: refused

        try db.expire("r1")
        #expect(try successor.claim("r1"))
        let fresh = try #require(successor.fence(for: "r1"))
        #expect(fresh.epoch == stale.epoch + 1)

        var commit = Fixtures.commit(id: "r1", after: created.state.eventCount)
        commit.fence = stale
        #expect(throws: StoreError.fenced(stale)) { try db.store.commit(commit) }
        #expect(try db.store.rollout(id: "r1")?.state.eventCount == 1)  // nothing written

        commit.fence = fresh
        try db.store.commit(commit)
        // A person's command carries no fence: recorded whoever leases the rollout (the event count guards it).
        try db.store.commit(Fixtures.commit(id: "r1", after: 2, event: .pauseRequested(by: "ana", reason: "looking")))
        #expect(try db.store.rollout(id: "r1")?.state.eventCount == 3)

        // The former owner learns of its loss at its next round, and acts on nothing meanwhile once told.
        former.fenced(stale)
        #expect(former.fence(for: "r1") == nil)
        #expect(former.statistics.fencingRejections == 1)
    }

    @Test func aTakenOverLeaseFencesTheFormerOwnersEffectWrites() throws {
        let db = try Database()
        _ = try Fixtures.create(db.store, id: "r1", effects: [EffectRecord(key: "prepare", effect: .prepare)])
        let former = try db.leases()
        let successor = try db.leases()
        defer { former.stop(); successor.stop() }
        #expect(try former.claim("r1"))
        let stale = try #require(former.fence(for: "r1"))
        let retryAt = Date(timeIntervalSinceReferenceDate: 900_000_000)
        try db.store.deferEffect(rolloutId: "r1", key: "prepare", attempts: 1, nextAttemptAt: retryAt, lastError: "x",
                                 fence: stale)
        try db.expire("r1")
        #expect(try successor.claim("r1"))

        #expect(throws: StoreError.fenced(stale)) {
            try db.store.deferEffect(rolloutId: "r1", key: "prepare", attempts: 2, nextAttemptAt: retryAt,
                                     lastError: "late", fence: stale)
        }
        #expect(throws: StoreError.fenced(stale)) {
            try db.store.finishEffect(rolloutId: "r1", key: "prepare", status: .done, fence: stale)
        }
        let pending = try db.store.pendingEffects(rolloutId: "r1")
        #expect(pending.map(\.record.key) == ["prepare"], "still pending for the new owner")
        #expect(pending.first?.attempts == 1 && pending.first?.lastError == "x", "the late retry wrote nothing")
        // The new owner's fence writes; a missing effect is still said as such, not as a lost lease.
        let fresh = try #require(successor.fence(for: "r1"))
        try db.store.finishEffect(rolloutId: "r1", key: "prepare", status: .done, fence: fresh)
        #expect(throws: StoreError.database("rollout r1 has no effect nope to finish")) {
            try db.store.finishEffect(rolloutId: "r1", key: "nope", status: .done, fence: fresh)
        }
    }

    @Test func aLeaseIsNotTrustedPastItsLocalDeadline() throws {
        let db = try Database()
        _ = try Fixtures.create(db.store, id: "r1")
        let leases = try db.leases(1)  // trusted for 0.9 s from the claim's sending
        defer { leases.stop() }
        #expect(try leases.claim("r1"))
        let fence = try #require(leases.fence(for: "r1"))
        #expect(leases.isValid(fence))
        let deadline = Date().addingTimeInterval(5)
        while leases.isValid(fence) && Date() < deadline { usleep(50_000) }
        #expect(!leases.isValid(fence))
        #expect(leases.fence(for: "r1") == nil)
    }

    @Test func aRenewalAfterTheLocalDeadlineGivesTheRolloutBackToTheDriver() throws {
        let db = try Database()
        _ = try Fixtures.create(db.store, id: "r1")
        let leases = try db.leases(1)
        defer { leases.stop() }
        #expect(try leases.claim("r1"))
        _ = try Fixtures.create(db.store, id: "r2")  // unleased: the round also claims it, in the same answer
        let fence = try #require(leases.fence(for: "r1"))
        let deadline = Date().addingTimeInterval(5)
        while leases.isValid(fence) && Date() < deadline { usleep(50_000) }
        #expect(!leases.isValid(fence), "past the local deadline, steps are refused")

        // Nobody else claimed it: the next round renews it under the same epoch and says it is this worker's to
        // step again (else the driver, told "not leased", would never schedule it again).
        let round = try leases.round()
        #expect(Set(round.claimed) == ["r1", "r2"])
        #expect(leases.fence(for: "r1") == fence)
        #expect(try leases.round().claimed.isEmpty, "renewed in time: nothing new for the driver")
    }

    @Test func eachRoundReadsWhatChangedSinceTheLastOneInPages() throws {
        let db = try Database()
        let reader = try PostgresLeases(location: db.location,
                                        configuration: .init(changeLookbackSeconds: 0, changeFeedPageRows: 2))
        defer { reader.stop() }
        #expect(try reader.round().changed.isEmpty)  // the feed starts on the database's clock now
        for id in ["a", "b", "c", "d", "e"] { _ = try Fixtures.create(db.store, id: id) }
        try db.store.commit(Fixtures.commit(id: "c", after: 1))

        let changed = try reader.round().changed
        #expect(changed.map(\.rolloutId).sorted() == ["a", "b", "c", "d", "e"], "five changes, read two at a time")
        #expect(changed.first { $0.rolloutId == "c" }?.eventCount == 2)
        #expect(try reader.round().changed.isEmpty, "nothing changed since")
    }

    @Test func commitsAnnounceThemselvesToListeningWorkers() async throws {
        let db = try Database()
        let listener = try db.leases()
        defer { listener.stop() }
        _ = try listener.round()  // LISTEN
        _ = try Fixtures.create(db.store, id: "r1")
        try db.store.commit(Fixtures.commit(id: "r1", after: 1))
        var heard: [RolloutChange] = []
        for await change in listener.notifications() {
            heard.append(change)
            if change.eventCount == 2 { break }
        }
        #expect(heard == [RolloutChange(rolloutId: "r1", eventCount: 1), RolloutChange(rolloutId: "r1", eventCount: 2)])
    }

    @Test func parsesURLsAndKeepsPasswordsOutOfThem() throws {
        let location = try PostgresLocation(url: "postgres://ops@db.example:6543/rollouts?sslmode=verify-full",
                                            environment: [:])
        #expect(location == PostgresLocation(host: "db.example", port: 6543, user: "ops", database: "rollouts",
                                             tls: .verifyFull))
        #expect(location.description == "postgres://ops@db.example:6543/rollouts")
        let withPassword = #expect(throws: PostgresLocationError.self) {
            try PostgresLocation(url: "postgres://ops:hunter2@db/rollouts", environment: [:])
        }
        #expect(withPassword?.description.contains("hunter2") == false)
        #expect(throws: PostgresLocationError.self) { try PostgresLocation(url: "postgres://ops@db/", environment: [:]) }
        #expect(throws: PostgresLocationError.self) {
            try PostgresLocation(url: "postgres://ops@db/x?sslmode=maybe", environment: [:])
        }
        #expect(try PostgresLocation(url: "postgresql://db/x", environment: ["PGUSER": "svc"]).user == "svc")
    }

    @Test func findsThePasswordInPGPASSWORDThenTheFileThenPgpass() throws {
        let directory = NSTemporaryDirectory() + "pgpass-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pgpass = directory + "/pgpass"
        try "# comment\nother:*:*:*:no\ndb:5432:rollouts:ops:pa\\:ss\n".write(toFile: pgpass, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pgpass)
        let location = PostgresLocation(host: "db", user: "ops", database: "rollouts")
        #expect(try location.password(environment: ["PGPASSFILE": pgpass]) == "pa:ss")
        #expect(try location.password(environment: ["PGPASSFILE": pgpass, "PGPASSWORD": "env"]) == "env")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: pgpass)
        #expect(try location.password(environment: ["PGPASSFILE": pgpass]) == nil)  // readable by others: ignored
        var withFile = location
        withFile.passwordFile = directory + "/secret"
        try "from-file\n".write(toFile: directory + "/secret", atomically: true, encoding: .utf8)
        #expect(try withFile.password(environment: [:]) == "from-file")
    }
}
