import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

/// A python process that printed `PORT n`, killed (stdin closed) when released.
final class LoopbackServer: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let stdin: Pipe

    init(script: String, arguments: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", SupportFiles.path(script)] + arguments
        stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        var buffer = Data()
        while buffer.count < 4096, !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
        }
        guard let port = String(decoding: buffer, as: UTF8.self).split(separator: "\n").first
            .flatMap({ Int($0.dropFirst("PORT ".count)) })
        else {
            process.terminate()
            throw TestFailure("\(script) did not start")
        }
        self.port = port
    }

    deinit {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
    }
}

@Suite("Credentials chain and configuration")
struct CredentialsChainTests {
    static let transport = CurlTransport(options: .init(connectTimeoutSeconds: 2, totalTimeoutSeconds: 5, threadCount: 2))

    static func files(credentials: String? = nil, config: String? = nil) throws -> [String: String] {
        let directory = try TemporaryFile.makeDirectory()
        var environment = ["HOME": directory]
        if let credentials {
            let path = directory + "/credentials"
            FileManager.default.createFile(atPath: path, contents: Data(credentials.utf8))
            environment["AWS_SHARED_CREDENTIALS_FILE"] = path
        }
        if let config {
            let path = directory + "/config"
            FileManager.default.createFile(atPath: path, contents: Data(config.utf8))
            environment["AWS_CONFIG_FILE"] = path
        }
        return environment
    }

    static func chain(_ environment: [String: String], profile: String? = nil,
                      now: @escaping @Sendable () -> Date = { Date() }) throws -> CredentialsChain {
        var environment = environment
        if environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == nil { environment["AWS_EC2_METADATA_DISABLED"] = "true" }
        return try CredentialsChain.standard(environment: environment, profile: profile, transport: transport,
                                             metadataTransport: transport, now: now)
    }

    @Test("environment keys come first")
    func environment() async throws {
        var environment = try Self.files(credentials: "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = s\n")
        environment["AWS_ACCESS_KEY_ID"] = "ENVKEY"
        environment["AWS_SECRET_ACCESS_KEY"] = "envsecret"
        environment["AWS_SESSION_TOKEN"] = "envtoken"
        let credentials = try await Self.chain(environment).credentials()
        #expect(credentials.accessKeyId == "ENVKEY" && credentials.sessionToken == "envtoken")
        #expect(credentials.source == "environment")
    }

    @Test("a half-set environment is an error, not a fall-through")
    func halfEnvironment() async throws {
        await #expect(throws: CredentialsError.self) {
            _ = try await Self.chain(["AWS_ACCESS_KEY_ID": "ONLYKEY", "HOME": "/nonexistent"]).credentials()
        }
    }

    @Test("shared files: default profile, named profile, [profile x] in config, comments")
    func sharedFiles() async throws {
        let environment = try Self.files(
            credentials: """
            # comment
            [default]
            aws_access_key_id = DEFAULTKEY
            aws_secret_access_key = defaultsecret

            [ci]
            aws_access_key_id=CIKEY
            aws_secret_access_key=cisecret ; inline comment
            aws_session_token = citoken
            """,
            config: """
            [default]
            region = eu-west-1
            [profile fromconfig]
            aws_access_key_id = CONFIGKEY
            aws_secret_access_key = configsecret
            region = ap-south-1
            s3 =
              addressing_style = path
            """)
        #expect(try await Self.chain(environment).credentials().accessKeyId == "DEFAULTKEY")
        let ci = try await Self.chain(environment, profile: "ci").credentials()
        #expect(ci.accessKeyId == "CIKEY" && ci.secretAccessKey == "cisecret" && ci.sessionToken == "citoken")
        var viaVariable = environment
        viaVariable["AWS_PROFILE"] = "fromconfig"
        #expect(try await Self.chain(viaVariable).credentials().accessKeyId == "CONFIGKEY")
        viaVariable["AWS_PROFILE"] = "absent"
        await #expect(throws: CredentialsError.self) { _ = try await Self.chain(viaVariable).credentials() }

        let configuration = try AWSConfiguration.resolve(environment: environment, transport: Self.transport)
        #expect(configuration.region == "eu-west-1")
        var profiled = environment
        profiled["AWS_PROFILE"] = "fromconfig"
        #expect(try AWSConfiguration.resolve(environment: profiled, transport: Self.transport).region == "ap-south-1")
    }

    @Test("nothing configured: a clear error naming what was tried")
    func nothing() async throws {
        do {
            _ = try await Self.chain(["HOME": "/nonexistent"]).credentials()
            Issue.record("expected an error")
        } catch let error as CredentialsError {
            #expect(error.message.contains("no credentials found"))
            #expect(error.message.contains("environment"))
        }
    }

    @Test("container endpoint with an authorization token file, cached until 5 minutes before expiry")
    func container() async throws {
        let server = try LoopbackServer(script: "fake_metadata_server.py", arguments: ["Bearer secret-token"])
        let tokenFile = try TemporaryFile.make(contents: Data("Bearer secret-token\n".utf8))
        let clock = TestClock(Date())
        let chain = try Self.chain(["HOME": "/nonexistent",
                                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(server.port)/creds",
                                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile], now: clock.now)
        let first = try await chain.credentials()
        #expect(first.accessKeyId == "AKIDCONTAINER1" && first.sessionToken == "token-container")
        #expect(first.expiration != nil)
        #expect(try await chain.credentials().accessKeyId == "AKIDCONTAINER1", "cached")
        clock.advance(by: 3600 - 200)  // inside the 5-minute refresh window, with slack for when the server answered
        #expect(try await chain.credentials().accessKeyId == "AKIDCONTAINER2", "refreshed 5 minutes before expiry")

        let wrongToken = try Self.chain(["HOME": "/nonexistent",
                                         "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(server.port)/creds",
                                         "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong"])
        await #expect(throws: CredentialsError.self) { _ = try await wrongToken.credentials() }
        let remote = try Self.chain(["HOME": "/nonexistent", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/creds"])
        await #expect(throws: CredentialsError.self) { _ = try await remote.credentials() }
    }

    @Test("IMDSv2: token, role, credentials (loopback base URL)")
    func imds() async throws {
        let server = try LoopbackServer(script: "fake_metadata_server.py", arguments: [""])
        let chain = try Self.chain(["HOME": "/nonexistent",
                                    "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(server.port)"])
        let credentials = try await chain.credentials()
        #expect(credentials.accessKeyId == "AKIDIMDS1" && credentials.source == "imds")
    }

    @Test("region and endpoint resolution")
    func regionAndEndpoints() throws {
        let base = ["HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S"]
        #expect(throws: AWSConfigurationError.self) { _ = try AWSConfiguration.resolve(environment: base, transport: Self.transport) }
        var environment = base
        environment["AWS_DEFAULT_REGION"] = "us-west-2"
        var configuration = try AWSConfiguration.resolve(environment: environment, transport: Self.transport)
        #expect(configuration.region == "us-west-2")
        #expect(configuration.iotEndpoint(region: "us-west-2").description == "https://iot.us-west-2.amazonaws.com")
        #expect(configuration.s3Client().pathStyle == false)
        environment["AWS_REGION"] = "eu-central-1"
        environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566"
        environment["AWS_ENDPOINT_URL_IOT"] = "http://127.0.0.1:5000"
        configuration = try AWSConfiguration.resolve(environment: environment, transport: Self.transport)
        #expect(configuration.region == "eu-central-1")
        #expect(configuration.iotEndpoint(region: "x").description == "http://127.0.0.1:5000")
        #expect(configuration.s3Endpoint(region: "x").description == "http://127.0.0.1:4566")
        #expect(configuration.s3Client().pathStyle)
        configuration = try AWSConfiguration.resolve(region: "ap-northeast-1", endpointURL: "http://localhost:9",
                                                     environment: environment, transport: Self.transport)
        #expect(configuration.region == "ap-northeast-1")
        #expect(configuration.iotEndpoint(region: "x").description == "http://localhost:9")
        environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        configuration = try AWSConfiguration.resolve(environment: environment, transport: Self.transport)
        #expect(configuration.iotEndpointOverride == nil)
        #expect(throws: AWSConfigurationError.self) {
            _ = try AWSConfiguration.resolve(endpointURL: "ftp://x", environment: environment, transport: Self.transport)
        }
    }
}

/// A settable clock for cache expiry tests.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) {
        current = start
    }

    var now: @Sendable () -> Date {
        { [self] in lock.withLock { current } }
    }

    func advance(by seconds: TimeInterval) {
        lock.withLock { current += seconds }
    }
}
