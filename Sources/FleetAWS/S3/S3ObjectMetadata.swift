import Foundation
import HTTPTransport

/// What HeadObject tells about an object.
package struct S3ObjectMetadata: Sendable, Equatable {
    package var size: Int64
    package var etag: String?
    package var versionId: String?
    package var contentType: String?
    /// Base64 SHA-256 S3 stored for the whole object (`x-amz-checksum-sha256`), when it has one.
    package var checksumSHA256: String?
    /// User metadata (`x-amz-meta-*`), keys without the prefix, lowercased.
    package var metadata: [String: String]

    package init(size: Int64, etag: String? = nil, versionId: String? = nil, contentType: String? = nil,
                checksumSHA256: String? = nil, metadata: [String: String] = [:]) {
        self.size = size
        self.etag = etag
        self.versionId = versionId
        self.contentType = contentType
        self.checksumSHA256 = checksumSHA256
        self.metadata = metadata
    }

    /// The object's SHA-256 (lowercase hex) if it is known without reading it: our `x-amz-meta-sha256`, else a
    /// full-object checksum (a multipart composite `…-N` is not the object's digest).
    package var knownSHA256Hex: String? {
        if let hex = metadata["sha256"]?.lowercased(), hex.count == 64, Data(hex: hex) != nil {
            return hex
        }
        if let checksum = checksumSHA256, !checksum.contains("-"), let digest = Data(base64Encoded: checksum),
           digest.count == 32
        {
            return digest.lowercaseHex
        }
        return nil
    }

    init(response: HTTPResponse) {
        var metadata: [String: String] = [:]
        for (name, value) in response.headers where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = value
        }
        self.init(size: Int64(response[header: "content-length"] ?? "") ?? 0,
                  etag: response[header: "etag"],
                  versionId: response[header: "x-amz-version-id"].flatMap { $0 == "null" ? nil : $0 },
                  contentType: response[header: "content-type"],
                  checksumSHA256: response[header: "x-amz-checksum-sha256"],
                  metadata: metadata)
    }
}

/// What PutObject answered.
package struct S3PutResult: Sendable, Equatable {
    package var etag: String?
    /// Set when the bucket has versioning enabled.
    package var versionId: String?
    package var checksumSHA256: String?
}
