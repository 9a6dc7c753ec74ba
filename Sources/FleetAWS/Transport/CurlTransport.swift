import CCurl
import Foundation

/// `HTTPTransport` over libcurl easy handles, run on dedicated threads (`BlockingThreadPool`), one reusable handle
/// per thread so connections are kept alive.
///
/// File bodies stream through `CURLOPT_READFUNCTION` (a 500 MB image never sits in memory) and are hashed on the way;
/// every request with a body carries an explicit `Content-Type` (curl's default, form-urlencoded, makes S3 servers
/// such as moto store an empty object). Responses larger than `maxResponseBytes` fail.
public final class CurlTransport: HTTPTransport {
    public struct Options: Sendable {
        public var connectTimeoutSeconds: Double
        /// Whole request, upload included: large uploads need a generous value.
        public var totalTimeoutSeconds: Double
        public var maxResponseBytes: Int
        /// Blocking calls that may run at once.
        public var threadCount: Int

        public init(connectTimeoutSeconds: Double = 10, totalTimeoutSeconds: Double = 900,
                    maxResponseBytes: Int = 64 << 20, threadCount: Int = 4) {
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.totalTimeoutSeconds = totalTimeoutSeconds
            self.maxResponseBytes = maxResponseBytes
            self.threadCount = threadCount
        }
    }

    public let options: Options
    private let pool: BlockingThreadPool<CurlHandle>

    private static let globalInit: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    public init(options: Options = Options()) {
        precondition(CurlTransport.globalInit, "curl_global_init failed")
        self.options = options
        self.pool = BlockingThreadPool(name: "curl", threadCount: options.threadCount) { CurlHandle() }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
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
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw CurlHandle.transportError(code, message: "\(request.method) \(request.host): \(message)",
                                            transfer: transfer)
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

    static func transportError(_ code: CURLcode, message: String, transfer: CurlTransfer) -> TransportError {
        if transfer.responseTooLarge {
            return TransportError(.responseTooLarge, "response larger than \(transfer.maxResponseBytes) bytes")
        }
        if let readFailure = transfer.readFailure {
            return TransportError(.bodyRead, readFailure)
        }
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return TransportError(.timeout, message)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_RECV_ERROR,
             CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2,
             CURLE_HTTP2_STREAM:
            return TransportError(.connection, message)
        default:
            return TransportError(.other, message)
        }
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
    private var digest: SHA256Digest?

    init(body: HTTPBody, maxResponseBytes: Int) throws {
        self.maxResponseBytes = maxResponseBytes
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
