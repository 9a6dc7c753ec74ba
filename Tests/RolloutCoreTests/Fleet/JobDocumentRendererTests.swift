import Foundation
import Testing
@testable import RolloutCore

/// The job document in each shape a plan may choose, made from the same facts.
@Suite struct JobDocumentRendererTests {
    static let release = StagedArtifact(
        version: "2.1.0", url: "${aws:iot:s3-presigned-url:https://s3.eu-west-1.amazonaws.com/fw-bucket/firmware/fw/2.1.0/abc.bin}",
        sha256Hex: String(repeating: "a", count: 64), sizeBytes: 123_456, signatureBase64: "c2lnbmF0dXJl")
    static let rollback = StagedArtifact(version: "2.0.3", url: "https://s3.eu-west-1.amazonaws.com/fw-bucket/fw/2.0.3.bin",
                                         sha256Hex: String(repeating: "b", count: 64), sizeBytes: 120_000)
    static let facts = JobDocument.forStage(rolloutId: "fw-1a2b", stage: "canary", release: release,
                                            previousVersion: "2.0.3", rollback: rollback)

    func json(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("aws-ota (the default): today's fields plus the rollback's version and URL, sorted, byte-stable")
    func awsOTA() throws {
        let data = try JobDocumentRenderer.render(Self.facts, shape: nil)
        #expect(data == (try JobDocumentRenderer.render(Self.facts, shape: .awsOTA)))
        let document = try json(data)
        #expect(document["operation"] as? String == "firmwareUpdate")
        #expect(document["rollbackVersion"] as? String == "2.0.3")
        #expect(document["rollbackUrl"] as? String == Self.rollback.url)
        #expect(document["size"] as? Int == 123_456)
        #expect(String(decoding: data, as: UTF8.self).hasPrefix(#"{"checksum":"aaaa"#), "sorted keys")
        let rollbackDocument = try json(JobDocumentRenderer.render(
            JobDocument.forRollback(rolloutId: "fw-1a2b", rollback: Self.rollback, releaseVersion: "2.1.0"), shape: nil))
        #expect(rollbackDocument["version"] as? String == "2.0.3" && rollbackDocument["rollbackVersion"] == nil)
    }

    @Test("nrf-fota: operation, size, filename, location {protocol, host, path}, fwversion; the URL's placeholder unwrapped")
    func nrfFOTA() throws {
        let document = try json(JobDocumentRenderer.render(Self.facts, shape: .nrfFOTA))
        #expect(document["operation"] as? String == "app_fw_update")
        #expect(document["size"] as? Int == 123_456)
        #expect(document["filename"] as? String == "abc.bin")
        #expect(document["fwversion"] as? String == "2.1.0")
        let location = try #require(document["location"] as? [String: String])
        #expect(location == ["protocol": "https", "host": "s3.eu-west-1.amazonaws.com", "path": "fw-bucket/firmware/fw/2.1.0/abc.bin"])
        #expect(Set(document.keys) == ["operation", "size", "filename", "location", "fwversion"])
    }

    @Test("a template: values JSON-escaped inside strings, the size as a number, AWS's own placeholders kept")
    func template() throws {
        let text = """
            {"op": "ota", "url": "${firmware.url}", "sha": "${firmware.sha256}", "bytes": ${firmware.size},
             "v": "${firmware.version}", "sig": "${firmware.signature}", "back": {"url": "${rollback.url}",
             "v": "${rollback.version}"}, "id": "${rollout.id}", "stage": "${stage}",
             "thing": "${aws:iot:thing-name}"}
            """
        var facts = Self.facts
        facts.stage = "wave \"1\""
        let document = try json(JobDocumentRenderer.render(facts, shape: .template(path: "doc.json", text: text)))
        #expect(document["bytes"] as? Int == 123_456)
        #expect(document["url"] as? String == Self.release.url)
        #expect(document["stage"] as? String == "wave \"1\"", "escaped, so the document stays JSON")
        #expect(document["thing"] as? String == "${aws:iot:thing-name}")
        #expect((document["back"] as? [String: String])?["v"] == "2.0.3")
        #expect(document["sig"] as? String == "c2lnbmF0dXJl")
        #expect(throws: JobDocumentRenderer.Failure.self) {
            try JobDocumentRenderer.render(Self.facts, shape: .template(path: "doc.json", text: ""))
        }
    }

    @Test("validate's check: unknown placeholders with their line, JSON broken once filled, too large for AWS")
    func check() {
        let unknown = JobDocumentRenderer.check(template: "{\n  \"a\": \"${firmware.url}\",\n  \"b\": \"${firmware.md5}\"\n}",
                                                path: "doc.json")
        #expect(unknown.count == 1 && unknown.first?.line == 3)
        #expect(unknown.first?.message.hasPrefix("unknown placeholder `${firmware.md5}`; known: ${firmware.url}") == true)
        let quotedNumber = JobDocumentRenderer.check(template: #"{"size": ${firmware.url}}"#, path: "doc.json")
        #expect(quotedNumber.first?.message.hasPrefix("not valid JSON once its placeholders are filled in") == true)
        #expect(JobDocumentRenderer.check(template: "{\"a\": 1", path: "doc.json").count == 1)
        let large = "{\"pad\": \"" + String(repeating: "x", count: 32 * 1024) + "\"}"
        #expect(JobDocumentRenderer.check(template: large, path: "doc.json").first?.message.contains("above AWS's 32768-byte limit") == true)
        #expect(JobDocumentRenderer.check(template: #"{"u": "${firmware.url}", "n": ${firmware.size}}"#, path: "d").isEmpty)
    }
}
