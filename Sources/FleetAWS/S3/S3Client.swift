import Foundation
import HTTPTransport

/// The S3 calls the rollout needs: Put (from memory or streamed from a file, with a SHA-256 checksum), Head, Get
/// (whole or by range), Delete. Path-style addressing under an endpoint override (moto, MinIO), virtual-hosted
/// otherwise (path-style too for bucket names with dots, which break TLS wildcard names).
package struct S3Client: Sendable {
    package let client: AWSClient
    package let pathStyle: Bool

    package init(client: AWSClient, pathStyle: Bool) {
        precondition(client.service == "s3", "S3Client needs an s3 AWSClient")
        self.client = client
        self.pathStyle = pathStyle
    }

    /// The request for `key` in `bucket` (`key` decoded; empty for the bucket itself).
    package func objectRequest(_ method: String, bucket: String, key: String, query: [QueryItem] = [],
                              headers: HTTPHeaders = HTTPHeaders(), body: HTTPBody = .empty) -> HTTPRequest {
        let endpoint = client.endpoint
        if pathStyle || bucket.contains(".") {
            return HTTPRequest(method: method, endpoint: endpoint, path: "/\(bucket)/\(key)", query: query,
                               headers: headers, body: body)
        }
        return HTTPRequest(method: method, scheme: endpoint.scheme, host: "\(bucket).\(endpoint.host)",
                           port: endpoint.port, path: endpoint.basePath + "/" + key, query: query, headers: headers,
                           body: body)
    }

    /// Uploads bytes held in memory.
    @discardableResult
    package func putObject(bucket: String, key: String, data: Data, contentType: String,
                          metadata: [String: String] = [:]) async throws -> S3PutResult {
        let digest = SHA256Digest.hash(data)
        let headers = S3Client.putHeaders(contentType: contentType, digest: digest, metadata: metadata)
        let request = objectRequest("PUT", bucket: bucket, key: key, headers: headers, body: .data(data))
        let response = try await client.send(request, operation: "PutObject", payloadHash: digest.lowercaseHex)
        return try S3Client.checkedPutResult(response, digest: digest, key: key)
    }

    /// Streams a file (never loaded whole). `sha256` is the file's digest, computed beforehand (the key and the
    /// signature need it up front); the bytes actually sent are hashed again and must match, so a file changed
    /// between hashing and upload is refused (S3 itself rejects the mismatch too, via `x-amz-content-sha256`).
    @discardableResult
    package func putObject(bucket: String, key: String, filePath: String, size: Int64, sha256: Data, contentType: String,
                          metadata: [String: String] = [:]) async throws -> S3PutResult {
        precondition(sha256.count == 32, "sha256 must be a 32-byte digest")
        let headers = S3Client.putHeaders(contentType: contentType, digest: sha256, metadata: metadata)
        let request = objectRequest("PUT", bucket: bucket, key: key, headers: headers,
                                    body: .file(path: filePath, size: size))
        let response = try await client.send(request, operation: "PutObject", payloadHash: sha256.lowercaseHex)
        if let sent = response.sentBodySHA256, sent != sha256.lowercaseHex {
            throw S3ClientError("\(filePath) changed while it was uploaded to s3://\(bucket)/\(key) (sent SHA-256 \(sent), expected \(sha256.lowercaseHex))")
        }
        return try S3Client.checkedPutResult(response, digest: sha256, key: key)
    }

    /// The object's metadata, or nil when there is no such object.
    package func headObject(bucket: String, key: String) async throws -> S3ObjectMetadata? {
        let request = objectRequest("HEAD", bucket: bucket, key: key, headers: ["x-amz-checksum-mode": "ENABLED"])
        let response = try await client.send(request, operation: "HeadObject", acceptStatus: [404])
        if response.status == 404 { return nil }
        return S3ObjectMetadata(response: response)
    }

    /// The whole object (bounded by the transport's response limit: use `getObjectRange` for large ones).
    package func getObject(bucket: String, key: String, versionId: String? = nil) async throws -> Data {
        let query = versionId.map { [QueryItem("versionId", $0)] } ?? []
        let request = objectRequest("GET", bucket: bucket, key: key, query: query)
        return try await client.send(request, operation: "GetObject").body
    }

    /// Bytes `offset ..< offset + length` of the object (fewer at its end).
    package func getObjectRange(bucket: String, key: String, offset: Int64, length: Int64) async throws -> Data {
        precondition(offset >= 0 && length > 0, "range must be non-empty")
        let request = objectRequest("GET", bucket: bucket, key: key,
                                    headers: ["Range": "bytes=\(offset)-\(offset + length - 1)"])
        let response = try await client.send(request, operation: "GetObject")
        if response.status == 200 {
            // A server that ignores Range sends the whole object: keep the asked part.
            let start = Int(min(offset, Int64(response.body.count)))
            let end = Int(min(offset + length, Int64(response.body.count)))
            return response.body.subdata(in: start..<end)
        }
        return response.body
    }

    /// Reads the object in `chunkSize` ranges, feeding each to `consume`; returns the byte count. Bounded memory.
    package func streamObject(bucket: String, key: String, size: Int64, chunkSize: Int64 = 8 << 20,
                             consume: (Data) throws -> Void) async throws -> Int64 {
        precondition(chunkSize > 0, "chunkSize must be positive")
        var offset: Int64 = 0
        let chunkCountMax = size / chunkSize + 2
        var chunks: Int64 = 0
        while offset < size && chunks < chunkCountMax {
            let chunk = try await getObjectRange(bucket: bucket, key: key, offset: offset,
                                                 length: min(chunkSize, size - offset))
            guard !chunk.isEmpty else { break }
            try consume(chunk)
            offset += Int64(chunk.count)
            chunks += 1
        }
        guard offset == size else {
            throw S3ClientError("s3://\(bucket)/\(key): read \(offset) of \(size) bytes")
        }
        return offset
    }

    /// Deletes the object (or one version); deleting what is not there succeeds, as in S3.
    package func deleteObject(bucket: String, key: String, versionId: String? = nil) async throws {
        let query = versionId.map { [QueryItem("versionId", $0)] } ?? []
        let request = objectRequest("DELETE", bucket: bucket, key: key, query: query)
        _ = try await client.send(request, operation: "DeleteObject", acceptStatus: [404])
    }

    /// Whether `bucket` exists and the caller may read it: `HeadBucket` answers 200, 404 (no such bucket) or 403
    /// (it exists, or the caller may not know: S3 does not say which).
    package func headBucket(_ bucket: String) async throws -> S3BucketAccess {
        let request = objectRequest("HEAD", bucket: bucket, key: "")
        let response = try await client.send(request, operation: "HeadBucket", acceptStatus: [403, 404])
        switch response.status {
        case 404: return .missing
        case 403: return .forbidden
        default: return .exists(region: response[header: "x-amz-bucket-region"])
        }
    }

    /// Creates a bucket (tests and first-time setup); an existing bucket of ours is success.
    package func createBucket(_ bucket: String) async throws {
        var body = HTTPBody.empty
        var headers = HTTPHeaders()
        if client.region != "us-east-1" {
            body = .data(Data("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(client.region)</LocationConstraint></CreateBucketConfiguration>".utf8))
            headers["Content-Type"] = "application/xml"
        }
        let request = objectRequest("PUT", bucket: bucket, key: "", headers: headers, body: body)
        do {
            _ = try await client.send(request, operation: "CreateBucket")
        } catch let error as AWSError where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    static func putHeaders(contentType: String, digest: Data, metadata: [String: String]) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers["Content-Type"] = contentType
        headers["x-amz-checksum-sha256"] = digest.base64EncodedString()
        headers["x-amz-sdk-checksum-algorithm"] = "SHA256"
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
            headers["x-amz-meta-\(name.lowercased())"] = value
        }
        return headers
    }

    static func checkedPutResult(_ response: HTTPResponse, digest: Data, key: String) throws -> S3PutResult {
        let checksum = response[header: "x-amz-checksum-sha256"]
        if let checksum, checksum != digest.base64EncodedString() {
            throw S3ClientError("S3 stored \(key) with SHA-256 \(checksum), expected \(digest.base64EncodedString())")
        }
        return S3PutResult(etag: response[header: "etag"],
                           versionId: response[header: "x-amz-version-id"].flatMap { $0 == "null" ? nil : $0 },
                           checksumSHA256: checksum)
    }
}

/// What `HeadBucket` learnt.
package enum S3BucketAccess: Sendable, Equatable {
    case exists(region: String?)
    case missing
    /// 403: the bucket may exist, but the caller may not read it.
    case forbidden
}

/// The object store disagreed with what was sent (checksum mismatch, short read).
package struct S3ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}
