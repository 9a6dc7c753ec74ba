import Foundation
import HTTPTransport

/// A SigV4 canonical request, written byte by byte (no intermediate strings, no dictionary): method, canonical URI,
/// canonical query, canonical headers (names lowercased, values trimmed, repeated names joined by `,`, sorted by
/// name), signed header names, payload hash, joined by newlines.
struct SigV4Canonical {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Writes the whole canonical request; returns the signed header names (`content-type;host;x-amz-date`).
    mutating func writeRequest(_ request: HTTPRequest, canonicalURI: String, payloadHash: String) -> String {
        for byte in request.method.utf8 { bytes.append(Self.asciiUpper(byte)) }
        bytes.append(Self.newline)
        bytes += canonicalURI.utf8
        bytes.append(Self.newline)
        writeQuery(request.query)
        bytes.append(Self.newline)
        let signed = writeHeaders(request)
        bytes.append(Self.newline)
        bytes += signed
        bytes.append(Self.newline)
        bytes += payloadHash.utf8
        return String(decoding: signed, as: UTF8.self)
    }

    /// `CanonicalQueryString`: each name and value URI-encoded, pairs sorted by name then value (byte order).
    mutating func writeQuery(_ items: [QueryItem]) {
        let encoded = items.map { (Array(URIEncoding.encode($0.name).utf8), Array(URIEncoding.encode($0.value).utf8)) }
            .sorted { $0.0 == $1.0 ? $0.1.lexicographicallyPrecedes($1.1) : $0.0.lexicographicallyPrecedes($1.0) }
        for (index, item) in encoded.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: "&")) }
            bytes += item.0
            bytes.append(UInt8(ascii: "="))
            bytes += item.1
        }
    }

    /// `CanonicalHeaders` (each `name:value\n`) and returns `SignedHeaders`. `host` is added when absent.
    private mutating func writeHeaders(_ request: HTTPRequest) -> [UInt8] {
        var fields: [(name: [UInt8], value: [UInt8])] = []
        fields.reserveCapacity(request.headers.fields.count + 1)
        var hasHost = false
        for field in request.headers {
            let name = field.name.utf8.map(Self.asciiLower)
            guard !SigV4Signer.unsignedHeaders.contains(name) else { continue }
            if name == Self.host { hasHost = true }
            fields.append((name, Self.trimAll(field.value)))
        }
        if !hasHost { fields.append((Self.host, Array(request.hostHeader.utf8))) }
        // Stable: values of a repeated name keep their order when joined.
        let ordered = fields.enumerated().sorted { left, right in
            left.element.name == right.element.name ? left.offset < right.offset
                : left.element.name.lexicographicallyPrecedes(right.element.name)
        }.map(\.element)
        var signed: [UInt8] = []
        for (index, field) in ordered.enumerated() {
            let continues = index > 0 && ordered[index - 1].name == field.name
            if continues {
                bytes.append(UInt8(ascii: ","))
            } else {
                if index > 0 {
                    bytes.append(Self.newline)
                    signed.append(UInt8(ascii: ";"))
                }
                bytes += field.name
                bytes.append(UInt8(ascii: ":"))
                signed += field.name
            }
            bytes += field.value
        }
        if !ordered.isEmpty { bytes.append(Self.newline) }
        return signed
    }

    static let newline = UInt8(ascii: "\n")
    static let host = Array("host".utf8)

    /// `Trimall`: the ends stripped, every run of spaces, tabs and line breaks made one space.
    static func trimAll(_ value: String) -> [UInt8] {
        var trimmed: [UInt8] = []
        trimmed.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                pendingSpace = !trimmed.isEmpty
                continue
            }
            if pendingSpace {
                trimmed.append(UInt8(ascii: " "))
                pendingSpace = false
            }
            trimmed.append(byte)
        }
        return trimmed
    }

    @inline(__always)
    static func asciiLower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    @inline(__always)
    static func asciiUpper(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
    }
}
