/// Rollout ids: `<plan name>-<first 8 hex of the plan text's SHA-256>`, so the same plan is the same rollout.
package enum RolloutIdentity {
    package static func rolloutId(planName: String, planSource: String) -> String {
        let digest = SHA256.hex(SHA256.hash(Array(planSource.utf8)))
        return "\(planName)-\(digest.prefix(8))"
    }
}
