import Foundation
import HTTPTransport

/// A profile's `role_arn` with `source_profile` or `credential_source`: STS AssumeRole, signed with the credentials
/// of the source (itself possibly another role: a chain). The source is asked afresh on every load, so a
/// temporary source is refreshed by its own rules.
package struct AssumeRoleCredentialsSource: AWSCredentialsSource {
    package var name: String { "assume role \(roleArn) (profile \(profile))" }
    /// STS's bounds for `DurationSeconds` (the role's maximum session duration may be lower).
    package static let durationSecondsRange = 900...43_200

    let profile: String
    let roleArn: String
    let sessionName: String?
    let externalId: String?
    let durationSeconds: Int?
    /// What signs the AssumeRole call.
    let source: any AWSCredentialsSource
    let context: CredentialsContext

    package init(profile: String, roleArn: String, sessionName: String?, externalId: String?, durationSeconds: Int?,
                source: any AWSCredentialsSource, context: CredentialsContext) {
        self.profile = profile
        self.roleArn = roleArn
        self.sessionName = sessionName
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.source = source
        self.context = context
    }

    package func loadCredentials() async throws -> AWSCredentials? {
        guard let sourceCredentials = try await source.loadCredentials() else {
            throw CredentialsError("profile \(profile): its source (\(source.name)) has no credentials to assume \(roleArn) with")
        }
        let (endpoint, region) = try context.stsEndpoint(for: "profile \(profile) (role_arn)")
        let client = STSClient(client: AWSClient(service: "sts", region: region, endpoint: endpoint,
                                                 credentials: StaticCredentialsProvider(sourceCredentials),
                                                 transport: context.transport, retry: context.retry,
                                                 now: context.now))
        do {
            return try await client.assumeRole(roleArn: roleArn,
                                               sessionName: sessionName ?? RoleSessionName.make(now: context.now()),
                                               externalId: externalId, durationSeconds: durationSeconds,
                                               source: "assume role \(roleArn), profile \(profile)")
        } catch {
            // AWSError and TransportError carry STS's code and message, never the request (signed with the source).
            throw CredentialsError("profile \(profile): AssumeRole \(roleArn) failed: \(CredentialsError.summary(of: error))")
        }
    }
}

/// The session name when the profile or environment names none: `rollout-session-<epoch seconds>` (the AWS CLI's
/// is `botocore-session-…`; ours tells CloudTrail readers which tool assumed the role).
enum RoleSessionName {
    static func make(now: Date) -> String {
        "rollout-session-\(Int(now.timeIntervalSince1970))"
    }
}
