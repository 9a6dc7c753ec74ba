import Foundation

/// A strict-enough reader of the Prometheus text exposition format (0.0.4) for tests: every line is a
/// `# HELP`, a `# TYPE`, or a sample `name{label="value",...} number`; samples belong to a declared family.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    var types: [String: String] = [:]
    var helps: [String: String] = [:]
    var samples: [Sample] = []

    init(parsing text: String) throws {
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(line)
            if line.isEmpty { continue }
            func fail(_ why: String) -> HTTPTestClient.Failure {
                HTTPTestClient.Failure("metrics line \(number + 1): \(why): \(line)")
            }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count == 4, Self.isName(parts[2]) else { throw fail("malformed comment") }
                if parts[1] == "TYPE" {
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3]) else {
                        throw fail("unknown type")
                    }
                    guard types[parts[2]] == nil else { throw fail("family typed twice") }
                    types[parts[2]] = parts[3]
                } else {
                    helps[parts[2]] = parts[3]
                }
                continue
            }
            if line.hasPrefix("#") { continue }
            var rest = Substring(line)
            let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
            guard Self.isName(name) else { throw fail("bad metric name") }
            rest = rest.dropFirst(name.count)
            var labels: [String: String] = [:]
            if rest.first == "{" {
                guard let close = rest.firstIndex(of: "}") else { throw fail("unclosed labels") }
                let body = rest[rest.index(after: rest.startIndex)..<close]
                for pair in body.split(separator: ",") where !pair.isEmpty {
                    guard let equals = pair.firstIndex(of: "=") else { throw fail("label without =") }
                    let key = String(pair[..<equals])
                    let quoted = pair[pair.index(after: equals)...]
                    guard Self.isName(key), quoted.count >= 2, quoted.first == "\"", quoted.last == "\"" else {
                        throw fail("bad label")
                    }
                    labels[key] = String(quoted.dropFirst().dropLast())
                }
                rest = rest[rest.index(after: close)...]
            }
            guard rest.first == " ", let value = Double(rest.dropFirst().split(separator: " ").first ?? "") else {
                throw fail("bad value")
            }
            guard types[name] != nil else { throw fail("sample before its # TYPE line") }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" || first == ":" else { return false }
        return text.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == ":" }
    }
}
