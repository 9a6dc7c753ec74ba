import Engine
import Foundation
import RolloutCore

/// Renders `WorkerMetrics` as Prometheus text exposition format 0.0.4.
enum PrometheusExposition {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Every label value appears (at 0 when nothing is counted), so dashboards see a stable set of series.
    static let stageStatuses: [StageStatus] = [.pending, .deploying, .baking, .passed, .failed, .skipped, .cancelled]
    static let verdicts: [Verdict] = [.pass, .fail, .wait, .inconclusive]

    static func render(_ metrics: WorkerMetrics) -> String {
        var text = ""
        family(&text, "rollout_rollouts", type: "gauge", help: "Rollouts known to the worker, by display phase.",
               samples: RolloutPhase.allCases.map { (#"phase=""# + $0.rawValue + #"""#, Double(metrics.rolloutsByPhase[$0] ?? 0)) })
        let statuses = stageStatuses + metrics.stagesByStatus.keys.filter { !stageStatuses.contains($0) }
        family(&text, "rollout_stages", type: "gauge", help: "Stages of all known rollouts, by status.",
               samples: statuses.map { (#"status=""# + $0.rawValue + #"""#, Double(metrics.stagesByStatus[$0] ?? 0)) })
        let kinds = verdicts + metrics.verdictsByKind.keys.filter { !verdicts.contains($0) }
        family(&text, "rollout_gate_verdicts_total", type: "counter",
               help: "Gate verdicts recorded since the worker started, by verdict.",
               samples: kinds.map { (#"verdict=""# + $0.rawValue + #"""#, Double(metrics.verdictsByKind[$0] ?? 0)) })
        let engine = metrics.engine
        family(&text, "rollout_fleet_calls_total", type: "counter",
               help: "Fleet operations attempted (effects performed and job progress polls).",
               samples: [("", Double(engine.effectsAttempted + engine.polls))])
        family(&text, "rollout_fleet_errors_total", type: "counter",
               help: "Fleet operations that failed (effect errors and poll errors).",
               samples: [("", Double(engine.effectErrors + engine.pollErrors))])
        family(&text, "rollout_jobs_created_total", type: "counter", help: "Fleet jobs created (stage and rollback jobs).",
               samples: [("", Double(engine.jobsCreated))])
        family(&text, "rollout_commits_total", type: "counter", help: "State transitions committed to the store.",
               samples: [("", Double(engine.commits))])
        family(&text, "rollout_effect_queue_depth", type: "gauge", help: "Effects waiting in the outbox.",
               samples: [("", Double(metrics.effectQueueDepth))])
        family(&text, "rollout_steps_total", type: "counter",
               help: "Rollout steps run (a rollout stepped when due: its effects, timers and polls), failed ones included.",
               samples: [("", Double(metrics.steps))])
        family(&text, "rollout_step_errors_total", type: "counter",
               help: "Worker steps that failed (store or programming errors) and were retried.",
               samples: [("", Double(metrics.stepErrors))])
        family(&text, "rollout_worker_start_time_seconds", type: "gauge",
               help: "When the worker started, in seconds since the Unix epoch.",
               samples: [("", metrics.startedAt.timeIntervalSince1970.rounded())])
        renderFleetAPIs(&text, metrics.fleetAPIs)
        if let coordination = metrics.coordination { renderCoordination(&text, coordination) }
        return text
    }

    /// A worker sharing its database with others: its leases, take-overs and fenced commits, labelled with its id
    /// (as `rollout workers` shows it), so that a dashboard can sum or compare the workers' scrapes.
    static func renderCoordination(_ text: inout String, _ statistics: CoordinationStatistics) {
        let worker = #"worker=""# + labelValue(statistics.workerId) + #"""#
        let families: [(name: String, type: String, help: String, value: Int)] = [
            ("rollout_worker_leases_held", "gauge", "Rollouts this worker leases (drives) now.", statistics.leasesHeld),
            ("rollout_worker_lease_claims_total", "counter",
             "Leases this worker claimed: new rollouts, ones given back by others, and take-overs.", statistics.claims),
            ("rollout_worker_takeovers_total", "counter",
             "Rollouts this worker took over from a worker whose lease had expired.", statistics.takeovers),
            ("rollout_worker_leases_released_total", "counter",
             "Leases this worker gave back (over its fair share, or of ended rollouts).", statistics.released),
            ("rollout_worker_fencing_rejections_total", "counter",
             "Writes refused because another worker had taken the lease over; this one stopped acting on the rollout.",
             statistics.fencingRejections),
            ("rollout_worker_round_failures_total", "counter",
             "Lease rounds that failed because the database did not answer (retried with backoff).",
             statistics.roundFailures),
            ("rollout_workers_alive", "gauge",
             "Workers sharing the database alive at this worker's last round, itself included.", statistics.workersAlive),
        ]
        for family in families {
            self.family(&text, family.name, type: family.type, help: family.help,
                        samples: [(worker, Double(family.value))])
        }
    }

    /// Per fleet API (and the account-region sharing its budget): requests, throttled answers, seconds spent waiting
    /// for the budget, the budget's rate and how much of it is in use. Absent for a fleet without budgets.
    static func renderFleetAPIs(_ text: inout String, _ usage: [FleetAPIUsage]) {
        guard !usage.isEmpty else { return }
        func labels(_ entry: FleetAPIUsage) -> String {
            #"api=""# + labelValue(entry.api) + #"",scope=""# + labelValue(entry.scope) + #"""#
        }
        family(&text, "rollout_fleet_api_requests_total", type: "counter",
               help: "Requests sent to the fleet's API (every attempt), by API and account-region.",
               samples: usage.map { (labels($0), Double($0.calls)) })
        family(&text, "rollout_fleet_api_throttled_total", type: "counter",
               help: "Answers that were throttling, by API and account-region.",
               samples: usage.map { (labels($0), Double($0.throttled)) })
        family(&text, "rollout_fleet_api_budget_wait_seconds_total", type: "counter",
               help: "Seconds requests waited for the worker's request budget before being sent.",
               samples: usage.map { (labels($0), $0.budgetWaitSeconds) })
        let metered = usage.filter { $0.ratePerSecond != nil }
        family(&text, "rollout_fleet_api_budget_rate", type: "gauge",
               help: "The request budget of the API in calls per second (AWS's default quota unless overridden).",
               samples: metered.map { (labels($0), $0.ratePerSecond ?? 0) })
        family(&text, "rollout_fleet_api_budget_used_ratio", type: "gauge",
               help: "Share of the API's request budget in use: 0 unused, 1 exhausted, above 1 while requests queue.",
               samples: metered.map { (labels($0), $0.budgetUsedRatio ?? 0) })
    }

    /// A label value with `\`, `"` and line feeds escaped, as the text format requires.
    static func labelValue(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func family(_ text: inout String, _ name: String, type: String, help: String,
                       samples: [(labels: String, value: Double)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for sample in samples {
            let labels = sample.labels.isEmpty ? "" : "{\(sample.labels)}"
            text += "\(name)\(labels) \(format(sample.value))\n"
        }
    }

    /// Integers without a fraction; otherwise Swift's shortest round-tripping form.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
