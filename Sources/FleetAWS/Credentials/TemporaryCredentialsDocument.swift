import Foundation

/// The JSON both the container endpoint and IMDS answer with.
struct TemporaryCredentialsDocument: Decodable {
    var code: String?
    var message: String?
    var accessKeyId: String?
    var secretAccessKey: String?
    var token: String?
    var expiration: String?

    enum CodingKeys: String, CodingKey {
        case code = "Code"
        case message = "Message"
        case accessKeyId = "AccessKeyId"
        case secretAccessKey = "SecretAccessKey"
        case token = "Token"
        case expiration = "Expiration"
    }

    func credentials(source: String) throws -> AWSCredentials {
        if let code, code != "Success" {
            throw CredentialsError("\(source) answered \(code)\(message.map { ": \($0)" } ?? "")")
        }
        guard let accessKeyId, let secretAccessKey else {
            throw CredentialsError("\(source) answered without AccessKeyId / SecretAccessKey")
        }
        var expirationDate: Date?
        if let expiration {
            guard let parsed = TemporaryCredentialsDocument.parseDate(expiration) else {
                throw CredentialsError("\(source) answered an unreadable Expiration")
            }
            expirationDate = parsed
        }
        return AWSCredentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: token,
                              expiration: expirationDate, source: source)
    }

    static func parseDate(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    static func decode(_ data: Data, source: String) throws -> AWSCredentials {
        let document: TemporaryCredentialsDocument
        do {
            document = try JSONDecoder().decode(TemporaryCredentialsDocument.self, from: data)
        } catch {
            throw CredentialsError("\(source) answered something that is not a credentials document")
        }
        return try document.credentials(source: source)
    }
}
