import Engine
import Foundation
import RolloutCore

extension SimulatedFleet {
    /// The health document a metric gate reads in simulation (as if from an HTTP JSON endpoint):
    /// ```
    /// {"fleet":   {"devices": N, "crashRate": r, "offlinePercent": p},
    ///  "release": {"version": "2.1.0", "devices": updated, "crashRate": r},
    ///  "firmware": {"2.0.3": {"devices": n, "crashRate": r}, "2.1.0": {…}}}
    /// ```
    /// Crash rates are expected values per device-hour from the scenario's health model, so they are exact and
    /// repeatable. `release` is the firmware this rollout deploys, on the devices it updated.
    package func healthDocument(rolloutId: String, at date: Date) -> [String: Any] {
        let jobs = jobs(ofRollout: rolloutId)
        let hardwareCount = population.hardwareNames.count
        let releaseJobs = jobs.filter { !$0.isRollback }
        let releaseVersion = releaseJobs.first?.version ?? "unknown"
        func rounded(_ value: Double) -> Double { (value * 1e9).rounded() / 1e9 }
        let rollbackJobs = jobs.filter(\.isRollback)
        let baseVersion = scenario.currentFirmware ?? rollbackJobs.first?.version ?? "previous"
        var totalCrash = 0.0
        var releaseCrash = 0.0
        var releaseDevices = 0
        var perHardware: [String: Any] = [:]
        for hardware in 0..<hardwareCount {
            let name = population.hardwareNames[hardware]
            // Devices on the release: updated by a stage job, minus those the rollback job put back.
            let updated = releaseJobs.reduce(0) { $0 + $1.successes(hardware: hardware, atOrBefore: date) }
            let reverted = rollbackJobs.reduce(0) { $0 + $1.successes(hardware: hardware, atOrBefore: date) }
            let onRelease = max(0, updated - reverted)
            // Devices updated long enough ago for a late-showing rule.
            var releaseRate = 0.0
            for job in releaseJobs {
                let successes = job.successes(hardware: hardware, atOrBefore: date)
                guard successes > 0 else { continue }
                let share = Double(successes) / Double(max(updated, 1))
                let rule = scenario.health.crashRates.first {
                    $0.firmware == job.version && ($0.hardware == nil || $0.hardware == name)
                }
                if let rule {
                    let aged = job.successes(hardware: hardware,
                                             atOrBefore: date.addingTimeInterval(-TimeInterval(rule.afterUpdateSeconds)))
                    let agedShare = Double(aged) / Double(successes)
                    releaseRate += share * (agedShare * rule.crashRate + (1 - agedShare) * scenario.health.baselineCrashRate)
                } else {
                    releaseRate += share * scenario.health.baselineCrashRate
                }
            }
            let baseRule = scenario.health.crashRates.first {
                $0.firmware == baseVersion && ($0.hardware == nil || $0.hardware == name)
            }
            let baseRate = baseRule?.crashRate ?? scenario.health.baselineCrashRate
            let onBase = devicesPerHardware[hardware] - onRelease
            totalCrash += Double(onBase) * baseRate + Double(onRelease) * releaseRate
            releaseCrash += Double(onRelease) * releaseRate
            releaseDevices += onRelease
            // As a query grouped by model sees it: no `release` series for a model none of whose devices runs it.
            var model: [String: Any] = [
                "devices": devicesPerHardware[hardware],
                "crashRate": devicesPerHardware[hardware] == 0 ? 0
                    : rounded((Double(onBase) * baseRate + Double(onRelease) * releaseRate) / Double(devicesPerHardware[hardware])),
            ]
            if onRelease > 0 { model["release"] = ["devices": onRelease, "crashRate": rounded(releaseRate)] }
            perHardware[name] = model
        }
        let offline = offlineCount
        let fleetRate = rounded(totalCrash / Double(population.count))
        let releaseRate = releaseDevices == 0 ? 0 : rounded(releaseCrash / Double(releaseDevices))
        return [
            "fleet": ["devices": population.count, "crashRate": fleetRate,
                      "offlinePercent": rounded(100 * Double(offline) / Double(population.count))] as [String: Any],
            "release": ["version": releaseVersion, "devices": releaseDevices, "crashRate": releaseRate] as [String: Any],
            "firmware": [
                baseVersion: ["devices": population.count - releaseDevices,
                              "crashRate": population.count == releaseDevices ? 0
                                  : rounded((totalCrash - releaseCrash) / Double(population.count - releaseDevices))],
                releaseVersion: ["devices": releaseDevices, "crashRate": releaseRate],
            ] as [String: Any],
            "hardware": perHardware,
        ]
    }

    /// The share of devices (in percent) the scenario's outcome rules fail when they install `firmware`, over the
    /// fleet's hardware mix: what a metric reporting that firmware's failure rate would say.
    package func expectedFailedPercent(firmware: String) -> Double {
        var failed = 0.0
        for (index, name) in population.hardwareNames.enumerated() {
            let share = scenario.outcome(firmware: firmware, hardware: name)?.failPercent ?? 0
            failed += Double(devicesPerHardware[index]) * share
        }
        return population.count == 0 ? 0 : ((failed / Double(population.count)) * 1e9).rounded() / 1e9
    }
}

/// Metric gates in simulation, every provider answered from the simulated fleet's health document (so a plan's
/// real gates rehearse with only their endpoint changed to `sim://…`). The baseline metric
/// (`jobOutcomes.baseline.metric`) reads `/previous/failedPercent`: the rollback version's expected failed share.
/// - HTTP JSON: the gate's pointer into the document;
/// - Prometheus and CloudWatch: the value the scenario names for the gate (`health.gates`, default
///   `/release/crashRate`), since a rehearsal cannot run the real query;
/// - CloudWatch alarms: how many of the named alarms the scenario's rules (`health.alarms`) put in ALARM; an alarm it
///   does not define is an error, as a missing alarm is on AWS.
package struct SimulatedMetricSource: MetricSource {
    let fleet: SimulatedFleet
    let clock: any RolloutClock

    package init(fleet: SimulatedFleet, clock: any RolloutClock) {
        self.fleet = fleet
        self.clock = clock
    }

    package nonisolated(nonsending) func read(_ gate: MetricGate, values: MetricQueryTemplate.Values) async -> MetricReading {
        var document = fleet.healthDocument(rolloutId: values.rolloutId, at: clock.now())
        let health = fleet.scenario.health
        if gate.name == MetricGate.baselineName {
            // The previous firmware's failure rate (`${version}` is the rollback version): what the scenario's outcome
            // rules give it over the fleet's hardware, unless the scenario points the baseline elsewhere.
            document["previous"] = ["version": values.version,
                                    "failedPercent": fleet.expectedFailedPercent(firmware: values.version)]
            let pointer = health.gateValues[gate.name] ?? "/previous/failedPercent"
            return Self.reading(JSONPointer.number(at: pointer, in: document), input: "\(gate.kind.rawValue) "
                                + (gate.query.map { MetricQueryTemplate.expand($0, values) } ?? gate.url + "#" + gate.pointer)
                                + " (rehearsed as \(pointer))")
        }
        // The document is already a JSON value: resolve the pointer on it directly (no encode/decode per poll).
        switch gate.kind {
        case .httpJSON:
            return Self.reading(JSONPointer.number(at: gate.pointer, in: document), input: gate.url + "#" + gate.pointer)
        case .prometheus, .cloudWatch:
            let pointer = health.gateValues[gate.name] ?? HealthModel.gateValueDefault
            let asked = gate.query.map { MetricQueryTemplate.expand($0, values) } ?? gate.kind.rawValue
            guard health.gatesPerHardware.contains(gate.name) else {
                return Self.reading(JSONPointer.number(at: pointer, in: document), input: "\(asked) (rehearsed as \(pointer))")
            }
            // One series per model that has the value, judged by the rule every provider uses.
            let models = document["hardware"] as? [String: Any] ?? [:]
            let series = models.keys.sorted().compactMap { name -> (label: String, value: Double)? in
                guard case .success(let value) = JSONPointer.number(at: pointer, in: models[name] ?? [:]) else { return nil }
                return (label: "{hardware=\"\(name)\"}", value: value)
            }
            let result = SeriesReduction.value(of: series, reduce: gate.reduce,
                                               noData: "no series (no hardware model has \(pointer))")
            return Self.reading(result, input: "\(asked) (rehearsed as \(pointer) per hardware model)")
        case .cloudWatchAlarm:
            var alarming = 0
            for name in gate.alarmNames ?? [] {
                guard let alarm = health.alarms[name] else {
                    return MetricReading(error: "no such alarm in the rehearsal: \(name) (define it under the scenario's "
                                         + "health.alarms)")
                }
                switch JSONPointer.number(at: alarm.pointer, in: document) {
                case .success(let value): if value > alarm.above { alarming += 1 }
                case .failure(let error): return MetricReading(error: "\(name): \(error.message)")
                }
            }
            return MetricReading(value: Double(alarming), input: "alarms " + (gate.alarmNames ?? []).joined(separator: ", "))
        }
    }

    static func reading(_ result: Result<Double, MetricReadError>, input: String) -> MetricReading {
        switch result {
        case .success(let value): return MetricReading(value: value, input: input)
        case .failure(let error): return MetricReading(error: error.message, input: input, noData: error.noData)
        }
    }
}
