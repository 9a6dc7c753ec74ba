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
    /// Headers never signed (hop-by-hop, or changed by proxies and clients), as in botocore; lowercase UTF-8.
    static let unsignedHeaders: Set<[UInt8]> = Set([
        "authorization", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ].map { Array($0.utf8) })

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
        var canonical = SigV4Canonical(capacity: 512)
        let signedHeaders = canonical.writeRequest(request, canonicalURI: canonicalURI(request), payloadHash: hash)
        let scope = credentialScope(stamp)
        let signature = self.signature(canonicalRequest: canonical.bytes, timestamp: stamp, scope: scope,
                                       secret: credentials.secretAccessKey)
        request.headers["Authorization"] =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
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
        var canonical = SigV4Canonical(capacity: 512)
        _ = canonical.writeRequest(presigned, canonicalURI: canonicalURI(presigned), payloadHash: SigV4Signer.unsignedPayload)
        let signature = self.signature(canonicalRequest: canonical.bytes, timestamp: stamp, scope: scope,
                                       secret: credentials.secretAccessKey)
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
        var canonical = SigV4Canonical(capacity: 128)
        canonical.writeQuery(items)
        return String(decoding: canonical.bytes, as: UTF8.self)
    }

    /// The canonical request `sign` would build (same headers as after signing, minus `Authorization`).
    package func canonicalRequest(for signedRequest: HTTPRequest) -> String {
        var request = signedRequest
        request.headers.remove("Authorization")
        let hash = request.headers["X-Amz-Content-SHA256"] ?? SigV4Signer.payloadHash(of: request.body)
        var canonical = SigV4Canonical(capacity: 512)
        _ = canonical.writeRequest(request, canonicalURI: canonicalURI(request), payloadHash: hash)
        return String(decoding: canonical.bytes, as: UTF8.self)
    }

    func credentialScope(_ timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// Hex HMAC of the string to sign (`AWS4-HMAC-SHA256`, the instant, the scope, the canonical request's hash)
    /// with the day's signing key.
    func signature(canonicalRequest: [UInt8], timestamp: String, scope: String, secret: String) -> String {
        var stringToSign: [UInt8] = []
        stringToSign.reserveCapacity(160)
        stringToSign += "AWS4-HMAC-SHA256\n".utf8
        stringToSign += timestamp.utf8
        stringToSign.append(UInt8(ascii: "\n"))
        stringToSign += scope.utf8
        stringToSign.append(UInt8(ascii: "\n"))
        stringToSign += canonicalRequest.withUnsafeBytes(SmallSHA256.hash).lowercaseHexBytes
        let key = SigningKeys.shared.key(secret: secret, day: String(timestamp.prefix(8)), region: region,
                                         service: service)
        return String(decoding: key.authenticate(stringToSign).lowercaseHexBytes, as: UTF8.self)
    }

    /// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request")`.
    package func signingKey(secret: String, day: String) -> Data {
        Data(SigningKeys.derive(secret: secret, day: day, region: region, service: service))
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

    /// The hex SHA-256 of an in-memory body; a file body must be hashed by the caller (`UNSIGNED-PAYLOAD` otherwise).
    package static func payloadHash(of body: HTTPBody) -> String {
        switch body {
        case .empty: return emptyPayloadHash
        case .data(let data):
            return data.isEmpty ? emptyPayloadHash
                : String(decoding: data.withUnsafeBytes(SmallSHA256.hash).lowercaseHexBytes, as: UTF8.self)
        case .file: return unsignedPayload
        }
    }
}
