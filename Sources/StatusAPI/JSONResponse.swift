import Foundation
import Hummingbird

/// JSON bodies of the API: ISO 8601 dates, sorted keys (stable output for people and diffs).
enum JSONResponse {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        guard let data = body(value) else {
            // Our documents always encode; this is a programming error, answered rather than crashing the server.
            let fallback = #"{"code":"internal_error","message":"response could not be encoded"}"#
            return text(fallback, contentType: "application/json; charset=utf-8", status: .internalServerError)
        }
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The encoded document with credentials masked in every string (`JSONStringRedaction`); nil if it cannot be
    /// encoded. Every JSON body the API sends is made here.
    static func body(_ value: some Encodable) -> Data? {
        guard let data = try? encoder().encode(value) else { return nil }
        return JSONStringRedaction.apply(to: data)
    }

    /// An encoded JSON body (from `body(_:)`, kept by a `ResponseCache`): sent as it is, without a copy.
    static func bytes(_ body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: body))
    }

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
