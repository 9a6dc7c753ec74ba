import Foundation
import HTTPTransport

/// The one IAM Identity Center OIDC call rollout makes: CreateToken with the `refresh_token` grant
/// (`POST /token`, unsigned JSON), which renews the access token `aws sso login` cached for an `sso_session`.
/// Answers at `AWS_ENDPOINT_URL_SSO_OIDC` when set, else `https://oidc.<sso_region>.amazonaws.com`.
struct SSOOIDCClient: Sendable {
    /// What CreateToken gave back (described without the tokens).
    struct Token: Sendable, CustomStringConvertible {
        var accessToken: String
        var expiresInSeconds: Int
        /// Nil when the service kept the refresh token as it was.
        var refreshToken: String?

        var description: String { "SSO OIDC token expiring in \(expiresInSeconds) s" }
    }

    /// An access token lives hours; anything outside 1 s … 90 days is not a real answer.
    static let expiresInRange = 1...(90 * 86_400)

    let endpoint: HTTPEndpoint
    let transport: any HTTPTransport
    let retry: RetryPolicy

    init(region: String, context: CredentialsContext) {
        endpoint = context.ssoOIDCEndpointOverride
            ?? HTTPEndpoint(host: "oidc.\(region).amazonaws.com\(AWSConfiguration.dnsSuffix(region))")
        transport = context.transport
        retry = context.retry
    }

    /// Exchanges the refresh token for a new access token.
    ///
    /// - Throws: `CredentialsError` naming the service's error code and status, or the transport's failure; never
    ///   the tokens, the client secret nor the service's message (which may quote the request).
    func refresh(clientId: String, clientSecret: String, refreshToken: String) async throws -> Token {
        let body: Data
        do {
            body = try JSONSerialization.data(withJSONObject: ["grantType": "refresh_token", "clientId": clientId,
                                                               "clientSecret": clientSecret,
                                                               "refreshToken": refreshToken])
        } catch {
            throw CredentialsError("cannot encode the SSO OIDC CreateToken request")
        }
        let request = HTTPRequest(method: "POST", endpoint: endpoint, path: "/token",
                                  headers: ["Content-Type": "application/json", "Accept": "application/json"],
                                  body: .data(body))
        let response: HTTPResponse
        do {
            response = try await UnsignedRequestSender.send(request, operation: "CreateToken", transport: transport,
                                                            retry: retry)
        } catch let error as AWSError {
            throw CredentialsError("SSO OIDC CreateToken answered \(CredentialsError.summary(of: error))")
        } catch {
            throw CredentialsError("SSO OIDC CreateToken at \(endpoint.host) failed: \(CredentialsError.summary(of: error))")
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: response.body),
              let accessToken = answer.accessToken, !accessToken.isEmpty,
              let expiresIn = answer.expiresIn, SSOOIDCClient.expiresInRange.contains(expiresIn)
        else {
            throw CredentialsError("SSO OIDC CreateToken answered something that is not a token")
        }
        return Token(accessToken: accessToken, expiresInSeconds: expiresIn,
                     refreshToken: answer.refreshToken.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// CreateToken's answer (only the fields used).
    private struct Answer: Decodable {
        var accessToken: String?
        var expiresIn: Int?
        var refreshToken: String?
    }
}
