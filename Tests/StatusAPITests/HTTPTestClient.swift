import Foundation
import Glibc

/// An HTTP/1.1 response as read off the wire.
struct HTTPTestResponse: Sendable {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
    }

    func object() throws -> [String: Any] {
        guard let object = try json() as? [String: Any] else {
            throw HTTPTestClient.Failure("expected a JSON object, got: \(text.prefix(300))")
        }
        return object
    }
}

/// A tiny blocking HTTP/1.1 client over a loopback TCP socket (`Connection: close`, one request per connection),
/// to `host` (an IPv4 loopback address: 127.0.0.1, or e.g. 127.0.0.2 for a server that must not count as loopback).
/// Each request runs on its own thread, so a blocking read never holds one of Swift's few cooperative threads.
struct HTTPTestClient: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    let port: Int
    var token: String?
    var host = "127.0.0.1"
    static let ioTimeoutSeconds = 15

    /// GET with `authorization` as the `Authorization` header ("" sends none: reads carry no token by default).
    func get(_ path: String, authorization: String = "") async throws -> HTTPTestResponse {
        try await perform("GET", path, headers: authorization.isEmpty ? [:] : ["Authorization": authorization])
    }

    /// POST with the client's token (if any) unless `authorization` overrides it (pass "" to send none).
    func post(_ path: String, body: String = "", contentType: String = "application/json",
              authorization: String? = nil) async throws -> HTTPTestResponse {
        var headers = ["Content-Type": contentType]
        let auth = authorization ?? token.map { "Bearer \($0)" } ?? ""
        if !auth.isEmpty { headers["Authorization"] = auth }
        return try await perform("POST", path, headers: headers, body: Data(body.utf8))
    }

    func perform(_ method: String, _ path: String, headers: [String: String] = [:], body: Data = Data()) async throws
        -> HTTPTestResponse {
        let port = port
        let host = host
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result {
                    try Self.exchange(host: host, port: port, method: method, path: path, headers: headers, body: body)
                })
            }
            thread.start()
        }
    }

    static func exchange(host: String, port: Int, method: String, path: String, headers: [String: String], body: Data) throws
        -> HTTPTestResponse {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure("socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: ioTimeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure("connect to \(host):\(port) failed: errno \(errno)") }

        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if method != "GET" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var request = Data(head.utf8)
        request.append(body)
        // A server may answer (413, 401) before reading the whole body: a failed write is not the end of it.
        _ = writeAll(descriptor, request)

        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 {
                response.append(contentsOf: buffer[0..<count])
            } else if count == 0 {
                break
            } else if errno == EINTR {
                continue
            } else {
                if response.isEmpty { throw Failure("recv failed: errno \(errno)") }
                break
            }
        }
        return try parse(response)
    }

    static func writeAll(_ descriptor: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let written = send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    static func parse(_ data: Data) throws -> HTTPTestResponse {
        let separator = Data("\r\n\r\n".utf8)
        guard let end = data.range(of: separator) else {
            throw Failure("no complete response head in \(data.count) bytes")
        }
        let head = String(decoding: data[data.startIndex..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure("bad status line: \(head)") }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(data[end.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            body = try dechunk(body)
        } else if let length = headers["content-length"].flatMap(Int.init) {
            guard body.count >= length else { throw Failure("body cut short: \(body.count) of \(length) bytes") }
            body = body.prefix(length)
        }
        return HTTPTestResponse(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: Data) throws -> Data {
        var output = Data()
        var rest = data[...]
        let crlf = Data("\r\n".utf8)
        while true {
            guard let lineEnd = rest.range(of: crlf) else { throw Failure("bad chunked body") }
            let sizeText = String(decoding: rest[rest.startIndex..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";")[0], radix: 16) else { throw Failure("bad chunk size") }
            if size == 0 { return output }
            let start = lineEnd.upperBound
            guard rest.distance(from: start, to: rest.endIndex) >= size + 2 else { throw Failure("chunk cut short") }
            let chunkEnd = rest.index(start, offsetBy: size)
            output.append(rest[start..<chunkEnd])
            rest = rest[rest.index(chunkEnd, offsetBy: 2)...]
        }
    }
}
