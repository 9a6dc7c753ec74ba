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
        family(&text, "rollout_step_errors_total", type: "counter",
               help: "Worker steps that failed (store or programming errors) and were retried.",
               samples: [("", Double(metrics.stepErrors))])
        family(&text, "rollout_worker_start_time_seconds", type: "gauge",
               help: "When the worker started, in seconds since the Unix epoch.",
               samples: [("", metrics.startedAt.timeIntervalSince1970.rounded())])
        return text
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
