import ArgumentParser
import FleetAWS
import RolloutCore

/// `--aws-quota NAME=VALUE`, repeatable: the account's AWS quotas where they differ from AWS's published defaults
/// (raised, or lowered to leave room for other tools in the account). One budget per account and region is shared
/// by every rollout of the process.
struct AWSQuotaOptions: ParsableArguments {
    @Option(name: .customLong("aws-quota"),
            help: ArgumentHelp(
                "An AWS quota of the account where it differs from AWS's default, as NAME=VALUE; repeatable.",
                discussion: "Rates are calls per second shared by every rollout of this process in one account and "
                    + "region; ConcurrentJobs and ActiveJobs are job counts. Names and defaults: "
                    + AWSQuotas.helpText + ".",
                valueName: "NAME=VALUE"))
    var overrides: [String] = []

    func validate() throws {
        do {
            _ = try AWSQuotas.parse(overrides)
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// AWS's defaults with the overrides applied (validated already).
    func quotas() throws -> AWSQuotas {
        try AWSQuotas.parse(overrides)
    }
}
