import Foundation

/// RFC 6901 JSON pointers over values decoded by `JSONSerialization`.
package enum JSONPointer {
    package static func isValid(_ pointer: String) -> Bool {
        guard pointer.isEmpty || pointer.hasPrefix("/") else { return false }
        // `~` must be followed by 0 or 1.
        var characters = pointer.makeIterator()
        while let character = characters.next() {
            if character == "~" {
                guard let next = characters.next(), next == "0" || next == "1" else { return false }
            }
        }
        return true
    }

    /// The value at `pointer` in `document`, or nil when the path does not exist.
    package static func resolve(_ pointer: String, in document: Any) -> Any? {
        guard isValid(pointer) else { return nil }
        if pointer.isEmpty { return document }
        var current: Any = document
        for rawToken in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = rawToken.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            if let object = current as? [String: Any] {
                guard let next = object[token] else { return nil }
                current = next
            } else if let array = current as? [Any] {
                guard let index = Int(token), index >= 0, index < array.count, String(index) == token else { return nil }
                current = array[index]
            } else {
                return nil
            }
        }
        return current
    }

    /// The number at `pointer` in a JSON document, or a readable reason why there is none.
    package static func number(at pointer: String, inJSON data: Data) -> Result<Double, MetricReadError> {
        let document: Any
        do {
            document = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            return .failure(MetricReadError(message: "response is not JSON"))
        }
        return number(at: pointer, in: document)
    }

    /// The number at `pointer` in an already decoded JSON value (numbers, or numeric text).
    package static func number(at pointer: String, in document: Any) -> Result<Double, MetricReadError> {
        guard let value = resolve(pointer, in: document) else {
            return .failure(MetricReadError(message: "no value at JSON pointer `\(pointer)`"))
        }
        if let number = value as? NSNumber {
            // JSON booleans decode as NSNumber of C type `char`; JSON numbers never do.
            if String(cString: number.objCType) == "c" {
                return .failure(MetricReadError(message: "value at `\(pointer)` is a boolean, not a number"))
            }
            return .success(number.doubleValue)
        }
        if let text = value as? String, let number = Double(text) { return .success(number) }
        return .failure(MetricReadError(message: "value at `\(pointer)` is not a number"))
    }
}

/// Why a metric could not be read (an error measurement, not a failure: see `MeasurementPolicy`).
package struct MetricReadError: Error, Equatable, Sendable, Codable, CustomStringConvertible {
    package var message: String
    /// The source answered, with nothing to judge (no series, no datapoint): told apart from a failed read.
    package var noData: Bool

    package init(message: String, noData: Bool = false) {
        self.message = message
        self.noData = noData
    }

    package var description: String { message }
}
