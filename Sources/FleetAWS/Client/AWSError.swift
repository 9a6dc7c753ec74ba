import Foundation
import HTTPTransport

/// An AWS service answered with an error: its code, message, HTTP status and request id.
package struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    package var code: String
    package var message: String
    package var status: Int
    package var requestId: String?
    /// `Retry-After` in seconds, when the service sent one.
    package var retryAfterSeconds: Double?
    /// Set when the client stopped retrying a retryable error (attempts exhausted).
    package var attempts: Int
    /// The operation that was answered (`CreateJob`), set by `AWSClient`.
    package var operation: String?

    package init(code: String, message: String, status: Int, requestId: String? = nil, retryAfterSeconds: Double? = nil,
                attempts: Int = 1, operation: String? = nil) {
        self.operation = operation
        self.code = code
        self.message = message
        self.status = status
        self.requestId = requestId
        self.retryAfterSeconds = retryAfterSeconds
        self.attempts = attempts
    }

    package var description: String {
        var text = "\(code): \(message) (HTTP \(status)"
        if let requestId { text += ", request id \(requestId)" }
        if attempts > 1 { text += ", after \(attempts) attempts" }
        return text + ")"
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", "RequestThrottled",
    ]
    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "InternalException",
        "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException",
    ]

    /// A quota of the account is used up (`LimitExceededException`: too many concurrent jobs, groups per thing, …):
    /// not retried at once, since only time (or a person) frees it.
    package var isLimitExceeded: Bool {
        code == "LimitExceededException"
    }

    package var isThrottling: Bool {
        status == 429 || AWSError.throttlingCodes.contains(code)
    }

    /// Throttling, 5xx and transient codes are worth another try; other 4xx are not.
    package var isRetryable: Bool {
        isThrottling || status >= 500 || AWSError.transientCodes.contains(code)
    }

    /// Builds the error from a non-2xx response: code from `x-amzn-ErrorType`, JSON `__type`/`code`, or S3 XML
    /// `<Code>`; message from JSON `message`/`Message` or XML `<Message>`; a body-less answer (HEAD) gets a code from
    /// its status.
    package static func from(_ response: HTTPResponse) -> AWSError {
        var code: String?
        var message: String?
        var requestId = response[header: "x-amzn-requestid"] ?? response[header: "x-amz-request-id"]
        if let header = response[header: "x-amzn-errortype"], !header.isEmpty {
            code = cleanCode(header)
        }
        if !response.body.isEmpty {
            if let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] {
                if code == nil {
                    code = (object["__type"] as? String ?? object["code"] as? String ?? object["Code"] as? String)
                        .map(cleanCode)
                }
                message = object["message"] as? String ?? object["Message"] as? String
                    ?? object["errorMessage"] as? String
            } else {
                let text = String(decoding: response.body.prefix(64 << 10), as: UTF8.self)
                if code == nil { code = XMLText.firstElement("Code", in: text) }
                message = XMLText.firstElement("Message", in: text)
                if requestId == nil { requestId = XMLText.firstElement("RequestId", in: text) }
            }
        }
        let retryAfter = response[header: "retry-after"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        return AWSError(code: code ?? defaultCode(status: response.status),
                        message: message ?? "HTTP \(response.status) without an error document",
                        status: response.status, requestId: requestId, retryAfterSeconds: retryAfter)
    }

    /// `ThrottlingException:http://internal…` → `ThrottlingException`; `com.amazon…#ResourceNotFoundException` → its tail.
    static func cleanCode(_ raw: String) -> String {
        var code = raw
        if let colon = code.firstIndex(of: ":") { code = String(code[..<colon]) }
        if let hash = code.lastIndex(of: "#") { code = String(code[code.index(after: hash)...]) }
        return code.trimmingCharacters(in: .whitespaces)
    }

    static func defaultCode(status: Int) -> String {
        switch status {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 409: return "Conflict"
        case 412: return "PreconditionFailed"
        case 429: return "TooManyRequestsException"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        default: return "HTTP\(status)"
        }
    }
}

/// Just enough XML for S3's small documents (errors, versioning): the text of the first `<name>` element, unescaped.
enum XMLText {
    /// The first `<name>` element's content, unescaped (or, `raw`, as written: for elements that hold elements).
    static func firstElement(_ name: String, in text: String, raw: Bool = false) -> String? {
        guard let open = text.range(of: "<\(name)>"),
              let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
        else { return nil }
        let content = String(text[open.upperBound..<close.lowerBound])
        return raw ? content : unescape(content)
    }

    /// Every `<name>` element's content. `topLevelOnly` skips elements nested in one of the same name (a list of
    /// `member`s whose members hold `member` lists of their own).
    static func allElements(_ name: String, in text: String, raw: Bool = false, topLevelOnly: Bool = false) -> [String] {
        var results: [String] = []
        var searchStart = text.startIndex
        let openTag = "<\(name)>", closeTag = "</\(name)>"
        while results.count < 100_000, let open = text.range(of: openTag, range: searchStart..<text.endIndex) {
            var depth = 1
            var cursor = open.upperBound
            var closeFound: Range<String.Index>?
            while let close = text.range(of: closeTag, range: cursor..<text.endIndex) {
                if topLevelOnly, let inner = text.range(of: openTag, range: cursor..<close.lowerBound) {
                    depth += 1
                    cursor = inner.upperBound
                    continue
                }
                depth -= 1
                cursor = close.upperBound
                if depth == 0 || !topLevelOnly {
                    closeFound = close
                    break
                }
            }
            guard let close = closeFound else { break }
            let content = String(text[open.upperBound..<close.lowerBound])
            results.append(raw ? content : unescape(content))
            searchStart = close.upperBound
        }
        return results
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
