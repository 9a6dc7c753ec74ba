import Foundation
import HTTPTransport

/// What the sources behind a profile need besides the files: the environment (never read from the process here),
/// where STS, the SSO portal and SSO OIDC answer, the transports, the retry policy and the clock.
package struct CredentialsContext: Sendable {
    package var environment: [String: String]
    /// True when the profile was named explicitly (`--profile`): the environment's keys and web identity
    /// variables are then ignored, as in the AWS CLI.
    package var explicitProfile: Bool
    /// The region STS is called (and AssumeRole signed) in; nil only when no STS-based source is used.
    package var region: String?
    /// `AWS_ENDPOINT_URL_STS` and friends; nil: `https://sts.<region>.amazonaws.com`.
    package var stsEndpointOverride: HTTPEndpoint?
    /// `AWS_ENDPOINT_URL_SSO` and friends; nil: `https://portal.sso.<sso_region>.amazonaws.com`.
    package var ssoEndpointOverride: HTTPEndpoint?
    /// `AWS_ENDPOINT_URL_SSO_OIDC` and friends (where `sso_session` tokens are renewed); nil:
    /// `https://oidc.<sso_region>.amazonaws.com`.
    package var ssoOIDCEndpointOverride: HTTPEndpoint?
    /// When SSO tokens were last renewed, shared by every load of the chain this context belongs to.
    package var ssoRefreshThrottle: SSOTokenRefreshThrottle
    /// STS, the SSO portal and the container endpoint.
    package var transport: any HTTPTransport
    /// IMDS (short time-outs: off EC2 the address does not answer).
    package var metadataTransport: any HTTPTransport
    package var imdsBaseURL: String?
    package var retry: RetryPolicy
    /// How long a `credential_process` may run.
    package var processTimeoutSeconds: Double
    package var now: @Sendable () -> Date

    package init(environment: [String: String], explicitProfile: Bool, region: String? = nil,
                stsEndpointOverride: HTTPEndpoint? = nil, ssoEndpointOverride: HTTPEndpoint? = nil,
                ssoOIDCEndpointOverride: HTTPEndpoint? = nil,
                ssoRefreshThrottle: SSOTokenRefreshThrottle = SSOTokenRefreshThrottle(),
                transport: any HTTPTransport, metadataTransport: any HTTPTransport, imdsBaseURL: String? = nil,
                retry: RetryPolicy = RetryPolicy(maxAttempts: 3), processTimeoutSeconds: Double = 60,
                now: @escaping @Sendable () -> Date = { Date() }) {
        precondition(processTimeoutSeconds > 0, "processTimeoutSeconds must be positive")
        self.environment = environment
        self.explicitProfile = explicitProfile
        self.region = region
        self.stsEndpointOverride = stsEndpointOverride
        self.ssoEndpointOverride = ssoEndpointOverride
        self.ssoOIDCEndpointOverride = ssoOIDCEndpointOverride
        self.ssoRefreshThrottle = ssoRefreshThrottle
        self.transport = transport
        self.metadataTransport = metadataTransport
        self.imdsBaseURL = imdsBaseURL
        self.retry = retry
        self.processTimeoutSeconds = processTimeoutSeconds
        self.now = now
    }

    /// `HOME` from the environment (the AWS CLI's `~`).
    package var home: String {
        environment["HOME"] ?? NSHomeDirectory()
    }

    /// The STS endpoint and signing region; throws when there is no region to call STS in.
    func stsEndpoint(for purpose: String) throws -> (endpoint: HTTPEndpoint, region: String) {
        guard let region else {
            throw CredentialsError("\(purpose) calls STS, which needs a region: pass --region, or set AWS_REGION, or `region` in the profile")
        }
        let endpoint = stsEndpointOverride
            ?? HTTPEndpoint(host: "sts.\(region).amazonaws.com\(AWSConfiguration.dnsSuffix(region))")
        return (endpoint, region)
    }
}
