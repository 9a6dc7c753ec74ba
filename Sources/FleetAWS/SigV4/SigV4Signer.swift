import Foundation
import HTTPTransport

/// AWS Signature Version 4 (header and presigned-query forms). Pure: credentials, the instant and the request go in,
/// the signed request comes out.
///
/// S3 signs the path as sent (encoded once, `/` kept) and always carries `x-amz-content-sha256`; every other
/// service signs the path encoded a second time, as botocore does.
package struct SigV4Signer: Sendable {
    package static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    package static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// Headers never signed (hop-by-hop, or changed by proxies and clients), as in botocore.
    static let unsignedHeaders: Set<String> = [
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    package var service: String
    package var region: String

    package init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    var isS3: Bool { service == "s3" }

    /// Adds `x-amz-date`, `x-amz-security-token` (temporary credentials), `x-amz-content-sha256` (S3) and
    /// `Authorization` to `request`.
    ///
    /// - Parameter payloadHash: lowercase hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`; required for a file body
    ///   (computed here for in-memory bodies).
    package func sign(_ request: inout HTTPRequest, credentials: AWSCredentials, date: Date, payloadHash: String? = nil) {
        let stamp = SigV4Signer.timestamp(date)
        request.headers.remove("Authorization")
        request.headers["X-Amz-Date"] = stamp
        if let token = credentials.sessionToken {
            request.headers["X-Amz-Security-Token"] = token
        } else {
            request.headers.remove("X-Amz-Security-Token")
        }
        let hash = payloadHash ?? request.headers["X-Amz-Content-SHA256"] ?? SigV4Signer.payloadHash(of: request.body)
        if isS3 {
            request.headers["X-Amz-Content-SHA256"] = hash
        }
        let headers = canonicalHeaders(request)
        let canonical = canonicalRequest(request, canonicalHeaders: headers, payloadHash: hash)
        let scope = credentialScope(stamp)
        let signature = self.signature(canonicalRequest: canonical, timestamp: stamp, secret: credentials.secretAccessKey)
        request.headers["Authorization"] =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(headers.signed), Signature=\(signature)"
    }

    /// A presigned (query-string) URL, e.g. for an S3 GET that a device or a test can fetch without credentials.
    /// Only `host` is signed; the payload is `UNSIGNED-PAYLOAD`.
    package func presignedURL(_ request: HTTPRequest, credentials: AWSCredentials, date: Date,
                             expiresSeconds: Int) -> String {
        precondition(expiresSeconds >= 1 && expiresSeconds <= 604_800, "presigned URLs last 1 s … 7 days")
        let stamp = SigV4Signer.timestamp(date)
        var presigned = request
        presigned.headers = HTTPHeaders()
        presigned.body = .empty
        let scope = credentialScope(stamp)
        var authItems = [
            QueryItem("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            QueryItem("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope)"),
            QueryItem("X-Amz-Date", stamp),
            QueryItem("X-Amz-Expires", String(expiresSeconds)),
            QueryItem("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken {
            authItems.append(QueryItem("X-Amz-Security-Token", token))
        }
        presigned.query = request.query.filter { !$0.name.hasPrefix("X-Amz-") } + authItems
        let headers = canonicalHeaders(presigned)
        let canonical = canonicalRequest(presigned, canonicalHeaders: headers, payloadHash: SigV4Signer.unsignedPayload)
        let signature = self.signature(canonicalRequest: canonical, timestamp: stamp, secret: credentials.secretAccessKey)
        presigned.query.append(QueryItem("X-Amz-Signature", signature))
        return presigned.url
    }

    // MARK: - The steps, exposed for tests and debugging

    /// `CanonicalURI`: S3 uses the path as sent; other services encode it again.
    package func canonicalURI(_ request: HTTPRequest) -> String {
        let once = request.encodedPath
        return isS3 ? once : URIEncoding.encode(once, encodeSlash: false)
    }

    /// `CanonicalQueryString`: every name and value encoded, pairs sorted by name then value (byte order).
    package static func canonicalQuery(_ items: [QueryItem]) -> String {
        items.map { (URIEncoding.encode($0.name), URIEncoding.encode($0.value)) }
            .sorted { lhs, rhs in
                lhs.0 == rhs.0 ? Array(lhs.1.utf8).lexicographicallyPrecedes(Array(rhs.1.utf8))
                    : Array(lhs.0.utf8).lexicographicallyPrecedes(Array(rhs.0.utf8))
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    struct CanonicalHeaders {
        var block: String
        var signed: String
    }

    func canonicalHeaders(_ request: HTTPRequest) -> CanonicalHeaders {
        var grouped: [String: [String]] = [:]
        for field in request.headers {
            let name = field.name.lowercased()
            guard !SigV4Signer.unsignedHeaders.contains(name) else { continue }
            grouped[name, default: []].append(SigV4Signer.trimAll(field.value))
        }
        if grouped["host"] == nil {
            grouped["host"] = [request.hostHeader]
        }
        let names = grouped.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let block = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        return CanonicalHeaders(block: block, signed: names.joined(separator: ";"))
    }

    func canonicalRequest(_ request: HTTPRequest, canonicalHeaders: CanonicalHeaders, payloadHash: String) -> String {
        [
            request.method.uppercased(),
            canonicalURI(request),
            SigV4Signer.canonicalQuery(request.query),
            canonicalHeaders.block,
            canonicalHeaders.signed,
            payloadHash,
        ].joined(separator: "\n")
    }

    /// The canonical request `sign` would build (same headers as after signing, minus `Authorization`).
    package func canonicalRequest(for signedRequest: HTTPRequest) -> String {
        var request = signedRequest
        request.headers.remove("Authorization")
        let hash = request.headers["X-Amz-Content-SHA256"] ?? SigV4Signer.payloadHash(of: request.body)
        return canonicalRequest(request, canonicalHeaders: canonicalHeaders(request), payloadHash: hash)
    }

    func credentialScope(_ timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    func stringToSign(canonicalRequest: String, timestamp: String) -> String {
        [
            "AWS4-HMAC-SHA256",
            timestamp,
            credentialScope(timestamp),
            SHA256Digest.hash(canonicalRequest).lowercaseHex,
        ].joined(separator: "\n")
    }

    func signature(canonicalRequest: String, timestamp: String, secret: String) -> String {
        let key = signingKey(secret: secret, day: String(timestamp.prefix(8)))
        return HMACSHA256.authenticate(stringToSign(canonicalRequest: canonicalRequest, timestamp: timestamp),
                                       key: key).lowercaseHex
    }

    /// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request")`.
    package func signingKey(secret: String, day: String) -> Data {
        let date = HMACSHA256.authenticate(day, key: Data("AWS4\(secret)".utf8))
        let region = HMACSHA256.authenticate(self.region, key: date)
        let service = HMACSHA256.authenticate(self.service, key: region)
        return HMACSHA256.authenticate("aws4_request", key: service)
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    package static func timestamp(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)\(two(month))\(two(day))T\(two(secondOfDay / 3600))\(two(secondOfDay % 3600 / 60))\(two(secondOfDay % 60))Z"
    }

    /// Howard Hinnant's days-from-civil inverse (proleptic Gregorian), so no formatter or locale is involved.
    static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// `Trimall`: strip the ends, collapse runs of whitespace to one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// The hex SHA-256 of an in-memory body; a file body must be hashed by the caller (`UNSIGNED-PAYLOAD` otherwise).
    package static func payloadHash(of body: HTTPBody) -> String {
        switch body {
        case .empty: return emptyPayloadHash
        case .data(let data): return data.isEmpty ? emptyPayloadHash : SHA256Digest.hash(data).lowercaseHex
        case .file: return unsignedPayload
        }
    }
}
