import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

@Suite("SigV4 signer")
struct SigV4SignerTests {
    static let date = Date(timeIntervalSince1970: 1_704_164_645)  // 2024-01-02T03:04:05Z
    static let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE",
                                            secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let temporary = AWSCredentials(accessKeyId: "ASIAEXAMPLE", secretAccessKey: "c2VjcmV0/+=key",
                                          sessionToken: "FwoGZXIvYXdzE//token+with/odd=chars")

    struct Case {
        var name: String
        var service: String
        var region: String = "eu-west-1"
        var credentials: AWSCredentials = SigV4SignerTests.credentials
        var request: HTTPRequest
    }

    static func iot(_ method: String, _ path: String, query: [QueryItem] = [], headers: HTTPHeaders = HTTPHeaders(),
                    body: Data? = nil) -> HTTPRequest {
        HTTPRequest(method: method, scheme: "https", host: "iot.eu-west-1.amazonaws.com", path: path, query: query,
                    headers: headers, body: body.map { .data($0) } ?? .empty)
    }

    static let cases: [Case] = [
        Case(name: "iot GET, no query", service: "iot", request: iot("GET", "/things/sensor-0001")),
        Case(name: "iot PUT json, session token", service: "iot", credentials: temporary,
             request: iot("PUT", "/jobs/rollout-abc-canary", headers: ["Content-Type": "application/json"],
                          body: Data(#"{"targetSelection":"SNAPSHOT","targets":["arn:aws:iot:eu-west-1:1:thing/a"]}"#.utf8))),
        Case(name: "iot query specials", service: "iot",
             request: iot("GET", "/jobs/j1/things",
                          query: [QueryItem("status", "QUEUED"), QueryItem("nextToken", "ab+/=~ cd"),
                                  QueryItem("maxResults", "250")])),
        Case(name: "query: spaces, unicode, +, =, ~, empty values, repeated keys", service: "iot",
             request: iot("GET", "/thing-groups/g1/things",
                          query: [QueryItem("b", "2"), QueryItem("a", ""), QueryItem("a", "z"), QueryItem("a", "1"),
                                  QueryItem("c", "x y"), QueryItem("d", "é☃"), QueryItem("e", "a+b=c~"),
                                  QueryItem("a b", "k"), QueryItem("A", "upper"), QueryItem("_", "-.")])),
        Case(name: "non-S3 path is encoded twice", service: "iot",
             request: iot("GET", "/things/a b/é+x=y~z")),
        Case(name: "headers: case, inner spaces, repeats", service: "iot",
             request: iot("POST", "/things/t/x", headers: HTTPHeaders([
                 ("Content-Type", "application/json"), ("X-Custom", "  a   b\tc  "), ("x-repeat", "one"),
                 ("X-Repeat", "two"), ("User-Agent", "rollout/1.0"),
             ]), body: Data("{}".utf8))),
        Case(name: "S3 PUT key with slashes, spaces, unicode, plus; session token", service: "s3", credentials: temporary,
             request: HTTPRequest(method: "PUT", scheme: "https", host: "s3.eu-west-1.amazonaws.com",
                                  path: "/fw-bucket/firmware/sensor fw/1.0+rc/ü (1)~!'*.bin",
                                  headers: ["Content-Type": "application/octet-stream",
                                            "x-amz-meta-sha256": "abc", "x-amz-checksum-sha256": "q83v"],
                                  body: .data(Data("firmware bytes".utf8)))),
        Case(name: "S3 GET versionId on loopback port, http", service: "s3", region: "us-east-1",
             request: HTTPRequest(method: "GET", scheme: "http", host: "127.0.0.1", port: 5123,
                                  path: "/bucket/a/b c.bin", query: [QueryItem("versionId", "3/L4kqtJl+cd=")])),
        Case(name: "S3 subresource with empty value", service: "s3",
             request: HTTPRequest(method: "GET", host: "fw-bucket.s3.eu-west-1.amazonaws.com", path: "/",
                                  query: [QueryItem("versioning", "")])),
        Case(name: "S3 HEAD, default port given explicitly", service: "s3",
             request: HTTPRequest(method: "HEAD", scheme: "https", host: "s3.eu-west-1.amazonaws.com", port: 443,
                                  path: "/bucket/key")),
        Case(name: "S3 DELETE empty key segment", service: "s3",
             request: HTTPRequest(method: "DELETE", scheme: "http", host: "localhost", port: 9000,
                                  path: "/bucket//double//slash")),
    ]

    static func botocoreCase(_ testCase: Case) -> [String: Any] {
        var payload: [String: Any] = [
            "kind": "header", "service": testCase.service, "region": testCase.region,
            "accessKey": testCase.credentials.accessKeyId, "secretKey": testCase.credentials.secretAccessKey,
            "timestamp": SigV4Signer.timestamp(date), "method": testCase.request.method, "url": testCase.request.url,
            "headers": testCase.request.headers.map { [$0.name, $0.value] },
        ]
        if let token = testCase.credentials.sessionToken { payload["token"] = token }
        if case .data(let data) = testCase.request.body { payload["bodyBase64"] = data.base64EncodedString() }
        return payload
    }

    @Test("matches botocore byte for byte")
    func matchesBotocore() async throws {
        let input = try JSONSerialization.data(withJSONObject: Self.cases.map(Self.botocoreCase))
        let output = try await TestProcess.python("botocore_sign.py", input: input)
        let results = try #require(try jsonObject(output) as? [[String: String]])
        #expect(results.count == Self.cases.count)
        for (testCase, expected) in zip(Self.cases, results) {
            var request = testCase.request
            let signer = SigV4Signer(service: testCase.service, region: testCase.region)
            signer.sign(&request, credentials: testCase.credentials, date: Self.date)
            #expect(request.headers["Authorization"] == expected["authorization"],
                    "\(testCase.name)\nours:\n\(signer.canonicalRequest(for: request))\nbotocore:\n\(expected["canonicalRequest"] ?? "")")
            #expect(request.headers["X-Amz-Date"] == "20240102T030405Z")
            #expect(request.headers["X-Amz-Security-Token"] == testCase.credentials.sessionToken)
            if testCase.service == "s3" {
                #expect(request.headers["X-Amz-Content-SHA256"] == SigV4Signer.payloadHash(of: testCase.request.body))
            }
        }
    }

    @Test("presigned S3 URLs match botocore")
    func presignedMatchesBotocore() async throws {
        let requests: [(HTTPRequest, AWSCredentials, Int)] = [
            (HTTPRequest(method: "GET", host: "s3.eu-west-1.amazonaws.com", path: "/fw-bucket/firmware/a b/ü+1.bin"),
             Self.credentials, 3600),
            (HTTPRequest(method: "GET", scheme: "http", host: "127.0.0.1", port: 5000, path: "/bucket/key.bin"),
             Self.temporary, 60),
            (HTTPRequest(method: "GET", host: "s3.eu-west-1.amazonaws.com", path: "/b/k",
                         query: [QueryItem("versionId", "v+1/2")]), Self.credentials, 604_800),
        ]
        let cases: [[String: Any]] = requests.map { request, credentials, expires in
            var payload: [String: Any] = [
                "kind": "presign", "service": "s3", "region": "eu-west-1", "accessKey": credentials.accessKeyId,
                "secretKey": credentials.secretAccessKey, "timestamp": SigV4Signer.timestamp(Self.date),
                "method": "GET", "url": request.url, "headers": [[String]](), "expires": expires,
            ]
            if let token = credentials.sessionToken { payload["token"] = token }
            return payload
        }
        let output = try await TestProcess.python("botocore_sign.py",
                                                  input: try JSONSerialization.data(withJSONObject: cases))
        let results = try #require(try jsonObject(output) as? [[String: String]])
        for ((request, credentials, expires), expected) in zip(requests, results) {
            let url = SigV4Signer(service: "s3", region: "eu-west-1")
                .presignedURL(request, credentials: credentials, date: Self.date, expiresSeconds: expires)
            let signature = try #require(url.components(separatedBy: "X-Amz-Signature=").last)
            #expect(signature == expected["signature"], "\(url)\nbotocore: \(expected["url"] ?? "")")
            #expect(url.contains("X-Amz-Expires=\(expires)"))
        }
    }

    /// The `get-vanilla` case of AWS's published SigV4 test suite.
    @Test("AWS test suite get-vanilla")
    func awsTestSuiteVanilla() {
        var request = HTTPRequest(method: "GET", host: "example.amazonaws.com", path: "/")
        SigV4Signer(service: "service", region: "us-east-1")
            .sign(&request, credentials: Self.credentials, date: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(request.headers["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test("URI encoding keeps only unreserved characters")
    func uriEncoding() {
        #expect(URIEncoding.encode("a b+c=d~e/f") == "a%20b%2Bc%3Dd~e%2Ff")
        #expect(URIEncoding.encode("a b/c", encodeSlash: false) == "a%20b/c")
        #expect(URIEncoding.encode("é") == "%C3%A9")
        #expect(URIEncoding.encode("AZaz09-_.~") == "AZaz09-_.~")
    }

    @Test("canonical query sorts by encoded name then value")
    func canonicalQuery() {
        let query = SigV4Signer.canonicalQuery([QueryItem("b", "1"), QueryItem("a", "z"), QueryItem("a", ""),
                                                QueryItem("a", "B"), QueryItem("c d", "e f")])
        #expect(query == "a=&a=B&a=z&b=1&c%20d=e%20f")
    }

    @Test("timestamps are UTC and zero padded")
    func timestamps() {
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 951_782_400)) == "20000229T000000Z")
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 4_102_444_799.9)) == "20991231T235959Z")
    }

    @Test("a file body needs its hash from the caller, else UNSIGNED-PAYLOAD")
    func fileBodyPayload() {
        var request = HTTPRequest(method: "PUT", host: "s3.eu-west-1.amazonaws.com", path: "/b/k",
                                  body: .file(path: "/dev/null", size: 0))
        let signer = SigV4Signer(service: "s3", region: "eu-west-1")
        signer.sign(&request, credentials: Self.credentials, date: Self.date)
        #expect(request.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD")
        signer.sign(&request, credentials: Self.credentials, date: Self.date, payloadHash: String(repeating: "a", count: 64))
        #expect(request.headers["X-Amz-Content-SHA256"] == String(repeating: "a", count: 64))
    }

    @Test("credentials never print their secrets")
    func redaction() {
        let texts = [Self.temporary.description, String(describing: Self.temporary), String(reflecting: Self.temporary),
                     "\(Self.temporary)", { var out = ""; dump(Self.temporary, to: &out); return out }()]
        for text in texts {
            #expect(!text.contains(Self.temporary.secretAccessKey))
            #expect(!text.contains("FwoGZXIvYXdzE"))
            #expect(!text.contains("ASIAEXAMPLE"))
        }
        #expect(Self.temporary.description.contains("****MPLE"))
    }
}
