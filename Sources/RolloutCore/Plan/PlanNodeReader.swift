import Foundation
import Yams

/// Walks a composed YAML tree (plans, simulation scenarios), turning nodes into typed values and collecting every issue with its position.
package struct PlanNodeReader {
    package let file: String
    package private(set) var issues: [PlanIssue] = []

    package init(file: String) {
        self.file = file
    }

    package mutating func report(_ node: Node?, _ field: String, _ message: String) {
        let mark = node?.mark
        // Yams marks are 0-based for columns? They are 1-based lines and 1-based columns after composition.
        issues.append(PlanIssue(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, field: field,
                                message: message))
    }

    /// The entries of a mapping, reporting keys that are not in `allowed` and a node that is not a mapping.
    package mutating func mapping(_ node: Node, _ field: String, allowed: [String]) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            report(node, field, "expected a mapping with keys \(allowed.joined(separator: ", ")), found \(describe(node))")
            return nil
        }
        var entries: [String: Node] = [:]
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else {
                report(keyNode, field, "expected a text key")
                continue
            }
            let path = field.isEmpty ? key : "\(field).\(key)"
            if !allowed.contains(key) {
                let hint = PlanNodeReader.closest(to: key, in: allowed).map { " (did you mean `\($0)`?)" } ?? ""
                report(keyNode, path, "unknown key\(hint); expected one of: \(allowed.joined(separator: ", "))")
                continue
            }
            if entries[key] != nil {
                report(keyNode, path, "duplicate key")
                continue
            }
            entries[key] = valueNode
        }
        return entries
    }

    package mutating func sequence(_ node: Node, _ field: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report(node, field, "expected a list, found \(describe(node))")
            return nil
        }
        return Array(sequence)
    }

    package mutating func string(_ node: Node, _ field: String) -> String? {
        guard case .scalar(let scalar) = node, !isNull(node) else {
            report(node, field, "expected text, found \(describe(node))")
            return nil
        }
        return scalar.string
    }

    package mutating func nonEmptyString(_ node: Node, _ field: String) -> String? {
        guard let text = string(node, field) else { return nil }
        if text.trimmingCharacters(in: .whitespaces).isEmpty {
            report(node, field, "expected non-empty text")
            return nil
        }
        return text
    }

    package mutating func integer(_ node: Node, _ field: String, range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            report(node, field, "expected a whole number in \(range.lowerBound)…\(range.upperBound), found \(describe(node))")
            return nil
        }
        guard range.contains(value) else {
            report(node, field, "expected a whole number in \(range.lowerBound)…\(range.upperBound), found \(value)")
            return nil
        }
        return value
    }

    package mutating func number(_ node: Node, _ field: String, range: ClosedRange<Double>, unit: String = "") -> Double? {
        let expected = "a number in \(PlanNodeReader.format(range.lowerBound))…\(PlanNodeReader.format(range.upperBound))\(unit)"
        guard case .scalar(let scalar) = node else {
            report(node, field, "expected \(expected), found \(describe(node))")
            return nil
        }
        var text = scalar.string.trimmingCharacters(in: .whitespaces)
        if unit == "%" && text.hasSuffix("%") { text.removeLast() }
        guard let value = Double(text), value.isFinite else {
            report(node, field, "expected \(expected), found \(describe(node))")
            return nil
        }
        guard range.contains(value) else {
            report(node, field, "expected \(expected), found \(PlanNodeReader.format(value))")
            return nil
        }
        return value
    }

    package mutating func boolean(_ node: Node, _ field: String) -> Bool? {
        guard case .scalar(let scalar) = node else {
            report(node, field, "expected true or false, found \(describe(node))")
            return nil
        }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(node, field, "expected true or false, found `\(scalar.string)`")
            return nil
        }
    }

    /// `90s`, `30m`, `4h`, `2d`, `1h30m`.
    package mutating func duration(_ node: Node, _ field: String, minimumSeconds: Int = 0,
                           maximumSeconds: Int = DurationText.secondsMax) -> Int? {
        guard let text = string(node, field) else { return nil }
        guard let seconds = DurationText.parseSeconds(text) else {
            report(node, field, "expected a duration such as 90s, 30m, 4h or 2d, found `\(text)`")
            return nil
        }
        guard seconds >= minimumSeconds, seconds <= maximumSeconds else {
            report(node, field, "expected a duration from \(DurationText.format(minimumSeconds)) to "
                + "\(DurationText.format(maximumSeconds)), found \(text)")
            return nil
        }
        return seconds
    }

    /// One text or a list of texts.
    package mutating func stringList(_ node: Node, _ field: String) -> [String]? {
        if case .scalar = node, let single = string(node, field) { return [single] }
        guard let items = sequence(node, field) else { return nil }
        var values: [String] = []
        for (index, item) in items.enumerated() {
            if let value = nonEmptyString(item, "\(field)[\(index)]") { values.append(value) }
        }
        return values
    }

    package func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.tag.description == Tag.Name.null.rawValue
            || (scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string))
    }

    package func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar):
            if isNull(node) { return "nothing" }
            return "`\(scalar.string)`"
        default: return "an alias"
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// The allowed key nearest to a misspelt one (edit distance ≤ 2), for "did you mean".
    static func closest(to key: String, in allowed: [String]) -> String? {
        let candidates = allowed.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }
        guard let best = candidates.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    static func editDistance(_ left: String, _ right: String) -> Int {
        let leftCharacters = Array(left), rightCharacters = Array(right)
        guard !leftCharacters.isEmpty else { return rightCharacters.count }
        guard !rightCharacters.isEmpty else { return leftCharacters.count }
        var previous = Array(0...rightCharacters.count)
        for (leftIndex, leftCharacter) in leftCharacters.enumerated() {
            var current = [leftIndex + 1]
            for (rightIndex, rightCharacter) in rightCharacters.enumerated() {
                let substitution = previous[rightIndex] + (leftCharacter == rightCharacter ? 0 : 1)
                current.append(Swift.min(substitution, previous[rightIndex + 1] + 1, current[rightIndex] + 1))
            }
            previous = current
        }
        return previous[rightCharacters.count]
    }
}
