import Foundation

/// The floors `rollout bench` measures beside each figure, in the same run: programs doing only the irreducible part
/// of the work. A floor whose tool is not on this machine is reported as not available, never as a failure.
enum BenchFloor {
    /// Why a floor could not be measured, in words for the report.
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    // MARK: sim-floor.c

    /// Compiles `sim-floor.c` (the irreducible work of a rehearsal: hash, exact stage sizes, one outcome per device)
    /// with gcc into `directory`; returns the program's path.
    static func compileSimFloor(source: String, directory: String) throws(Unavailable) -> String {
        guard FileManager.default.fileExists(atPath: source) else {
            throw Unavailable(description: "no \(source) (pass --sim-floor PATH)")
        }
        guard let gcc = MeasuredProcess.which("gcc") ?? MeasuredProcess.which("cc") else {
            throw Unavailable(description: "no C compiler (gcc) on this machine")
        }
        let program = directory + "/sim-floor"
        guard let compiled = try? MeasuredProcess.run(gcc, ["-O2", "-o", program, source, "-lm"], scratchDirectory: directory),
              compiled.status == 0 else {
            throw Unavailable(description: "\(gcc) could not compile \(source)")
        }
        return program
    }

    // MARK: nginx

    /// nginx serving fixed bodies from files, one worker per core, no access log, keep-alive without a request cap:
    /// the fastest a web server on this machine answers with the same bytes.
    final class Nginx {
        let port: Int
        private let process: Process

        /// Serves each `bodies[path]` at `path` with its content type. Returns once nginx answers.
        init(bodies: [String: (contentType: String, body: Data)], directory: String, port: Int) async throws {
            guard let nginx = MeasuredProcess.which("nginx") else {
                throw Unavailable(description: "nginx is not installed (Debian: apt-get install nginx-light)")
            }
            let root = directory + "/nginx"
            try FileManager.default.createDirectory(atPath: root + "/html", withIntermediateDirectories: true)
            var locations = ""
            for (index, (path, item)) in bodies.sorted(by: { $0.key < $1.key }).enumerated() {
                try item.body.write(to: URL(fileURLWithPath: root + "/html/body-\(index)"))
                // `rewrite … break` rather than `alias`: `/` would otherwise look for an index file.
                locations += """
                        location = \(path) {
                            default_type "\(item.contentType)"; root \(root)/html; rewrite ^ /body-\(index) break;
                        }

                    """
            }
            let configuration = """
                \(geteuid() == 0 ? "user root;" : "")
                worker_processes auto;
                daemon off;
                pid \(root)/nginx.pid;
                error_log \(root)/error.log error;
                events { worker_connections 1024; }
                http {
                    access_log off;
                    keepalive_requests 1000000;
                    client_body_temp_path \(root)/tmp-body;
                    proxy_temp_path \(root)/tmp-proxy;
                    fastcgi_temp_path \(root)/tmp-fastcgi;
                    uwsgi_temp_path \(root)/tmp-uwsgi;
                    scgi_temp_path \(root)/tmp-scgi;
                    server {
                        listen 127.0.0.1:\(port);
                \(locations)    }
                }
                """
            try configuration.write(toFile: root + "/nginx.conf", atomically: true, encoding: .utf8)
            process = Process()
            process.executableURL = URL(fileURLWithPath: nginx)
            process.arguments = ["-p", root, "-c", root + "/nginx.conf"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            self.port = port
            for _ in 0..<500 {
                if try await Self.answers(port: port) { return }
                guard process.isRunning else { break }
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            stop()
            throw Unavailable(description: "nginx did not start (see \(root)/error.log)")
        }

        func stop() {
            guard process.isRunning else { return }
            process.terminate()
            process.waitUntilExit()
        }

        deinit {
            stop()
        }

        static func answers(port: Int) async throws -> Bool {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        }
    }

    // MARK: Python

    /// Runs a Python 3 script with arguments; its standard output. Unavailable without python3 or `module`.
    static func python(_ script: String, arguments: [String], module: String, directory: String) throws -> Data {
        guard let python = MeasuredProcess.which("python3") else {
            throw Unavailable(description: "python3 is not installed")
        }
        let check = try MeasuredProcess.run(python, ["-c", "import \(module)"], scratchDirectory: directory)
        guard check.status == 0 else { throw Unavailable(description: "python3 has no module \(module)") }
        let path = directory + "/floor-\(module).py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let run = try MeasuredProcess.run(python, [path] + arguments, scratchDirectory: directory)
        guard run.status == 0 else {
            throw Unavailable(description: "the \(module) floor script failed (exit \(run.status)): \(run.lastErrorLine)")
        }
        return run.output
    }
}
