import Foundation
import RolloutCore

/// How the simulated fleet behaves: its population, how updates go, what breaks. Read from a scenario file
/// (`SimulationScenario.parse`); every field has a default, so the empty scenario is a healthy fleet.
package struct SimulationScenario: Equatable, Sendable {
    /// Population when `--devices` is not given.
    package var devices: Int
    /// Hardware revisions and their weights.
    package var hardware: [(name: String, weight: Double)]
    /// Firmware the fleet runs before the rollout (defaults to the plan's rollback version).
    package var currentFirmware: String?
    /// Share of devices that never check in (their executions stay queued).
    package var offlinePercent: Double
    /// Delay before an online device picks up a queued execution: uniform in 0…this.
    package var checkInDelayMaxSeconds: Int
    package var installSecondsMin: Int
    package var installSecondsMax: Int
    /// Outcome rules; the first rule matching (firmware, hardware) applies; none → success.
    package var outcomes: [OutcomeRule]
    package var health: HealthModel
    /// Share of fleet API calls answered with throttling / server errors (retryable).
    package var throttlePercent: Double
    package var serverErrorPercent: Double
    /// The AWS account's quotas the rehearsal meets (`api.quotas`, AWS's published defaults otherwise): request
    /// rates per API (calls over them wait), concurrent jobs (CreateJob waits for a slot) and the AddThingToThingGroup
    /// rate at which a stage over 100 devices without rings fills its temporary group before its job exists.
    package var quotas: AWSQuotas = .defaults
    /// Named thing groups drawn from the population.
    package var groups: [String: Int]
    /// Rings the fleet was split into by `rollout rings sync` (0: none): `<fleet>-ring-NN`, each device in the ring
    /// its name hashes to.
    package var rings: Int = 0
    /// Outcomes scripted by position: the first devices of a stage's job (by name) end as the script says, whatever
    /// the statistical rules draw. The same script replayed on moto's device layer proves the rehearsal decides as
    /// AWS does (the parity test).
    package var scripted: [ScriptedOutcome] = []

    package init(devices: Int = 1000, hardware: [(name: String, weight: Double)] = [("A", 60), ("B", 30), ("C", 10)],
                currentFirmware: String? = nil, offlinePercent: Double = 0, checkInDelayMaxSeconds: Int = 600,
                installSecondsMin: Int = 120, installSecondsMax: Int = 900, outcomes: [OutcomeRule] = [],
                health: HealthModel = HealthModel(), throttlePercent: Double = 0, serverErrorPercent: Double = 0,
                groups: [String: Int] = [:]) {
        self.devices = devices
        self.hardware = hardware
        self.currentFirmware = currentFirmware
        self.offlinePercent = offlinePercent
        self.checkInDelayMaxSeconds = checkInDelayMaxSeconds
        self.installSecondsMin = installSecondsMin
        self.installSecondsMax = installSecondsMax
        self.outcomes = outcomes
        self.health = health
        self.throttlePercent = throttlePercent
        self.serverErrorPercent = serverErrorPercent
        self.groups = groups
    }

    package static func == (left: SimulationScenario, right: SimulationScenario) -> Bool {
        left.devices == right.devices && left.hardware.map(\.name) == right.hardware.map(\.name)
            && left.hardware.map(\.weight) == right.hardware.map(\.weight) && left.currentFirmware == right.currentFirmware
            && left.offlinePercent == right.offlinePercent && left.checkInDelayMaxSeconds == right.checkInDelayMaxSeconds
            && left.installSecondsMin == right.installSecondsMin && left.installSecondsMax == right.installSecondsMax
            && left.outcomes == right.outcomes && left.health == right.health
            && left.throttlePercent == right.throttlePercent && left.serverErrorPercent == right.serverErrorPercent
            && left.groups == right.groups && left.rings == right.rings && left.scripted == right.scripted
            && left.quotas == right.quotas
    }

    /// The rule for a device of `hardware` installing `firmware`.
    func outcome(firmware: String, hardware: String) -> OutcomeRule? {
        outcomes.first { ($0.firmware == nil || $0.firmware == firmware) && ($0.hardware == nil || $0.hardware == hardware) }
    }
}

/// "The first 2 devices of wave-1's job (sorted by name) fail".
package struct ScriptedOutcome: Equatable, Sendable {
    package enum Outcome: String, Sendable, CaseIterable {
        case succeeded, failed, timedOut, rejected, neverStarts
    }

    /// The stage whose job it applies to (`rollback` for the rollback job).
    package var stage: String
    package var first: Int
    package var outcome: Outcome

    package init(stage: String, first: Int, outcome: Outcome) {
        precondition(first >= 0, "a count of devices")
        self.stage = stage
        self.first = first
        self.outcome = outcome
    }
}

/// "2.1.0 fails 30% on rev B".
package struct OutcomeRule: Equatable, Sendable {
    package var firmware: String?
    package var hardware: String?
    package var failPercent: Double
    package var timeoutPercent: Double
    package var rejectPercent: Double

    package init(firmware: String? = nil, hardware: String? = nil, failPercent: Double = 0, timeoutPercent: Double = 0,
                rejectPercent: Double = 0) {
        self.firmware = firmware
        self.hardware = hardware
        self.failPercent = failPercent
        self.timeoutPercent = timeoutPercent
        self.rejectPercent = rejectPercent
    }
}

/// Device health served as the metric document: crash rates per firmware and hardware.
package struct HealthModel: Equatable, Sendable {
    /// Crash rate (crashes per device-hour) of a device with no matching rule.
    package var baselineCrashRate: Double
    package var crashRates: [CrashRateRule]
    /// What a Prometheus or CloudWatch gate reads in a rehearsal (`sim://prometheus`, `sim://cloudwatch`): gate name
    /// → JSON pointer into the health document. A gate not named reads `/release/crashRate`.
    package var gateValues: [String: String]
    /// Gates whose pointer is read once per hardware model (`health.gates.NAME: {pointer, series: hardware}`), so
    /// the rehearsal answers as a query grouped by model would: one series per model that has the value (a model with
    /// no device on the release has no `/release` series), none at all is "no data", several need the gate's
    /// `reduce`.
    package var gatesPerHardware: Set<String> = []
    /// The CloudWatch alarms a rehearsal knows (`cloudWatchAlarm` gates): in ALARM while the value at `pointer` is
    /// above `above`. An alarm not named here does not exist, as on AWS.
    package var alarms: [String: SimulatedAlarm]

    package static let gateValueDefault = "/release/crashRate"

    package init(baselineCrashRate: Double = 0.001, crashRates: [CrashRateRule] = [], gateValues: [String: String] = [:],
                alarms: [String: SimulatedAlarm] = [:]) {
        self.baselineCrashRate = baselineCrashRate
        self.crashRates = crashRates
        self.gateValues = gateValues
        self.alarms = alarms
    }
}

/// A CloudWatch alarm in a rehearsal: in ALARM while the health document's value at `pointer` is above `above`.
package struct SimulatedAlarm: Equatable, Sendable {
    package var pointer: String
    package var above: Double

    package init(pointer: String, above: Double) {
        self.pointer = pointer
        self.above = above
    }
}

/// "crash rate of 2.1.0 on rev B is 0.05, starting 2h after the update" (a slow leak shows late).
package struct CrashRateRule: Equatable, Sendable {
    package var firmware: String
    package var hardware: String?
    package var crashRate: Double
    package var afterUpdateSeconds: Int

    package init(firmware: String, hardware: String? = nil, crashRate: Double, afterUpdateSeconds: Int = 0) {
        self.firmware = firmware
        self.hardware = hardware
        self.crashRate = crashRate
        self.afterUpdateSeconds = afterUpdateSeconds
    }
}
