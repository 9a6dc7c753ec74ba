import Foundation
import Testing

/// `rollout bench --aws` on a small fleet, against moto with the tests' device layer: it runs to its end and shows
/// what issue 9 asks of the AWS path with rings: the calls of each stage do not grow with the fleet, a poll is one
/// DescribeJob, and no device is added to a group twice.
@Suite struct BenchCommandAWSTests {
    @Test func theAWSBenchMeasuresCallsPerStageOnMoto() async throws {
        let result = try await rollout(["bench", "--aws", "--things", "1000", "--device-layer",
                                        "\(repositoryRoot)/Tests/FleetAWSTests/Support/moto_device_layer.py"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = result.stdout
        #expect(!output.contains("not available"), "\(output)")
        #expect(output.contains("100 things: rollout completed") && output.contains("1,000 things: rollout completed"),
                "\(output)")
        // Per stage, at both sizes: the same three calls besides DescribeJob, whatever the stage's size.
        let stageLines = output.split(separator: "\n").filter { $0.contains(", to wave-") }
        #expect(stageLines.count == 2 * 3 + 3, "three stage phases per run and in the projection: \(output)")
        for line in stageLines {
            #expect(line.contains(": 3 calls besides DescribeJob [CreateJob 1, DescribeThingGroup 1, S3 1]"), "\(line)")
        }
        #expect(output.contains(" 0 of them adding a device to a group it was already in"), "\(output)")
        #expect(output.contains("projected for 1,000,000 things"))
    }
}
