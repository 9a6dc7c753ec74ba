import ArgumentParser
import Foundation

/// A bearer token the worker requires, from a file (`--token-file`, `--read-token-file`) or an environment variable
/// (`ROLLOUT_TOKEN`, `ROLLOUT_READ_TOKEN`), with the same rules whatever its source: surrounding whitespace (a
/// file's last newline) is dropped, then it must have at least `lengthMin` characters and no whitespace inside.
enum WorkerToken {
    /// 16 characters of `openssl rand -hex 32`'s 64 already hold 64 bits: below that a token is guessable.
    static let lengthMin = 16

    /// Where a token is read from, named in every refusal as the operator wrote it.
    struct Source {
        /// The flag naming a file, e.g. `--token-file`.
        var fileFlag: String
        /// The environment variable used when the flag is absent, e.g. `ROLLOUT_TOKEN`.
        var environmentVariable: String
    }

    static let write = Source(fileFlag: "--token-file", environmentVariable: "ROLLOUT_TOKEN")
    static let read = Source(fileFlag: "--read-token-file", environmentVariable: "ROLLOUT_READ_TOKEN")

    /// The token from `file` when given, else from the environment variable (unset or empty: no token).
    static func load(_ source: Source, file: String?, environment: [String: String]) throws(ValidationError) -> String? {
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("\(source.fileFlag) \(file): cannot read the file")
            }
            return try validated(text, from: "\(source.fileFlag) \(file)")
        }
        guard let text = environment[source.environmentVariable], !text.isEmpty else { return nil }
        return try validated(text, from: source.environmentVariable)
    }

    /// The token in `text`, or a refusal naming `origin` (never quoting the token).
    static func validated(_ text: String, from origin: String) throws(ValidationError) -> String {
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if token.contains(where: \.isWhitespace) {
            throw ValidationError("\(origin): the token has whitespace inside it; expected one word, "
                                  + "e.g. from `openssl rand -hex 32`")
        }
        if token.count < lengthMin {
            throw ValidationError("\(origin): the token is shorter than \(lengthMin) characters")
        }
        return token
    }
}
