import Foundation
import Testing
@testable import RolloutCore

/// The shipped JSON Schema agrees with the parser on the example plans (checked by an independent validator,
/// Python's `jsonschema`, so the schema itself is exercised).
@Suite struct PlanSchemaTests {
    func validate(_ files: [String]) throws -> (status: Int32, output: String) {
        let script = """
            import json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            bad = 0
            for path in sys.argv[2:]:
                document = yaml.safe_load(open(path))
                def stringify(value):  # YAML reads 2026-12-07T00:00:00Z as a datetime; plans treat it as text
                    if isinstance(value, dict): return {k: stringify(v) for k, v in value.items()}
                    if isinstance(value, list): return [stringify(v) for v in value]
                    if hasattr(value, "isoformat"): return value.isoformat()
                    return value
                errors = list(jsonschema.Draft202012Validator(schema).iter_errors(stringify(document)))
                for error in errors:
                    print(path, list(error.path), error.message)
                bad += bool(errors)
            sys.exit(1 if bad else 0)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, "\(repositoryRoot)/workflows/plan.schema.json"] + files
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func examplePlansMatchTheSchema() throws {
        let plans = ["canary-3-waves", "windowed-approval", "broken-gate", "metric-gates"].map { "\(repositoryRoot)/workflows/\($0).yaml" }
        let result = try validate(plans)
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func schemaRejectsWhatTheParserRejects() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = [
            "unknown-key": planText(extra: "colour: blue"),
            "over-100": planText(waves: "waves:\n  - {percent: 120, bake: 1h}"),
            "negative-bake": planText(canary: "canary: {devices: 10, bake: -5m}"),
            "two-targets": planText(canary: "canary: {devices: 10, percent: 5, bake: 1h}"),
        ]
        for (name, text) in bad {
            let path = directory.appendingPathComponent("\(name).yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try validate([path]).status != 0, "\(name) should be refused by the schema")
        }
    }

    /// The schema states the same job limits as the parser (`PlanLimits`). Durations are strings in the schema
    /// (`30m`), so their ranges are checked by the parser only.
    @Test func schemaStatesThePlanLimits() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(repositoryRoot)/workflows/plan.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let job = ((schema["properties"] as? [String: Any])?["job"] as? [String: Any])?["properties"] as? [String: Any]
        let rate = try #require(job?["maxPerMinute"] as? [String: Any])
        #expect(rate["minimum"] as? Int == PlanLimits.maxPerMinute.lowerBound)
        #expect(rate["maximum"] as? Int == PlanLimits.maxPerMinute.upperBound)
        let retries = (job?["retries"] as? [String: Any])?["properties"] as? [String: Any]
        for kind in ["failed", "timedOut"] {
            let range = try #require(retries?[kind] as? [String: Any])
            #expect(range["minimum"] as? Int == PlanLimits.retries.lowerBound, "\(kind)")
            #expect(range["maximum"] as? Int == PlanLimits.retries.upperBound, "\(kind)")
        }
    }

    /// Every field a metric gate may have is in the schema, and nothing else.
    @Test func schemaKnowsEveryMetricField() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(repositoryRoot)/workflows/plan.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let gates = ((schema["$defs"] as? [String: Any])?["gates"] as? [String: Any])?["properties"] as? [String: Any]
        let item = ((gates?["metrics"] as? [String: Any])?["items"] as? [String: Any])?["properties"] as? [String: Any]
        #expect(Set(item?.keys.map { $0 } ?? []) == Set(PlanParser.Context.metricFields))
    }
}
