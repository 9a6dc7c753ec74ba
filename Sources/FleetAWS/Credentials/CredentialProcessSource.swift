import Foundation

/// A profile's `credential_process`: the value is a command line, split into words as the AWS CLI does (POSIX
/// quoting, no shell) and run with stdin closed, for at most `processTimeoutSeconds` (60 s) and 64 KB of stdout.
/// stdout must be `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?, "AccountId"?}`;
/// without `Expiration` the keys are long-term. stdout holds secrets: no message ever quotes it, nor the command's
/// arguments (a password may sit there); a failure quotes the program's name and the tail of its stderr.
package struct CredentialProcessSource: AWSCredentialsSource {
    package var name: String { "credential_process (profile \(profile))" }
    package static let stdoutBytesMax = 64 << 10
    package static let stderrTailBytes = 1024

    let profile: String
    let commandLine: String
    /// The profile's `aws_account_id`, used when the process does not name the account.
    let profileAccountId: String?
    let context: CredentialsContext

    package init(profile: String, commandLine: String, profileAccountId: String?, context: CredentialsContext) {
        self.profile = profile
        self.commandLine = commandLine
        self.profileAccountId = profileAccountId
        self.context = context
    }

    package func loadCredentials() async throws -> AWSCredentials? {
        let words = try ShellWords.split(commandLine)
        guard let program = words.first, !program.isEmpty else {
            throw CredentialsError("profile \(profile): credential_process is empty")
        }
        let label = "credential_process of profile \(profile) (\(program))"
        let executable = try locate(program, label: label)
        let outcome: BoundedProcess.Outcome
        do {
            outcome = try await BoundedProcess.run(executable: executable, arguments: Array(words.dropFirst()),
                                                   timeoutSeconds: context.processTimeoutSeconds,
                                                   stdoutBytesMax: CredentialProcessSource.stdoutBytesMax,
                                                   stderrTailBytes: CredentialProcessSource.stderrTailBytes)
        } catch {
            throw CredentialsError("\(label) could not be started: \(error.localizedDescription)")
        }
        let stderrTail = CredentialProcessSource.printable(outcome.stderrTail)
        let stderrNote = stderrTail.isEmpty ? "" : "; stderr: \(stderrTail)"
        if outcome.timedOut {
            throw CredentialsError("\(label) did not finish within \(Int(context.processTimeoutSeconds)) s\(stderrNote)")
        }
        if outcome.stdoutTooLarge {
            throw CredentialsError("\(label) printed more than \(CredentialProcessSource.stdoutBytesMax) bytes")
        }
        if outcome.signaled {
            throw CredentialsError("\(label) was killed by signal \(outcome.status)\(stderrNote)")
        }
        guard outcome.status == 0 else {
            throw CredentialsError("\(label) exited with status \(outcome.status)\(stderrNote)")
        }
        return try decode(outcome.stdout, label: label)
    }

    private func decode(_ stdout: Data, label: String) throws -> AWSCredentials {
        let document: ProcessCredentialsDocument
        do {
            document = try JSONDecoder().decode(ProcessCredentialsDocument.self, from: stdout)
        } catch {
            throw CredentialsError("\(label) printed something that is not a JSON credentials document")
        }
        guard document.version == 1 else {
            throw CredentialsError("\(label) printed Version \(document.version.map(String.init) ?? "(none)"); only Version 1 is understood")
        }
        guard let keyId = document.accessKeyId, !keyId.isEmpty, let secret = document.secretAccessKey, !secret.isEmpty
        else {
            throw CredentialsError("\(label) printed no AccessKeyId / SecretAccessKey")
        }
        var expiration: Date?
        if let text = document.expiration {
            guard let parsed = TemporaryCredentialsDocument.parseDate(text) else {
                throw CredentialsError("\(label) printed an unreadable Expiration (ISO 8601 expected)")
            }
            guard parsed > context.now() else {
                throw CredentialsError("\(label) printed credentials that expired at \(parsed.ISO8601Format())")
            }
            expiration = parsed
        }
        let token = document.sessionToken.flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: token, expiration: expiration,
                              source: "credential_process, profile \(profile)",
                              accountId: document.accountId.flatMap { $0.isEmpty ? nil : $0 } ?? profileAccountId)
    }

    /// The program's path: as given when it names a directory, else the first executable of that name on `PATH`.
    private func locate(_ program: String, label: String) throws -> String {
        if program.contains("/") { return program }
        let path = context.environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = directory + "/" + program
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw CredentialsError("\(label): no executable \(program) on PATH")
    }

    /// stderr for a message: valid UTF-8, control characters (terminal escapes, line breaks) as spaces.
    static func printable(_ data: Data) -> String {
        let scalars = String(decoding: data, as: UTF8.self).unicodeScalars
            .map { $0.value < 0x20 || $0.value == 0x7f ? " " : $0 }
        return String(String.UnicodeScalarView(scalars)).trimmingCharacters(in: .whitespaces)
    }
}

/// What a `credential_process` prints.
struct ProcessCredentialsDocument: Decodable {
    var version: Int?
    var accessKeyId: String?
    var secretAccessKey: String?
    var sessionToken: String?
    var expiration: String?
    var accountId: String?

    enum CodingKeys: String, CodingKey {
        case version = "Version"
        case accessKeyId = "AccessKeyId"
        case secretAccessKey = "SecretAccessKey"
        case sessionToken = "SessionToken"
        case expiration = "Expiration"
        case accountId = "AccountId"
    }
}
