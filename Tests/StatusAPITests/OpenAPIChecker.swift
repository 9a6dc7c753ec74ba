import Foundation

/// Checks JSON responses against the schemas of the served OpenAPI 3.0 document: for every schema reached through
/// `$ref`, `allOf`, `properties` and `items`, the required properties are present, values have the declared JSON
/// type (`nullable` allowing null), enums hold, and `date-time` strings parse as ISO 8601.
struct OpenAPIChecker {
    let document: JSONValue

    init(document: JSONValue) throws {
        guard let version = document["openapi"]?.string, version.hasPrefix("3.0.") else {
            throw HTTPTestClient.Failure("not an OpenAPI 3.0.x document: openapi = \(String(describing: document["openapi"]))")
        }
        guard document["paths"]?.object != nil, document["components"]?["schemas"]?.object != nil else {
            throw HTTPTestClient.Failure("the document has no paths or no component schemas")
        }
        self.document = document
    }

    /// Problems with `response` for the operation `method path` (path as templated in the document).
    func problems(_ response: HTTPTestResponse, method: String, path: String) throws -> [String] {
        guard let operation = document["paths"]?[path]?[method.lowercased()] else {
            return ["the document has no operation \(method) \(path)"]
        }
        guard let declared = operation["responses"]?[String(response.status)] ?? operation["responses"]?["default"] else {
            return ["\(method) \(path) answered \(response.status), which the document does not declare"]
        }
        guard let content = declared["content"]?.object else { return [] }
        let contentType = response.headers["content-type"] ?? ""
        if let json = content["application/json"] {
            guard contentType.hasPrefix("application/json") else {
                return ["\(method) \(path) \(response.status): content type \(contentType), documented application/json"]
            }
            guard let schema = json["schema"] else { return [] }
            return check(try response.jsonValue(), schema, at: "$")
        }
        let documented = content.keys.map { $0 }
        guard documented.contains(where: { contentType.hasPrefix($0) }) else {
            return ["\(method) \(path) \(response.status): content type \(contentType), documented \(documented)"]
        }
        return []
    }

    /// Problems with `value` against `schema`, each naming the JSON path where it is.
    func check(_ value: JSONValue, _ schema: JSONValue, at location: String) -> [String] {
        if let reference = schema["$ref"]?.string {
            guard let resolved = resolve(reference) else { return ["\(location): unresolvable \(reference)"] }
            return check(value, resolved, at: location)
        }
        if let parts = schema["allOf"]?.array {
            return parts.flatMap { check(value, $0, at: location) }
        }
        if value.isNull {
            let nullable = schema["nullable"]?.bool ?? false
            return nullable || schema["type"] == nil ? [] : ["\(location): null, but not nullable"]
        }
        var problems: [String] = []
        if let type = schema["type"]?.string, !matches(value, type: type) {
            return ["\(location): expected \(type), got \(value)".prefix(300).description]
        }
        if let allowed = schema["enum"]?.array, !allowed.contains(value) {
            problems.append("\(location): \(value) is not one of \(allowed)")
        }
        if schema["format"]?.string == "date-time", let text = value.string, Self.parseDate(text) == nil {
            problems.append("\(location): `\(text)` is not an ISO 8601 date-time")
        }
        if case .object(let object) = value {
            for name in schema["required"]?.array?.compactMap(\.string) ?? [] where object[name] == nil {
                problems.append("\(location): required property `\(name)` is missing")
            }
            for (name, propertySchema) in schema["properties"]?.object ?? [:] {
                if let property = object[name] {
                    problems += check(property, propertySchema, at: "\(location).\(name)")
                }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() {
                problems += check(item, itemSchema, at: "\(location)[\(index)]")
            }
        }
        return problems
    }

    /// Every `$ref` in the document resolves (a broken reference would make checks pass vacuously).
    func unresolvedReferences() -> [String] {
        var missing: [String] = []
        func walk(_ value: JSONValue) {
            switch value {
            case .object(let object):
                if let reference = object["$ref"]?.string, resolve(reference) == nil { missing.append(reference) }
                object.values.forEach(walk)
            case .array(let array):
                array.forEach(walk)
            default:
                break
            }
        }
        walk(document)
        return missing
    }

    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSONValue? = document
        for part in reference.dropFirst(2).split(separator: "/") {
            node = node?[String(part)]
        }
        return node
    }

    func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("integer", .integer),
             ("number", .integer), ("number", .number):
            return true
        default:
            return false
        }
    }

    static func parseDate(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
