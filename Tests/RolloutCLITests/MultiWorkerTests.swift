import Engine
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PostgresTestSupport
import RolloutCore
import StorePostgres
import Testing

/// `rollout worker` processes sharing one PostgreSQL database (the tests' private server) and one simulated fleet:
/// workers SIGKILLed, a worker frozen (SIGSTOP) past its lease right before a fleet call, the database restarted.
/// Whatever happens, every rollout finishes, each job is created once and each event log has no gap. Serialized
/// (with `rollout bench --postgres`'s test, an extension of this suite): each runs several worker processes.
@Suite(.serialized) struct MultiWorkerTests {
    static let leaseSeconds = 3.0
    /// A third of the lease: how often a worker renews, claims and reads the change feed.
    static let roundSeconds = leaseSeconds / 3

    typealias Worker = WorkerProcessTests.WorkerProcess

    @Test func threeWorkersFinishEveryRolloutThoughTwoAreKilled() async throws {
        let rollouts = 300
        let run = try Run(server: try PostgresTestServer.shared, rollouts: rollouts)
        defer { run.remove() }
        let workers = try (0..<3).map { _ in try run.worker() }
        defer { workers.forEach { $0.kill() } }
        let servers = try await Self.listening(workers)
        // Any worker's API takes any submission: round robin.
        try await run.submitAll(to: servers)
        let store = try run.store()
        defer { store.close() }

        // Worker 0 dies once some rollouts are done; worker 1 once more are. Each time, the dead worker's active
        // rollouts must be leased by a survivor within the lease's expiry and one round (plus slack for a loaded
        // machine), measured on the database.
        #expect(try await waitFor(120) { try run.completed(store) >= 10 }, "some rollouts complete")
        let first = try await run.killAndTimeTakeover(workers[0], store: store)
        #expect(first.seconds <= Self.leaseSeconds + Self.roundSeconds + 4,
                "a survivor leased the dead worker's \(first.rollouts) active rollouts after \(first.seconds) s")
        #expect(try await waitFor(120) { try run.completed(store) >= rollouts / 3 }, "a third complete")
        let second = try await run.killAndTimeTakeover(workers[1], store: store)
        #expect(second.seconds <= Self.leaseSeconds + Self.roundSeconds + 4,
                "the survivor leased the dead worker's \(second.rollouts) active rollouts after \(second.seconds) s")

        let allDone = try await waitFor(300) { try run.completed(store) == rollouts }
        let left = try run.unfinished(store)
        #expect(allDone, "every rollout completes on the survivor; \(left); last lines: \(workers[2].log.all.suffix(5))")

        let everyone = try store.workers(leaseSeconds: Self.leaseSeconds, includeGone: true)
        #expect(everyone.count == 3)
        #expect(everyone.map(\.takeovers).reduce(0, +) >= 1, "\(everyone)")
        let takeoverLines = (workers[1].log.objects + workers[2].log.objects)
            .filter { ($0["message"] as? String)?.contains("took over") == true }
        #expect(!takeoverLines.isEmpty)
        // The survivor's /metrics counts its take-overs under its own id.
        let metrics = try await httpGet(servers[2] + "/metrics")
        #expect(metrics.contains("rollout_workers_alive{worker=\""), "\(metrics.suffix(600))")
        #expect(Self.sample(metrics, "rollout_worker_takeovers_total").map { $0 >= 1 } == true)
        try run.expectConsistent(store, rollouts: rollouts)
    }

    /// A worker frozen right before a fleet call (after its lease check) until another worker has taken the rollout
    /// over and finished it: once continued, it creates no second job (the fleet adopts its CreateJob of the same
    /// id) and writes nothing (its commit is fenced).
    @Test func aWorkerFrozenPastItsLeaseIsFencedWhenItContinues() async throws {
        try await Self.freezeAndContinue(stopVariable: "ROLLOUT_TEST_STOP_BEFORE_EFFECT", fenced: true)
    }

    /// The same worker frozen right before its last lease check: once continued, the check finds the lease lapsed
    /// (past its local deadline) and the step ends before any fleet call.
    @Test func aWorkerFrozenBeforeItsLeaseCheckMakesNoFleetCallWhenItContinues() async throws {
        try await Self.freezeAndContinue(stopVariable: "ROLLOUT_TEST_STOP_BEFORE_LEASE_CHECK", fenced: false)
    }

    /// Two workers on 20 rollouts; one stops itself (SIGSTOP, `stopVariable`) at its first CreateJob; the other takes
    /// that rollout over once the lease expires and finishes it; then the frozen one is continued. `fenced`: it was
    /// frozen after its lease check, and its commit must be fenced; else before it, and the check must stop it.
    static func freezeAndContinue(stopVariable: String, fenced: Bool) async throws {
        let rollouts = 20
        let run = try Run(server: try PostgresTestServer.shared, rollouts: rollouts)
        defer { run.remove() }
        let frozen = try run.worker(environment: [stopVariable: "create-job:"])
        let other = try run.worker()
        defer {
            Foundation.kill(frozen.process.processIdentifier, SIGCONT)
            frozen.kill()
            other.kill()
        }
        let servers = try await Self.listening([frozen, other])
        // To the other worker (the one to freeze stops itself as soon as it drives a rollout to its first job):
        // it gives half the rollouts back at its next round, as its fair share, and the frozen-to-be one claims them.
        try await run.submitAll(to: [servers[1]])
        let store = try run.store()
        defer { store.close() }

        let isStopping: ([String: Any]) -> Bool = { $0["message"] as? String == "stopping (fault injection)" }
        #expect(await frozen.log.wait(seconds: 120) { $0.contains(where: isStopping) }, "\(frozen.log.all.suffix(5))")
        let stopping = try #require(frozen.log.objects.first(where: isStopping))
        let rolloutId = try #require(stopping["rollout"] as? String)
        #expect(try await waitFor(10) { Self.isStopped(frozen.process.processIdentifier) }, "the worker stopped itself")

        // The other worker takes the rollout over once the lease expires, creates the job and finishes it.
        let finished = try await waitFor(180) { try store.rollout(id: rolloutId)?.state.phase == .completed }
        #expect(finished, "\(rolloutId) completes on the other worker; \(other.log.all.suffix(5))")
        let jobsBefore = try run.createdJobIds()

        Foundation.kill(frozen.process.processIdentifier, SIGCONT)
        let expected = fenced ? "lease lost: another worker drives this rollout now"
                              : "lease not renewed in time: no fleet call until the next round"
        let isRefused: ([String: Any]) -> Bool = { $0["message"] as? String == expected && $0["rollout"] as? String == rolloutId }
        #expect(await frozen.log.wait(seconds: 60) { $0.contains(where: isRefused) },
                "the continued worker says \"\(expected)\"; its last lines: \(frozen.log.all.suffix(5))")
        #expect(try run.createdJobIds() == jobsBefore, "the continued worker created no job")
        if fenced {
            let metrics = try await httpGet(servers[0] + "/metrics")
            #expect(Self.sample(metrics, "rollout_worker_fencing_rejections_total").map { $0 >= 1 } == true,
                    "\(metrics.suffix(800))")
        } else {
            // Nothing of this rollout's was refused: the step ended at the check, before the call and any write.
            // (Other steps frozen with the process may still find their commits fenced.)
            #expect(!frozen.log.objects.contains {
                ($0["message"] as? String)?.hasPrefix("lease lost") == true && $0["rollout"] as? String == rolloutId
            }, "\(frozen.log.all.suffix(5))")
        }

        let allDone = try await waitFor(300) { try run.completed(store) == rollouts }
        let left = try run.unfinished(store)
        #expect(allDone, "\(left)")
        try run.expectConsistent(store, rollouts: rollouts)
        guard fenced else { return }
        // `rollout workers` shows the fenced commit against the worker that made it (its next round reports it).
        let frozenPid = Int(frozen.process.processIdentifier)
        let reported = try await waitFor(30) {
            try store.workers(leaseSeconds: Self.leaseSeconds).first { $0.pid == frozenPid }.map { $0.fencingRejections >= 1 } ?? false
        }
        let known = try store.workers(leaseSeconds: Self.leaseSeconds, includeGone: true)
        #expect(reported, "\(known)")
        let listed = try await rollout(["workers", "--db", run.database, "--all", "--output", "json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
        let row = rows.first { $0["pid"] as? Int == frozenPid }
        #expect((row?["fencingRejections"] as? Int ?? 0) >= 1, "\(listed.stdout.prefix(1500))")
    }

    /// The database stops (an operator's restart) while two workers run rollouts: both say they are not ready,
    /// act on nothing while it is down, and carry on when it is back, losing and repeating nothing.
    @Test func workersRecoverWhenTheDatabaseRestarts() async throws {
        let rollouts = 40
        let server = try PostgresTestServer.makePrivate()
        defer { server.stop() }
        let run = try Run(server: server, rollouts: rollouts)
        defer { run.remove() }
        let workers = try (0..<2).map { _ in try run.worker() }
        defer { workers.forEach { $0.kill() } }
        let servers = try await Self.listening(workers)
        try await run.submitAll(to: servers)
        do {
            let store = try run.store()
            defer { store.close() }
            #expect(try await waitFor(120) { try run.completed(store) >= 5 }, "some rollouts complete")
        }

        try server.stopKeepingData()
        // Not ready once the last successful round is a lease old; nothing is committed meanwhile.
        for url in servers {
            let notReady = try await waitFor(Self.leaseSeconds + 20) { try await httpStatus(url + "/readyz") == 503 }
            #expect(notReady, "\(url)/readyz says 503 while the database is down")
        }
        try server.startAgain()
        for url in servers {
            let ready = try await waitFor(60) { try await httpStatus(url + "/readyz") == 200 }
            #expect(ready, "\(url)/readyz recovers once the database is back")
        }

        let store = try run.store()
        defer { store.close() }
        let allDone = try await waitFor(300) { try run.completed(store) == rollouts }
        let left = try run.unfinished(store)
        #expect(allDone, "\(left); last lines: \(workers[0].log.all.suffix(3)) \(workers[1].log.all.suffix(3))")
        var roundFailures: [Double] = []
        for url in servers {
            roundFailures.append(Self.sample(try await httpGet(url + "/metrics"), "rollout_worker_round_failures_total") ?? 0)
        }
        #expect(roundFailures.allSatisfy { $0 >= 1 }, "each worker counted failed rounds: \(roundFailures)")
        try run.expectConsistent(store, rollouts: rollouts)
    }

    // MARK: support

    /// One test's directory (shared scenario and journal of the simulated fleet, the plans) and database.
    struct Run {
        let directory: String
        let database: String
        let server: PostgresTestServer
        let planPaths: [String]

        init(server: PostgresTestServer, rollouts: Int) throws {
            self.server = server
            database = try server.freshDatabase()
            directory = try temporaryDirectory()
            try "devices: 40\ncheckInDelayMax: 1s\ninstall: {min: 1s, max: 2s}\n"
                .write(toFile: directory + "/scenario.yaml", atomically: true, encoding: .utf8)
            let directory = self.directory
            planPaths = try (0..<rollouts).map { index -> String in
                let path = "\(directory)/plan-\(index).yaml"
                try """
                    name: shared-\(index)
                    release: {firmware: fw, version: 2.1.\(index), artifact: s3://fw-bucket/fw/2.1.0.bin}
                    rollback: {version: 2.0.3, artifact: s3://fw-bucket/fw/2.0.3.bin}
                    fleet: {thingGroup: fleet}
                    canary: {devices: 2, bake: 3s}
                    waves:
                      - {percent: 100, bake: 3s}
                    """.write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
        }

        func worker(environment: [String: String] = [:]) throws -> Worker {
            try Worker(arguments: ["worker", "--db", database, "--listen", "127.0.0.1:0",
                                   "--lease-seconds", "\(MultiWorkerTests.leaseSeconds)",
                                   "--sim-journal", directory + "/fleet.simfleet", "--scenario", directory + "/scenario.yaml",
                                   "--devices", "40", "--seed", "17", "--poll-interval", "1s"],
                       directory: directory, environment: environment)
        }

        /// Submits every plan, round robin over `servers`, one at a time.
        func submitAll(to servers: [String]) async throws {
            for (index, path) in planPaths.enumerated() {
                let submitted = try await rollout(["submit", path, "--server", servers[index % servers.count]])
                #expect(submitted.status == 0, "\(submitted.stderr)")
            }
        }

        func store() throws -> PostgresRolloutStore {
            try PostgresRolloutStore(location: PostgresLocation(url: database), migrate: false)
        }

        func completed(_ store: PostgresRolloutStore) throws -> Int {
            try store.rollouts(phases: [.completed], limit: 10_000).count
        }

        func unfinished(_ store: PostgresRolloutStore) throws -> String {
            let rows = try store.rollouts(phases: nil, limit: 10_000).filter { $0.state.phase != .completed }
            return "unfinished: \(rows.count), e.g. \(rows.prefix(5).map { "\($0.id) \($0.state.displayPhase.rawValue)" })"
        }

        /// SIGKILLs `worker`, then measures on the database how long until none of its active rollouts is still
        /// leased to it (a survivor claimed them all). Bounded to a minute.
        func killAndTimeTakeover(_ worker: Worker, store: PostgresRolloutStore) async throws
            -> (seconds: Double, rollouts: Int) {
            let pid = Int(worker.process.processIdentifier)
            let id = try #require(try store.workers(leaseSeconds: MultiWorkerTests.leaseSeconds, includeGone: true)
                .first { $0.pid == pid }?.id)
            let before = try store.activeRollouts(leasedTo: id)
            #expect(before > 0, "the worker to kill drives some rollouts")
            worker.kill()
            let killedAt = Date()
            let takenOver = try await waitFor(60) { try store.activeRollouts(leasedTo: id) == 0 }
            try #require(takenOver, "the survivors took over the \(before) rollouts of the killed worker")
            return (Date().timeIntervalSince(killedAt), before)
        }

        /// The jobs the simulated fleet created, in order (its shared journal).
        func createdJobIds() throws -> [String] {
            let journal = try String(contentsOfFile: directory + "/fleet.simfleet", encoding: .utf8)
            return journal.split(separator: "\n").filter { $0.contains("\"operation\":\"create\"") }.compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["jobId"] as? String
            }
        }

        /// Independently of the workers: contiguous logs that replay to the stored state, each job created once.
        func expectConsistent(_ store: PostgresRolloutStore, rollouts: Int) throws {
            for rollout in try store.rollouts(phases: nil, limit: 10_000) {
                let events = try store.events(rolloutId: rollout.id, afterSequence: 0, limit: 10_000)
                #expect(events.map(\.sequence) == Array(1...events.count), "no gap in \(rollout.id)'s log")
                #expect(RolloutStateMachine.replay(rolloutId: rollout.id, plan: rollout.plan, events: events) == rollout.state)
            }
            let jobIds = try createdJobIds()
            #expect(jobIds.count == rollouts * 2, "\(rollouts) rollouts × 2 stages")
            #expect(Set(jobIds).count == jobIds.count, "a job was created twice")
        }

        func remove() {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    static func listening(_ workers: [Worker]) async throws -> [String] {
        var servers: [String] = []
        for worker in workers { servers.append(try await worker.listening()) }
        return servers
    }

    /// A process in state T (stopped), from /proc.
    static func isStopped(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("T")
    }

    /// The value of the first sample of `family` in a Prometheus text.
    static func sample(_ text: String, _ family: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(family + "{") || $0.hasPrefix(family + " ") }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }
}

/// Polls `condition` every 200 ms until it holds or `seconds` pass (then evaluates it once more).
private func waitFor(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(200))
    }
    return try await condition()
}

/// A GET on loopback; the body as text.
private func httpGet(_ url: String) async throws -> String {
    let (data, _) = try await URLSession.shared.data(from: try #require(URL(string: url)))
    return String(decoding: data, as: UTF8.self)
}

/// A GET's status code (0 when the server cannot be reached).
private func httpStatus(_ url: String) async throws -> Int {
    var request = URLRequest(url: try #require(URL(string: url)))
    request.timeoutInterval = 5
    guard let (_, response) = try? await URLSession.shared.data(for: request) else { return 0 }
    return (response as? HTTPURLResponse)?.statusCode ?? 0
}
