import Foundation
import HTTPTransport
import Logging
import RolloutCore

/// Everything the AWS fleet needs to reach AWS: region, endpoints, credentials, transport, retry policy and the
/// request budgets every client made from it shares.
///
/// `resolve` applies the same rules as the AWS CLI: region from the argument, `AWS_REGION`, `AWS_DEFAULT_REGION`,
/// then the profile in the config file; endpoints from `--endpoint-url`, `AWS_ENDPOINT_URL_IOT` /
/// `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_IAM` / `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL` (ignored with
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), else the public endpoints; credentials from the standard chain
/// (whose roles and web identity call that STS in that region, and whose SSO profiles call the portal at
/// `AWS_ENDPOINT_URL_SSO` when set, and renew `sso_session` tokens at `AWS_ENDPOINT_URL_SSO_OIDC` when set).
package struct AWSConfiguration: Sendable {
    package var region: String
    /// Set when IoT was pointed elsewhere than `https://iot.<region>.amazonaws.com`.
    package var iotEndpointOverride: HTTPEndpoint?
    /// Set when S3 was pointed elsewhere; S3 then uses path-style addressing.
    package var s3EndpointOverride: HTTPEndpoint?
    /// IAM and STS (read by `rollout preflight` only).
    package var iamEndpointOverride: HTTPEndpoint?
    package var stsEndpointOverride: HTTPEndpoint?
    /// CloudWatch (`monitoring`), for metric gates: `AWS_ENDPOINT_URL_CLOUDWATCH` or the general override.
    package var cloudWatchEndpointOverride: HTTPEndpoint?
    package var credentials: any AWSCredentialsProvider
    package var transport: any HTTPTransport
    package var retry: RetryPolicy
    /// A pace for AddThingToThingGroup while filling a temporary group or a ring, below the account budget (nil: the
    /// budget alone paces it: `--aws-quota AddThingToThingGroup=N`, up to the account's quota).
    package var groupAddRatePerSecond: Double?
    /// Concurrent AddThingToThingGroup calls.
    package var groupAddConcurrency: Int
    package var now: @Sendable () -> Date
    package var logger: Logger
    /// One budget per account and region, shared by every client made from this configuration (and its copies).
    package var rateBudgets: AWSRateBudgets

    package init(region: String, iotEndpointOverride: HTTPEndpoint? = nil, s3EndpointOverride: HTTPEndpoint? = nil,
                credentials: any AWSCredentialsProvider, transport: any HTTPTransport = CurlTransport(),
                retry: RetryPolicy = RetryPolicy(), groupAddRatePerSecond: Double? = nil, groupAddConcurrency: Int = 4,
                now: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "rollout.aws"),
                quotas: AWSQuotas = .defaults, iamEndpointOverride: HTTPEndpoint? = nil,
                stsEndpointOverride: HTTPEndpoint? = nil, cloudWatchEndpointOverride: HTTPEndpoint? = nil) {
        self.cloudWatchEndpointOverride = cloudWatchEndpointOverride
        precondition(groupAddConcurrency >= 1 && groupAddConcurrency <= 32, "groupAddConcurrency must be 1…32")
        self.rateBudgets = AWSRateBudgets(quotas: quotas, now: now, sleep: retry.sleep)
        self.iamEndpointOverride = iamEndpointOverride
        self.stsEndpointOverride = stsEndpointOverride
        self.region = region
        self.iotEndpointOverride = iotEndpointOverride
        self.s3EndpointOverride = s3EndpointOverride
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.groupAddRatePerSecond = groupAddRatePerSecond
        self.groupAddConcurrency = groupAddConcurrency
        self.now = now
        self.logger = logger
    }

    /// Applies the CLI's resolution rules to `environment` (pass `ProcessInfo.processInfo.environment` in the
    /// CLI; tests pass their own dictionary).
    package static func resolve(region explicitRegion: String? = nil, endpointURL: String? = nil,
                               profile: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               transport: any HTTPTransport = CurlTransport(),
                               retry: RetryPolicy = RetryPolicy(),
                               quotas: AWSQuotas = .defaults) throws -> AWSConfiguration {
        let files = try SharedConfigFiles.load(environment: environment, profile: profile)
        func nonEmpty(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
        guard let region = nonEmpty(explicitRegion) ?? nonEmpty(environment["AWS_REGION"])
            ?? nonEmpty(environment["AWS_DEFAULT_REGION"]) ?? files.region
        else {
            throw AWSConfigurationError("no AWS region: pass --region, or set AWS_REGION, or `region` in \(files.configPath)")
        }
        guard region.range(of: "^[a-z0-9-]{1,32}$", options: .regularExpression) != nil else {
            throw AWSConfigurationError("\"\(region)\" is not an AWS region name")
        }
        let ignoreEnvironmentEndpoints = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        /// `general: false`: only the service's own variable, never `--endpoint-url` or `AWS_ENDPOINT_URL` (the SSO
        /// portal and OIDC receive tokens and a client secret: a general override set for IoT or moto must not).
        func endpoint(serviceVariable: String, general: Bool = true) throws -> HTTPEndpoint? {
            let candidates: [(String, String?)] = [
                ("--endpoint-url", general ? nonEmpty(endpointURL) : nil),
                (serviceVariable, ignoreEnvironmentEndpoints ? nil : nonEmpty(environment[serviceVariable])),
                ("AWS_ENDPOINT_URL", ignoreEnvironmentEndpoints || !general ? nil : nonEmpty(environment["AWS_ENDPOINT_URL"])),
            ]
            guard let (origin, url) = candidates.first(where: { $0.1 != nil }).map({ ($0.0, $0.1!) }) else { return nil }
            guard let parsed = HTTPEndpoint(url: url) else {
                throw AWSConfigurationError("\(origin) \"\(url)\" is not an http(s) URL")
            }
            return parsed
        }
        let metadataTransport = CurlTransport(options: .init(connectTimeoutSeconds: 1, totalTimeoutSeconds: 3,
                                                             maxResponseBytes: 1 << 20, threadCount: 1))
        // Roles and web identity call the same STS as preflight does; the SSO portal has its own override.
        let stsEndpointOverride = try endpoint(serviceVariable: "AWS_ENDPOINT_URL_STS")
        let chain = try CredentialsChain.standard(environment: environment, profile: profile, region: region,
                                                  stsEndpointOverride: stsEndpointOverride,
                                                  ssoEndpointOverride: try endpoint(serviceVariable: "AWS_ENDPOINT_URL_SSO", general: false),
                                                  ssoOIDCEndpointOverride: try endpoint(serviceVariable: "AWS_ENDPOINT_URL_SSO_OIDC", general: false),
                                                  transport: transport, metadataTransport: metadataTransport,
                                                  retry: retry)
        return AWSConfiguration(region: region, iotEndpointOverride: try endpoint(serviceVariable: "AWS_ENDPOINT_URL_IOT"),
                                s3EndpointOverride: try endpoint(serviceVariable: "AWS_ENDPOINT_URL_S3"),
                                credentials: chain, transport: transport, retry: retry, quotas: quotas,
                                iamEndpointOverride: try endpoint(serviceVariable: "AWS_ENDPOINT_URL_IAM"),
                                stsEndpointOverride: stsEndpointOverride,
                                cloudWatchEndpointOverride: try endpoint(serviceVariable: "AWS_ENDPOINT_URL_CLOUDWATCH"))
    }

    package func iotEndpoint(region: String) -> HTTPEndpoint {
        iotEndpointOverride ?? HTTPEndpoint(host: "iot.\(region).amazonaws.com\(AWSConfiguration.dnsSuffix(region))")
    }

    package func s3Endpoint(region: String) -> HTTPEndpoint {
        s3EndpointOverride ?? HTTPEndpoint(host: "s3.\(region).amazonaws.com\(AWSConfiguration.dnsSuffix(region))")
    }

    /// China regions live under `amazonaws.com.cn`.
    static func dnsSuffix(_ region: String) -> String {
        region.hasPrefix("cn-") ? ".cn" : ""
    }

    package func iotClient(region: String? = nil) -> IoTClient {
        let region = region ?? self.region
        return IoTClient(client: AWSClient(service: "iot", region: region, endpoint: iotEndpoint(region: region),
                                           credentials: credentials, transport: transport, retry: retry, now: now,
                                           logger: logger, budgets: rateBudgets))
    }

    package func s3Client(region: String? = nil) -> S3Client {
        let region = region ?? self.region
        return S3Client(client: AWSClient(service: "s3", region: region, endpoint: s3Endpoint(region: region),
                                          credentials: credentials, transport: transport, retry: retry, now: now,
                                          logger: logger, budgets: rateBudgets),
                        pathStyle: s3EndpointOverride != nil)
    }

    /// CloudWatch in `region`, at `endpoint` when a gate names one (else the configured override, else AWS's).
    package func cloudWatchClient(region: String? = nil, endpoint: HTTPEndpoint? = nil) -> CloudWatchClient {
        let region = region ?? self.region
        let endpoint = endpoint ?? cloudWatchEndpointOverride
            ?? HTTPEndpoint(host: "monitoring.\(region).amazonaws.com\(AWSConfiguration.dnsSuffix(region))")
        return CloudWatchClient(client: AWSClient(service: "monitoring", region: region, endpoint: endpoint,
                                                  credentials: credentials, transport: transport, retry: retry, now: now,
                                                  logger: logger, budgets: rateBudgets))
    }

    /// IAM is global per partition: one endpoint, signed for the partition's home region.
    package func iamClient() -> IAMClient {
        let china = region.hasPrefix("cn-")
        let endpoint = iamEndpointOverride
            ?? HTTPEndpoint(host: china ? "iam.cn-north-1.amazonaws.com.cn" : "iam.amazonaws.com")
        return IAMClient(client: AWSClient(service: "iam", region: china ? "cn-north-1" : "us-east-1", endpoint: endpoint,
                                           credentials: credentials, transport: transport, retry: retry, now: now,
                                           logger: logger, budgets: rateBudgets))
    }

    package func stsClient(region: String? = nil) -> STSClient {
        let region = region ?? self.region
        let endpoint = stsEndpointOverride
            ?? HTTPEndpoint(host: "sts.\(region).amazonaws.com\(AWSConfiguration.dnsSuffix(region))")
        return STSClient(client: AWSClient(service: "sts", region: region, endpoint: endpoint, credentials: credentials,
                                           transport: transport, retry: retry, now: now, logger: logger,
                                           budgets: rateBudgets))
    }
}

/// Region or endpoint settings that cannot work.
package struct AWSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}
