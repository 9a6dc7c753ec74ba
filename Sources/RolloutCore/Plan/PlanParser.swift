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
    /// Where `bakeIn: windows` is checked to end at all (any instant would do: window rules repeat).
    static let windowCheckStart = Date(timeIntervalSince1970: 1_767_225_600)
    package static let webhooksMax = 8
    package static let planBytesMax = 1 << 20

    static let topLevelKeys = ["name", "release", "rollback", "fleet", "canary", "waves", "gates", "schedule",
                               "onFailure", "job", "notifications", "aws"]

    /// Parses and validates `text`.
    /// - Parameters:
    ///   - file: the name shown in errors.
    ///   - baseDirectory: relative artifact and key paths are resolved against it (nil keeps them as written).
    ///   - fileExists: when given, local artifact and key paths must exist.
    ///   - readFile: when given, reads a job document template (`job.document: {template: …}`), which is then checked
    ///     (placeholders, JSON, size) and kept in the plan; without it the template's text stays empty (a parse
    ///     that must not touch the file system, such as the API's policy check).
    package static func parse(_ text: String, file: String, baseDirectory: String? = nil,
                             fileExists: ((String) -> Bool)? = nil,
                             readFile: ((String) -> String?)? = nil) throws(PlanError) -> RolloutPlan {
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
        var context = Context(baseDirectory: baseDirectory, fileExists: fileExists, readFile: readFile)
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
        let readFile: ((String) -> String?)?

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
            if schedule.bakeIn == .windows, !schedule.windows.isEmpty,
               let longest = ([canary] + waves).compactMap({ $0?.bakeDurationSeconds }).max(), longest > 0,
               WindowSchedule.endOfOpenTime(from: PlanParser.windowCheckStart, seconds: longest,
                                            windows: schedule.windows) == nil {
                reader.report(top["schedule"], "schedule.bakeIn", "the windows never add up to a bake of "
                              + "\(DurationText.format(longest)) (within 10,000 openings): that stage would bake for ever")
            }
            let gateSets = [gates] + ([canary] + waves).compactMap { $0?.gates }
            if top["rollback"] == nil, gateSets.contains(where: { $0.jobOutcomes.baseline != nil }) {
                reader.report(top["gates"] ?? root, "gates.jobOutcomes.baseline", "a baseline compares with the failure "
                              + "rate of the rollback version on this fleet; the plan names no rollback")
            }
            // A rollout keeps one baseline: every gate set that has one must have the same.
            let baselines = gateSets.filter { $0.jobOutcomes.baseline != nil }
                .map { [$0.jobOutcomes.baseline?.rawValue ?? "", $0.jobOutcomes.baselineMetric.map { "\($0)" } ?? ""] }
            if Set(baselines).count > 1 {
                reader.report(top["gates"] ?? root, "gates.jobOutcomes.baseline", "the stages name different baselines; "
                              + "a rollout compares with one (set it once under the plan's `gates`, or the same in each)")
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
            guard let map = reader.mapping(node, "fleet", allowed: ["thingGroup", "selector", "exclude", "targeting"]) else {
                return nil
            }
            var fleet = FleetSelection()
            if let value = map["targeting"], let text = reader.nonEmptyString(value, "fleet.targeting") {
                if let targeting = FleetTargeting(rawValue: text) {
                    fleet.targeting = targeting
                } else {
                    reader.report(value, "fleet.targeting", "expected one of: "
                                  + FleetTargeting.allCases.map(\.rawValue).joined(separator: ", "))
                }
            }
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
    }
}

extension PlanParser {
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
