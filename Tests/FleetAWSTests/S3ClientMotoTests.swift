import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

@Suite("S3 against moto")
struct S3ClientMotoTests {
    @Test("put, head, get, delete with checksum and metadata; boto3 sees the same object")
    func roundTrip() async throws {
        let moto = try await MotoServer.ready()
        let s3 = try moto.configuration().s3Client()
        let bucket = UniqueName.make("fw")
        try await s3.createBucket(bucket)
        let key = "firmware/sensor fw/1.0+rc/ü (1).bin"
        let data = Data("hello firmware".utf8)
        let put = try await s3.putObject(bucket: bucket, key: key, data: data, contentType: "application/octet-stream",
                                         metadata: ["sha256": SHA256Digest.hash(data).lowercaseHex])
        #expect(put.etag != nil)

        let head = try #require(try await s3.headObject(bucket: bucket, key: key))
        #expect(head.size == Int64(data.count))
        #expect(head.knownSHA256Hex == SHA256Digest.hash(data).lowercaseHex)
        #expect(try await s3.getObject(bucket: bucket, key: key) == data)
        #expect(try await s3.getObjectRange(bucket: bucket, key: key, offset: 6, length: 4) == Data("firm".utf8))

        let viaBoto = try await moto.boto3("s3", "get_object", ["Bucket": bucket, "Key": key], readBody: true)
        #expect(viaBoto["BodyBase64"] as? String == data.base64EncodedString())
        #expect((viaBoto["Metadata"] as? [String: String])?["sha256"] == SHA256Digest.hash(data).lowercaseHex)
        #expect(viaBoto["ContentType"] as? String == "application/octet-stream")

        try await s3.deleteObject(bucket: bucket, key: key)
        #expect(try await s3.headObject(bucket: bucket, key: key) == nil)
        try await s3.deleteObject(bucket: bucket, key: key)  // deleting what is gone succeeds
    }

    @Test("a multi-MB file streams from disk with its SHA-256")
    func streamedUpload() async throws {
        let moto = try await MotoServer.ready()
        let s3 = try moto.configuration().s3Client()
        let bucket = UniqueName.make("stream")
        try await s3.createBucket(bucket)
        let data = Data.pseudoRandom(count: 6 * 1024 * 1024 + 17, seed: 42)
        let path = try TemporaryFile.make(suffix: ".bin", contents: data)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (digest, size) = try SHA256Digest.hashFile(atPath: path)
        #expect(digest == SHA256Digest.hash(data))
        try await s3.putObject(bucket: bucket, key: "big.bin", filePath: path, size: size, sha256: digest,
                               contentType: "application/octet-stream", metadata: ["sha256": digest.lowercaseHex])
        let head = try #require(try await s3.headObject(bucket: bucket, key: "big.bin"))
        #expect(head.size == Int64(data.count))
        var hasher = SHA256Digest()
        let read = try await s3.streamObject(bucket: bucket, key: "big.bin", size: head.size, chunkSize: 1 << 20) {
            hasher.update($0)
        }
        #expect(read == Int64(data.count))
        #expect(hasher.finalize() == digest)
    }

    @Test("a file that differs from its announced digest is refused")
    func changedFileRefused() async throws {
        let moto = try await MotoServer.ready()
        let s3 = try moto.configuration().s3Client()
        let bucket = UniqueName.make("changed")
        try await s3.createBucket(bucket)
        let path = try TemporaryFile.make(contents: Data("version A".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        await #expect(throws: S3ClientError.self) {
            try await s3.putObject(bucket: bucket, key: "x.bin", filePath: path, size: 9,
                                   sha256: SHA256Digest.hash("version B"), contentType: "application/octet-stream")
        }
    }

    @Test("versioned buckets report version ids")
    func versioning() async throws {
        let moto = try await MotoServer.ready()
        let s3 = try moto.configuration().s3Client()
        let bucket = UniqueName.make("versioned")
        try await s3.createBucket(bucket)
        _ = try await moto.boto3("s3", "put_bucket_versioning",
                                 ["Bucket": bucket, "VersioningConfiguration": ["Status": "Enabled"]])
        let first = try await s3.putObject(bucket: bucket, key: "k", data: Data("1".utf8), contentType: "text/plain")
        let second = try await s3.putObject(bucket: bucket, key: "k", data: Data("2".utf8), contentType: "text/plain")
        let firstVersion = try #require(first.versionId)
        #expect(second.versionId != nil && second.versionId != firstVersion)
        #expect(try await s3.getObject(bucket: bucket, key: "k", versionId: firstVersion) == Data("1".utf8))
    }

    @Test("S3 errors surface their code and message")
    func errors() async throws {
        let moto = try await MotoServer.ready()
        let s3 = try moto.configuration().s3Client()
        do {
            _ = try await s3.getObject(bucket: UniqueName.make("missing"), key: "nothing")
            Issue.record("expected NoSuchBucket")
        } catch let error as AWSError {
            #expect(error.code == "NoSuchBucket")
            #expect(error.status == 404)
            #expect(!error.message.isEmpty)
        }
    }
}
