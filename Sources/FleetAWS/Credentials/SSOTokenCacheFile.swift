import Foundation

/// One token file of `~/.aws/sso/cache/`, as `aws sso login` writes it: the access token and its expiry and, for an
/// `sso_session` login, the refresh token with the client registration (`clientId`, `clientSecret`,
/// `registrationExpiresAt`) that SSO OIDC CreateToken needs to renew it.
///
/// The document read is kept whole, so that writing back a renewed token changes only `accessToken`, `expiresAt`
/// and `refreshToken`. Errors and the description name the path, never a token or the client secret.
struct SSOTokenCacheFile: Sendable, CustomStringConvertible {
    /// A cached token file is a few KB.
    static let bytesMax = 1 << 20

    let path: String
    let accessToken: String
    let expiresAt: Date
    let refreshToken: String?
    let clientId: String?
    let clientSecret: String?
    /// Absent in files written by CLIs that do not refresh; then only CreateToken can tell.
    let registrationExpiresAt: Date?
    /// Set when `registrationExpiresAt` is present but not a date (the file is then not renewable).
    let registrationExpiresAtUnreadable: Bool
    /// The JSON document as read.
    private let document: Data

    /// The path only (the fields are secrets).
    var description: String { "SSO token cache \(path)" }

    /// True when the file holds what CreateToken's `refresh_token` grant needs.
    var hasRefreshGrant: Bool {
        [refreshToken, clientId, clientSecret].allSatisfy { $0.map { !$0.isEmpty } ?? false }
            && !registrationExpiresAtUnreadable
    }

    /// Reads and parses `path` (at most `bytesMax` bytes).
    ///
    /// - Throws: `CredentialsError` saying what is wrong with the file (missing, unreadable, no token, bad date),
    ///   without the profile or the login hint, which the caller adds.
    static func read(_ path: String) throws -> SSOTokenCacheFile {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CredentialsError("no cached SSO token (\(path))")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CredentialsError("cannot read the cached SSO token \(path)")
        }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: bytesMax + 1) else {
            throw CredentialsError("cannot read the cached SSO token \(path)")
        }
        guard data.count <= bytesMax else {
            throw CredentialsError("the cached SSO token \(path) is larger than \(bytesMax) bytes")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let token = object["accessToken"] as? String, !token.isEmpty,
              let expiresAtText = object["expiresAt"] as? String
        else {
            throw CredentialsError("the cached SSO token \(path) is unreadable")
        }
        guard let expiresAt = parseDate(expiresAtText) else {
            throw CredentialsError("the cached SSO token \(path) has an unreadable expiresAt")
        }
        let registrationText = object["registrationExpiresAt"] as? String
        let registrationExpiresAt = registrationText.flatMap(parseDate)
        return SSOTokenCacheFile(path: path, accessToken: token, expiresAt: expiresAt,
                                 refreshToken: object["refreshToken"] as? String,
                                 clientId: object["clientId"] as? String,
                                 clientSecret: object["clientSecret"] as? String,
                                 registrationExpiresAt: registrationExpiresAt,
                                 registrationExpiresAtUnreadable: object["registrationExpiresAt"] != nil
                                     && registrationExpiresAt == nil,
                                 document: data)
    }

    /// Writes the renewed token into the same file, every other field unchanged: replaced atomically (a new file,
    /// mode 0600, renamed over the old one), so a reader (the AWS CLI, another rollout) never sees half a file.
    ///
    /// - Returns: the file as now written.
    func writingRenewal(accessToken newAccessToken: String, expiresAt newExpiresAt: Date,
                        refreshToken newRefreshToken: String?) throws -> SSOTokenCacheFile {
        guard var object = try? JSONSerialization.jsonObject(with: document) as? [String: Any] else {
            throw CredentialsError("the cached SSO token \(path) is unreadable")
        }
        object["accessToken"] = newAccessToken
        object["expiresAt"] = newExpiresAt.ISO8601Format()
        if let newRefreshToken, !newRefreshToken.isEmpty {
            object["refreshToken"] = newRefreshToken
        }
        let data: Data
        do {
            data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw CredentialsError("cannot encode the renewed SSO token for \(path)")
        }
        try SSOTokenCacheFile.replaceAtomically(path, with: data)
        return SSOTokenCacheFile(path: path, accessToken: newAccessToken, expiresAt: newExpiresAt,
                                 refreshToken: newRefreshToken.flatMap { $0.isEmpty ? nil : $0 } ?? refreshToken,
                                 clientId: clientId, clientSecret: clientSecret,
                                 registrationExpiresAt: registrationExpiresAt,
                                 registrationExpiresAtUnreadable: registrationExpiresAtUnreadable, document: data)
    }

    /// Writes `data` to a fresh 0600 file beside `path`, flushes it and renames it over `path`.
    private static func replaceAtomically(_ path: String, with data: Data) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = directory + "/." + (path as NSString).lastPathComponent + "." + UUID().uuidString + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw CredentialsError("cannot write the renewed SSO token beside \(path): \(String(cString: strerror(errno)))")
        }
        var written = 0
        var failure: Int32 = 0
        data.withUnsafeBytes { buffer in
            while written < buffer.count {
                let count = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                written += count
            }
        }
        if failure == 0, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        if failure == 0, rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw CredentialsError("cannot write the renewed SSO token to \(path): \(String(cString: strerror(failure)))")
        }
    }

    /// `expiresAt` as the CLIs write it: RFC 3339 (with or without fractions), or `…UTC` from older CLIs.
    static func parseDate(_ text: String) -> Date? {
        let normalized = text.hasSuffix("UTC") ? String(text.dropLast(3)) + "Z" : text
        return TemporaryCredentialsDocument.parseDate(normalized)
    }
}
