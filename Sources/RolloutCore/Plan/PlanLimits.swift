/// The ranges a plan's job settings must lie in: AWS IoT Jobs' own limits. The parser refuses values outside them,
/// the JSON Schema states them (a test compares), and the AWS fleet sends them as they are (no silent clamping).
package enum PlanLimits {
    /// `jobExecutionsRolloutConfig.maximumPerMinute`.
    package static let maxPerMinute = 1...1000
    /// `jobExecutionsRetryConfig` `numberOfRetries` per failure type.
    package static let retries = 0...10
    /// `timeoutConfig.inProgressTimeoutInMinutes`: 1 minute to 7 days.
    package static let inProgressTimeoutSeconds = 60...(7 * 86_400)
    /// `presignedUrlConfig.expiresInSec`.
    package static let presignedUrlExpiresSeconds = 60...3600

    /// What lies outside the limits (the parser never lets such a plan through; a stored plan is checked again
    /// before it reaches AWS instead of being clamped silently).
    package static func violations(of job: JobSettings, aws: AWSPlanSettings?) -> [String] {
        var found: [String] = []
        if let rate = job.maxPerMinute, !maxPerMinute.contains(rate) { found.append("job.maxPerMinute \(rate)") }
        if !retries.contains(job.retriesOnFailure) { found.append("job.retries.failed \(job.retriesOnFailure)") }
        if !retries.contains(job.retriesOnTimeout) { found.append("job.retries.timedOut \(job.retriesOnTimeout)") }
        if let timeout = job.inProgressTimeoutSeconds, !inProgressTimeoutSeconds.contains(timeout) {
            found.append("job.inProgressTimeout \(timeout) s")
        }
        if let aws, !presignedUrlExpiresSeconds.contains(aws.presignedUrlExpiresSeconds) {
            found.append("aws.presignedUrlExpires \(aws.presignedUrlExpiresSeconds) s")
        }
        return found
    }
}
