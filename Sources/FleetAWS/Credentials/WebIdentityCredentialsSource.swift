import Foundation
import HTTPTransport

/// STS AssumeRoleWithWebIdentity with an OIDC token read from a file: `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`
/// (+ `AWS_ROLE_SESSION_NAME`), as EKS (IRSA) and GitHub Actions hand them to a job, or a profile's `role_arn` +
/// `web_identity_token_file` (+ `role_session_name`). The file is read on every load: the platform rotates it.
package struct WebIdentityCredentialsSource: AWSCredentialsSource {
    package var name: String { "web identity (\(origin))" }
    /// OIDC tokens are a few KB; a larger file is not one.
    package static let tokenBytesMax = 64 << 10

    /// `AWS_WEB_IDENTITY_TOKEN_FILE` or `profile X`, for messages.
    let origin: String
    let roleArn: String
    let tokenFile: String
    let sessionName: String?
    let context: CredentialsContext

    package init(origin: String, roleArn: String, tokenFile: String, sessionName: String?, context: CredentialsContext) {
        self.origin = origin
        self.roleArn = roleArn
        self.tokenFile = tokenFile
        self.sessionName = sessionName
        self.context = context
    }

    package func loadCredentials() async throws -> AWSCredentials? {
        let token = try readToken()
        let (endpoint, _) = try context.stsEndpoint(for: "web identity (\(origin))")
        do {
            return try await STSClient.assumeRoleWithWebIdentity(
                endpoint: endpoint, transport: context.transport, retry: context.retry, roleArn: roleArn,
                sessionName: sessionName ?? RoleSessionName.make(now: context.now()), webIdentityToken: token,
                source: "web identity \(roleArn)")
        } catch {
            // STS's code names the problem (InvalidIdentityToken, ExpiredTokenException, AccessDenied); its message is
            // left out, since it may quote the request.
            throw CredentialsError("web identity (\(origin)): AssumeRoleWithWebIdentity \(roleArn) failed: "
                                   + CredentialsError.summary(of: error))
        }
    }

    private func readToken() throws -> String {
        let path = SharedConfigFiles.expand(tokenFile, home: context.home)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CredentialsError("web identity (\(origin)): cannot read the token file \(path)")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: WebIdentityCredentialsSource.tokenBytesMax + 1) ?? Data()
        } catch {
            throw CredentialsError("web identity (\(origin)): cannot read the token file \(path)")
        }
        guard data.count <= WebIdentityCredentialsSource.tokenBytesMax else {
            throw CredentialsError("web identity (\(origin)): the token file \(path) is larger than \(WebIdentityCredentialsSource.tokenBytesMax) bytes")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw CredentialsError("web identity (\(origin)): the token file \(path) is empty")
        }
        return token
    }
}
