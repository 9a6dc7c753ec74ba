import Engine
import Foundation
import Logging
import NIOCore
import PostgresNIO
import RolloutCore

/// Leases of rollouts among workers sharing one PostgreSQL database: `WorkerCoordination` and `RolloutLeases`.
///
/// - A lease is a rollout row's `lease_owner`, `lease_expires_at` (the database's clock) and `lease_epoch`. Claims
///   take unleased or expired rows with `FOR UPDATE SKIP LOCKED`, so two workers never claim the same rollout, and
///   raise the epoch by one: a take-over always changes the fence.
/// - Each worker claims up to its fair share (active rollouts not driven by a run ÷ live workers, rounded up) and
///   gives back what exceeds it, so a worker that joins gets work without waiting for anyone to die.
/// - Locally a lease counts only until `safetyMarginSeconds` before it could have expired, measured from when the
///   renewal was *sent*, on the monotonic clock: a worker stopped (SIGSTOP, a long pause) past that instant finds
///   its lease invalid before its next fleet call, whatever the database says. Its commits are fenced anyway.
/// - `LISTEN rollout_changed` on a connection of its own delivers other workers' commits at once; each round also
///   reads the rows changed lately (`changed_at`), because notifications are lost while a connection is down.
/// - `rollout run` leases one rollout only (`Scope.oneRollout`): it claims that rollout when it is free, holds no share,
///   is left out when the workers divide the rollouts and counted when they divide the AWS budget.
package final class PostgresLeases: WorkerCoordination, @unchecked Sendable {
    /// Which rollouts this holder claims.
    package enum Scope: Sendable, Equatable {
        /// Its share of every active rollout (a worker).
        case shareOfAll
        /// This one rollout, whenever it is free (`rollout run`).
        case oneRollout(String)
    }

    package struct Configuration: Sendable {
        /// How long a lease lasts without renewal.
        package var leaseSeconds: Double
        /// Leases claimed in one round at most (bounds a round's transaction).
        package var claimBatchMax: Int
        /// How far back each round's change feed looks, past the previous round (covers commits that were slower
        /// than the round in becoming visible).
        package var changeLookbackSeconds: Double
        /// Rows one page of the change feed reads (a round reads up to `changeFeedPagesMax` pages).
        package var changeFeedPageRows: Int
        package var scope: Scope

        package init(leaseSeconds: Double = 30, claimBatchMax: Int = 1000, changeLookbackSeconds: Double = 10,
                     changeFeedPageRows: Int = 10_000, scope: Scope = .shareOfAll) {
            precondition(leaseSeconds >= 1, "a lease lasts at least a second")
            precondition(claimBatchMax >= 1, "claim at least one rollout per round")
            precondition(changeFeedPageRows >= 1, "a page holds at least one row")
            self.leaseSeconds = leaseSeconds
            self.claimBatchMax = claimBatchMax
            self.changeLookbackSeconds = changeLookbackSeconds
            self.changeFeedPageRows = changeFeedPageRows
            self.scope = scope
        }

        /// Before a lease could expire, the time it is no longer trusted: a tenth of it, at most 3 s.
        var safetyMarginSeconds: Double { min(3, leaseSeconds / 10) }
    }

    private struct Held {
        var epoch: Int64
        var trustedUntil: ContinuousClock.Instant
    }

    package let workerId: String
    package let configuration: Configuration
    /// This machine's name, read once (a lookup on Linux), announced in every round.
    private let hostName: String
    private let session: PostgresSession
    private let listenSession: PostgresSession
    private let sessionLock = NSLock()
    private let held = Locked<[String: Held]>([:])
    private let counterState: Locked<CoordinationStatistics>
    private let healthyUntil = Locked<ContinuousClock.Instant?>(nil)
    private let oldestWorker = Locked<String?>(nil)
    private let logger: Logger
    private let listen: String?
    /// Set by `stop()`, under `sessionLock`.
    private var stopped = false
    /// The connection LISTEN was issued on (a new one after a reconnect must LISTEN again).
    private var listeningOn: ObjectIdentifier?
    /// The database's clock when the last successful change feed started (text: exact to the microsecond).
    private var feedStartedAt: String?
    private let stream: AsyncStream<RolloutChange>
    private let sink: AsyncStream<RolloutChange>.Continuation

    package init(location: PostgresLocation, configuration: Configuration = Configuration(), listen: String? = nil,
                logger: Logger = Logger(label: "rollout.leases")) throws {
        let password = try PostgresRolloutStore.password(location)
        hostName = ProcessInfo.processInfo.hostName
        self.configuration = configuration
        self.listen = listen
        self.logger = logger
        let host = hostName.split(separator: ".").first.map(String.init) ?? "host"
        self.workerId = "\(host)-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        self.counterState = Locked(CoordinationStatistics(workerId: workerId))
        self.session = PostgresSession(location: location, password: password, purpose: "leases", logger: logger)
        self.listenSession = PostgresSession(location: location, password: password, purpose: "notifications", logger: logger)
        (stream, sink) = AsyncStream.makeStream(of: RolloutChange.self, bufferingPolicy: .bufferingNewest(100_000))
    }

    package var roundIntervalSeconds: Double { configuration.leaseSeconds / 3 }

    /// Counters of this worker, kept in its `workers` row and shown in `/metrics`.
    package var statistics: CoordinationStatistics {
        var statistics = counterState.current
        statistics.leasesHeld = held.current.count
        return statistics
    }

    // MARK: RolloutLeases

    package func fence(for rolloutId: String) -> LeaseFence? {
        guard let lease = held.current[rolloutId], lease.trustedUntil > ContinuousClock.now else { return nil }
        return LeaseFence(rolloutId: rolloutId, owner: workerId, epoch: lease.epoch)
    }

    package func isValid(_ fence: LeaseFence) -> Bool {
        guard fence.owner == workerId, let lease = held.current[fence.rolloutId] else { return false }
        return lease.epoch == fence.epoch && lease.trustedUntil > ContinuousClock.now
    }

    package func fenced(_ fence: LeaseFence) {
        held.withLock { held in
            if held[fence.rolloutId]?.epoch == fence.epoch { held[fence.rolloutId] = nil }
        }
        counterState.withLock { $0.fencingRejections += 1 }
    }

    // MARK: WorkerCoordination

    package var isHealthy: Bool {
        healthyUntil.current.map { $0 > ContinuousClock.now } ?? false
    }

    package func notifications() -> AsyncStream<RolloutChange> { stream }

    package var sweepsRetention: Bool { oldestWorker.current == workerId }

    package func round() throws -> LeaseRound {
        do {
            let sentAt = ContinuousClock.now
            let round = try sessionLock.withLock { () throws -> LeaseRound in
                guard !stopped else { throw StoreError.database("worker \(workerId) has stopped coordinating") }
                return try roundLocked()
            }
            // Ready for as long as the leases just renewed are trusted.
            healthyUntil.withLock { $0 = trustedUntil(sentAt: sentAt) }
            return round
        } catch {
            counterState.withLock { $0.roundFailures += 1 }
            throw error
        }
    }

    package func claim(_ rolloutId: String) throws -> Bool {
        try sessionLock.withLock {
            guard !stopped else { return false }
            return try claimLocked(rolloutId)
        }
    }

    /// True when `holder` announced itself from this machine and its process is gone (killed, crashed): its lease
    /// will not be renewed. (A process of the same id in another PID namespace under the same host name would only
    /// make this wait in vain: a claim takes expired leases alone.)
    package func isGoneFromThisMachine(_ holder: LeaseHolder) -> Bool {
        guard holder.host == hostName, let pid = holder.pid, pid > 0, pid != Int(getpid()) else { return false }
        return kill(pid_t(pid), 0) == -1 && errno == ESRCH
    }

    /// Who leases `rolloutId` now, when it is not this holder (nil: nobody, or the lease has expired).
    package func holder(of rolloutId: String) throws -> LeaseHolder? {
        try sessionLock.withLock {
            let rows = try session.run("""
                SELECT r.lease_owner, w.listen, w.host, w.pid, w.drives,
                       extract(epoch FROM r.lease_expires_at - clock_timestamp())::float8
                FROM rollouts r LEFT JOIN workers w ON w.id = r.lease_owner
                WHERE r.id = \(rolloutId) AND r.lease_owner IS NOT NULL AND r.lease_owner <> \(workerId)
                  AND r.lease_expires_at > clock_timestamp()
                """, "reading who leases rollout \(rolloutId)").rows
            guard let row = rows.first else { return nil }
            let (owner, listen, host, pid, drives, seconds) =
                try row.decode((String, String?, String?, Int?, String?, Double).self)
            return LeaseHolder(workerId: owner, listen: listen, host: host, pid: pid, isRun: drives != nil,
                               secondsLeft: seconds)
        }
    }

    /// Claims `rolloutId` if it is unleased or its lease has expired (a take-over, then: counted).
    private func claimLocked(_ rolloutId: String) throws -> Bool {
        let sentAt = ContinuousClock.now
        let rows = try session.run("""
            UPDATE rollouts r SET lease_owner = \(workerId),
                lease_expires_at = clock_timestamp() + make_interval(secs => \(configuration.leaseSeconds)),
                lease_epoch = r.lease_epoch + 1
            FROM (SELECT id, lease_owner AS previous FROM rollouts
                  WHERE id = \(rolloutId) AND (lease_owner IS NULL OR lease_expires_at < clock_timestamp())
                  FOR UPDATE) c
            WHERE r.id = c.id
            RETURNING r.lease_epoch, c.previous
            """, "claiming rollout \(rolloutId)").rows
        guard let row = rows.first else { return false }
        let (epoch, previous) = try row.decode((Int64, String?).self)
        held.withLock { $0[rolloutId] = Held(epoch: epoch, trustedUntil: trustedUntil(sentAt: sentAt)) }
        counterState.withLock {
            $0.claims += 1
            if previous != nil && previous != workerId { $0.takeovers += 1 }
        }
        return true
    }

    package func stop() {
        sessionLock.withLock {
            stopped = true  // a round or claim already queued must not announce the worker or lease anything again
            let ids = held.withLock { held -> [String] in
                defer { held = [:] }
                return Array(held.keys)
            }
            do {
                try session.run("""
                    UPDATE rollouts SET lease_owner = NULL, lease_expires_at = NULL
                    WHERE lease_owner = \(workerId) AND id = ANY(\(ids))
                    """, "giving back the leases of worker \(workerId)")
                try session.run("UPDATE workers SET stopped_at = clock_timestamp(), leases_held = 0 WHERE id = \(workerId)",
                                "marking worker \(workerId) stopped")
            } catch {
                logger.warning("could not give the leases back; they expire on their own",
                               metadata: ["error": "\(error)", "leases": "\(ids.count)"])
            }
            session.close()
            listenSession.close()
        }
        sink.finish()
    }

    // MARK: the round

    private func roundLocked() throws -> LeaseRound {
        try listenIfNeeded()
        let sentAt = ContinuousClock.now
        let lease = configuration.leaseSeconds
        var round = LeaseRound()
        let counters = statistics
        try session.run("""
            INSERT INTO workers (id, host, pid, listen, drives, lease_seconds, leases_held, takeovers, fencing_rejections)
            VALUES (\(workerId), \(hostName), \(Int(getpid())), \(listen), \(onlyRolloutId), \(lease),
                    \(counters.leasesHeld), \(counters.takeovers), \(counters.fencingRejections))
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = clock_timestamp(), leases_held = excluded.leases_held,
                takeovers = excluded.takeovers, fencing_rejections = excluded.fencing_rejections, stopped_at = NULL
            """, "announcing worker \(workerId)")

        // Ended rollouts need no driver: their leases go back (a later command makes them claimable again). A run
        // keeps its one lease until it stops: it reports the end itself.
        if onlyRolloutId == nil {
            try session.run("""
                UPDATE rollouts r SET lease_owner = NULL, lease_expires_at = NULL
                WHERE r.lease_owner = \(workerId) AND NOT (\(unescaped: Self.activeCondition))
                """, "giving back leases of ended rollouts")
        }
        let renewed = try session.run("""
            UPDATE rollouts SET lease_expires_at = clock_timestamp() + make_interval(secs => \(lease))
            WHERE lease_owner = \(workerId) RETURNING id, lease_epoch
            """, "renewing the leases of worker \(workerId)").rows
        var kept: [String: Int64] = [:]
        for row in renewed {
            let (id, epoch) = try row.decode((String, Int64).self)
            kept[id] = epoch
        }
        let trusted = trustedUntil(sentAt: sentAt)
        let now = ContinuousClock.now
        held.withLock { held in
            for (id, lease) in held where kept[id] != lease.epoch {
                round.lost.append(id)
                held[id] = nil
            }
            for (id, epoch) in kept {
                // Ours in the database but not trusted here (a give-back whose write failed, or a renewal that came
                // after the local deadline, when steps were refused as not leased): ours again, to be stepped.
                if !(held[id].map { $0.trustedUntil > now } ?? false) { round.claimed.append(id) }
                held[id] = Held(epoch: epoch, trustedUntil: trusted)
            }
        }

        // Every live holder spends the AWS budget; only workers divide the rollouts, less those a live run leases.
        let sizes = try session.run("""
            SELECT count(*), count(*) FILTER (WHERE drives IS NULL),
                   (SELECT count(*) FROM rollouts r WHERE \(unescaped: Self.activeCondition) AND NOT EXISTS (
                        SELECT 1 FROM workers w WHERE w.id = r.lease_owner AND w.drives IS NOT NULL
                          AND r.lease_expires_at > clock_timestamp() AND \(unescaped: Self.aliveCondition))),
                   (array_agg(id ORDER BY started_at, id) FILTER (WHERE drives IS NULL))[1]
            FROM workers WHERE \(unescaped: Self.aliveCondition)
            """, "counting workers and active rollouts").rows
        let (alive, sharing, active, oldest) = try sizes.first?.decode((Int, Int, Int, String?).self) ?? (1, 1, 0, nil)
        oldestWorker.withLock { $0 = oldest }
        round.workersAlive = max(1, alive)
        counterState.withLock { $0.workersAlive = round.workersAlive }
        if let onlyRolloutId {
            if held.current[onlyRolloutId] == nil, try claimLocked(onlyRolloutId) { round.claimed.append(onlyRolloutId) }
            // As the database says now, whatever the local trust: lost when neither renewed nor claimed again (also
            // after a fenced commit dropped it here), not lost when claimed again at once.
            round.lost = held.current[onlyRolloutId] == nil ? [onlyRolloutId] : []
            round.changed = try currentEventCount(of: onlyRolloutId)
            return round
        }
        let share = (active + max(1, sharing) - 1) / max(1, sharing)
        let holding = held.current.count
        if holding > share {
            round.lost += try release(count: holding - share)
        } else if holding < share {
            round.claimed += try claimUpTo(min(share - holding, configuration.claimBatchMax), sentAt: sentAt)
        }
        round.changed = try changeFeed()
        return round
    }

    /// The one rollout's change feed: its event count now (news to the engine only if later than what it holds).
    private func currentEventCount(of rolloutId: String) throws -> [RolloutChange] {
        try session.run("SELECT event_count FROM rollouts WHERE id = \(rolloutId)", "reading rollout \(rolloutId)")
            .rows.map { RolloutChange(rolloutId: rolloutId, eventCount: try $0.decode(Int.self)) }
    }

    /// The rollout a `rollout run` drives (nil: a worker).
    private var onlyRolloutId: String? {
        if case .oneRollout(let id) = configuration.scope { return id }
        return nil
    }

    /// Claims up to `count` unleased or expired active rollouts, oldest first.
    private func claimUpTo(_ count: Int, sentAt: ContinuousClock.Instant) throws -> [String] {
        let rows = try session.run("""
            UPDATE rollouts r SET lease_owner = \(workerId),
                lease_expires_at = clock_timestamp() + make_interval(secs => \(configuration.leaseSeconds)),
                lease_epoch = r.lease_epoch + 1
            FROM (SELECT id, lease_owner AS previous FROM rollouts r
                  WHERE (lease_owner IS NULL OR lease_expires_at < clock_timestamp()) AND \(unescaped: Self.activeCondition)
                  ORDER BY created_at, created_order LIMIT \(count) FOR UPDATE SKIP LOCKED) c
            WHERE r.id = c.id
            RETURNING r.id, r.lease_epoch, c.previous
            """, "claiming rollouts for worker \(workerId)").rows
        let trusted = trustedUntil(sentAt: sentAt)
        var claimed: [String] = []
        var takeovers = 0
        for row in rows {
            let (id, epoch, previous) = try row.decode((String, Int64, String?).self)
            claimed.append(id)
            if previous != nil && previous != workerId { takeovers += 1 }
            held.withLock { $0[id] = Held(epoch: epoch, trustedUntil: trusted) }
        }
        if takeovers > 0 {
            logger.notice("took over rollouts of a worker whose leases expired", metadata: ["rollouts": "\(takeovers)"])
        }
        counterState.withLock {
            $0.claims += claimed.count
            $0.takeovers += takeovers
        }
        return claimed
    }

    /// Gives back `count` leases (the rollouts with the greatest ids: any choice will do), for other workers to claim.
    private func release(count: Int) throws -> [String] {
        let ids = held.withLock { held -> [String] in
            let chosen = Array(held.keys.sorted().suffix(count))
            for id in chosen { held[id] = nil }  // acts on none of them from now on
            return chosen
        }
        try session.run("""
            UPDATE rollouts SET lease_owner = NULL, lease_expires_at = NULL
            WHERE lease_owner = \(workerId) AND id = ANY(\(ids))
            """, "giving back leases over this worker's share")
        counterState.withLock { $0.released += ids.count }
        return ids
    }

    /// Pages of the change feed one round reads at most.
    static let changeFeedPagesMax = 20

    /// Rollouts changed since the previous feed started, less a look-back margin (a commit's `changed_at` is set
    /// before it commits, so a slow one becomes visible late). All on the database's clock; read in pages along
    /// `(changed_at, id)`, so a busy window is read to its end (up to `changeFeedPagesMax` pages); the start moves
    /// only once the feed succeeded.
    private func changeFeed() throws -> [RolloutChange] {
        let lookback = configuration.changeLookbackSeconds
        guard let startedAt = try session.run("SELECT clock_timestamp()::text", "reading the database's clock").rows
            .first?.decode(String.self) else { return [] }
        let since = feedStartedAt ?? startedAt
        var changes: [RolloutChange] = []
        var after: (changedAt: String, id: String)?
        let pageRows = configuration.changeFeedPageRows
        for _ in 0..<Self.changeFeedPagesMax {
            let rows = try session.run("""
                SELECT id, event_count, changed_at::text FROM rollouts
                WHERE changed_at > \(since)::timestamptz - make_interval(secs => \(lookback))
                  AND (\(after == nil) OR (changed_at, id) > (\(after?.changedAt)::timestamptz, \(after?.id)))
                ORDER BY changed_at, id LIMIT \(pageRows)
                """, "reading recent changes").rows
            for row in rows {
                let (id, count, changedAt) = try row.decode((String, Int, String).self)
                changes.append(RolloutChange(rolloutId: id, eventCount: count))
                after = (changedAt, id)
            }
            if rows.count < pageRows { break }
        }
        feedStartedAt = startedAt
        return changes
    }

    /// Listens for change notifications on a connection of its own (again after it was lost).
    private func listenIfNeeded() throws {
        let connection = try listenSession.open()
        guard listeningOn != ObjectIdentifier(connection) else { return }
        let sink = self.sink
        connection.addListener(channel: PostgresRolloutStore.changeChannel) { _, notification in
            let payload = notification.payload
            guard let space = payload.lastIndex(of: " "), let count = Int(payload[payload.index(after: space)...]) else {
                return
            }
            sink.yield(RolloutChange(rolloutId: String(payload[..<space]), eventCount: count))
        }
        try listenSession.run("LISTEN \(unescaped: PostgresRolloutStore.changeChannel)", "listening for changes")
        listeningOn = ObjectIdentifier(connection)
    }

    private func trustedUntil(sentAt: ContinuousClock.Instant) -> ContinuousClock.Instant {
        sentAt + .milliseconds(Int64((configuration.leaseSeconds - configuration.safetyMarginSeconds) * 1000))
    }

    /// A worker row whose holder is alive: not stopped, heartbeat within its own lease.
    package static let aliveCondition =
        "stopped_at IS NULL AND heartbeat_at > clock_timestamp() - make_interval(secs => lease_seconds)"

    /// A rollout that needs a driver: not ended, or with effects still to perform (alias `r`).
    static let activeCondition = """
        (r.display_phase IN (\(PostgresRolloutStore.livePhases.map { "'\($0)'" }.joined(separator: ", "))) \
        OR EXISTS (SELECT 1 FROM effects e WHERE e.rollout_id = r.id AND e.status = 'pending'))
        """
}
