import Foundation
import PostgresTestSupport
import Testing

/// `rollout bench --postgres` on a few rollouts, against the tests' PostgreSQL server: it runs 1, 2 and 3 workers
/// and SQLite beside them to the end, times a take-over after each SIGKILL, and leaves no scratch database behind.
/// (The numbers themselves are for a release build on a quiet machine: see the README.)
extension MultiWorkerTests {
    @Test func thePostgresBenchMeasuresOneToThreeWorkersAndSQLiteBeside() async throws {
        let server = try PostgresTestServer.shared
        let result = try await rollout(["bench", "--postgres", server.url(database: "postgres"), "--rollouts", "40",
                                        "--seconds", "1", "--lease-seconds", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = result.stdout
        #expect(output.contains("40 concurrent simulated rollouts"), "\(output)")
        for workers in ["1 worker :", "2 workers:", "3 workers:"] {
            let line = output.split(separator: "\n").first { $0.contains(workers) }
            #expect(line?.contains("transitions/s") == true && line?.contains("40 of 40 leased") == true, "\(output)")
            #expect(line?.contains("steps/s") == true && line?.contains("fleet calls/s") == true, "\(output)")
        }
        let takeovers = output.split(separator: "\n").filter { $0.contains("take-over: the ") }
        #expect(takeovers.count == 2, "one take-over each with 2 and 3 workers: \(output)")
        #expect(output.contains("beside it, SQLite, 1 worker:"), "\(output)")
        let left = try server.sql("SELECT count(*) FROM pg_database WHERE datname LIKE 'rollout_bench_%'", database: "postgres")
        #expect(left.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "scratch databases dropped")
    }
}
