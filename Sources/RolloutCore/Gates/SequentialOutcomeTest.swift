import Foundation

/// The statistical job-outcome gate (`gates.jobOutcomes.method: sequential`): a Bayesian beta-binomial bound on the
/// stage's true failure rate, judged again at every poll.
///
/// With a uniform prior, after `n` outcomes of which `k` failed the failure rate `p` has the posterior
/// Beta(1 + k, 1 + n − k), and
///
///     P(p > limit | k of n) = 1 − I_limit(1 + k, 1 + n − k)
///
/// where `I_x(a, b)` is the regularized incomplete beta function. Stopping rule, with confidence `c` (default 0.95):
/// **fail** as soon as a failure is seen and P(p > limit) ≥ c; **pass** once P(p ≤ limit) ≥ c (and the bake is over); otherwise wait, and
/// say how many more outcomes without a failure would pass. Example, limit 5%, c = 95%: 0 failures of 10 gives
/// P(p > 5%) = 0.95^11 ≈ 0.57: wait, 48 more successes needed (0 of 58 gives 0.95^59 ≈ 0.049); 1 failure of 10
/// gives ≈ 0.90: wait; 2 failures of 10 give ≈ 0.985: fail. The threshold gate fails 1 of 10 ("10% failed") and
/// passes 0 of 10. Judged after every poll: its error rates under this continuous monitoring are measured by
/// simulation (`rollout bench --gates`, the README's table). Pure.
package enum SequentialOutcomeTest {
    package enum Decision: String, Codable, Sendable, Equatable {
        case fail, pass, undecided
    }

    package struct Judgement: Equatable, Sendable {
        package var decision: Decision
        /// Posterior probability that the true failure rate is above the limit.
        package var probabilityAbove: Double
        /// Outcomes without a failure still needed to pass (nil once decided, or beyond `outcomesNeededMax`).
        package var outcomesNeeded: Int?
    }

    /// Searches for the outcomes still needed stop here (the answer is then "more than this").
    package static let outcomesNeededMax = 10_000_000

    /// Judges `failed` of `executed` against a tolerated failure rate `limit` (0 < limit < 1) with `confidence`
    /// (0.5 < confidence < 1), `inProgress` devices having started without an outcome yet.
    ///
    /// A device in progress is not ignored: failures end sooner than successes (a failed install stops early), so the
    /// finished outcomes of a stage in flight over-count failures. To fail, the evidence must hold with every device
    /// in progress counted as a success; to pass, with every one counted as a failure. Once every started device has
    /// an outcome both are the same k of n. (`probabilityAbove` is the failing side's.)
    package static func judge(executed: Int, failed: Int, inProgress: Int = 0, limit: Double,
                              confidence: Double) -> Judgement {
        precondition(limit > 0 && limit < 1, "a tolerated rate")
        return judge(executed: executed, failed: failed, inProgress: inProgress, confidence: confidence) {
            probabilityAbove(executed: $0, failed: $1, limit: limit)
        }
    }

    /// The same test against the previous firmware (`baseline: previous`): the tolerated rate is the previous
    /// firmware's own (unknown, with posterior Beta(1 + kb, 1 + nb − kb) from its `baselineFailed` of
    /// `baselineExecuted` outcomes) plus `margin`, so a small history counts as the uncertain evidence it is:
    ///
    ///     P(p > q + margin) = ∫ f_q(x) · (1 − I_{x+margin}(1 + k, 1 + n − k)) dx
    ///
    /// integrated numerically (512 slices of q's posterior within ±12 standard deviations of its mean).
    package static func judge(executed: Int, failed: Int, inProgress: Int = 0, baselineExecuted: Int,
                              baselineFailed: Int, margin: Double, confidence: Double) -> Judgement {
        precondition(baselineExecuted >= 0 && baselineFailed >= 0 && baselineFailed <= baselineExecuted, "baseline counts")
        precondition(margin >= 0 && margin < 1, "a margin")
        return judge(executed: executed, failed: failed, inProgress: inProgress, confidence: confidence) {
            probabilityAbove(executed: $0, failed: $1, baselineExecuted: baselineExecuted, baselineFailed: baselineFailed,
                             margin: margin)
        }
    }

    /// The stopping rule, for any `above(n, k)` = P(failure rate above what is tolerated | k of n).
    static func judge(executed: Int, failed: Int, inProgress: Int, confidence: Double,
                      above probability: (Int, Int) -> Double) -> Judgement {
        precondition(executed >= 0 && failed >= 0 && failed <= executed && inProgress >= 0, "counts of outcomes")
        precondition(confidence > 0.5 && confidence < 1, "a confidence")
        let started = executed + inProgress
        let above = probability(started, failed)
        // No failure is no evidence of failing: with a small limit the uniform prior alone puts most of its mass
        // above it (limit 0.1%, 10 successes: P = 0.989), and a stage must not fail on the prior.
        if failed > 0 && above >= confidence {
            return Judgement(decision: .fail, probabilityAbove: above, outcomesNeeded: nil)
        }
        let pessimistic = failed + inProgress
        if 1 - probability(started, pessimistic) >= confidence {
            return Judgement(decision: .pass, probabilityAbove: above, outcomesNeeded: nil)
        }
        return Judgement(decision: .undecided, probabilityAbove: above,
                         outcomesNeeded: successesToPass(executed: started, failed: pessimistic, confidence: confidence,
                                                         above: probability))
    }

    /// P(p > limit) under the posterior Beta(1 + failed, 1 + executed − failed).
    package static func probabilityAbove(executed: Int, failed: Int, limit: Double) -> Double {
        1 - regularizedIncompleteBeta(x: limit, a: Double(1 + failed), b: Double(1 + executed - failed))
    }

    /// P(p > q + margin), p ~ Beta(1 + failed, 1 + executed − failed), q ~ Beta(1 + baselineFailed, 1 +
    /// baselineExecuted − baselineFailed), independent.
    package static func probabilityAbove(executed: Int, failed: Int, baselineExecuted: Int, baselineFailed: Int,
                                         margin: Double) -> Double {
        let a = Double(1 + baselineFailed), b = Double(1 + baselineExecuted - baselineFailed)
        let mean = a / (a + b)
        let deviation = (a * b / ((a + b) * (a + b) * (a + b + 1))).squareRoot()
        let low = max(0, mean - 12 * deviation), high = min(1, mean + 12 * deviation)
        let slices = 512
        let width = (high - low) / Double(slices)
        var total = 0.0
        var previousCDF = regularizedIncompleteBeta(x: low, a: a, b: b)
        for slice in 0..<slices {
            let right = low + Double(slice + 1) * width
            let cdf = regularizedIncompleteBeta(x: right, a: a, b: b)
            let middle = right - width / 2
            total += (cdf - previousCDF)
                * probabilityAbove(executed: executed, failed: failed, limit: min(1, middle + margin))
            previousCDF = cdf
        }
        return min(1, max(0, total))
    }

    /// The fewest further successes after which the gate passes (bounded search: doubling, then bisection).
    static func successesToPass(executed: Int, failed: Int, confidence: Double,
                                above probability: (Int, Int) -> Double) -> Int? {
        func passes(_ more: Int) -> Bool {
            1 - probability(executed + more, failed) >= confidence
        }
        var high = 1
        while !passes(high) {
            guard high < outcomesNeededMax else { return nil }
            high = min(high * 2, outcomesNeededMax)
        }
        var low = 0
        while high - low > 1 {
            let middle = (low + high) / 2
            if passes(middle) { high = middle } else { low = middle }
        }
        return high
    }

    /// I_x(a, b), by the continued fraction of Numerical Recipes' `betacf` (modified Lentz), using the symmetry
    /// I_x(a, b) = 1 − I_{1−x}(b, a) where it converges faster. Accurate to ~1e-12 for the counts a gate sees.
    package static func regularizedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
        precondition(a > 0 && b > 0, "beta parameters are positive")
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * continuedFraction(x: x, a: a, b: b) / a
        }
        return 1 - exp(logFront) * continuedFraction(x: 1 - x, a: b, b: a) / b
    }

    private static func continuedFraction(x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var result = d
        // Bounded: converges in O(sqrt(max(a, b))) iterations; 10,000 covers millions of outcomes.
        for m in 1...10_000 {
            let m = Double(m)
            let even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + even * d
            if abs(d) < tiny { d = tiny }
            c = 1 + even / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            result *= d * c
            let odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + odd * d
            if abs(d) < tiny { d = tiny }
            c = 1 + odd / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            result *= step
            if abs(step - 1) < 1e-14 { break }
        }
        return result
    }
}
