import Foundation

/// How the store writes values as JSON: sorted keys (stable bytes for equal values) and dates as the exact
/// `Double` a `Date` holds (seconds since 2001-01-01 UTC), so that a state or event read back is `==` to the one
/// written. Milliseconds or ISO 8601 would round: jittered backoff delays and wall-clock instants carry
/// sub-millisecond fractions, and a replay of rounded events would then differ from the saved state.
///
/// Shared by the SQLite and PostgreSQL stores. Not thread-safe (JSONEncoder and JSONDecoder are classes): one per
/// store, used under the store's lock.
package struct StoreJSON {
    private let encoder: JSONEncoder
    private let decoder: JSONDecoder

    package init() {
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .deferredToDate
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "+Infinity",
                                                                      negativeInfinity: "-Infinity", nan: "NaN")
        decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .deferredToDate
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "+Infinity",
                                                                        negativeInfinity: "-Infinity", nan: "NaN")
    }

    package func encode<T: Encodable>(_ value: T, _ what: @autoclosure () -> String) throws -> Data {
        do {
            return try encoder.encode(value)
        } catch {
            throw StoreError.database("cannot encode \(what()) as JSON: \(error)")
        }
    }

    package func decode<T: Decodable>(_ type: T.Type, from data: Data, _ what: @autoclosure () -> String) throws -> T {
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw StoreError.database("cannot read \(what()) stored in the database: \(error)")
        }
    }
}
