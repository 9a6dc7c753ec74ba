import Foundation

/// A private PostgreSQL cluster for the tests: `initdb` into a temporary directory, `pg_ctl start` on a loopback port
/// (TCP only, SCRAM passwords, fsync off), one per test process, stopped and removed when the process exits. As root
/// (CI), the cluster runs as `nobody` (PostgreSQL refuses root). Each test takes a database of its own
/// (`freshDatabase()`). Needs Debian's `postgresql` (`.ci/install-deps` installs it): without it the tests fail and
/// say so, they are never skipped silently.
public final class PostgresTestServer: @unchecked Sendable {
    public static let user = "rollout"

    public let directory: String
    public private(set) var port = 0
    public let passwordFile: String
    public let binaries: String
    private let runAsNobody: Bool

    /// The process's server, started on first use.
    public static var shared: PostgresTestServer {
        get throws { try sharedServer.get() }
    }

    private static let sharedServer: Result<PostgresTestServer, any Error> = Result { try PostgresTestServer() }

    /// A cluster of its own, for a test that stops and restarts the server (the shared one serves other tests
    /// meanwhile). Stopped and removed at exit like the shared one.
    public static func makePrivate() throws -> PostgresTestServer {
        try PostgresTestServer()
    }

    /// Every server started by this process, stopped at exit.
    nonisolated(unsafe) private static var runningServers: [PostgresTestServer] = []
    private static let runningLock = NSLock()
    private static let stopAtExit: Void = {
        atexit {
            PostgresTestServer.runningLock.lock()
            let servers = PostgresTestServer.runningServers
            PostgresTestServer.runningLock.unlock()
            servers.forEach { $0.stop() }
        }
    }()

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private init() throws {
        binaries = try Self.findBinaries()
        runAsNobody = getuid() == 0
        directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("rollout-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        passwordFile = directory + "/password"
        try (UUID().uuidString + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passwordFile)
        if runAsNobody {
            try run("/bin/chown", ["-R", "nobody:nogroup", directory], asNobody: false)
        }
        try run(binaries + "/initdb", ["-D", directory + "/data", "-U", Self.user, "--auth=scram-sha-256",
                                       "--pwfile=" + passwordFile, "-E", "UTF8", "--no-instructions"])
        var lastError: (any Error)?
        for _ in 0..<5 {
            let candidate = Self.freePort()
            do {
                try start(port: candidate)
                port = candidate
                Self.stopAtExit
                Self.runningLock.lock()
                Self.runningServers.append(self)
                Self.runningLock.unlock()
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? Failure(description: "PostgreSQL did not start")
    }

    /// `postgres://rollout@127.0.0.1:PORT/NAME?sslmode=disable&password_file=…`.
    public func url(database: String) -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)?sslmode=disable&password_file=\(passwordFile)"
    }

    /// A new, empty database; returns its URL.
    public func freshDatabase() throws -> String {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try sql("CREATE DATABASE \(name)", database: "postgres")
        return url(database: name)
    }

    /// Runs `statement` with psql (as the tests' superuser); returns what psql printed (unaligned, tuples only).
    @discardableResult
    public func sql(_ statement: String, database: String) throws -> String {
        let password = try String(contentsOfFile: passwordFile, encoding: .utf8).trimmingCharacters(in: .newlines)
        return try run(binaries + "/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                                            "-p", "\(port)", "-U", Self.user, "-d", database, "-c", statement],
                       asNobody: false, environment: ["PGPASSWORD": password])
    }

    /// `pg_ctl start` on `port`, loopback TCP only, waiting until it accepts connections.
    private func start(port: Int) throws {
        try run(binaries + "/pg_ctl", ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60",
                                       "-o", "-p \(port) -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
                                           + "-c fsync=off -c synchronous_commit=off -c max_connections=300",
                                       "start"])
    }

    /// Stops the server as an operator's restart does (`pg_ctl stop -m fast`: connections are closed), keeping its
    /// data; `startAgain()` brings it back on the same port.
    public func stopKeepingData() throws {
        try run(binaries + "/pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Starts the server again after `stopKeepingData()`, on the port it had.
    public func startAgain() throws {
        try start(port: port)
    }

    public func stop() {
        _ = try? run(binaries + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a PostgreSQL program (as `nobody` when the tests run as root), bounded to two minutes. posix_spawn and
    /// waitpid, not Foundation's `Process`: pg_ctl leaves a server behind that inherits its descriptors, and `Process`
    /// was seen not to notice pg_ctl's exit then.
    @discardableResult
    private func run(_ program: String, _ arguments: [String], asNobody: Bool? = nil,
                     environment: [String: String] = [:]) throws -> String {
        let argv = (asNobody ?? runAsNobody)
            ? ["/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", program] + arguments
            : [program] + arguments
        let outputPath = directory + "/output-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the test process: a server started here would otherwise keep other tests' sockets open
        // (a connection a test server closed stayed open in postgres, and its client waited for an answer).
        // (glibc ignores a close action for a descriptor closed meanwhile; no addclosefrom_np in Swift's Glibc.)
        let inherited = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
        for descriptor in inherited where descriptor >= 3 { posix_spawn_file_actions_addclose(&actions, descriptor) }
        let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = variables.map { strdup($0) } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, cEnvironment)
        guard spawned == 0 else { throw Failure(description: "cannot start \(argv[0]): error \(spawned)") }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(120)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw Failure(description: "\((program as NSString).lastPathComponent) did not finish within 120 s")
            }
            usleep(10_000)
        }
        let text = String(decoding: (FileManager.default.contents(atPath: outputPath) ?? Data()).prefix(8192), as: UTF8.self)
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exited == 0 else {
            throw Failure(description: "\((program as NSString).lastPathComponent) \(arguments.joined(separator: " ")) "
                          + "exited \(exited): \(text)")
        }
        return text
    }

    /// Debian's newest PostgreSQL (`/usr/lib/postgresql/N/bin`), else one on PATH.
    private static func findBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/pg_ctl") {
            return "\(root)/\(version)/bin"
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        where FileManager.default.isExecutableFile(atPath: "\(directory)/pg_ctl") {
            return String(directory)
        }
        throw Failure(description: "PostgreSQL's server programs (initdb, pg_ctl) are not installed: "
                      + "apt-get install postgresql (.ci/install-deps does)")
    }

    /// A port the kernel just handed out on loopback (a race with other programs is retried by the caller).
    private static func freePort() -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
