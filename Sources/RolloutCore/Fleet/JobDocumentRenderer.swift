import Foundation

/// Turns a job's facts (`JobDocument`) into the bytes a device receives, in the plan's shape. Pure and
/// deterministic: sorted keys for the presets, the template's own order for templates (same facts, same bytes).
///
/// Template placeholders: `${firmware.url}`, `${firmware.sha256}`, `${firmware.size}`, `${firmware.version}`,
/// `${firmware.signature}`, `${rollback.url}`, `${rollback.version}`, `${rollout.id}`, `${stage}`. Inside a JSON
/// string a value is JSON-escaped; `${firmware.size}` may also stand alone as a number. AWS's own placeholders
/// (`${aws:iot:…}`) pass through untouched. The result must be JSON of at most 32 KB (AWS's inline limit).
package enum JobDocumentRenderer {
    package static let placeholders = ["firmware.url", "firmware.sha256", "firmware.size", "firmware.version",
                                       "firmware.signature", "rollback.url", "rollback.version", "rollout.id", "stage"]
    package static let documentBytesMax = 32 * 1024
    /// A template larger than this is refused before it is read further.
    package static let templateBytesMax = 64 * 1024

    /// Why a document cannot be made.
    package struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        package var message: String
        /// 1-based line in the template, when the problem has one.
        package var line: Int?
        package var description: String { message }
    }

    package static func render(_ facts: JobDocument, shape: JobDocumentShape?) throws(Failure) -> Data {
        switch shape ?? .awsOTA {
        case .awsOTA:
            return encode(facts)
        case .nrfFOTA:
            return encode(NRFDocument(facts))
        case .template(let path, let text):
            guard !text.isEmpty else {
                throw Failure(message: "\(path): the template was not read with the plan")
            }
            let expanded = try expand(text, path: path, values: values(of: facts))
            guard (try? JSONSerialization.jsonObject(with: Data(expanded.utf8))) != nil else {
                throw Failure(message: "\(path): not valid JSON once its placeholders are filled in")
            }
            let data = Data(expanded.utf8)
            guard data.count <= documentBytesMax else {
                throw Failure(message: "\(path): the document is \(data.count) bytes once filled in, above AWS's "
                              + "\(documentBytesMax)-byte limit")
            }
            return data
        }
    }

    /// Checks a template as `rollout validate` does: known placeholders only, and valid JSON of at most 32 KB when
    /// filled with the longest values a rollout can give. Problems carry the template's line.
    package static func check(template text: String, path: String) -> [Failure] {
        var failures: [Failure] = []
        for (line, name) in placeholderUses(in: text) where !placeholders.contains(name) && !name.hasPrefix("aws:iot:") {
            failures.append(Failure(message: "unknown placeholder `${\(name)}`; known: "
                                    + placeholders.map { "${\($0)}" }.joined(separator: ", "), line: line))
        }
        guard failures.isEmpty else { return failures }
        let longest: [String: String] = [
            "firmware.url": "${aws:iot:s3-presigned-url:https://s3.ap-southeast-4.amazonaws.com/"
                + String(repeating: "b", count: 63) + "/firmware/" + String(repeating: "f", count: 64) + "/"
                + String(repeating: "v", count: 64) + "/" + String(repeating: "0", count: 64) + ".bin}",
            "firmware.sha256": String(repeating: "0", count: 64), "firmware.size": "9999999999",
            "firmware.version": String(repeating: "v", count: 64), "firmware.signature": String(repeating: "A", count: 96),
            "rollback.url": String(repeating: "u", count: 400), "rollback.version": String(repeating: "v", count: 64),
            "rollout.id": String(repeating: "r", count: 50), "stage": "wave-16",
        ]
        do {
            let expanded = try expand(text, path: path, values: longest)
            if (try? JSONSerialization.jsonObject(with: Data(expanded.utf8))) == nil {
                failures.append(Failure(message: "not valid JSON once its placeholders are filled in "
                                        + "(a number placeholder inside quotes, or a value outside them?)", line: nil))
            } else if expanded.utf8.count > documentBytesMax {
                failures.append(Failure(message: "up to \(expanded.utf8.count) bytes once filled in, above AWS's "
                                        + "\(documentBytesMax)-byte limit", line: nil))
            }
        } catch {
            failures.append(error)
        }
        return failures
    }

    /// `${name}` uses with their 1-based lines, in order.
    static func placeholderUses(in text: String) -> [(line: Int, name: String)] {
        var uses: [(Int, String)] = []
        var line = 1
        var index = text.startIndex
        while index < text.endIndex, uses.count < 10_000 {
            let character = text[index]
            if character == "\n" { line += 1 }
            if character == "$", text[index...].hasPrefix("${"),
               let close = text[index...].firstIndex(of: "}") {
                let name = String(text[text.index(index, offsetBy: 2)..<close])
                uses.append((line, name))
                index = text.index(after: close)
                continue
            }
            index = text.index(after: index)
        }
        return uses
    }

    static func values(of facts: JobDocument) -> [String: String] {
        [
            "firmware.url": facts.firmwareUrl, "firmware.sha256": facts.checksum, "firmware.size": String(facts.size),
            "firmware.version": facts.version, "firmware.signature": facts.signature ?? "",
            "rollback.url": facts.rollbackUrl ?? "", "rollback.version": facts.rollbackVersion ?? "",
            "rollout.id": facts.rolloutId, "stage": facts.stage,
        ]
    }

    /// Fills every known placeholder: JSON-escaped inside a string, as is outside one (numbers).
    static func expand(_ text: String, path: String, values: [String: String]) throws(Failure) -> String {
        var result = ""
        var inString = false
        var escaped = false
        var line = 1
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\n" { line += 1 }
            if character == "$", text[index...].hasPrefix("${"), let close = text[index...].firstIndex(of: "}") {
                let name = String(text[text.index(index, offsetBy: 2)..<close])
                if let value = values[name] {
                    result += inString ? jsonEscaped(value) : value
                    index = text.index(after: close)
                    continue
                }
                if !name.hasPrefix("aws:iot:") {
                    throw Failure(message: "\(path):\(line): unknown placeholder `${\(name)}`", line: line)
                }
            }
            if inString {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
            } else if character == "\"" {
                inString = true
            }
            result.append(character)
            index = text.index(after: index)
        }
        return result
    }

    static func jsonEscaped(_ value: String) -> String {
        var result = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 { result += String(format: "\\u%04x", scalar.value) } else { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }

    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Plain structs of strings and numbers: encoding cannot fail.
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// The nRF Asset Tracker's FOTA job document.
    struct NRFDocument: Encodable {
        struct Location: Encodable {
            var `protocol`: String
            var host: String
            var path: String
        }

        var operation = "app_fw_update"
        var size: Int64
        var filename: String
        var location: Location
        var fwversion: String

        init(_ facts: JobDocument) {
            // On AWS the URL is the presigned-URL placeholder around the object's URL: the device gets host and path.
            var url = facts.firmwareUrl
            if url.hasPrefix("${aws:iot:s3-presigned-url:"), url.hasSuffix("}") {
                url = String(url.dropFirst("${aws:iot:s3-presigned-url:".count).dropLast())
            }
            let components = URLComponents(string: url)
            let path = components?.percentEncodedPath ?? ""
            size = facts.size
            filename = path.split(separator: "/").last.map(String.init) ?? "firmware.bin"
            location = Location(protocol: components?.scheme ?? "https", host: components?.host ?? "",
                                path: path.hasPrefix("/") ? String(path.dropFirst()) : path)
            fwversion = facts.version
        }
    }
}
