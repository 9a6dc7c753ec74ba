import Foundation
import Testing

@testable import FleetAWS

/// `credential_process`: a script the test writes, run without a shell, bounded in time and output.
@Suite("credential_process")
struct CredentialProcessSourceTests {
    /// A profile `tool` whose credential_process is `commandLine`, in a fresh HOME.
    static func environment(_ commandLine: String, extra: String = "") throws -> [String: String] {
        try CredentialsChainTests.files(config: "[profile tool]\ncredential_process = \(commandLine)\n\(extra)")
    }

    static func load(_ environment: [String: String], timeout: Double = 60,
                     now: @escaping @Sendable () -> Date = { Date() }) async throws -> AWSCredentials {
        try await CredentialsTesting.chain(environment, profile: "tool", processTimeoutSeconds: timeout, now: now)
            .credentials()
    }

    static func iso(_ date: Date) -> String { date.ISO8601Format() }

    @Test("the JSON document becomes credentials; Expiration is honoured: cached, then run again before it")
    func expirationAndRefresh() async throws {
        let directory = try TemporaryFile.makeDirectory()
        let expiration = Self.iso(Date().addingTimeInterval(3600))
        // Counts its runs in a file, so a refresh shows as a new key.
        let script = try CredentialsTesting.write("""
            #!/bin/sh
            count=$(cat "\(directory)/count" 2>/dev/null || echo 0)
            count=$((count + 1))
            echo "$count" > "\(directory)/count"
            printf '{"Version": 1, "AccessKeyId": "AKIDPROC%s", "SecretAccessKey": "proc-secret", "SessionToken": "proc-token", "Expiration": "\(expiration)", "AccountId": "111122223333"}' "$count"
            """, to: directory, "creds.sh", executable: true)
        let clock = TestClock(Date())
        let chain = try CredentialsTesting.chain(try Self.environment(script), profile: "tool", now: clock.now)
        let first = try await chain.credentials()
        #expect(first.accessKeyId == "AKIDPROC1" && first.secretAccessKey == "proc-secret" && first.sessionToken == "proc-token")
        #expect(first.accountId == "111122223333" && first.expiration != nil)
        #expect(try await chain.credentials().accessKeyId == "AKIDPROC1", "cached")
        clock.advance(by: 3600 - 200)
        #expect(try await chain.credentials().accessKeyId == "AKIDPROC2", "run again 5 minutes before Expiration")
    }

    @Test("the command line is split like the CLI does (quotes, backslashes), and run without a shell")
    func quoting() async throws {
        let directory = try TemporaryFile.makeDirectory() + "/with space"
        let script = try CredentialsTesting.write("""
            #!/bin/sh
            for argument in "$@"; do printf '[%s]' "$argument"; done > "\(directory)/arguments"
            printf '{"Version": 1, "AccessKeyId": "AKIDQUOTED", "SecretAccessKey": "s"}'
            """, to: directory, "creds.sh", executable: true)
        let credentials = try await Self.load(try Self.environment(
            #""\#(script)" 'one two' "three \"3\"" four\ five $HOME;echo"#, extra: "aws_account_id = 444455556666\n"))
        #expect(credentials.accessKeyId == "AKIDQUOTED" && credentials.expiration == nil, "no Expiration: long-term")
        #expect(credentials.accountId == "444455556666", "the profile's aws_account_id")
        let arguments = try String(contentsOfFile: directory + "/arguments", encoding: .utf8)
        #expect(arguments == #"[one two][three "3"][four five][$HOME;echo]"#)
    }

    @Test("ShellWords splits as Python's shlex.split does")
    func shellWords() throws {
        #expect(try ShellWords.split("  a  b\tc ") == ["a", "b", "c"])
        #expect(try ShellWords.split(#"a 'b c' "d \"e\" \x" f\ g ''"#) == ["a", "b c", #"d "e" \x"#, "f g", ""])
        #expect(try ShellWords.split("a#b 'it''s'") == ["a#b", "its"])
        #expect(throws: CredentialsError.self) { _ = try ShellWords.split("a 'b") }
        #expect(throws: CredentialsError.self) { _ = try ShellWords.split(#"a "b"#) }
        #expect(throws: CredentialsError.self) { _ = try ShellWords.split(#"a \"#) }
    }

    @Test("a failing command: its status and stderr tail in the message, never its stdout")
    func failure() async throws {
        let directory = try TemporaryFile.makeDirectory()
        let script = try CredentialsTesting.write("""
            #!/bin/sh
            printf '{"Version": 1, "AccessKeyId": "AKIDLEAKED", "SecretAccessKey": "stdout-secret-value"}'
            i=0; while [ $i -lt 300 ]; do echo "noise line $i" >&2; i=$((i + 1)); done
            echo "token for sso expired: log in again" >&2
            exit 3
            """, to: directory, "creds.sh", executable: true)
        let message = await CredentialsTesting.failure { _ = try await Self.load(try Self.environment(script + " --password hunter2")) }
        #expect(message.contains("exited with status 3") && message.contains("token for sso expired: log in again"), "\(message)")
        #expect(!message.contains("noise line 0 "), "only the tail of stderr")
        #expect(message.count < CredentialProcessSource.stderrTailBytes + 300)
        CredentialsTesting.expectNoSecret(in: message, ["stdout-secret-value", "AKIDLEAKED", "hunter2"])
    }

    @Test("bounded: a command that hangs is killed at the time-out, one that floods stdout at 64 KB")
    func bounds() async throws {
        let directory = try TemporaryFile.makeDirectory()
        let hanging = try CredentialsTesting.write("#!/bin/sh\necho starting >&2\nexec sleep 300\n", to: directory,
                                                   "hang.sh", executable: true)
        let started = Date()
        let timeout = await CredentialsTesting.failure { _ = try await Self.load(try Self.environment(hanging), timeout: 1) }
        #expect(timeout.contains("did not finish within 1 s") && timeout.contains("starting"), "\(timeout)")
        // Killed, not waited for: far below the 300 s the command sleeps (a loaded machine was seen to take 38 s).
        #expect(Date().timeIntervalSince(started) < 150)

        let flooding = try CredentialsTesting.write("#!/bin/sh\nexec yes AKIDFLOOD-secret\n", to: directory, "flood.sh",
                                                    executable: true)
        let flood = await CredentialsTesting.failure { _ = try await Self.load(try Self.environment(flooding)) }
        #expect(flood.contains("printed more than \(CredentialProcessSource.stdoutBytesMax) bytes"), "\(flood)")
        CredentialsTesting.expectNoSecret(in: flood, ["AKIDFLOOD-secret"])
    }

    @Test("documents that are not Version 1 credentials are refused without quoting them")
    func badDocuments() async throws {
        let directory = try TemporaryFile.makeDirectory()
        func message(_ output: String) async throws -> String {
            let script = try CredentialsTesting.write("#!/bin/sh\nprintf '%s' '\(output)'\n", to: directory,
                                                      "creds-\(UUID().uuidString).sh", executable: true)
            return await CredentialsTesting.failure { _ = try await Self.load(try Self.environment(script)) }
        }
        let version = try await message(#"{"Version": 2, "AccessKeyId": "A", "SecretAccessKey": "version-secret"}"#)
        #expect(version.contains("Version 2"), "\(version)")
        CredentialsTesting.expectNoSecret(in: version, ["version-secret"])
        let garbage = try await message("AKIDGARBAGE secret-garbage")
        #expect(garbage.contains("not a JSON credentials document"), "\(garbage)")
        CredentialsTesting.expectNoSecret(in: garbage, ["secret-garbage"])
        let missing = try await message(#"{"Version": 1, "AccessKeyId": "A"}"#)
        #expect(missing.contains("no AccessKeyId / SecretAccessKey"), "\(missing)")
        let expired = try await message(#"{"Version": 1, "AccessKeyId": "A", "SecretAccessKey": "s", "Expiration": "2001-01-01T00:00:00Z"}"#)
        #expect(expired.contains("expired"), "\(expired)")
        let notFound = await CredentialsTesting.failure {
            _ = try await Self.load(try Self.environment("no-such-credential-helper-xyz --flag"))
        }
        #expect(notFound.contains("no-such-credential-helper-xyz") && notFound.contains("PATH"), "\(notFound)")
    }

    @Test("the credentials file's keys come before credential_process, the config file's after it")
    func order() async throws {
        let directory = try TemporaryFile.makeDirectory()
        let script = try CredentialsTesting.write(#"#!/bin/sh"# + "\n" + #"printf '{"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": "s"}'"#,
                                                  to: directory, "creds.sh", executable: true)
        let configKeys = "aws_access_key_id = CONFIGKEY\naws_secret_access_key = c\n"
        var environment = try CredentialsChainTests.files(
            credentials: "[tool]\naws_access_key_id = CREDFILEKEY\naws_secret_access_key = f\n",
            config: "[profile tool]\ncredential_process = \(script)\n\(configKeys)")
        #expect(try await Self.load(environment).accessKeyId == "CREDFILEKEY")
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials"
        #expect(try await Self.load(environment).accessKeyId == "AKIDPROCESS")
        let configOnly = try CredentialsChainTests.files(config: "[profile tool]\n\(configKeys)")
        #expect(try await Self.load(configOnly).accessKeyId == "CONFIGKEY")
    }
}
