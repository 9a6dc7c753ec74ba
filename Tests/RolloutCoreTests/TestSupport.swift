import Foundation
@testable import RolloutCore

/// The repository root, found from this file's path (tests read `workflows/` as fixtures).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func date(_ text: String) -> Date {
    PlanParser.parseTimestamp(text)!
}

/// A small valid plan, with `extra` YAML appended (later keys must not repeat earlier ones).
func planText(canary: String = "canary: {devices: 10, bake: 30m}",
              waves: String = "waves:\n  - {percent: 50, bake: 1h}\n  - {percent: 100, bake: 1h}",
              extra: String = "") -> String {
    """
    name: test-plan
    release: {firmware: fw, version: 2.0.0, artifact: s3://firmware-bucket/fw/2.0.0.bin}
    rollback: {version: 1.0.0, artifact: s3://firmware-bucket/fw/1.0.0.bin}
    fleet: {thingGroup: fleet}
    \(canary)
    \(waves)
    \(extra)
    """
}

func parsePlan(_ text: String) throws -> RolloutPlan {
    try PlanParser.parse(text, file: "plan.yaml")
}

func planErrors(_ text: String) -> [PlanIssue] {
    do {
        _ = try PlanParser.parse(text, file: "plan.yaml")
        return []
    } catch {
        return error.issues
    }
}

/// Reads a plan file and parses it as the shell does (paths resolved against its directory and checked).
func parsePlanFile(_ path: String) throws -> RolloutPlan {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try PlanParser.parse(text, file: path, baseDirectory: (path as NSString).deletingLastPathComponent,
                                fileExists: { FileManager.default.fileExists(atPath: $0) })
}
