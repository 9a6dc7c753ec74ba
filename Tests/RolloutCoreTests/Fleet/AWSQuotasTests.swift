import Foundation
import RolloutCore
import Testing

/// AWS's published quotas and their overrides (`--aws-quota`, a scenario's `api.quotas`).
@Suite("AWS quotas: published defaults, overrides by name")
struct AWSQuotasTests {
    @Test("the defaults are AWS's published quotas; overrides replace them by name, case-insensitively")
    func quotas() throws {
        let defaults = AWSQuotas.defaults
        #expect(defaults.ratesPerSecond["CreateJob"] == 10)
        #expect(defaults.ratesPerSecond["DescribeJob"] == 10)
        #expect(defaults.ratesPerSecond["ListJobExecutionsForJob"] == 10)
        #expect(defaults.ratesPerSecond["CancelJob"] == 10)
        #expect(defaults.ratesPerSecond["AddThingToThingGroup"] == 100)
        #expect(defaults.ratesPerSecond["CreateThingGroup"] == 25)
        #expect(defaults.ratesPerSecond["S3"] == 3500)
        #expect(defaults.concurrentJobsMax == 500)

        let raised = try AWSQuotas.parse(["createjob=20", "S3 = 100", "ConcurrentJobs=2000", "AddThingToThingGroup=12.5"])
        #expect(raised.ratesPerSecond["CreateJob"] == 20)
        #expect(raised.ratesPerSecond["S3"] == 100)
        #expect(raised.ratesPerSecond["AddThingToThingGroup"] == 12.5)
        #expect(raised.concurrentJobsMax == 2000)
        #expect(raised.activeJobsMax == defaults.activeJobsMax)
    }

    @Test("a bad --aws-quota names what is wrong and the names there are", arguments: [
        ("CreateJobs=5", "unknown name `CreateJobs`"), ("CreateJob", "expected NAME=VALUE"),
        ("CreateJob=0", "expected NAME=VALUE"), ("CreateJob=fast", "expected NAME=VALUE"),
        ("ConcurrentJobs=1.5", "whole number of jobs"),
    ])
    func badOverride(text: String, expected: String) {
        #expect {
            try AWSQuotas.parse([text])
        } throws: { error in
            let message = (error as? AWSQuotaError)?.message ?? ""
            return message.contains(expected) && message.contains(text)
                && (!expected.hasPrefix("unknown") || message.contains("CreateJob, DescribeJob"))
        }
    }

    @Test("one quota set by name: a rate, a job count; nonsense is refused with what was expected")
    func applyByName() throws {
        var quotas = AWSQuotas.defaults
        try quotas.apply(name: "describejob", value: 2)
        try quotas.apply(name: "ConcurrentJobs", value: 3)
        #expect(quotas.ratesPerSecond["DescribeJob"] == 2)
        #expect(quotas.concurrentJobsMax == 3)
        #expect(throws: AWSQuotaError.self) { try quotas.apply(name: "ActiveJobs", value: 0.5) }
        #expect(throws: AWSQuotaError.self) { try quotas.apply(name: "CreateJob", value: -1) }
        #expect(throws: AWSQuotaError.self) { try quotas.apply(name: "Teleport", value: 1) }
    }
}
