import Foundation
import HTTPTransport

/// The standard chain (environment keys → the profile: assume role, web identity, SSO, static keys,
/// credential_process → container → IMDS), with caching: temporary credentials are reloaded
/// `refreshMarginSeconds` (5 minutes) before their `Expiration`; one load at a time.
package actor CredentialsChain: AWSCredentialsProvider {
    package static let refreshMarginSeconds: TimeInterval = 300

    private let sources: [any AWSCredentialsSource]
    private let now: @Sendable () -> Date
    private var cached: AWSCredentials?
    private var loading: Task<AWSCredentials, Error>?

    package init(sources: [any AWSCredentialsSource], now: @escaping @Sendable () -> Date = { Date() }) {
        precondition(!sources.isEmpty, "a credentials chain needs at least one source")
        self.sources = sources
        self.now = now
    }

    /// The chain as the AWS CLI resolves it, from `environment` (never read from the process here).
    ///
    /// - Parameters:
    ///   - region: where STS is called for roles and web identity (nil: those sources fail with a clear message).
    ///   - stsEndpointOverride: STS elsewhere than `https://sts.<region>.amazonaws.com` (`AWS_ENDPOINT_URL_STS`).
    ///   - ssoEndpointOverride: the SSO portal elsewhere than `https://portal.sso.<sso_region>.amazonaws.com`
    ///     (`AWS_ENDPOINT_URL_SSO`).
    ///   - ssoOIDCEndpointOverride: SSO OIDC, where `sso_session` tokens are renewed, elsewhere than
    ///     `https://oidc.<sso_region>.amazonaws.com` (`AWS_ENDPOINT_URL_SSO_OIDC`).
    ///   - transport: STS, the SSO portal and the container endpoint; `metadataTransport`: IMDS.
    package static func standard(environment: [String: String], profile: String? = nil, region: String? = nil,
                                stsEndpointOverride: HTTPEndpoint? = nil, ssoEndpointOverride: HTTPEndpoint? = nil,
                                ssoOIDCEndpointOverride: HTTPEndpoint? = nil,
                                transport: any HTTPTransport, metadataTransport: any HTTPTransport,
                                imdsBaseURL: String? = nil, retry: RetryPolicy = RetryPolicy(maxAttempts: 3),
                                processTimeoutSeconds: Double = 60,
                                now: @escaping @Sendable () -> Date = { Date() }) throws -> CredentialsChain {
        let files = try SharedConfigFiles.load(environment: environment, profile: profile)
        let profileRequired = profile != nil || environment["AWS_PROFILE"].map { !$0.isEmpty } == true
        let context = CredentialsContext(environment: environment, explicitProfile: profile != nil, region: region,
                                         stsEndpointOverride: stsEndpointOverride,
                                         ssoEndpointOverride: ssoEndpointOverride,
                                         ssoOIDCEndpointOverride: ssoOIDCEndpointOverride, transport: transport,
                                         metadataTransport: metadataTransport, imdsBaseURL: imdsBaseURL, retry: retry,
                                         processTimeoutSeconds: processTimeoutSeconds, now: now)
        var sources: [any AWSCredentialsSource] = []
        // An explicit profile wins over environment keys, as in the AWS CLI (`--profile`).
        if profile == nil {
            sources.append(EnvironmentCredentialsSource(environment: environment))
        }
        sources.append(ProfileCredentialsSource(files: files, required: profileRequired, context: context))
        sources.append(ContainerCredentialsSource(environment: environment, transport: transport))
        sources.append(IMDSCredentialsSource(environment: environment, transport: metadataTransport, baseURL: imdsBaseURL))
        return CredentialsChain(sources: sources, now: now)
    }

    package func credentials() async throws -> AWSCredentials {
        if let cached, !cached.expires(within: CredentialsChain.refreshMarginSeconds, of: now()) {
            return cached
        }
        if let loading {
            return try await loading.value
        }
        let sources = self.sources
        let task = Task { try await CredentialsChain.load(from: sources) }
        loading = task
        defer { loading = nil }
        do {
            let fresh = try await task.value
            cached = fresh
            return fresh
        } catch {
            // Still-valid old credentials beat none when a refresh fails.
            if let cached, let expiration = cached.expiration, expiration > now() {
                return cached
            }
            throw error
        }
    }

    /// Forgets the cached credentials (e.g. after an `ExpiredToken` answer).
    package func invalidate() {
        cached = nil
    }

    static func load(from sources: [any AWSCredentialsSource]) async throws -> AWSCredentials {
        for source in sources {
            if let credentials = try await source.loadCredentials() {
                return credentials
            }
        }
        throw CredentialsError("no credentials found (tried \(sources.map(\.name).joined(separator: ", ")))")
    }
}
