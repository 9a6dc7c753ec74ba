import ArgumentParser
import Engine
import FleetSim
import Foundation
import Logging
import RolloutCore
import StoreSQLite

/// `rollout bench --commits`: transitions the engine commits per second on the worker's store (`synchronous=FULL`,
/// an fsync per commit), beside a raw SQLite loop of the very same transactions (same statements, same pragmas, the
/// rows the engine wrote) in Python's sqlite3.
extension BenchCommand {
    func benchCommits(directory: String, rollouts: Int, seconds: Int) async throws {
        let database = directory + "/commits.db"
        let clock = VirtualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        var store: SQLiteRolloutStore? = try SQLiteRolloutStore(path: database, role: .worker, durability: .powerLoss)
        let fleet = SimulatedFleet(devices: 10_000, seed: 1, scenario: SimulationScenario(), clock: clock)
        let engine = RolloutEngine(store: store!, fleet: fleet,
                                   metricSource: SimulatedMetricSource(fleet: fleet, clock: clock),
                                   notifier: RecordingNotifier(), clock: clock,
                                   logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        // Rollouts as the worker holds them most of the time: baking a stage, with devices and progress.
        var ids: [String] = []
        for index in 0..<rollouts {
            let text = Self.planText(index)
            let plan = try PlanParser.parse(text, file: "bench-\(index).yaml", baseDirectory: directory)
            let id = try await engine.submit(plan: plan, planSource: text).rolloutId
            for _ in 0..<100 {
                if try await engine.state(of: id)?.phase == .baking { break }
                if case .due(let at) = try await engine.step(rolloutId: id) { clock.advance(to: at) }
            }
            ids.append(id)
        }
        // Where each rollout's log stands: the floor replays what comes after.
        var marks: [[Any]] = []  // [id, event count, verdict count], in the order commands go round
        var pendingBefore = 0
        for id in ids {
            marks.append([id, try await engine.state(of: id)?.eventCount ?? 0, try store!.verdicts(rolloutId: id).count])
            pendingBefore += try store!.pendingEffects(rolloutId: id).count
        }
        try JSONSerialization.data(withJSONObject: marks).write(to: URL(fileURLWithPath: directory + "/marks.json"))
        let (committed, elapsed) = try await CommitLoop(engine: engine).run(ids: ids, seconds: seconds)
        let rate = Double(committed) / elapsed
        var pendingAfter = 0
        for id in ids { pendingAfter += try store!.pendingEffects(rolloutId: id).count }
        store?.close()
        store = nil
        var line = "commits: \(BenchText.rate(rate)) transitions/s by the engine (\(committed) pause/resume commands on "
            + "\(rollouts) baking rollouts, synchronous=FULL)"
        do {
            // Commands queue no effect here (nothing would perform it): the floor replays events, states and verdicts.
            guard pendingAfter == pendingBefore else {
                throw BenchFloor.Unavailable(description: "the commands queued effects, which the loop does not replay")
            }
            let output = try BenchFloor.python(Self.commitLoopScript, arguments: [database, directory + "/marks.json"],
                                               module: "sqlite3", directory: directory)
            let answer = try JSONSerialization.jsonObject(with: output) as? [String: Any] ?? [:]
            let floor = answer["rate"] as? Double ?? 0
            line += "\n    floor raw SQLite loop of the same \(answer["transactions"] ?? "?") transactions (python3 sqlite3, "
                + "same statements and pragmas): \(BenchText.rate(floor))/s → \(BenchText.ratio(rate / max(floor, 1))) the loop"
        } catch {
            line += "\n    floor raw SQLite loop: not available (\(error))"
        }
        print(line)
    }

    /// Replays, in a copy of the database rolled back to before the measured commits (marks: each rollout's id, event
    /// and verdict count then, in the order the commands went round), every transaction the engine committed: `BEGIN IMMEDIATE`, the event count check, the
    /// event, the state (its final JSON, the same size), the verdicts it wrote, `COMMIT`; the same pragmas (WAL,
    /// synchronous=FULL, foreign keys) on the same database file.
    static let commitLoopScript = #"""
        import json, shutil, sqlite3, sys, time
        source, marks = sys.argv[1], json.load(open(sys.argv[2]))
        copy = source + ".floor"
        shutil.copyfile(source, copy)
        db = sqlite3.connect(copy, isolation_level=None)
        db.execute("PRAGMA foreign_keys = ON")
        assert db.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
        db.execute("PRAGMA synchronous = FULL")
        events, verdicts = [], {}
        for position, (rollout, event_mark, verdict_mark) in enumerate(marks):
            # Commands went round the rollouts in this order: the k-th new event of each, then the (k+1)-th, …
            events += [(row[1] - event_mark, position) + row for row in db.execute(
                "SELECT rollout_id, seq, at, kind, json FROM events WHERE rollout_id = ? AND seq > ?",
                (rollout, event_mark))]
            later = db.execute("SELECT id, rollout_id, stage, at, verdict, json FROM verdicts WHERE rollout_id = ? "
                               "ORDER BY id LIMIT -1 OFFSET ?", (rollout, verdict_mark)).fetchall()
            for v in later:
                verdicts.setdefault((v[1], v[3]), []).append(v)
                db.execute("DELETE FROM verdicts WHERE id = ?", (v[0],))
            db.execute("DELETE FROM events WHERE rollout_id = ? AND seq > ?", (rollout, event_mark))
            db.execute("UPDATE rollouts SET event_count = ? WHERE id = ?", (event_mark, rollout))
        events.sort()
        rows = {r[0]: r for r in db.execute("SELECT id, state_json, display_phase, due_at, updated_at FROM rollouts")}
        start = time.perf_counter()
        for _, _, rollout, seq, at, kind, body in events:
            db.execute("BEGIN IMMEDIATE")
            found = db.execute("SELECT event_count FROM rollouts WHERE id = ?1", (rollout,)).fetchone()[0]
            assert found == seq - 1
            db.execute("INSERT INTO events (rollout_id, seq, at, kind, json) VALUES (?1, ?2, ?3, ?4, ?5)",
                       (rollout, seq, at, kind, body))
            row = rows[rollout]
            db.execute("UPDATE rollouts SET state_json = ?2, event_count = ?3, display_phase = ?4, due_at = ?5, "
                       "updated_at = ?6 WHERE id = ?1", (rollout, row[1], seq, row[2], row[3], at))
            for v in verdicts.pop((rollout, at), []):
                db.execute("INSERT INTO verdicts (rollout_id, stage, at, verdict, json) VALUES (?1, ?2, ?3, ?4, ?5)",
                           v[1:])
            db.execute("COMMIT")
        elapsed = time.perf_counter() - start
        print(json.dumps({"transactions": len(events), "rate": len(events) / elapsed}))
        """#
}

/// Sends the measured commands from the engine's own thread, as the worker's steps commit (its driver shares that
/// thread): what is measured is the transition and its transaction, not a thread hop per call.
actor CommitLoop {
    let engine: RolloutEngine

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        engine.unownedExecutor
    }

    init(engine: RolloutEngine) {
        self.engine = engine
    }

    /// Pauses and resumes `ids` in turn, rollout after rollout, for `seconds`: every command is one transition, one
    /// transaction. Returns the transitions committed and the seconds they took.
    func run(ids: [String], seconds: Int) async throws -> (committed: Int, seconds: Double) {
        let start = DispatchTime.now()
        let deadline = start.uptimeNanoseconds + UInt64(seconds) * 1_000_000_000
        var committed = 0
        var paused = false
        while DispatchTime.now().uptimeNanoseconds < deadline {
            for id in ids {
                let command: RolloutEvent = paused ? .resumeRequested(by: "bench")
                    : .pauseRequested(by: "bench", reason: "measuring commits")
                try await engine.command(command, rolloutId: id)
                committed += 1
            }
            paused.toggle()
        }
        return (committed, Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
    }
}
