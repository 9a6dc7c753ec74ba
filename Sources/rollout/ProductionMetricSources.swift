import Engine
import FleetAWS
import HTTPAdapters
import RolloutCore

/// The metric sources of a worker on AWS: HTTP JSON, Prometheus (SigV4 for Amazon Managed Service for Prometheus
/// with the fleet's credentials), CloudWatch metrics and alarms (the fleet's configuration and credential chain).
enum ProductionMetricSources {
    static func make(aws configuration: AWSConfiguration?) -> MetricSourceRouter {
        // One libcurl transport and one secret policy for both HTTP providers.
        let options = HTTPMetricSource.Options()
        let transport = options.makeTransport()
        let secrets = MetricSecretPolicy.fromEnvironment()
        var sources: [MetricProvider: any MetricSource] = [
            .httpJSON: HTTPMetricSource(options: options, transport: transport, secrets: secrets),
        ]
        let signer = configuration.map { AWSRequestSigner(credentials: $0.credentials, now: $0.now) }
        sources[.prometheus] = PrometheusMetricSource(options: options, transport: transport, signer: signer, secrets: secrets)
        if let configuration {
            let cloudWatch = CloudWatchMetricSource(configuration: configuration)
            sources[.cloudWatch] = cloudWatch
            sources[.cloudWatchAlarm] = cloudWatch
        }
        return MetricSourceRouter(sources)
    }
}
