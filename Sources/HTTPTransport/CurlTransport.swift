import CCurl
import Foundation

/// `HTTPTransport` over libcurl easy handles, run on dedicated threads (`BlockingThreadPool`), one reusable handle
/// per thread so connections are kept alive.
///
/// File bodies stream through `CURLOPT_READFUNCTION` (a 500 MB image never sits in memory) and are hashed on the way;
/// every request with a body carries an explicit `Content-Type` (curl's default, form-urlencoded, makes S3 servers
/// such as moto store an empty object). Responses larger than `maxResponseBytes` fail.
///
/// Bodies are rewindable (`CURLOPT_SEEKFUNCTION`): when a kept-alive connection turns out dead after the request went
/// out and nothing came back, curl resends the request on a fresh connection by itself, which needs the body again
/// (without a seek function it fails with `CURLE_SEND_FAIL_REWIND`). A file body's running SHA-256 restarts then.
///
/// Failures are classified by what they say about the request's outcome (`failureKind(of:requestSent:)`): only
/// definite local errors raised before anything was sent (bad URL, unsupported protocol, TLS set-up or certificate
/// problems) are final, as are our own limits (response too large, unreadable file). Could-not-connect and time-outs
/// are retryable, and every other curl error (connection reset or closed, send/receive errors, an empty, partial or
/// broken reply, a failed rewind, codes this list does not know, any error once the request went out) means the
/// answer was lost and the outcome is unknown: retryable too. A request whose answer did not arrive is never taken
/// for a refusal; the callers' requests are idempotent, so the retry adopts what the first attempt did.
package final class CurlTransport: HTTPTransport {
    package struct Options: Sendable {
        package var connectTimeoutSeconds: Double
        /// Whole request, upload included: large uploads need a generous value.
        package var totalTimeoutSeconds: Double
        package var maxResponseBytes: Int
        /// Blocking calls that may run at once.
        package var threadCount: Int

        package init(connectTimeoutSeconds: Double = 10, totalTimeoutSeconds: Double = 900,
                    maxResponseBytes: Int = 64 << 20, threadCount: Int = 4) {
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.totalTimeoutSeconds = totalTimeoutSeconds
            self.maxResponseBytes = maxResponseBytes
            self.threadCount = threadCount
        }
    }

    package let options: Options
    private let pool: BlockingThreadPool<CurlHandle>

    private static let globalInit: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    package init(options: Options = Options()) {
        precondition(CurlTransport.globalInit, "curl_global_init failed")
        self.options = options
        self.pool = BlockingThreadPool(name: "curl", threadCount: options.threadCount) { CurlHandle() }
    }

    package func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let options = self.options
        return try await pool.run { handle in
            try handle.perform(request, options: options)
        }
    }
}

/// One easy handle, owned by one pool thread.
final class CurlHandle {
    private let easy: UnsafeMutableRawPointer

    init() {
        guard let easy = curl_easy_init() else { fatalError("curl_easy_init failed") }
        self.easy = easy
    }

    deinit {
        curl_easy_cleanup(easy)
    }

    func perform(_ request: HTTPRequest, options: CurlTransport.Options) throws -> HTTPResponse {
        curl_easy_reset(easy)
        let transfer = try CurlTransfer(body: request.body, maxResponseBytes: options.maxResponseBytes)
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        var headers = request.headers
        let method = request.method.uppercased()
        let hasBody = request.body != .empty || method == "PUT" || method == "POST" || method == "PATCH"
        if hasBody && !headers.contains("Content-Type") {
            headers["Content-Type"] = "application/octet-stream"
        }
        for field in headers {
            headerList = curl_slist_append(headerList, "\(field.name): \(field.value)")
        }
        // No `Expect: 100-continue` round trip; curl must not add its own Content-Type / Accept either.
        headerList = curl_slist_append(headerList, "Expect:")

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code: CURLcode = request.url.withCString { url in
            errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
                _ = rollout_curl_setopt_string(easy, CURLOPT_URL, url)
                _ = rollout_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorPointer.baseAddress)
                _ = rollout_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
                _ = rollout_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
                _ = rollout_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeoutSeconds * 1000))
                _ = rollout_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(options.totalTimeoutSeconds * 1000))
                _ = rollout_curl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
                _ = rollout_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)
                _ = rollout_curl_setopt_callback(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback)
                _ = rollout_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, context.toOpaque())
                _ = rollout_curl_setopt_callback(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
                _ = rollout_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, context.toOpaque())
                switch method {
                case "GET":
                    _ = rollout_curl_setopt_long(easy, CURLOPT_HTTPGET, 1)
                case "HEAD":
                    _ = rollout_curl_setopt_long(easy, CURLOPT_NOBODY, 1)
                default:
                    if hasBody {
                        _ = rollout_curl_setopt_long(easy, CURLOPT_UPLOAD, 1)
                        _ = rollout_curl_setopt_off_t(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.length))
                        _ = rollout_curl_setopt_callback(easy, CURLOPT_READFUNCTION, curlReadCallback)
                        _ = rollout_curl_setopt_pointer(easy, CURLOPT_READDATA, context.toOpaque())
                        _ = rollout_curl_setopt_seek_callback(easy, CURLOPT_SEEKFUNCTION, curlSeekCallback)
                        _ = rollout_curl_setopt_pointer(easy, CURLOPT_SEEKDATA, context.toOpaque())
                    }
                    _ = method.withCString { rollout_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, $0) }
                }
                return curl_easy_perform(easy)
            }
        }
        // The handle keeps pointers to these until the next reset: clear them now.
        _ = rollout_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, nil)
        _ = rollout_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, nil)

        if code != CURLE_OK {
            var requestBytesSent = 0
            _ = rollout_curl_getinfo_long(easy, CURLINFO_REQUEST_SIZE, &requestBytesSent)
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw CurlHandle.transportError(code, message: "\(request.method) \(request.host): \(message)",
                                            requestSent: requestBytesSent > 0, transfer: transfer)
        }
        var status = 0
        _ = rollout_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        // A server may answer before reading the whole body (an early 503 SlowDown): that answer is what counts.
        // Only a success with a short body is an error of ours.
        if case .file = request.body, (200..<300).contains(status), transfer.bytesSent != request.body.length {
            throw TransportError(.bodyRead, "sent \(transfer.bytesSent) of \(request.body.length) bytes of the file body")
        }
        return HTTPResponse(status: status, headers: transfer.responseHeaders, body: transfer.responseBody,
                            sentBodySHA256: transfer.finishFileDigest())
    }

    static func transportError(_ code: CURLcode, message: String, requestSent: Bool,
                               transfer: CurlTransfer) -> TransportError {
        if transfer.responseTooLarge {
            return TransportError(.responseTooLarge, "response larger than \(transfer.maxResponseBytes) bytes")
        }
        if let readFailure = transfer.readFailure {
            return TransportError(.bodyRead, readFailure)
        }
        return TransportError(failureKind(of: code, requestSent: requestSent), message)
    }

    /// Codes that prove the request never left this process and never will (see `CurlTransport`).
    static let setupFailures = Set([
        CURLE_UNSUPPORTED_PROTOCOL, CURLE_FAILED_INIT, CURLE_URL_MALFORMAT, CURLE_NOT_BUILT_IN,
        CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION, CURLE_SETOPT_OPTION_SYNTAX, CURLE_INTERFACE_FAILED,
        CURLE_TOO_MANY_REDIRECTS, CURLE_RECURSIVE_API_CALL, CURLE_AUTH_ERROR, CURLE_USE_SSL_FAILED,
        CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CERTPROBLEM,
        CURLE_SSL_CIPHER, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE,
        CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT,
    ].map(\.rawValue))

    /// Codes raised before any byte of the request reached the server, for reasons that may pass.
    static let unreachableFailures = Set([
        CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_SSL_CONNECT_ERROR,
        CURLE_NO_CONNECTION_AVAILABLE, CURLE_PROXY, CURLE_QUIC_CONNECT_ERROR,
    ].map(\.rawValue))

    /// What a curl error says about the request (pure). Once any byte of the request went out (`requestSent`), only a
    /// time-out keeps its own kind: everything else is an answer lost, whatever the code (curl reports an HTTP/0.9
    /// reply as an unsupported protocol, for one). Before that, set-up failures are final and an unreachable server is
    /// retryable; any other code is an answer lost with the outcome unknown: `CURLE_SEND_FAIL_REWIND`, `SEND_ERROR`,
    /// `RECV_ERROR`, `GOT_NOTHING`, `PARTIAL_FILE`, `WEIRD_SERVER_REPLY`, `HTTP2`, … and codes added after this list.
    static func failureKind(of code: CURLcode, requestSent: Bool) -> TransportError.Kind {
        if code == CURLE_OPERATION_TIMEDOUT { return .timeout }
        if requestSent { return .answerLost }
        if setupFailures.contains(code.rawValue) { return .setup }
        if unreachableFailures.contains(code.rawValue) { return .connection }
        return .answerLost
    }
}

/// Per-request state the C callbacks reach through their user-data pointer. Used by one thread at a time.
final class CurlTransfer {
    let maxResponseBytes: Int
    var responseBody = Data()
    var responseHeaders: [String: String] = [:]
    var responseTooLarge = false
    var readFailure: String?
    var bytesSent: Int64 = 0

    private let inMemoryBody: Data?
    private let file: FileHandle?
    private let bodyLength: Int64
    private var digest: SHA256Digest?

    init(body: HTTPBody, maxResponseBytes: Int) throws {
        self.maxResponseBytes = maxResponseBytes
        self.bodyLength = body.length
        switch body {
        case .empty:
            inMemoryBody = nil
            file = nil
        case .data(let data):
            inMemoryBody = data
            file = nil
        case .file(let path, _):
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw TransportError(.bodyRead, "\(path): cannot open for reading")
            }
            inMemoryBody = nil
            file = handle
            digest = SHA256Digest()
        }
    }

    deinit {
        try? file?.close()
    }

    func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        guard capacity > 0 else { return 0 }
        if let inMemoryBody {
            let offset = Int(bytesSent)
            let count = min(capacity, inMemoryBody.count - offset)
            guard count > 0 else { return 0 }
            inMemoryBody.withUnsafeBytes { raw in
                UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + offset, byteCount: count)
            }
            bytesSent += Int64(count)
            return count
        }
        guard let file else { return 0 }
        do {
            let chunk = try file.read(upToCount: capacity) ?? Data()
            chunk.withUnsafeBytes { raw in
                if let base = raw.baseAddress {
                    UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: chunk.count)
                }
                digest?.update(raw)
            }
            bytesSent += Int64(chunk.count)
            return chunk.count
        } catch {
            readFailure = "reading the file body failed: \(error)"
            return Int(CURL_READFUNC_ABORT)
        }
    }

    /// Moves the body back to `offset` (curl rewinds to 0 to resend the request on a fresh connection). A file body's
    /// SHA-256 starts over and re-reads the bytes before `offset`, so it always covers what was last sent.
    func seek(to offset: Int64, origin: Int32) -> Int32 {
        guard origin == SEEK_SET, offset >= 0, offset <= bodyLength else { return CURL_SEEKFUNC_CANTSEEK }
        if inMemoryBody != nil {
            bytesSent = offset
            return CURL_SEEKFUNC_OK
        }
        guard let file else { return offset == 0 ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_CANTSEEK }
        do {
            try file.seek(toOffset: 0)
            digest = SHA256Digest()
            bytesSent = 0
            // Bounded: every pass consumes at least one byte of `offset` or fails.
            while bytesSent < offset {
                let chunk = try file.read(upToCount: Int(min(offset - bytesSent, 1 << 20))) ?? Data()
                guard !chunk.isEmpty else {
                    readFailure = "the file body ended at \(bytesSent) bytes while rewinding to \(offset)"
                    return CURL_SEEKFUNC_FAIL
                }
                digest?.update(chunk)
                bytesSent += Int64(chunk.count)
            }
            return CURL_SEEKFUNC_OK
        } catch {
            readFailure = "rewinding the file body failed: \(error)"
            return CURL_SEEKFUNC_FAIL
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard responseBody.count + bytes.count <= maxResponseBytes else {
            responseTooLarge = true
            return false
        }
        responseBody.append(contentsOf: bytes)
        return true
    }

    func header(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            // A new status line (100 Continue, then the real one): start over.
            responseHeaders = [:]
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = trimmed[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if let existing = responseHeaders[name] {
            responseHeaders[name] = existing + "," + value
        } else {
            responseHeaders[name] = value
        }
    }

    func finishFileDigest() -> String? {
        guard digest != nil else { return nil }
        let finished = digest.take()!
        return finished.finalize().lowercaseHex
    }
}

private func curlWriteCallback(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                               _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context, let buffer else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let total = size * count
    return transfer.write(UnsafeRawBufferPointer(start: buffer, count: total)) ? total : 0
}

private func curlHeaderCallback(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                                _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context, let buffer else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let total = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: total), as: UTF8.self)
    transfer.header(line)
    return total
}

private func curlReadCallback(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
                              _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context, let buffer else { return Int(CURL_READFUNC_ABORT) }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.read(into: buffer, capacity: size * count)
}

private func curlSeekCallback(_ context: UnsafeMutableRawPointer?, _ offset: curl_off_t, _ origin: Int32) -> Int32 {
    guard let context else { return CURL_SEEKFUNC_FAIL }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.seek(to: Int64(offset), origin: origin)
}
