import Foundation
import Yams

/// The readers of a plan's settings sections: gates, schedule and windows, job, notifications, AWS.
extension PlanParser.Context {
    func readGates(_ node: Node, _ field: String, reader: inout PlanNodeReader) -> GateSet {
        var gates = GateSet()
        guard let map = reader.mapping(node, field, allowed: ["jobOutcomes", "metrics"]) else { return gates }
        if let value = map["jobOutcomes"],
           let outcomes = reader.mapping(value, "\(field).jobOutcomes", allowed: [
               "failedMaxPercent", "timedOutMaxPercent", "rejectedMaxPercent", "executedMin", "completedMinPercent",
               "method", "confidence", "baseline",
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
            readOutcomeMethod(outcomes, path, into: &gates.jobOutcomes, reader: &reader)
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

    /// `method: threshold | sequential` and `confidence` (percent, sequential only).
    func readOutcomeMethod(_ outcomes: [String: Node], _ path: String, into gate: inout OutcomeGate,
                           reader: inout PlanNodeReader) {
        if let value = outcomes["method"], let text = reader.nonEmptyString(value, "\(path).method") {
            if let method = OutcomeGate.Method(rawValue: text) {
                gate.method = method == .threshold ? nil : method
            } else {
                reader.report(value, "\(path).method", "expected threshold (the default) or sequential, not `\(text)`")
            }
        }
        if let value = outcomes["confidence"] {
            guard gate.method == .sequential else {
                reader.report(value, "\(path).confidence", "a confidence applies to `method: sequential` only")
                return
            }
            if let number = reader.number(value, "\(path).confidence", range: OutcomeGate.confidencePercentRange,
                                          unit: "%") {
                gate.confidencePercent = number
            }
        }
        if let value = outcomes["baseline"] {
            if case .mapping = value {
                if let map = reader.mapping(value, "\(path).baseline", allowed: ["metric"]) {
                    if let metric = map["metric"] {
                        gate.baseline = .metric
                        gate.baselineMetric = readMetric(metric, "\(path).baseline.metric", purpose: .baseline,
                                                         reader: &reader)
                    } else {
                        reader.report(value, "\(path).baseline.metric", "missing; expected the metric that reports the "
                                      + "previous firmware's failure rate in percent")
                    }
                }
            } else if let text = reader.nonEmptyString(value, "\(path).baseline") {
                if text == OutcomeGate.Baseline.previous.rawValue {
                    gate.baseline = .previous
                } else {
                    reader.report(value, "\(path).baseline", "expected previous (the previous firmware's failure rate "
                                  + "on this fleet, from this worker's history) or {metric: …} (as a metric reports it), "
                                  + "not `\(text)`")
                }
            }
        }
        if gate.method == .sequential, !(gate.failedMaxPercent > 0 && gate.failedMaxPercent < 100) {
            reader.report(outcomes["failedMaxPercent"] ?? outcomes["method"], "\(path).failedMaxPercent",
                          "a sequential gate needs a tolerated failure rate above 0% and below 100%")
        }
    }

    func readSchedule(_ node: Node, reader: inout PlanNodeReader) -> Schedule {
        var schedule = Schedule()
        guard let map = reader.mapping(node, "schedule", allowed: ["notBefore", "windows", "evidenceTimeout", "bakeIn",
                                                                   "minimumDevicesReporting"]) else {
            return schedule
        }
        if let value = map["bakeIn"], let text = reader.nonEmptyString(value, "schedule.bakeIn") {
            if let clock = Schedule.BakeClock(rawValue: text) {
                schedule.bakeIn = clock == .always ? nil : clock
            } else {
                reader.report(value, "schedule.bakeIn", "expected always (the default) or windows, not `\(text)`")
            }
            if schedule.bakeIn == .windows, map["windows"] == nil {
                reader.report(value, "schedule.bakeIn", "`bakeIn: windows` counts bake time inside the maintenance "
                              + "windows; give schedule.windows")
            }
        }
        if let value = map["minimumDevicesReporting"] {
            schedule.minimumDevicesReporting = reader.integer(value, "schedule.minimumDevicesReporting",
                                                              range: 1...10_000_000)
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
        guard let map = reader.mapping(node, "job", allowed: ["inProgressTimeout", "maxPerMinute", "retries", "cancelForce",
                                                              "document", "templateArn", "rollbackTemplateArn"]) else {
            return job
        }
        for (key, field) in [("templateArn", "job.templateArn"), ("rollbackTemplateArn", "job.rollbackTemplateArn")] {
            guard let value = map[key], let text = reader.nonEmptyString(value, field) else { continue }
            guard JobSettings.isJobTemplateArn(text) else {
                reader.report(value, field, "expected a job template ARN such as "
                              + "arn:aws:iot:eu-west-1:123456789012:jobtemplate/sensor-ota, found `\(text.prefix(200))`")
                continue
            }
            if key == "templateArn" { job.templateArn = text } else { job.rollbackTemplateArn = text }
        }
        if let value = map["document"] { job.document = readJobDocument(value, reader: &reader) }
        if let value = map["inProgressTimeout"] {
            job.inProgressTimeoutSeconds = reader.duration(
                value, "job.inProgressTimeout", minimumSeconds: PlanLimits.inProgressTimeoutSeconds.lowerBound,
                maximumSeconds: PlanLimits.inProgressTimeoutSeconds.upperBound)
        }
        if let value = map["maxPerMinute"] {
            job.maxPerMinute = reader.integer(value, "job.maxPerMinute", range: PlanLimits.maxPerMinute)
        }
        if let value = map["retries"], let retries = reader.mapping(value, "job.retries", allowed: ["failed", "timedOut"]) {
            if let count = retries["failed"] {
                job.retriesOnFailure = reader.integer(count, "job.retries.failed", range: PlanLimits.retries) ?? 0
            }
            if let count = retries["timedOut"] {
                job.retriesOnTimeout = reader.integer(count, "job.retries.timedOut", range: PlanLimits.retries) ?? 0
            }
        }
        if let value = map["cancelForce"] {
            job.cancelForce = reader.boolean(value, "job.cancelForce") ?? false
        }
        return job
    }

    /// `job.document`: `aws-ota`, `nrf-fota` or `{template: path}` (read with `readFile` and checked, its problems
    /// reported at the template's own line).
    func readJobDocument(_ node: Node, reader: inout PlanNodeReader) -> JobDocumentShape? {
        let field = "job.document"
        if case .mapping = node {
            guard let map = reader.mapping(node, field, allowed: ["template"]), let value = map["template"] else {
                reader.report(node, "\(field).template", "missing; expected the path of a JSON template")
                return nil
            }
            guard let written = reader.nonEmptyString(value, "\(field).template") else { return nil }
            let path = resolve(written)
            guard let readFile else { return .template(path: path, text: "") }
            guard let text = readFile(path) else {
                reader.report(value, "\(field).template", "cannot read \(path) (missing or not readable)")
                return nil
            }
            guard text.utf8.count <= JobDocumentRenderer.templateBytesMax else {
                reader.report(value, "\(field).template", "\(path) is larger than \(JobDocumentRenderer.templateBytesMax) bytes")
                return nil
            }
            for failure in JobDocumentRenderer.check(template: text, path: path) {
                reader.report(value, "\(field).template", (failure.line.map { "\(path):\($0): " } ?? "\(path): ")
                              + failure.message)
            }
            return .template(path: path, text: text)
        }
        guard let text = reader.nonEmptyString(node, field) else { return nil }
        switch text {
        case JobDocumentShape.awsOTA.name: return .awsOTA
        case JobDocumentShape.nrfFOTA.name: return .nrfFOTA
        default:
            reader.report(node, field, "expected aws-ota (the default), nrf-fota or {template: path/to/document.json}, "
                          + "not `\(text)`")
            return nil
        }
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
        guard let map = reader.mapping(node, "aws", allowed: ["bucket", "presignedUrlRoleArn", "presignedUrlExpires", "region",
                                                              "retention"]) else {
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
           let seconds = reader.duration(value, "aws.presignedUrlExpires",
                                          minimumSeconds: PlanLimits.presignedUrlExpiresSeconds.lowerBound,
                                          maximumSeconds: PlanLimits.presignedUrlExpiresSeconds.upperBound) {
            settings.presignedUrlExpiresSeconds = seconds
        }
        if let value = map["region"], let text = reader.nonEmptyString(value, "aws.region") {
            settings.region = text
        }
        if let value = map["retention"], value.string != "keep" {
            settings.retentionSeconds = reader.duration(value, "aws.retention", minimumSeconds: 3600,
                                                        maximumSeconds: 3650 * 86400)
        }
        return bucket == nil ? nil : settings
    }
}
