import Engine
import Foundation
import RolloutCore
import Yams

extension SimulationScenario {
    package static let devicesMax = 10_000_000

    /// Parses a scenario file's text; errors carry file, line, column and field like plan errors.
    package static func parse(_ text: String, file: String) throws(PlanError) -> SimulationScenario {
        var reader = PlanNodeReader(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw PlanError(issues: [PlanIssue(file: file, line: 0, column: 0, field: "",
                                               message: "not valid YAML or JSON: \(error)")])
        }
        var scenario = SimulationScenario()
        guard let root else { return scenario }
        let keys = ["devices", "hardware", "currentFirmware", "offlinePercent", "checkInDelayMax", "install",
                    "outcomes", "health", "api", "groups", "rings", "scripted"]
        guard let map = reader.mapping(root, "", allowed: keys) else { throw PlanError(issues: reader.issues) }
        if let node = map["devices"], let count = reader.integer(node, "devices", range: 1...devicesMax) {
            scenario.devices = count
        }
        if let node = map["hardware"] {
            if case .mapping(let entries) = node {
                var revisions: [(name: String, weight: Double)] = []
                for (key, value) in entries {
                    guard let name = reader.nonEmptyString(key, "hardware"),
                          let weight = reader.number(value, "hardware.\(name)", range: 0...1e9) else { continue }
                    revisions.append((name, weight))
                }
                if revisions.isEmpty || revisions.allSatisfy({ $0.weight == 0 }) || revisions.count > 255 {
                    reader.report(node, "hardware", "expected 1–255 revisions with weights, at least one above 0")
                } else {
                    scenario.hardware = revisions
                }
            } else {
                reader.report(node, "hardware", "expected a mapping of revision to weight, e.g. {A: 60, B: 40}")
            }
        }
        if let node = map["currentFirmware"] { scenario.currentFirmware = reader.nonEmptyString(node, "currentFirmware") }
        if let node = map["offlinePercent"],
           let value = reader.number(node, "offlinePercent", range: 0...100, unit: "%") {
            scenario.offlinePercent = value
        }
        if let node = map["checkInDelayMax"], let value = reader.duration(node, "checkInDelayMax", maximumSeconds: 7 * 86400) {
            scenario.checkInDelayMaxSeconds = value
        }
        if let node = map["install"], let install = reader.mapping(node, "install", allowed: ["min", "max"]) {
            if let value = install["min"], let seconds = reader.duration(value, "install.min", minimumSeconds: 1,
                                                                         maximumSeconds: 86400) {
                scenario.installSecondsMin = seconds
            }
            if let value = install["max"], let seconds = reader.duration(value, "install.max", minimumSeconds: 1,
                                                                         maximumSeconds: 86400) {
                scenario.installSecondsMax = seconds
            }
            if scenario.installSecondsMin > scenario.installSecondsMax {
                reader.report(node, "install", "min is above max")
            }
        }
        if let node = map["outcomes"], let items = reader.sequence(node, "outcomes") {
            for (index, item) in items.prefix(64).enumerated() {
                let field = "outcomes[\(index)]"
                guard let rule = reader.mapping(item, field, allowed: ["firmware", "hardware", "failPercent",
                                                                        "timeoutPercent", "rejectPercent"]) else { continue }
                var outcome = OutcomeRule()
                outcome.firmware = rule["firmware"].flatMap { reader.nonEmptyString($0, "\(field).firmware") }
                outcome.hardware = rule["hardware"].flatMap { reader.nonEmptyString($0, "\(field).hardware") }
                outcome.failPercent = rule["failPercent"].flatMap {
                    reader.number($0, "\(field).failPercent", range: 0...100, unit: "%") } ?? 0
                outcome.timeoutPercent = rule["timeoutPercent"].flatMap {
                    reader.number($0, "\(field).timeoutPercent", range: 0...100, unit: "%") } ?? 0
                outcome.rejectPercent = rule["rejectPercent"].flatMap {
                    reader.number($0, "\(field).rejectPercent", range: 0...100, unit: "%") } ?? 0
                if outcome.failPercent + outcome.timeoutPercent + outcome.rejectPercent > 100 {
                    reader.report(item, field, "fail + timeout + reject percentages exceed 100%")
                }
                scenario.outcomes.append(outcome)
            }
        }
        if let node = map["health"], let health = reader.mapping(node, "health", allowed: ["baselineCrashRate", "crashRates", "gates", "alarms"]) {
            readHealthGates(health, into: &scenario.health, reader: &reader)
            if let value = health["baselineCrashRate"],
               let rate = reader.number(value, "health.baselineCrashRate", range: 0...1e6) {
                scenario.health.baselineCrashRate = rate
            }
            if let value = health["crashRates"], let items = reader.sequence(value, "health.crashRates") {
                for (index, item) in items.prefix(64).enumerated() {
                    let field = "health.crashRates[\(index)]"
                    guard let rule = reader.mapping(item, field, allowed: ["firmware", "hardware", "crashRate", "afterUpdate"]) else {
                        continue
                    }
                    guard let firmwareNode = rule["firmware"], let firmware = reader.nonEmptyString(firmwareNode, "\(field).firmware"),
                          let rateNode = rule["crashRate"], let rate = reader.number(rateNode, "\(field).crashRate", range: 0...1e6) else {
                        if rule["firmware"] == nil || rule["crashRate"] == nil {
                            reader.report(item, field, "expected firmware and crashRate")
                        }
                        continue
                    }
                    let hardware = rule["hardware"].flatMap { reader.nonEmptyString($0, "\(field).hardware") }
                    let after = rule["afterUpdate"].flatMap { reader.duration($0, "\(field).afterUpdate") } ?? 0
                    scenario.health.crashRates.append(CrashRateRule(firmware: firmware, hardware: hardware, crashRate: rate,
                                                                    afterUpdateSeconds: after))
                }
            }
        }
        if let node = map["api"],
           let api = reader.mapping(node, "api", allowed: ["throttlePercent", "serverErrorPercent", "quotas"]) {
            if let value = api["throttlePercent"] {
                scenario.throttlePercent = reader.number(value, "api.throttlePercent", range: 0...90, unit: "%") ?? 0
            }
            if let value = api["serverErrorPercent"] {
                scenario.serverErrorPercent = reader.number(value, "api.serverErrorPercent", range: 0...90, unit: "%") ?? 0
            }
            if let value = api["quotas"] {
                parseQuotas(value, into: &scenario, reader: &reader)
            }
        }
        if let node = map["groups"] {
            if case .mapping(let entries) = node {
                for (key, value) in entries {
                    guard let name = reader.nonEmptyString(key, "groups") else { continue }
                    guard let group = reader.mapping(value, "groups.\(name)", allowed: ["devices"]),
                          let countNode = group["devices"],
                          let count = reader.integer(countNode, "groups.\(name).devices", range: 1...devicesMax) else {
                        continue
                    }
                    scenario.groups[name] = count
                }
            } else {
                reader.report(node, "groups", "expected a mapping of group name to {devices: N}")
            }
        }
        if let node = map["rings"] {
            scenario.rings = reader.integer(node, "rings", range: 1...RingLayout.countMax) ?? 0
        }
        if let node = map["scripted"], let items = reader.sequence(node, "scripted") {
            for (index, item) in items.prefix(64).enumerated() {
                let field = "scripted[\(index)]"
                guard let rule = reader.mapping(item, field, allowed: ["stage", "first", "outcome"]) else { continue }
                let stage = rule["stage"].flatMap { reader.nonEmptyString($0, "\(field).stage") }
                let first = rule["first"].flatMap { reader.integer($0, "\(field).first", range: 0...devicesMax) }
                var outcome: ScriptedOutcome.Outcome?
                if let value = rule["outcome"] {
                    outcome = reader.nonEmptyString(value, "\(field).outcome").flatMap(ScriptedOutcome.Outcome.init)
                    if outcome == nil {
                        reader.report(value, "\(field).outcome", "expected one of "
                                      + ScriptedOutcome.Outcome.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                }
                guard let stage, let first, let outcome else {
                    if rule["stage"] == nil || rule["first"] == nil || rule["outcome"] == nil {
                        reader.report(item, field, "expected stage, first and outcome")
                    }
                    continue
                }
                scenario.scripted.append(ScriptedOutcome(stage: stage, first: first, outcome: outcome))
            }
        }
        if !reader.issues.isEmpty { throw PlanError(issues: reader.issues) }
        return scenario
    }

    /// `api.quotas: {CreateJob: 5, ConcurrentJobs: 2}`: the names and units of `--aws-quota`.
    static func parseQuotas(_ node: Node, into scenario: inout SimulationScenario, reader: inout PlanNodeReader) {
        guard case .mapping(let entries) = node else {
            reader.report(node, "api.quotas", "expected a mapping of quota name to value, e.g. {CreateJob: 5}")
            return
        }
        for (key, value) in entries.prefix(64) {
            guard let name = reader.nonEmptyString(key, "api.quotas"),
                  let number = reader.number(value, "api.quotas.\(name)", range: 0...10_000_000) else { continue }
            do {
                try scenario.quotas.apply(name: name, value: number)
            } catch {
                reader.report(value, "api.quotas.\(name)", error.message)
            }
        }
    }

    package static func parseFile(atPath path: String) throws(PlanError) -> SimulationScenario {
        let text = try PlanFile.readText(atPath: path)
        return try parse(text, file: path)
    }
}

extension SimulationScenario {
    /// `health.gates: {gate-name: /json/pointer}` and `health.alarms: {AlarmName: {pointer, above}}`.
    static func readHealthGates(_ health: [String: Node], into model: inout HealthModel, reader: inout PlanNodeReader) {
        if let node = health["gates"], case .mapping(let pairs) = node {
            for (key, value) in pairs.prefix(64) {
                guard let name = key.string else { continue }
                let field = "health.gates.\(name)"
                var pointerNode = value
                if case .mapping = value {
                    guard let rule = reader.mapping(value, field, allowed: ["pointer", "series"]) else { continue }
                    if let series = rule["series"], let text = reader.string(series, "\(field).series") {
                        guard text == "hardware" else {
                            reader.report(series, "\(field).series", "expected hardware (one series per hardware model), "
                                          + "not `\(text)`")
                            continue
                        }
                        model.gatesPerHardware.insert(name)
                    }
                    guard let pointer = rule["pointer"] else {
                        reader.report(value, "\(field).pointer", "missing; expected a JSON pointer such as /release/crashRate")
                        continue
                    }
                    pointerNode = pointer
                }
                guard let pointer = reader.string(pointerNode, field) else { continue }
                guard JSONPointer.isValid(pointer) else {
                    reader.report(pointerNode, field, "expected a JSON pointer into the health document, "
                                  + "e.g. /release/crashRate, found `\(pointer)`")
                    continue
                }
                model.gateValues[name] = pointer
            }
        } else if let node = health["gates"] {
            reader.report(node, "health.gates", "expected a mapping of gate names to JSON pointers (or to {pointer, "
                          + "series: hardware})")
        }
        if let node = health["alarms"], case .mapping(let pairs) = node {
            for (key, value) in pairs.prefix(100) {
                guard let name = key.string else { continue }
                let field = "health.alarms.\(name)"
                guard let rule = reader.mapping(value, field, allowed: ["pointer", "above"]) else { continue }
                let pointer = rule["pointer"].flatMap { reader.string($0, "\(field).pointer") } ?? HealthModel.gateValueDefault
                guard JSONPointer.isValid(pointer) else {
                    reader.report(rule["pointer"], "\(field).pointer", "expected a JSON pointer, found `\(pointer)`")
                    continue
                }
                guard let aboveNode = rule["above"], let above = reader.number(aboveNode, "\(field).above", range: -1e12...1e12)
                else {
                    if rule["above"] == nil { reader.report(value, "\(field).above", "missing; expected the value above which the alarm fires") }
                    continue
                }
                model.alarms[name] = SimulatedAlarm(pointer: pointer, above: above)
            }
        } else if let node = health["alarms"] {
            reader.report(node, "health.alarms", "expected a mapping of alarm names to {pointer, above}")
        }
    }
}
