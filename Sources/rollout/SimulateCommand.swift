import ArgumentParser
import Engine
import FleetSim
import Foundation
import Logging
import RolloutCore

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Rehearse a plan on the simulated fleet, through the same engine and SQLite store as the worker.",
        discussion: """
            Time is virtual: the clock jumps to the next due instant, so days of rollout take milliseconds.
            Every random choice derives from the seed, which is printed: the same seed, plan, scenario and start
            give the same event log. Approvals are granted by the simulator after --approval-delay.
            Exit: 0 completed, 3 rolled back, 4 paused/aborted/awaiting approval, 65 bad plan or scenario, 1 other.
            """
    )

    @Argument(help: "The plan file.")
    var plan: String

    @Option(help: "Simulated devices (1…10000000); default the scenario's, else 1000.")
    var devices: Int?

    @Option(help: "Seed of every random choice; default a fresh one (printed).")
    var seed: UInt64?

    @Option(help: "Scenario file: hardware mix, outcomes per firmware and hardware, health, API faults, groups.")
    var scenario: String?

    @Option(help: "SQLite database to keep the run in; default a temporary file removed afterwards.")
    var db: String?

    @Option(help: "Virtual start instant (RFC 3339); default the plan's notBefore, else today 00:00 UTC.")
    var start: Date?

    @Option(help: "Virtual time between two reads of a running job: a duration (60s, 5m) or seconds.")
    var pollInterval: String = "60s"

    @Option(help: "Virtual delay before the simulator approves a stage (a duration such as 30m), or `never`.")
    var approvalDelay: String = "30m"

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    @Flag(help: "Log every state change (JSON lines on stderr).")
    var verbose = false

    @Flag(name: .customLong("resources"), help: .hidden)
    var reportResources = false

    func validate() throws {
        if let devices, !(1...SimulationScenario.devicesMax).contains(devices) {
            throw ValidationError("--devices must be 1…\(SimulationScenario.devicesMax)")
        }
        _ = try PollInterval.validated(pollInterval, range: 1...86400)
        guard approvalDelay == "never" || DurationText.parseSeconds(approvalDelay) != nil else {
            throw ValidationError("--approval-delay must be a duration such as 30m, or `never`")
        }
    }

    func run() async throws {
        let wallStart = Date()
        MallocTuning.mapLargeBlocks()
        let loaded = try LoadedPlan.load(plan)
        let simulationScenario = try ScenarioLoading.load(scenario)
        let deviceCount = devices ?? simulationScenario.devices
        let seed = seed ?? SeededDraw.freshSeed()
        let startAt = start ?? SimulationSession.defaultStart(plan: loaded.plan)
        let reproduce = "rollout simulate \(plan) --devices \(deviceCount) --seed \(seed) --start \(TimeText.format(startAt))"
            + (scenario.map { " --scenario \($0)" } ?? "") + (pollInterval == "60s" ? "" : " --poll-interval \(pollInterval)")
            + (approvalDelay == "30m" ? "" : " --approval-delay \(approvalDelay)")
        let logger = verbose ? Logger(label: "rollout") : Logger(label: "rollout", factory: { _ in SwiftLogNoOpLogHandler() })
        let session: SimulationSession
        do {
            session = try SimulationSession(devices: deviceCount, seed: seed, scenario: simulationScenario, start: startAt,
                                            databasePath: db,
                                            pollIntervalSeconds: PollInterval.seconds(pollInterval) ?? 60, logger: logger)
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(ExitStatus.otherError)
        }
        defer { session.close() }
        if output == .text {
            print("simulating \(loaded.plan.name) on \(deviceCount) devices, seed \(seed)")
        }
        let submitted = try await session.engine.submit(plan: loaded.plan, planSource: loaded.source)
        if !submitted.created {
            // Resuming a run that stopped (or was killed) midway: time continues from where it was.
            session.clock.advance(to: submitted.state.updatedAt)
            if output == .text {
                print("resuming \(submitted.rolloutId) from \(session.databasePath) at "
                      + "\(DurationWords.offset(submitted.state.updatedAt, from: startAt)) (\(submitted.state.displayPhase.rawValue))")
            }
        }
        let options = SimulationRunner.Options(
            approvalDelaySeconds: approvalDelay == "never" ? nil : DurationText.parseSeconds(approvalDelay))
        let runner = SimulationRunner(engine: session.engine, clock: session.clock, options: options)
        let progress = ProgressLine(enabled: output == .text && Console.stderrIsTerminal)
        let ending = try await runner.run(rolloutId: submitted.rolloutId) { state in
            progress.show(state, start: startAt, now: session.clock.now())
        }
        progress.clear()
        let report = try SimulationReport.build(rolloutId: submitted.rolloutId, store: session.store, fleet: session.fleet,
                                                seed: seed, ending: ending, startedAt: startAt,
                                                endedAt: session.clock.now())
        let wallSeconds = Date().timeIntervalSince(wallStart)
        if output == .json {
            if reportResources {
                try Console.printJSON(BenchSample(report: report, wallSeconds: wallSeconds))
            } else {
                try Console.printJSON(report)
            }
        } else {
            printText(report, wallSeconds: wallSeconds, reproduce: reproduce)
        }
        let phase = RolloutPhase(rawValue: report.outcome) ?? .failed
        let status = ExitStatus.forPhase(phase)
        if status != 0 { throw ExitCode(status) }
    }

    func printText(_ report: SimulationReport, wallSeconds: Double, reproduce: String) {
        print("rollout \(report.rolloutId): \(report.eligibleDevices) of \(report.devices) devices eligible")
        for line in report.timeline {
            print("  \(DurationWords.offset(line.at, from: report.startedAt).padding(toLength: 10, withPad: " ", startingAt: 0)) "
                  + "\(line.phase.padding(toLength: 18, withPad: " ", startingAt: 0)) \(line.message)")
        }
        print("")
        let header = ["stage", "status", "devices", "succeeded", "failed", "timedOut", "rejected", "canceled", "started",
                      "ended", "last verdict"]
        var rows: [[String]] = []
        for stage in report.stages + (report.rollback.map { [$0] } ?? []) {
            rows.append([
                stage.name, stage.status, "\(stage.devices)", "\(stage.succeeded)", "\(stage.failed)", "\(stage.timedOut)",
                "\(stage.rejected)", "\(stage.canceled)",
                stage.startedAt.map { DurationWords.offset($0, from: report.startedAt) } ?? "-",
                stage.endedAt.map { DurationWords.offset($0, from: report.startedAt) } ?? "-",
                stage.verdicts.last?.evaluation.verdict.rawValue ?? "-",
            ])
        }
        print(TextTable.render(header: header, rows: rows))
        print("")
        print("outcome: \(report.outcome) after \(DurationWords.format(report.virtualSeconds)) of virtual time "
              + "(\(String(format: "%.2f", wallSeconds)) s wall), \(report.events) events, \(report.fleetCalls) fleet calls"
              + (report.fleetCallsThrottled > 0 ? " (\(report.fleetCallsThrottled) throttled)" : "")
              + (report.fleetCallsOverBudget > 0 ? " (\(report.fleetCallsOverBudget) waited for the account's quota)" : ""))
        if let message = report.message { print("         \(message)") }
        if let devices = report.notRolledBack, let count = report.notRolledBackCount, count > 0 {
            print(DeviceListText.render(devices, count: count, more: "--output json lists up to 1,000"))
        }
        if report.ending != SimulationRunner.Ending.finished.rawValue {
            print("stopped: \(report.ending)")
        }
        print("reproduce: \(reproduce)")
    }
}

/// One self-overwriting line on a terminal: the current stage and virtual time.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    var lastShown = Date.distantPast

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func show(_ state: RolloutState, start: Date, now: Date) {
        guard enabled, Date().timeIntervalSince(lastShown) > 0.1 else { return }
        lastShown = Date()
        let stage = state.stages.indices.contains(state.currentStage) ? state.stages[state.currentStage] : nil
        let done = stage.map { "\($0.progress.executed)/\($0.devices ?? 0)" } ?? ""
        Console.error("\r\u{1B}[2K[\(DurationWords.offset(now, from: start))] \(state.displayPhase.rawValue) "
                      + "\(stage?.name ?? "") \(done)", terminator: false)
    }

    func clear() {
        if enabled { Console.error("\r\u{1B}[2K", terminator: false) }
    }
}

extension Console {
    static func error(_ message: String, terminator: Bool) {
        if terminator { error(message) } else { FileHandle.standardError.write(Data(message.utf8)) }
    }
}
