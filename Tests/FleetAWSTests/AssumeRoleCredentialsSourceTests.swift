import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

/// Profiles with `role_arn`: STS AssumeRole on moto, signed with the source's credentials, chained, refreshed.
@Suite("Assume role credentials (moto STS)")
struct AssumeRoleCredentialsSourceTests {
    static let deployer = "arn:aws:iam::123456789012:role/deployer"

    @Test("role_arn + source_profile: AssumeRole signed with the source's keys; session name, external id, duration")
    func sourceProfile() async throws {
        let moto = try await MotoServer.ready()
        let environment = try CredentialsChainTests.files(
            credentials: "[base]\naws_access_key_id = AKIDBASE0001\naws_secret_access_key = base-secret-value\n",
            config: """
            [profile deploy]
            role_arn = \(Self.deployer)
            source_profile = base
            role_session_name = rollout-test
            external_id = ext-123
            duration_seconds = 1800
            """)
        let transport = CapturingTransport()
        let before = Date()
        let credentials = try await CredentialsTesting.chain(environment, profile: "deploy", stsURL: moto.endpoint,
                                                             transport: transport).credentials()
        #expect(credentials.accessKeyId.hasPrefix("ASIA") && credentials.sessionToken?.isEmpty == false)
        #expect(credentials.accountId == "123456789012")
        #expect(credentials.source.contains(Self.deployer))
        let expiration = try #require(credentials.expiration)
        #expect(abs(expiration.timeIntervalSince(before) - 1800) < 120, "DurationSeconds honoured: \(expiration)")
        let request = try #require(transport.requests.first)
        #expect(transport.requests.count == 1)
        #expect(request.formValue("Action") == "AssumeRole")
        #expect(request.formValue("RoleArn") == Self.deployer)
        #expect(request.formValue("RoleSessionName") == "rollout-test")
        #expect(request.formValue("ExternalId") == "ext-123")
        #expect(request.formValue("DurationSeconds") == "1800")
        #expect(request.headers["Authorization"]?.contains("Credential=AKIDBASE0001/") == true)
        #expect(request.headers["Authorization"]?.contains("/us-east-1/sts/aws4_request") == true)
        CredentialsTesting.expectNoSecret(in: "\(credentials)", [credentials.secretAccessKey, credentials.sessionToken!])
    }

    @Test("chained roles: the source profile assumes a role itself, and signs with that role's credentials")
    func chained() async throws {
        let moto = try await MotoServer.ready()
        let environment = try CredentialsChainTests.files(config: """
            [profile top]
            role_arn = arn:aws:iam::123456789012:role/top
            source_profile = middle
            [profile middle]
            role_arn = arn:aws:iam::123456789012:role/middle
            source_profile = keys
            [profile keys]
            aws_access_key_id = AKIDKEYS0001
            aws_secret_access_key = keys-secret
            """)
        let transport = CapturingTransport()
        let credentials = try await CredentialsTesting.chain(environment, profile: "top", stsURL: moto.endpoint,
                                                             transport: transport).credentials()
        let requests = transport.requests
        try #require(requests.count == 2)
        #expect(requests[0].formValue("RoleArn") == "arn:aws:iam::123456789012:role/middle")
        #expect(requests[0].headers["Authorization"]?.contains("Credential=AKIDKEYS0001/") == true)
        #expect(requests[1].formValue("RoleArn") == "arn:aws:iam::123456789012:role/top")
        #expect(requests[1].headers["Authorization"]?.contains("Credential=ASIA") == true, "signed with middle's session")
        #expect(requests[1].headers["X-Amz-Security-Token"] != nil)
        #expect(credentials.source.contains("role/top"))
    }

    @Test("a profile naming itself as source uses its own keys for its role (role_arn beats its keys)")
    func selfReference() async throws {
        let moto = try await MotoServer.ready()
        let environment = try CredentialsChainTests.files(credentials: """
            [default]
            aws_access_key_id = AKIDSELF0001
            aws_secret_access_key = self-secret
            role_arn = \(Self.deployer)
            source_profile = default
            """)
        let transport = CapturingTransport()
        let credentials = try await CredentialsTesting.chain(environment, stsURL: moto.endpoint, transport: transport)
            .credentials()
        #expect(credentials.accessKeyId.hasPrefix("ASIA"))
        #expect(transport.requests.first?.headers["Authorization"]?.contains("Credential=AKIDSELF0001/") == true)
    }

    @Test("source_profile loops and chains longer than the bound are refused before any STS call")
    func loopsAndDepth() async throws {
        let transport = CapturingTransport()
        let loop = try CredentialsChainTests.files(config: """
            [profile a]
            role_arn = arn:aws:iam::123456789012:role/a
            source_profile = b
            [profile b]
            role_arn = arn:aws:iam::123456789012:role/b
            source_profile = a
            """)
        let loopMessage = await CredentialsTesting.failure {
            _ = try await CredentialsTesting.chain(loop, profile: "a", stsURL: "http://127.0.0.1:9", transport: transport)
                .credentials()
        }
        #expect(loopMessage.contains("loop") && loopMessage.contains("a → b → a"), "\(loopMessage)")

        var config = ""
        for index in 0...ProfileCredentialsSource.roleChainDepthMax {
            config += "[profile p\(index)]\nrole_arn = arn:aws:iam::123456789012:role/r\(index)\nsource_profile = p\(index + 1)\n"
        }
        config += "[profile p\(ProfileCredentialsSource.roleChainDepthMax + 1)]\naws_access_key_id = K\naws_secret_access_key = S\n"
        let deep = try CredentialsChainTests.files(config: config)
        let depthMessage = await CredentialsTesting.failure {
            _ = try await CredentialsTesting.chain(deep, profile: "p0", stsURL: "http://127.0.0.1:9", transport: transport)
                .credentials()
        }
        #expect(depthMessage.contains("more than \(ProfileCredentialsSource.roleChainDepthMax) roles"), "\(depthMessage)")
        #expect(transport.requests.isEmpty)

        // Exactly the bound is fine as far as the configuration goes (it fails later, at the closed port).
        var bounded = ""
        for index in 0..<ProfileCredentialsSource.roleChainDepthMax {
            bounded += "[profile p\(index)]\nrole_arn = arn:aws:iam::123456789012:role/r\(index)\nsource_profile = p\(index + 1)\n"
        }
        bounded += "[profile p\(ProfileCredentialsSource.roleChainDepthMax)]\naws_access_key_id = K\naws_secret_access_key = S\n"
        let boundedMessage = await CredentialsTesting.failure {
            _ = try await CredentialsTesting.chain(try CredentialsChainTests.files(config: bounded), profile: "p0",
                                                   stsURL: "http://127.0.0.1:9", transport: transport).credentials()
        }
        #expect(boundedMessage.contains("AssumeRole") && !boundedMessage.contains("more than"), "\(boundedMessage)")
    }

    @Test("mfa_serial, conflicting or missing sources and bad settings are refused with clear messages")
    func refusals() async throws {
        func message(_ profileText: String, profile: String = "r") async throws -> String {
            let environment = try CredentialsChainTests.files(config: """
                [profile base]
                aws_access_key_id = K
                aws_secret_access_key = S
                [profile r]
                role_arn = \(Self.deployer)
                \(profileText)
                """)
            return await CredentialsTesting.failure {
                _ = try await CredentialsTesting.chain(environment, profile: profile, stsURL: "http://127.0.0.1:9")
                    .credentials()
            }
        }
        let mfa = try await message("source_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/me")
        #expect(mfa.contains("mfa_serial") && mfa.contains("cannot ask for an MFA code"), "\(mfa)")
        let both = try await message("source_profile = base\ncredential_source = Environment")
        #expect(both.contains("both source_profile and credential_source"), "\(both)")
        let neither = try await message("role_session_name = x")
        #expect(neither.contains("neither source_profile"), "\(neither)")
        let unknownSource = try await message("credential_source = Laptop")
        #expect(unknownSource.contains("credential_source Laptop") && unknownSource.contains("Ec2InstanceMetadata"))
        let missingSource = try await message("source_profile = nowhere")
        #expect(missingSource.contains("source_profile nowhere does not exist"), "\(missingSource)")
        let badDuration = try await message("source_profile = base\nduration_seconds = 10")
        #expect(badDuration.contains("duration_seconds"), "\(badDuration)")
    }

    @Test("credential_source Environment and Ec2InstanceMetadata sign AssumeRole")
    func credentialSource() async throws {
        let moto = try await MotoServer.ready()
        var environment = try CredentialsChainTests.files(config: """
            [profile env]
            role_arn = \(Self.deployer)
            credential_source = Environment
            [profile ec2]
            role_arn = \(Self.deployer)
            credential_source = Ec2InstanceMetadata
            """)
        environment["AWS_ACCESS_KEY_ID"] = "AKIDENVIRON1"
        environment["AWS_SECRET_ACCESS_KEY"] = "env-secret"
        let transport = CapturingTransport()
        // An explicit profile: the environment's keys are not used directly, only to assume the role.
        let fromEnvironment = try await CredentialsTesting.chain(environment, profile: "env", stsURL: moto.endpoint,
                                                                 transport: transport).credentials()
        #expect(fromEnvironment.accessKeyId.hasPrefix("ASIA"))
        #expect(transport.requests.last?.headers["Authorization"]?.contains("Credential=AKIDENVIRON1/") == true)

        let metadata = try LoopbackServer(script: "fake_metadata_server.py", arguments: [""])
        environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = "http://127.0.0.1:\(metadata.port)"
        let fromInstance = try await CredentialsTesting.chain(environment, profile: "ec2", stsURL: moto.endpoint,
                                                              transport: transport).credentials()
        #expect(fromInstance.accessKeyId.hasPrefix("ASIA"))
        #expect(transport.requests.last?.headers["Authorization"]?.contains("Credential=AKIDIMDS") == true)
    }

    @Test("assumed-role credentials are cached, then renewed 5 minutes before they expire")
    func refresh() async throws {
        let moto = try await MotoServer.ready()
        let environment = try CredentialsChainTests.files(config: """
            [default]
            role_arn = \(Self.deployer)
            source_profile = base
            duration_seconds = 900
            [profile base]
            aws_access_key_id = K
            aws_secret_access_key = S
            """)
        let clock = TestClock(Date())
        let transport = CapturingTransport()
        let chain = try CredentialsTesting.chain(environment, stsURL: moto.endpoint, transport: transport, now: clock.now)
        let first = try await chain.credentials()
        #expect(try await chain.credentials() == first, "cached")
        #expect(transport.requests.count == 1)
        clock.advance(by: 900 - 200)  // inside the refresh window, with slack for when moto answered
        let second = try await chain.credentials()
        #expect(transport.requests.count == 2)
        #expect(second.accessKeyId != first.accessKeyId)
    }

    @Test("an STS refusal becomes a CredentialsError naming the role and the code, without secrets")
    func refusedBySTS() async throws {
        let environment = try CredentialsChainTests.files(config: """
            [default]
            role_arn = \(Self.deployer)
            source_profile = base
            [profile base]
            aws_access_key_id = AKIDREFUSED1
            aws_secret_access_key = refused-secret-value
            """)
        let denied = """
            <ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/ci \
            is not authorized to perform: sts:AssumeRole on resource: \(Self.deployer) (request signed with AKIDREFUSED1, \
            echoed refused-secret-value)</Message></Error></ErrorResponse>
            """
        let transport = ScriptedTransport([.respond(HTTPResponse(status: 403, body: Data(denied.utf8)))])
        let message = await CredentialsTesting.failure {
            _ = try await CredentialsTesting.chain(environment, stsURL: "http://127.0.0.1:9", transport: transport)
                .credentials()
        }
        #expect(message.contains("AccessDenied") && message.contains(Self.deployer), "\(message)")
        CredentialsTesting.expectNoSecret(in: message, ["refused-secret-value"])
    }
}
