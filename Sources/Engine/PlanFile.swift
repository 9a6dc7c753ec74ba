import Foundation
import RolloutCore

/// Plan files on disk: the file I/O the pure `PlanParser` leaves to the shell.
package enum PlanFile {
    /// Reads a plan file once and parses that very text (the text hashed into the rollout id is the text parsed),
    /// resolving relative artifact and key paths against the file's directory and checking that they exist.
    package static func load(atPath path: String) throws(PlanError) -> (source: String, plan: RolloutPlan) {
        let text = try readText(atPath: path)
        let directory = (path as NSString).deletingLastPathComponent
        let plan = try PlanParser.parse(text, file: path, baseDirectory: directory.isEmpty ? "." : directory,
                                        fileExists: { FileManager.default.fileExists(atPath: $0) },
                                        readFile: readTemplate(atPath:))
        return (text, plan)
    }

    /// A job document template's text, at most one byte over `JobDocumentRenderer.templateBytesMax` (the parser
    /// then says it is too large); nil when unreadable or not UTF-8.
    package static func readTemplate(atPath path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: JobDocumentRenderer.templateBytesMax + 1) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    /// The text of a plan (or scenario) file, or a `PlanError` saying why it cannot be read.
    package static func readText(atPath path: String) throws(PlanError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PlanError(issues: [PlanIssue(file: path, line: 0, column: 0, field: "",
                                               message: "cannot read the file (missing or not readable)")])
        }
        guard data.count <= PlanParser.planBytesMax else {
            throw PlanError(issues: [PlanIssue(file: path, line: 0, column: 0, field: "",
                                               message: "plan is larger than \(PlanParser.planBytesMax) bytes")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PlanError(issues: [PlanIssue(file: path, line: 0, column: 0, field: "", message: "not UTF-8 text")])
        }
        return text
    }
}
