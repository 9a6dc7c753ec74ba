import CCurl
import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

/// `CurlTransport` against a loopback server of the test's own that loses answers in the ways a network does.
@Suite("CurlTransport: lost answers are retryable, bodies rewind")
struct CurlTransportTests {
    static func transport(totalTimeoutSeconds: Double = 20) -> CurlTransport {
        // One thread: one easy handle, so a second request reuses the first one's connection.
        CurlTransport(options: .init(connectTimeoutSeconds: 5, totalTimeoutSeconds: totalTimeoutSeconds, threadCount: 1))
    }

    static func request(_ server: ScriptedHTTPServer, _ method: String, _ path: String,
                        body: HTTPBody = .empty) -> HTTPRequest {
        HTTPRequest(method: method, scheme: "http", host: "127.0.0.1", port: server.port, path: path,
                    headers: ["Content-Type": "application/octet-stream"], body: body)
    }

    static let okBody = Data(#"{"ok":true}"#.utf8)

    /// Sends `request` and returns the transport error it must fail with.
    static func failure(_ transport: CurlTransport, _ request: HTTPRequest) async throws -> TransportError {
        do {
            let response = try await transport.send(request)
            throw TestFailure("expected a transport error, got HTTP \(response.status)")
        } catch let error as TransportError {
            return error
        }
    }

    @Test("a kept-alive connection that dies after reading the request: the body (memory or file) is rewound and resent")
    func rewindsOnDeadKeptAliveConnection() async throws {
        let firstTimes = FirstTimes()
        let server = try ScriptedHTTPServer { request in
            // The request was read in full, then the connection closes: exactly a lost answer on a reused connection.
            if request.indexOnConnection > 0, firstTimes.isFirst(request.path) { return .closeWithoutAnswer }
            return .answer(status: 200, body: Self.okBody)
        }
        defer { server.stop() }
        let memoryBody = Data.pseudoRandom(count: 300_000, seed: 3)
        let fileBody = Data.pseudoRandom(count: 3_000_000, seed: 4)
        let filePath = try TemporaryFile.make(suffix: ".bin", contents: fileBody)
        defer { try? FileManager.default.removeItem(atPath: filePath) }
        // What is tested is the rewind, not speed: under the whole suite on two cores a 3 MB upload to a server
        // thread of the test's own was seen to outlast 20 s; 60 s bounds it all the same.
        let transport = Self.transport(totalTimeoutSeconds: 60)

        #expect(try await transport.send(Self.request(server, "GET", "/warm-up")).status == 200)
        let fromMemory = try await transport.send(Self.request(server, "PUT", "/memory", body: .data(memoryBody)))
        #expect(fromMemory.status == 200)
        let fromFile = try await transport.send(Self.request(server, "PUT", "/file",
                                                             body: .file(path: filePath, size: Int64(fileBody.count))))
        #expect(fromFile.status == 200)
        #expect(fromFile.sentBodySHA256 == SHA256Digest.hash(fileBody).lowercaseHex,
                "the running SHA-256 restarted with the rewind")

        let received = server.received
        for (path, body) in [("/memory", memoryBody), ("/file", fileBody)] {
            let copies = received.filter { $0.path == path }
            #expect(copies.count == 2, "\(path): sent, answer lost, sent again")
            #expect(copies.allSatisfy { $0.body == body }, "\(path): both copies carry the whole body")
            #expect((copies.first?.indexOnConnection ?? 0) > 0, "\(path): first sent on a kept-alive connection")
            #expect(copies.last?.indexOnConnection == 0, "\(path): resent on a fresh connection")
        }
    }

    @Test("an answer lost on a fresh connection (closed, partial, broken, HTTP/0.9) is answerLost and retryable",
          arguments: [
              ("closed without a word", ScriptedHTTPServer.Reply.closeWithoutAnswer),
              ("partial body", .raw(Data("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort".utf8))),
              ("broken status line", .raw(Data("HTTP/1.1 2x0 Nope\r\n\r\n".utf8))),
              ("not HTTP at all", .raw(Data("garbage\r\n\r\n".utf8))),
          ])
    func lostAnswersAreRetryable(_ name: String, _ reply: ScriptedHTTPServer.Reply) async throws {
        let server = try ScriptedHTTPServer { _ in reply }
        defer { server.stop() }
        let error = try await Self.failure(Self.transport(),
                                           Self.request(server, "PUT", "/jobs/j", body: .data(Data("{}".utf8))))
        #expect(error.kind == .answerLost, "\(name): \(error)")
        #expect(error.isRetryable)
        #expect(server.received.count >= 1, "\(name): the request reached the server")
    }

    @Test("a server that never answers times out, retryably")
    func silenceTimesOut() async throws {
        let server = try ScriptedHTTPServer { _ in .silence }
        defer { server.stop() }
        let error = try await Self.failure(Self.transport(totalTimeoutSeconds: 0.5), Self.request(server, "GET", "/slow"))
        #expect(error.kind == .timeout && error.isRetryable, "\(error)")
    }

    @Test("definite local errors are final; an unreachable server is retryable")
    func localErrorsAndUnreachable() async throws {
        let transport = Self.transport()
        let unsupported = try await Self.failure(transport, HTTPRequest(method: "GET", scheme: "ftp", host: "127.0.0.1",
                                                                        port: 21, path: "/x"))
        #expect(unsupported.kind == .setup && !unsupported.isRetryable, "\(unsupported)")
        let malformed = try await Self.failure(transport, HTTPRequest(method: "GET", scheme: "http", host: "bad host",
                                                                      path: "/x"))
        #expect(malformed.kind == .setup && !malformed.isRetryable, "\(malformed)")

        let closed = try ScriptedHTTPServer { _ in .closeWithoutAnswer }
        closed.stop()
        let refused = try await Self.failure(transport, Self.request(closed, "GET", "/x"))
        #expect(refused.kind == .connection && refused.isRetryable, "\(refused)")
    }

    @Test("the classification rule, code by code")
    func classification() {
        let lost: [CURLcode] = [CURLE_SEND_FAIL_REWIND, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
                                CURLE_PARTIAL_FILE, CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP2, CURLE_HTTP2_STREAM,
                                CURLE_BAD_CONTENT_ENCODING, CURLcode(rawValue: 999)]
        for code in lost {
            #expect(CurlHandle.failureKind(of: code, requestSent: false) == .answerLost, "curl error \(code.rawValue)")
        }
        let setup: [CURLcode] = [CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_SSL_CERTPROBLEM,
                                 CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CIPHER]
        for code in setup {
            #expect(CurlHandle.failureKind(of: code, requestSent: false) == .setup, "curl error \(code.rawValue)")
            // Once the request went out, even these leave its outcome unknown (curl calls an HTTP/0.9 reply
            // an unsupported protocol).
            #expect(CurlHandle.failureKind(of: code, requestSent: true) == .answerLost, "curl error \(code.rawValue)")
        }
        for code in [CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_SSL_CONNECT_ERROR] {
            #expect(CurlHandle.failureKind(of: code, requestSent: false) == .connection, "curl error \(code.rawValue)")
        }
        #expect(CurlHandle.failureKind(of: CURLE_OPERATION_TIMEDOUT, requestSent: true) == .timeout)
        // Every code is retryable except the set-up failures.
        for raw in UInt32(1)...UInt32(99) {
            let kind = CurlHandle.failureKind(of: CURLcode(rawValue: raw), requestSent: false)
            let retryable = TransportError(kind, "").isRetryable
            #expect(retryable == !CurlHandle.setupFailures.contains(raw), "curl error \(raw)")
        }
    }

    @Test("AWSClient retries a lost answer with its backoff, and the retry's answer is the result")
    func clientRetriesLostAnswer() async throws {
        let server = try ScriptedHTTPServer { request in
            request.connection == 0 ? .closeWithoutAnswer : .answer(status: 200, body: Data(#"{"thingName":"t"}"#.utf8))
        }
        defer { server.stop() }
        let sleeps = SleepRecorder()
        let client = AWSClient(service: "iot", region: "us-east-1",
                               endpoint: HTTPEndpoint(scheme: "http", host: "127.0.0.1", port: server.port),
                               credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "AKID",
                                                                                     secretAccessKey: "s")),
                               transport: Self.transport(),
                               retry: RetryPolicy(maxAttempts: 3, baseDelaySeconds: 0.1, random: SeededRandom(seed: 2),
                                                  sleep: sleeps.sleep))
        let thing: IoTThing = try await client.json("POST", "/things/t", body: ["attributePayload": ["attributes": ["a": "b"]]],
                                                    operation: "CreateThing")
        #expect(thing.thingName == "t")
        #expect(server.received.map(\.connection) == [0, 1], "sent, answer lost, sent again on a new connection")
        #expect(sleeps.recorded.count == 1 && sleeps.recorded.allSatisfy { $0 >= 0 && $0 <= 0.1 })
    }
}

/// Remembers which keys were seen: `isFirst` is true once per key.
final class FirstTimes: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: Set<String> = []

    func isFirst(_ key: String) -> Bool {
        lock.withLock { seen.insert(key).inserted }
    }
}
