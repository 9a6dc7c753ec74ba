import Foundation
@testable import HTTPTransport

#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 (port 0) for transport tests, answering each request as a script says: a normal
/// answer on a kept-alive connection, or one of the ways an answer gets lost (close without a word, a partial or
/// broken reply, silence). Every request is recorded with its connection, so a test can tell a resend from a retry.
///
/// Each connection runs on its own thread; `stop()` closes the listener and every open connection.
final class ScriptedHTTPServer: @unchecked Sendable {
    enum Reply: Sendable {
        /// A complete answer; the connection stays open for the next request.
        case answer(status: Int, body: Data)
        /// Close the connection without sending anything (the request was read: its effect may have happened).
        case closeWithoutAnswer
        /// Send these bytes, then close.
        case raw(Data)
        /// Send nothing and keep the connection open until the client gives up or the server stops.
        case silence
    }

    struct Received: Sendable {
        /// 0 for the first connection accepted, then 1, 2, …
        var connection: Int
        /// 0 for the first request on its connection: a larger index means the connection was kept alive.
        var indexOnConnection: Int
        var method: String
        var path: String
        var body: Data
    }

    static let headerBytesMax = 64 << 10
    static let bodyBytesMax = 64 << 20

    let port: Int
    private let listener: Int32
    private let decide: @Sendable (Received) -> Reply
    private let lock = NSLock()
    private var requests: [Received] = []
    /// Descriptors still open. Closing one and shutting them down both take `lock`, so `stop()` never touches a
    /// number the system has meanwhile handed to someone else (another test's connection).
    private var openSockets: Set<Int32> = []
    private var listenerOpen = true
    private var stopped = false

    init(_ decide: @escaping @Sendable (Received) -> Reply) throws {
        // Close-on-exec, here and for every accepted socket: a child process another test spawns meanwhile by
        // posix_spawn (pg_ctl, whose postgres server lives for the whole suite) would otherwise inherit the
        // descriptors and keep a connection this server closed open, so the client never sees it close and waits
        // for an answer until its time-out.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw TestFailure("socket() failed: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic -> Bool in
                bind(listener, generic, length) == 0 && listen(listener, 16) == 0
                    && getsockname(listener, generic, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw TestFailure("cannot listen on 127.0.0.1: errno \(errno)")
        }
        self.listener = listener
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.decide = decide
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "scripted-http-accept"
        thread.start()
    }

    deinit {
        stop()
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    var received: [Received] { lock.withLock { requests } }

    func stop() {
        lock.withLock {
            guard !stopped else { return }
            stopped = true
            if listenerOpen { shutdown(listener, Int32(SHUT_RDWR)) }
            for socket in openSockets {
                shutdown(socket, Int32(SHUT_RDWR))
            }
        }
    }

    // MARK: - Serving

    private func acceptLoop() {
        var connection = 0
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { break }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)  // (no accept4 in Swift's Glibc: a spawn right between may still inherit it)
            let accepted = lock.withLock {
                guard !stopped else { return false }
                openSockets.insert(client)
                return true
            }
            guard accepted else {
                close(client)
                break
            }
            let number = connection
            connection += 1
            let thread = Thread { [self] in serve(client, connection: number) }
            thread.name = "scripted-http-\(number)"
            thread.start()
        }
        lock.withLock {
            listenerOpen = false
            close(listener)
        }
    }

    /// Serves requests on one connection until a reply closes it, the client leaves, or the server stops.
    private func serve(_ client: Int32, connection: Int) {
        defer {
            lock.withLock {
                openSockets.remove(client)
                close(client)
            }
        }
        var reader = RequestReader(socket: client)
        var index = 0
        while let (method, path, body) = reader.next() {
            let request = Received(connection: connection, indexOnConnection: index, method: method, path: path,
                                   body: body)
            index += 1
            lock.withLock { requests.append(request) }
            switch decide(request) {
            case .answer(let status, let body):
                let head = "HTTP/1.1 \(status) Scripted\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.count)\r\n\r\n"
                guard sendAll(client, Data(head.utf8) + body) else { return }
            case .closeWithoutAnswer:
                return
            case .raw(let bytes):
                _ = sendAll(client, bytes)
                return
            case .silence:
                var byte: UInt8 = 0
                _ = recv(client, &byte, 1, 0)  // returns when the client hangs up or `stop()` shuts the socket
                return
            }
        }
    }

    private func sendAll(_ socket: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let sent = send(socket, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }
    }
}

/// Reads HTTP/1.1 requests with a `Content-Length` body (what `CurlTransport` sends) from one socket.
private struct RequestReader {
    let socket: Int32
    var buffer = Data()

    /// The next request, or nil when the client closed the connection or sent something unreadable.
    mutating func next() -> (method: String, path: String, body: Data)? {
        let separator = Data("\r\n\r\n".utf8)
        guard fill(until: { $0.range(of: separator) != nil }, limit: ScriptedHTTPServer.headerBytesMax) == true,
              let range = buffer.range(of: separator)
        else { return nil }
        let head = String(decoding: buffer[buffer.startIndex..<range.lowerBound], as: UTF8.self)
        buffer.removeSubrange(buffer.startIndex..<range.upperBound)
        let lines = head.components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var length = 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                length = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        guard length <= ScriptedHTTPServer.bodyBytesMax,
              fill(until: { $0.count >= length }, limit: ScriptedHTTPServer.bodyBytesMax) == true
        else { return nil }
        let body = buffer.prefix(length)
        buffer.removeFirst(length)
        return (String(requestLine[0]), String(requestLine[1]), Data(body))
    }

    /// Receives until `done(buffer)` or the buffer reaches `limit`; nil when the peer closed first.
    private mutating func fill(until done: (Data) -> Bool, limit: Int) -> Bool? {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while !done(buffer) {
            guard buffer.count < limit else { return false }
            let count = recv(socket, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            buffer.append(contentsOf: chunk[0..<count])
        }
        return true
    }
}
