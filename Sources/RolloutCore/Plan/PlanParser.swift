import Foundation
import Yams

/// Turns plan text (YAML, or JSON, which is YAML too) into a validated `RolloutPlan`.
///
/// Pure: the only outside knowledge comes in as arguments (`baseDirectory` for relative artifact paths,
/// `fileExists` to check them). Every problem is reported with file, line, column and field.
package enum PlanParser {
    /// Plan names become part of job ids (`<name>-<8 hex>-<stage>` ≤ 64 chars), so they are short and plain.
    package static let nameLengthMax = 40
    package static let wavesMax = 20
    package static let windowsMax = 16
    package static let metricGatesMax = 8
    package static let webhooksMax = 8
    package static let planBytesMax = 1 << 20

    static let topLevelKeys = ["name", "release", "rollback", "fleet", "canary", "waves", "gates", "schedule",
                               "onFailure", "job", "notifications", "aws"]

    /// Parses and validates `text`.
    /// - Parameters:
    ///   - file: the name shown in errors.
    ///   - baseDirectory: relative artifact and key paths are resolved against it (nil keeps them as written).
    ///   - fileExists: when given, local artifact and key paths must exist.
    package static func parse(_ text: String, file: String, baseDirectory: String? = nil,
                             fileExists: ((String) -> Bool)? = nil) throws(PlanError) -> RolloutPlan {
        var reader = PlanNodeReader(file: file)
        guard text.utf8.count <= planBytesMax else {
            throw PlanError(issues: [PlanIssue(file: file, line: 0, column: 0, field: "",
                                               message: "plan is larger than \(planBytesMax) bytes")])
        }
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else {
                throw PlanError(issues: [PlanIssue(file: file, line: 0, column: 0, field: "",
                                                   message: "the plan is empty; expected a mapping with name, release, fleet, canary, waves")])
            }
            root = composed
        } catch let error as PlanError {
            throw error
        } catch let error as YamlError {
            throw PlanError(issues: [syntaxIssue(error, file: file)])
        } catch {
            throw PlanError(issues: [PlanIssue(file: file, line: 0, column: 0, field: "", message: "\(error)")])
        }
        var context = Context(baseDirectory: baseDirectory, fileExists: fileExists)
        let plan = context.readPlan(root, reader: &reader)
        if !reader.issues.isEmpty || plan == nil {
            let issues = reader.issues.isEmpty
                ? [PlanIssue(file: file, line: 0, column: 0, field: "", message: "invalid plan")] : reader.issues
            throw PlanError(issues: issues.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return plan!
    }

    static func syntaxIssue(_ error: YamlError, file: String) -> PlanIssue {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = context.map { "\($0.text) " } ?? ""
            return PlanIssue(file: file, line: mark.line, column: mark.column, field: "",
                             message: "not valid YAML or JSON: \(detail)\(problem)")
        default:
            return PlanIssue(file: file, line: 0, column: 0, field: "", message: "not valid YAML or JSON: \(error)")
        }
    }
}

extension PlanParser {
    /// The state of one parse: settings that resolve paths.
    struct Context {
        let baseDirectory: String?
        let fileExists: ((String) -> Bool)?

        func resolve(_ path: String) -> String {
            guard let baseDirectory, !path.hasPrefix("/") else { return path }
            if baseDirectory == "." { return path }
            return (baseDirectory as NSString).appendingPathComponent(path)
        }

        mutating func readPlan(_ root: Node, reader: inout PlanNodeReader) -> RolloutPlan? {
            guard let top = reader.mapping(root, "", allowed: PlanParser.topLevelKeys) else { return nil }
            func required(_ key: String, _ what: String) -> Node? {
                if let node = top[key] { return node }
                reader.report(root, key, "missing; expected \(what)")
                return nil
            }
            var name: String?
            if let node = required("name", "the plan's name, e.g. sensor-fw-2-1-0") {
                name = readName(node, reader: &reader)
            }
            let release = required("release", "firmware, version and artifact").flatMap { readRelease($0, reader: &reader) }
            let rollback = top["rollback"].flatMap { readRollback($0, reader: &reader) }
            let fleet = required("fleet", "thingGroup, selector, exclude").flatMap { readFleet($0, reader: &reader) }
            let gates = top["gates"].map { readGates($0, "gates", reader: &reader) } ?? GateSet()
            let canary = required("canary", "devices, percent or group, and bake").flatMap {
                readStage($0, "canary", name: "canary", reader: &reader)
            }
            var waves: [StageSpec] = []
            if let wavesNode = top["waves"], let items = reader.sequence(wavesNode, "waves") {
                if items.count > PlanParser.wavesMax {
                    reader.report(wavesNode, "waves", "at most \(PlanParser.wavesMax) waves, found \(items.count)")
                }
                for (index, item) in items.prefix(PlanParser.wavesMax).enumerated() {
                    if let wave = readStage(item, "waves[\(index)]", name: "wave-\(index + 1)", reader: &reader) {
                        waves.append(wave)
                    }
                }
            }
            let schedule = top["schedule"].map { readSchedule($0, reader: &reader) } ?? Schedule()
            var onFailure = FailurePolicy.rollback
            if let node = top["onFailure"], let text = reader.string(node, "onFailure") {
                if let policy = FailurePolicy(rawValue: text) {
                    onFailure = policy
                } else {
                    reader.report(node, "onFailure", "expected `rollback` or `pause`, found `\(text)`")
                }
            }
            let job = top["job"].map { readJob($0, reader: &reader) } ?? JobSettings()
            let notifications = top["notifications"].map { readNotifications($0, reader: &reader) } ?? []
            let aws = top["aws"].flatMap { readAWS($0, reader: &reader) }

            if onFailure == .rollback && rollback == nil && top["rollback"] == nil {
                reader.report(root, "rollback", "missing; `onFailure: rollback` (the default) needs the rollback "
                              + "target (version and artifact), or set `onFailure: pause`")
            }
            if let release, let rollback, rollback.version == release.version {
                reader.report(top["rollback"], "rollback.version", "must differ from release.version (\(release.version))")
            }
            if let canary {
                checkCumulativeShares([canary] + waves, top: top, reader: &reader)
            }
            guard let name, let release, let fleet, let canary, reader.issues.isEmpty else { return nil }
            return RolloutPlan(name: name, release: release, rollback: rollback, fleet: fleet, canary: canary,
                               waves: waves, gates: gates, schedule: schedule, onFailure: onFailure, job: job,
                               notifications: notifications, aws: aws)
        }

        func readName(_ node: Node, reader: inout PlanNodeReader) -> String? {
            guard let name = reader.nonEmptyString(node, "name") else { return nil }
            let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
            guard name.count <= PlanParser.nameLengthMax,
                  name.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
                reader.report(node, "name", "expected 1–\(PlanParser.nameLengthMax) characters of "
                              + "[a-zA-Z0-9_-] (it becomes part of AWS job ids), found `\(name)`")
                return nil
            }
            return name
        }

        func readArtifact(_ node: Node, _ field: String, reader: inout PlanNodeReader) -> ArtifactLocation? {
            guard let text = reader.nonEmptyString(node, field) else { return nil }
            if text.hasPrefix("s3://") {
                let rest = text.dropFirst("s3://".count)
                guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex,
                      rest.index(after: slash) != rest.endIndex else {
                    reader.report(node, field, "expected s3://bucket/key, found `\(text)`")
                    return nil
                }
                let bucket = String(rest[..<slash])
                let key = String(rest[rest.index(after: slash)...])
                guard PlanParser.isValidBucketName(bucket) else {
                    reader.report(node, field, "`\(bucket)` is not a valid S3 bucket name (3–63 lowercase letters, "
                                  + "digits, dots and hyphens)")
                    return nil
                }
                guard key.utf8.count <= 1024 else {
                    reader.report(node, field, "S3 keys are at most 1024 bytes")
                    return nil
                }
                return .s3(bucket: bucket, key: key)
            }
            if text.contains("://") {
                reader.report(node, field, "expected a local file path or s3://bucket/key, found `\(text)`")
                return nil
            }
            let path = resolve(text)
            if let fileExists, !fileExists(path) {
                reader.report(node, field, "file `\(path)` does not exist")
                return nil
            }
            return .file(path: path)
        }

        func readRelease(_ node: Node, reader: inout PlanNodeReader) -> Release? {
            guard let map = reader.mapping(node, "release", allowed: ["firmware", "version", "artifact", "signingKey"]) else {
                return nil
            }
            var firmware: String?, version: String?, artifact: ArtifactLocation?, signingKeyPath: String?
            if let value = map["firmware"] {
                firmware = readToken(value, "release.firmware", reader: &reader)
            } else {
                reader.report(node, "release.firmware", "missing; expected the firmware product name, e.g. sensor-fw")
            }
            if let value = map["version"] {
                version = readToken(value, "release.version", reader: &reader)
            } else {
                reader.report(node, "release.version", "missing; expected the version being rolled out, e.g. 2.1.0")
            }
            if let value = map["artifact"] {
                artifact = readArtifact(value, "release.artifact", reader: &reader)
            } else {
                reader.report(node, "release.artifact", "missing; expected a firmware file path or s3://bucket/key")
            }
            if let value = map["signingKey"], let path = reader.nonEmptyString(value, "release.signingKey") {
                let resolved = resolve(path)
                if let fileExists, !fileExists(resolved) {
                    reader.report(value, "release.signingKey", "file `\(resolved)` does not exist")
                } else {
                    signingKeyPath = resolved
                }
            }
            guard let firmware, let version, let artifact else { return nil }
            return Release(firmware: firmware, version: version, artifact: artifact, signingKeyPath: signingKeyPath)
        }

        /// Versions and product names become S3 key segments: keep them to safe characters.
        func readToken(_ node: Node, _ field: String, reader: inout PlanNodeReader) -> String? {
            guard let text = reader.nonEmptyString(node, field) else { return nil }
            let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
            guard text.count <= 64, text.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
                reader.report(node, field, "expected 1–64 characters of [a-zA-Z0-9._+-], found `\(text)`")
                return nil
            }
            return text
        }

        func readRollback(_ node: Node, reader: inout PlanNodeReader) -> RollbackTarget? {
            guard let map = reader.mapping(node, "rollback", allowed: ["version", "artifact"]) else { return nil }
            var version: String?, artifact: ArtifactLocation?
            if let value = map["version"] {
                version = readToken(value, "rollback.version", reader: &reader)
            } else {
                reader.report(node, "rollback.version", "missing; expected the version to put back, e.g. 2.0.3")
            }
            if let value = map["artifact"] {
                artifact = readArtifact(value, "rollback.artifact", reader: &reader)
            } else {
                reader.report(node, "rollback.artifact", "missing; expected the previous firmware's file path or s3://bucket/key")
            }
            guard let version, let artifact else { return nil }
            return RollbackTarget(version: version, artifact: artifact)
        }

        func readFleet(_ node: Node, reader: inout PlanNodeReader) -> FleetSelection? {
            guard let map = reader.mapping(node, "fleet", allowed: ["thingGroup", "selector", "exclude"]) else { return nil }
            var fleet = FleetSelection()
            if let value = map["thingGroup"] {
                fleet.thingGroup = readGroupName(value, "fleet.thingGroup", reader: &reader)
            }
            if let value = map["selector"], case .mapping(let selector) = value {
                for (keyNode, valuesNode) in selector {
                    guard let key = reader.nonEmptyString(keyNode, "fleet.selector") else { continue }
                    guard let values = reader.stringList(valuesNode, "fleet.selector.\(key)") else { continue }
                    if values.isEmpty {
                        reader.report(valuesNode, "fleet.selector.\(key)", "expected at least one accepted value")
                    }
                    fleet.selector[key] = values
                }
            } else if let value = map["selector"] {
                reader.report(value, "fleet.selector", "expected a mapping of device attribute to accepted values, "
                              + "e.g. {hardwareRevision: [B, C]}")
            }
            if let value = map["exclude"], let devices = reader.stringList(value, "fleet.exclude") {
                fleet.exclude = devices
            }
            return fleet
        }

        func readGroupName(_ node: Node, _ field: String, reader: inout PlanNodeReader) -> String? {
            guard let name = reader.nonEmptyString(node, field) else { return nil }
            let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-")
            guard name.count <= 128, name.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
                reader.report(node, field, "expected a thing group name: 1–128 characters of [a-zA-Z0-9:_-], found `\(name)`")
                return nil
            }
            return name
        }

        func readStage(_ node: Node, _ field: String, name: String, reader: inout PlanNodeReader) -> StageSpec? {
            guard let map = reader.mapping(node, field, allowed: ["devices", "percent", "group", "bake", "approval", "gates"]) else {
                return nil
            }
            let targetKeys = ["devices", "percent", "group"].filter { map[$0] != nil }
            guard targetKeys.count == 1 else {
                let found = targetKeys.isEmpty ? "none" : targetKeys.joined(separator: " and ")
                reader.report(node, field, "expected exactly one of `devices` (a count), `percent` (cumulative share "
                              + "of the fleet) or `group` (a thing group), found \(found)")
                return nil
            }
            var target: StageTarget?
            if let value = map["devices"] {
                target = reader.integer(value, "\(field).devices", range: 1...10_000_000).map { .devices($0) }
            } else if let value = map["percent"] {
                if let share = reader.number(value, "\(field).percent", range: 0...100, unit: "%") {
                    if share == 0 {
                        reader.report(value, "\(field).percent", "expected more than 0%")
                    } else {
                        target = .percent(share)
                    }
                }
            } else if let value = map["group"] {
                target = readGroupName(value, "\(field).group", reader: &reader).map { .group($0) }
            }
            var bake = 0
            if let value = map["bake"] {
                bake = reader.duration(value, "\(field).bake") ?? 0
            } else if field == "canary" {
                reader.report(node, "canary.bake", "missing; expected how long the canary runs before its gates "
                              + "may pass, e.g. 30m")
            }
            var approvalRequired = false
            if let value = map["approval"], let text = reader.string(value, "\(field).approval") {
                switch text {
                case "required": approvalRequired = true
                case "none": approvalRequired = false
                default: reader.report(value, "\(field).approval", "expected `required` or `none`, found `\(text)`")
                }
            }
            let gates = map["gates"].map { readGates($0, "\(field).gates", reader: &reader) }
            guard let target else { return nil }
            return StageSpec(name: name, target: target, bakeDurationSeconds: bake, approvalRequired: approvalRequired,
                             gates: gates)
        }

        /// Percent stages are cumulative, so each must be above the one before it.
        func checkCumulativeShares(_ stages: [StageSpec], top: [String: Node], reader: inout PlanNodeReader) {
            var previous: (share: Double, name: String)?
            for (index, stage) in stages.enumerated() {
                guard case .percent(let share) = stage.target else { continue }
                if let previous, share <= previous.share {
                    let field = index == 0 ? "canary.percent" : "waves[\(index - 1)].percent"
                    let node = index == 0 ? top["canary"] : top["waves"].flatMap { waves -> Node? in
                        guard case .sequence(let items) = waves, index - 1 < items.count else { return nil }
                        return items[index - 1]["percent"]
                    }
                    reader.report(node, field, "percentages are cumulative shares of the fleet, so each must be above "
                                  + "the previous one: \(PercentText.format(share)) follows \(previous.name) at "
                                  + "\(PercentText.format(previous.share))")
                }
                previous = (share, stage.name)
            }
        }

        func readGates(_ node: Node, _ field: String, reader: inout PlanNodeReader) -> GateSet {
            var gates = GateSet()
            guard let map = reader.mapping(node, field, allowed: ["jobOutcomes", "metrics"]) else { return gates }
            if let value = map["jobOutcomes"],
               let outcomes = reader.mapping(value, "\(field).jobOutcomes", allowed: [
                   "failedMaxPercent", "timedOutMaxPercent", "rejectedMaxPercent", "executedMin", "completedMinPercent",
               ]) {
                let path = "\(field).jobOutcomes"
                if let value = outcomes["failedMaxPercent"],
                   let number = reader.number(value, "\(path).failedMaxPercent", range: 0...100, unit: "%") {
                    gates.jobOutcomes.failedMaxPercent = number
                }
                if let value = outcomes["timedOutMaxPercent"],
                   let number = reader.number(value, "\(path).timedOutMaxPercent", range: 0...100, unit: "%") {
                    gates.jobOutcomes.timedOutMaxPercent = number
                }
                if let value = outcomes["rejectedMaxPercent"],
                   let number = reader.number(value, "\(path).rejectedMaxPercent", range: 0...100, unit: "%") {
                    gates.jobOutcomes.rejectedMaxPercent = number
                }
                if let value = outcomes["executedMin"],
                   let number = reader.integer(value, "\(path).executedMin", range: 1...10_000_000) {
                    gates.jobOutcomes.executedMin = number
                }
                if let value = outcomes["completedMinPercent"],
                   let number = reader.number(value, "\(path).completedMinPercent", range: 0...100, unit: "%") {
                    gates.jobOutcomes.completedMinPercent = number
                }
            }
            if let value = map["metrics"], let items = reader.sequence(value, "\(field).metrics") {
                if items.count > PlanParser.metricGatesMax {
                    reader.report(value, "\(field).metrics", "at most \(PlanParser.metricGatesMax) metric gates")
                }
                var names: Set<String> = []
                for (index, item) in items.prefix(PlanParser.metricGatesMax).enumerated() {
                    if let metric = readMetric(item, "\(field).metrics[\(index)]", reader: &reader) {
                        if !names.insert(metric.name).inserted {
                            reader.report(item, "\(field).metrics[\(index)].name", "duplicate metric gate name `\(metric.name)`")
                        }
                        gates.metrics.append(metric)
                    }
                }
            }
            return gates
        }

        func readMetric(_ node: Node, _ field: String, reader: inout PlanNodeReader) -> MetricGate? {
            guard let map = reader.mapping(node, field, allowed: ["name", "url", "pointer", "max", "min"]) else { return nil }
            var name: String?, url: String?, pointer = "", max: Double?, min: Double?
            if let value = map["name"] { name = readToken(value, "\(field).name", reader: &reader) } else {
                reader.report(node, "\(field).name", "missing; expected a short name such as crash-rate")
            }
            if let value = map["url"], let text = reader.nonEmptyString(value, "\(field).url") {
                if text.hasPrefix("http://") || text.hasPrefix("https://") || text.hasPrefix("sim://") {
                    url = text
                } else {
                    reader.report(value, "\(field).url", "expected an http:// or https:// URL (or sim://health in "
                                  + "simulation), found `\(text)`")
                }
            } else if map["url"] == nil {
                reader.report(node, "\(field).url", "missing; expected the URL of a JSON document")
            }
            if let value = map["pointer"], let text = reader.string(value, "\(field).pointer") {
                if JSONPointer.isValid(text) {
                    pointer = text
                } else {
                    reader.report(value, "\(field).pointer", "expected a JSON pointer such as /data/crashRate, found `\(text)`")
                }
            }
            if let value = map["max"] { max = reader.number(value, "\(field).max", range: -1e12...1e12) }
            if let value = map["min"] { min = reader.number(value, "\(field).min", range: -1e12...1e12) }
            if map["max"] == nil && map["min"] == nil {
                reader.report(node, field, "expected a threshold: `max` (fail above) and/or `min` (fail below)")
            }
            if let max, let min, min > max {
                reader.report(node, field, "`min` (\(min)) is above `max` (\(max))")
            }
            guard let name, let url else { return nil }
            return MetricGate(name: name, url: url, pointer: pointer, max: max, min: min)
        }

        func readSchedule(_ node: Node, reader: inout PlanNodeReader) -> Schedule {
            var schedule = Schedule()
            guard let map = reader.mapping(node, "schedule", allowed: ["notBefore", "windows", "evidenceTimeout"]) else {
                return schedule
            }
            if let value = map["notBefore"], let text = reader.string(value, "schedule.notBefore") {
                if let date = PlanParser.parseTimestamp(text) {
                    schedule.notBefore = date
                } else {
                    reader.report(value, "schedule.notBefore", "expected an RFC 3339 time with offset, e.g. "
                                  + "2026-12-01T08:00:00Z or 2026-12-01T09:00:00+01:00, found `\(text)`")
                }
            }
            if let value = map["evidenceTimeout"],
               let seconds = reader.duration(value, "schedule.evidenceTimeout", minimumSeconds: 60) {
                schedule.evidenceTimeoutSeconds = seconds
            }
            if let value = map["windows"], let items = reader.sequence(value, "schedule.windows") {
                if items.count > PlanParser.windowsMax {
                    reader.report(value, "schedule.windows", "at most \(PlanParser.windowsMax) windows")
                }
                for (index, item) in items.prefix(PlanParser.windowsMax).enumerated() {
                    if let window = readWindow(item, "schedule.windows[\(index)]", reader: &reader) {
                        schedule.windows.append(window)
                    }
                }
            }
            return schedule
        }

        func readWindow(_ node: Node, _ field: String, reader: inout PlanNodeReader) -> MaintenanceWindow? {
            guard let map = reader.mapping(node, field, allowed: ["cron", "duration", "timeZone"]) else { return nil }
            var cron: CronExpression?, duration: Int?, timeZone: TimeZone?
            if let value = map["cron"], let text = reader.nonEmptyString(value, "\(field).cron") {
                do {
                    cron = try CronExpression(parsing: text)
                } catch {
                    reader.report(value, "\(field).cron", "\(error.message) (5 fields: minute hour day-of-month month "
                                  + "day-of-week)")
                }
            } else if map["cron"] == nil {
                reader.report(node, "\(field).cron", "missing; expected a 5-field cron such as \"0 2 * * 1-5\"")
            }
            if let value = map["duration"] {
                duration = reader.duration(value, "\(field).duration", minimumSeconds: 60, maximumSeconds: 7 * 86400)
            } else {
                reader.report(node, "\(field).duration", "missing; expected how long the window stays open, e.g. 4h")
            }
            if let value = map["timeZone"], let text = reader.nonEmptyString(value, "\(field).timeZone") {
                if let zone = TimeZone(identifier: text), text.contains("/") || text == "UTC" {
                    timeZone = zone
                } else {
                    reader.report(value, "\(field).timeZone", "expected an IANA time zone such as Europe/Berlin or "
                                  + "UTC, found `\(text)`")
                }
            } else if map["timeZone"] == nil {
                timeZone = TimeZone(identifier: "UTC")
            }
            guard let cron, let duration, let timeZone else { return nil }
            return MaintenanceWindow(cron: cron, durationSeconds: duration, timeZone: timeZone)
        }

        func readJob(_ node: Node, reader: inout PlanNodeReader) -> JobSettings {
            var job = JobSettings()
            guard let map = reader.mapping(node, "job", allowed: ["inProgressTimeout", "maxPerMinute", "retries", "cancelForce"]) else {
                return job
            }
            if let value = map["inProgressTimeout"] {
                // AWS accepts 1 minute to 7 days.
                job.inProgressTimeoutSeconds = reader.duration(value, "job.inProgressTimeout", minimumSeconds: 60,
                                                               maximumSeconds: 7 * 86400)
            }
            if let value = map["maxPerMinute"] {
                job.maxPerMinute = reader.integer(value, "job.maxPerMinute", range: 1...1000)
            }
            if let value = map["retries"], let retries = reader.mapping(value, "job.retries", allowed: ["failed", "timedOut"]) {
                if let count = retries["failed"] {
                    job.retriesOnFailure = reader.integer(count, "job.retries.failed", range: 0...10) ?? 0
                }
                if let count = retries["timedOut"] {
                    job.retriesOnTimeout = reader.integer(count, "job.retries.timedOut", range: 0...10) ?? 0
                }
            }
            if let value = map["cancelForce"] {
                job.cancelForce = reader.boolean(value, "job.cancelForce") ?? false
            }
            return job
        }

        func readNotifications(_ node: Node, reader: inout PlanNodeReader) -> [WebhookTarget] {
            guard let map = reader.mapping(node, "notifications", allowed: ["webhooks"]),
                  let value = map["webhooks"], let urls = reader.stringList(value, "notifications.webhooks") else {
                return []
            }
            if urls.count > PlanParser.webhooksMax {
                reader.report(value, "notifications.webhooks", "at most \(PlanParser.webhooksMax) webhooks")
            }
            var targets: [WebhookTarget] = []
            for url in urls.prefix(PlanParser.webhooksMax) {
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    reader.report(value, "notifications.webhooks", "expected http:// or https:// URLs, found `\(url)`")
                    continue
                }
                targets.append(WebhookTarget(url: url))
            }
            return targets
        }

        func readAWS(_ node: Node, reader: inout PlanNodeReader) -> AWSPlanSettings? {
            guard let map = reader.mapping(node, "aws", allowed: ["bucket", "presignedUrlRoleArn", "presignedUrlExpires", "region"]) else {
                return nil
            }
            var bucket: String?
            if let value = map["bucket"], let text = reader.nonEmptyString(value, "aws.bucket") {
                if PlanParser.isValidBucketName(text) {
                    bucket = text
                } else {
                    reader.report(value, "aws.bucket", "`\(text)` is not a valid S3 bucket name")
                }
            } else if map["bucket"] == nil {
                reader.report(node, "aws.bucket", "missing; expected the bucket for firmware and job documents")
            }
            var settings = AWSPlanSettings(bucket: bucket ?? "")
            if let value = map["presignedUrlRoleArn"], let text = reader.nonEmptyString(value, "aws.presignedUrlRoleArn") {
                if text.hasPrefix("arn:") {
                    settings.presignedUrlRoleArn = text
                } else {
                    reader.report(value, "aws.presignedUrlRoleArn", "expected an IAM role ARN (arn:aws:iam::…:role/…)")
                }
            }
            if let value = map["presignedUrlExpires"],
               let seconds = reader.duration(value, "aws.presignedUrlExpires", minimumSeconds: 60, maximumSeconds: 3600) {
                settings.presignedUrlExpiresSeconds = seconds
            }
            if let value = map["region"], let text = reader.nonEmptyString(value, "aws.region") {
                settings.region = text
            }
            return bucket == nil ? nil : settings
        }
    }

    /// S3 bucket naming rules (the common subset).
    static func isValidBucketName(_ name: String) -> Bool {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789.-")
        return (3...63).contains(name.count) && name.unicodeScalars.allSatisfy { allowed.contains($0) }
            && (name.first!.isLetter || name.first!.isNumber)
    }

    /// RFC 3339 with an explicit offset; a bare date or local time is ambiguous and refused.
    package static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
