import Foundation
import Testing
@testable import RolloutCore

@Suite struct PlanParserTests {
    @Test func parsesTheExampleWorkflowsWithDefaults() throws {
        for name in ["canary-3-waves", "windowed-approval", "broken-gate"] {
            let plan = try parsePlanFile("\(repositoryRoot)/workflows/\(name).yaml")
            #expect(!plan.waves.isEmpty)
        }
        let plan = try parsePlanFile("\(repositoryRoot)/workflows/canary-3-waves.yaml")
        #expect(plan.name == "sensor-fw-2-1-0")
        #expect(plan.canary.target == .percent(1))
        #expect(plan.canary.bakeDurationSeconds == 1800)
        #expect(plan.waves.map(\.name) == ["wave-1", "wave-2", "wave-3"])
        #expect(plan.waves.map(\.target) == [.percent(10), .percent(50), .percent(100)])
        #expect(plan.gates.metrics.first?.pointer == "/release/crashRate")
        #expect(plan.job.retriesOnFailure == 1)
        #expect(plan.onFailure == .rollback)
        if case .file(let path) = plan.release.artifact {
            #expect(path.hasSuffix("workflows/firmware/sensor-fw-2.1.0.bin"))
        } else {
            Issue.record("expected a local artifact")
        }
    }

    @Test func fillsDefaults() throws {
        let plan = try parsePlan(planText())
        #expect(plan.gates == GateSet())
        #expect(plan.schedule.windows.isEmpty)
        #expect(plan.schedule.evidenceTimeoutSeconds == 86400)
        #expect(plan.job.inProgressTimeoutSeconds == 1800)
        #expect(plan.waves[0].approvalRequired == false)
        #expect(plan.release.artifact == .s3(bucket: "firmware-bucket", key: "fw/2.0.0.bin"))
    }

    @Test func acceptsJSON() throws {
        let json = """
            {"name": "json-plan", "release": {"firmware": "fw", "version": "2.0.0", "artifact": "s3://bucket-a/k"},
             "onFailure": "pause", "fleet": {}, "canary": {"devices": 5, "bake": "10m"},
             "waves": [{"percent": 100, "bake": "1h", "approval": "required"}]}
            """
        let plan = try parsePlan(json)
        #expect(plan.name == "json-plan")
        #expect(plan.waves[0].approvalRequired)
        #expect(plan.rollback == nil)
    }

    @Test func unknownKeyNamesLineColumnAndSuggestion() {
        let issues = planErrors(planText(extra: "gates:\n  jobOutcomes:\n    failedMaxPercnt: 5"))
        #expect(issues.count == 1)
        let issue = issues[0]
        #expect(issue.file == "plan.yaml")
        #expect(issue.line == 11)
        #expect(issue.column == 5)
        #expect(issue.field == "gates.jobOutcomes.failedMaxPercnt")
        #expect(issue.message.contains("did you mean `failedMaxPercent`"))
        #expect(issue.description.hasPrefix("plan.yaml:11:5: gates.jobOutcomes.failedMaxPercnt: unknown key"))
    }

    @Test func impossibleNumbersAreErrors() {
        let negativeBake = planErrors(planText(canary: "canary: {devices: 10, bake: -5m}"))
        #expect(negativeBake.map(\.field) == ["canary.bake"])
        #expect(negativeBake[0].message.contains("expected a duration"))

        let overHundred = planErrors(planText(waves: "waves:\n  - {percent: 120, bake: 1h}"))
        #expect(overHundred.map(\.field) == ["waves[0].percent"])
        #expect(overHundred[0].message.contains("0…100"))

        let decreasing = planErrors(planText(waves: "waves:\n  - {percent: 50, bake: 1h}\n  - {percent: 30, bake: 1h}"))
        #expect(decreasing.map(\.field) == ["waves[1].percent"])
        #expect(decreasing[0].message.contains("cumulative"))

        let zeroDevices = planErrors(planText(canary: "canary: {devices: 0, bake: 1h}"))
        #expect(zeroDevices.map(\.field) == ["canary.devices"])
    }

    @Test func badCronAndTimeZoneAreErrors() {
        let issues = planErrors(planText(extra: """
            schedule:
              windows:
                - {cron: "0 25 * * *", duration: 4h, timeZone: Europe/Berlin}
                - {cron: "0 2 * * 1-5", duration: 4h, timeZone: Mars/Olympus}
            """))
        #expect(issues.map(\.field) == ["schedule.windows[0].cron", "schedule.windows[1].timeZone"])
        #expect(issues[0].message.contains("hour"))
        #expect(issues[1].message.contains("IANA"))
        #expect(issues[0].line == 11)
    }

    @Test func collectsEveryProblem() {
        let issues = planErrors("""
            name: "bad name!"
            release: {firmware: fw, version: 2.0.0}
            fleet: {}
            canary: {bake: 1h}
            waves: []
            """)
        let fields = Set(issues.map(\.field))
        #expect(fields.contains("name"))
        #expect(fields.contains("release.artifact"))
        #expect(fields.contains("canary"))
        #expect(fields.contains("rollback"))
    }

    @Test func missingSectionsAndEmptyFile() {
        #expect(planErrors("").first?.message.contains("empty") == true)
        let issues = planErrors("name: x\n")
        #expect(Set(issues.map(\.field)).isSuperset(of: ["release", "fleet", "canary"]))
    }

    @Test func syntaxErrorsHaveAPosition() {
        let issues = planErrors("name: x\nrelease: {firmware: fw\n")
        #expect(issues.count == 1)
        #expect(issues[0].line >= 2)
        #expect(issues[0].message.contains("not valid YAML"))
    }

    @Test func localArtifactMustExistWhenChecked() {
        let text = planText().replacingOccurrences(of: "s3://firmware-bucket/fw/2.0.0.bin", with: "missing.bin")
        do {
            _ = try PlanParser.parse(text, file: "p.yaml", baseDirectory: "/plans", fileExists: { _ in false })
            Issue.record("expected an error")
        } catch {
            #expect(error.issues.map(\.field) == ["release.artifact"])
            #expect(error.issues[0].message.contains("/plans/missing.bin"))
        }
    }

    @Test func badS3LocationsAreErrors() {
        let text = planText().replacingOccurrences(of: "s3://firmware-bucket/fw/2.0.0.bin", with: "s3://Bad_Bucket/")
        #expect(planErrors(text).map(\.field) == ["release.artifact"])
    }

    @Test func rollbackVersionMustDiffer() {
        let text = planText().replacingOccurrences(of: "version: 1.0.0", with: "version: 2.0.0")
        #expect(planErrors(text).map(\.field) == ["rollback.version"])
    }

    @Test func metricGateNeedsAThreshold() {
        let issues = planErrors(planText(extra: """
            gates:
              metrics:
                - {name: crash-rate, url: "https://m.example/x", pointer: "/a/b"}
            """))
        #expect(issues.map(\.field) == ["gates.metrics[0]"])
    }

    @Test func rolloutIdDerivesFromTheText() {
        let first = RolloutIdentity.rolloutId(planName: "p", planSource: "a")
        #expect(first == RolloutIdentity.rolloutId(planName: "p", planSource: "a"))
        #expect(first != RolloutIdentity.rolloutId(planName: "p", planSource: "b"))
        #expect(first.count == 10)
    }
}

@Suite struct PlanEncodingTests {
    @Test func planJSONReadsLikeThePlanAndRoundTrips() throws {
        let plan = try parsePlan(planText(canary: "canary: {group: lab, bake: 30m}"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(plan)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""target":{"group":"lab"}"#))
        #expect(text.contains(#""target":{"percent":50}"#))
        #expect(text.contains(#""artifact":"s3:\/\/firmware-bucket\/fw\/2.0.0.bin""#))
        #expect(try JSONDecoder().decode(RolloutPlan.self, from: data) == plan)
    }

    @Test("schedule.bakeIn and minimumDevicesReporting: read, and refused where they cannot work")
    func bakeClock() throws {
        let plan = try parsePlan(planText(extra: "schedule:\n  bakeIn: windows\n  minimumDevicesReporting: 50\n"
            + "  windows:\n    - {cron: \"0 2 * * *\", duration: 2h}"))
        #expect(plan.schedule.bakeIn == .windows && plan.schedule.minimumDevicesReporting == 50)
        #expect(try parsePlan(planText(extra: "schedule: {bakeIn: always}")).schedule.bakeIn == nil)
        let lonely = planErrors(planText(extra: "schedule: {bakeIn: windows}")).first
        #expect(lonely?.field == "schedule.bakeIn")
        #expect(lonely?.message == "`bakeIn: windows` counts bake time inside the maintenance windows; give schedule.windows")
        #expect(planErrors(planText(extra: "schedule: {bakeIn: nights}")).first?.message
                == "expected always (the default) or windows, not `nights`")
        #expect(planErrors(planText(extra: "schedule: {minimumDevicesReporting: 0}")).first?.field
                == "schedule.minimumDevicesReporting")
        let never = planErrors(planText(extra: "schedule:\n  bakeIn: windows\n  windows:\n    - {cron: \"0 2 30 2 *\", duration: 1h}"))
        #expect(never.first?.field == "schedule.bakeIn")
        #expect(never.first?.message == "the windows never add up to a bake of 1h (within 10,000 openings): that stage "
                + "would bake for ever")
    }

    @Test("job.document: the presets, a template read and checked with its file and line, errors naming the field")
    func jobDocument() throws {
        #expect(try parsePlan(planText(extra: "job: {document: nrf-fota}")).job.document == .nrfFOTA)
        #expect(try parsePlan(planText(extra: "job: {document: aws-ota}")).job.document == .awsOTA)
        #expect(try parsePlan(planText()).job.document == nil)
        let template = "{\"url\": \"${firmware.url}\",\n \"size\": ${firmware.size}}"
        let files = ["/plans/doc.json": template, "/plans/bad.json": "{\n\"a\": \"${firmware.md5}\"}"]
        func parse(_ extra: String, reader: ((String) -> String?)? = { files[$0] }) throws -> RolloutPlan {
            try PlanParser.parse(planText(extra: extra), file: "plan.yaml", baseDirectory: "/plans", readFile: reader)
        }
        #expect(try parse("job: {document: {template: doc.json}}").job.document
                == .template(path: "/plans/doc.json", text: template))
        // Without a reader (the API's file-free policy parse) the path is kept, unread.
        #expect(try parse("job: {document: {template: doc.json}}", reader: nil).job.document
                == .template(path: "/plans/doc.json", text: ""))
        func issue(_ extra: String) -> PlanIssue? {
            do {
                _ = try parse(extra)
                return nil
            } catch let error as PlanError {
                return error.issues.first
            } catch {
                return nil
            }
        }
        let bad = issue("job: {document: {template: bad.json}}")
        #expect(bad?.field == "job.document.template" && bad?.line == 9)
        #expect(bad?.message.hasPrefix("/plans/bad.json:2: unknown placeholder `${firmware.md5}`") == true, "\(bad?.message ?? "")")
        #expect(issue("job: {document: {template: missing.json}}")?.message == "cannot read /plans/missing.json (missing or not readable)")
        #expect(issue("job: {document: mender}")?.message
                == "expected aws-ota (the default), nrf-fota or {template: path/to/document.json}, not `mender`")
        #expect(issue("job: {document: {}}")?.field == "job.document.template")
        let arn = "arn:aws:iot:eu-west-1:123456789012:jobtemplate/sensor-ota"
        let templated = try parse("job: {templateArn: \"\(arn)\", rollbackTemplateArn: \"\(arn)-back\"}")
        #expect(templated.job.templateArn == arn && templated.job.rollbackTemplateArn == arn + "-back")
        #expect(issue("job: {templateArn: sensor-ota}")?.message.hasPrefix("expected a job template ARN such as") == true)
    }
}
