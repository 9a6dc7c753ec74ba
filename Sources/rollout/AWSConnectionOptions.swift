import ArgumentParser
import FleetAWS
import RolloutCore

/// `--region`, `--endpoint-url`, `--profile`: where and as whom every AWS command talks to AWS.
struct AWSConnectionOptions: ParsableArguments {
    @Option(help: "AWS region; default the plan's aws.region where there is a plan, else AWS_REGION / AWS_DEFAULT_REGION / the profile's.")
    var region: String?

    @Option(help: "Endpoint URL for every AWS service (e.g. moto at http://127.0.0.1:5000).")
    var endpointURL: String?

    @Option(help: "Profile of ~/.aws/config and ~/.aws/credentials; default AWS_PROFILE, else `default`.")
    var profile: String?

    /// The configuration, `region` winning over `fallbackRegion` (a plan's).
    func resolve(fallbackRegion: String? = nil, quotas: AWSQuotas = .defaults) throws -> AWSConfiguration {
        try AWSConfiguration.resolve(region: region ?? fallbackRegion, endpointURL: endpointURL, profile: profile,
                                     quotas: quotas)
    }
}
