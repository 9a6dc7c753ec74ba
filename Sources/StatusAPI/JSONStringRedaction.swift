import Foundation
import RolloutCore

/// Masks credentials in every string of an encoded JSON document (`CredentialRedaction.text`), leaving every other
/// byte as the encoder wrote it.
///
/// The API's documents carry free text from many places (state messages, reasons people typed, fleet and metric
/// errors, event payloads); masking the encoded document covers them all, including fields added later. Only string
/// literals that hold `:/` (so possibly a `scheme://` URL, slashes escaped or not) are decoded and re-encoded.
enum JSONStringRedaction {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let colon = UInt8(ascii: ":")

    static func apply(to data: Data) -> Data {
        let bytes = [UInt8](data)
        guard mayHoldURL(bytes[...]) else { return data }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == quote else {
                output.append(bytes[index])
                index += 1
                continue
            }
            var end = index + 1
            while end < bytes.count && bytes[end] != quote {
                end += bytes[end] == backslash ? 2 : 1
            }
            guard end < bytes.count else {
                // Not valid JSON (never produced by our encoder): masking cannot be sure, so nothing of it is kept.
                return Data(#"{"code":"internal_error","message":"response could not be encoded"}"#.utf8)
            }
            output.append(contentsOf: redacted(bytes[index...end]))
            index = end + 1
        }
        return Data(output)
    }

    /// One string literal, quotes included, masked.
    static func redacted(_ literal: ArraySlice<UInt8>) -> [UInt8] {
        guard mayHoldURL(literal) else { return Array(literal) }
        guard let text = try? JSONDecoder().decode(String.self, from: Data(literal)) else {
            return Array(#""***""#.utf8)
        }
        let shown = CredentialRedaction.text(text)
        guard shown != text else { return Array(literal) }
        guard let encoded = try? JSONResponse.encoder().encode(shown) else { return Array(#""***""#.utf8) }
        return Array(encoded)
    }

    /// `:/` or `:\/`: the start of a `://` as encoded with or without escaped slashes.
    static func mayHoldURL(_ bytes: ArraySlice<UInt8>) -> Bool {
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            if bytes[index] == colon, bytes[index + 1] == UInt8(ascii: "/") || bytes[index + 1] == backslash {
                return true
            }
            index += 1
        }
        return false
    }
}
