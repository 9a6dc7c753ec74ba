import Foundation
import Testing

/// `rollout worker` refuses weak or malformed tokens at start, from a file or the environment alike, naming the
/// flag or variable it read; each case ends before the worker opens its database or listens.
@Suite struct WorkerTokenTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        var environment: [String: String]
        /// Text the refusal must contain.
        var expected: String
        var testDescription: String { name }
    }

    static let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path

    static let cases: [Case] = [
        Case(name: "short token file", arguments: ["--token-file", tokenFile], environment: [:],
             expected: "--token-file \(tokenFile): the token is shorter than 16 characters"),
        Case(name: "short ROLLOUT_TOKEN", arguments: [], environment: ["ROLLOUT_TOKEN": "short-token"],
             expected: "ROLLOUT_TOKEN: the token is shorter than 16 characters"),
        Case(name: "ROLLOUT_TOKEN with a space", arguments: [], environment: ["ROLLOUT_TOKEN": "0123456789 abcdef0123"],
             expected: "ROLLOUT_TOKEN: the token has whitespace inside it"),
        Case(name: "short ROLLOUT_READ_TOKEN", arguments: [],
             environment: ["ROLLOUT_TOKEN": "write-0123456789abcdef", "ROLLOUT_READ_TOKEN": "tiny"],
             expected: "ROLLOUT_READ_TOKEN: the token is shorter than 16 characters"),
        Case(name: "missing read token file", arguments: ["--read-token-file", tokenFile + "-missing"],
             environment: ["ROLLOUT_TOKEN": "write-0123456789abcdef"],
             expected: "--read-token-file \(tokenFile)-missing: cannot read the file"),
        Case(name: "beyond loopback without a token", arguments: ["--listen", "0.0.0.0:0"], environment: [:],
             expected: "set a bearer token (--token-file or ROLLOUT_TOKEN)"),
        Case(name: "read token without a write token", arguments: [],
             environment: ["ROLLOUT_READ_TOKEN": "read-0123456789abcdef"],
             expected: "needs a write token as well (--token-file or ROLLOUT_TOKEN)"),
        Case(name: "missing artifacts directory", arguments: ["--artifacts-dir", tokenFile + "-nodir"], environment: [:],
             expected: "--artifacts-dir \(tokenFile)-nodir is not a directory"),
    ]

    @Test(arguments: cases)
    func refused(_ testCase: Case) async throws {
        try "short\n".write(toFile: Self.tokenFile, atomically: true, encoding: .utf8)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Unset unless the case sets them: the refusals must come from what the case gives.
        let environment = ["ROLLOUT_TOKEN": "", "ROLLOUT_READ_TOKEN": ""].merging(testCase.environment) { $1 }
        let listen = testCase.arguments.contains("--listen") ? [] : ["--listen", "127.0.0.1:0"]
        let result = try await rollout(["worker", "--db", "\(directory)/rollout.db"] + listen + testCase.arguments,
                                       environment: environment)
        #expect(result.status != 0)
        #expect(result.stderr.contains(testCase.expected), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/rollout.db"), "refused before opening the database")
        for secret in ["short-token", "0123456789 abcdef0123", "tiny"] where testCase.environment.values.contains(secret) {
            #expect(!result.stderr.contains(secret), "the refusal does not quote the token")
        }
    }
}
