import Engine
import Foundation
import RolloutCore
import RolloutText

/// The server-rendered HTML status page (`GET /`): no script, reloads itself every few seconds.
/// Free text (messages, reasons, verdict summaries) is shown with credentials masked, then HTML-escaped.
enum StatusPage {
    static let contentType = "text/html; charset=utf-8"

    /// Text from a state or a person, as the page shows it.
    static func shown(_ text: String) -> String {
        HTMLText.escape(CredentialRedaction.text(text))
    }

    static func render(rollouts: [StoredRollout], refreshSeconds: Int, now: Date) -> String {
        render(sections: rollouts.map(section), refreshSeconds: refreshSeconds, now: now)
    }

    /// The page around each rollout's `section` (made ahead, so the API can reuse those of unchanged rollouts).
    static func render(sections: [String], refreshSeconds: Int, now: Date) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>rollout status</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
            h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin: 0 0 .3em; }
            section.rollout { border: 1px solid #ccc; border-radius: 6px; padding: .8em 1em; margin: 0 0 1em; }
            .phase { display: inline-block; padding: 0 .5em; border-radius: 4px; background: #eee; font-weight: 600; }
            .phase-completed { background: #d4f4d4; } .phase-rolledBack, .phase-failed, .phase-aborted { background: #f8d4d4; }
            .phase-paused, .phase-awaitingApproval { background: #fdf0c4; }
            table { border-collapse: collapse; margin-top: .4em; } td, th { padding: .15em .6em; text-align: left; }
            th { font-weight: 600; border-bottom: 1px solid #ddd; }
            progress { width: 12em; } .muted { color: #777; } .verdict-fail { color: #b00; } .verdict-pass { color: #070; }
            </style>
            </head>
            <body>
            <h1>rollout status</h1>
            <p class="muted">\(sections.count) rollout\(sections.count == 1 ? "" : "s") · \
            rendered \(HTMLText.escape(timestamp(now))) · refreshes every \(refreshSeconds) s · \
            <a href="/v1/rollouts">JSON</a> · <a href="/metrics">metrics</a> · <a href="/openapi.json">API</a></p>

            """
        if sections.isEmpty {
            html += "<p>No rollouts yet. Submit a plan with <code>POST /v1/rollouts</code>.</p>\n"
        }
        for section in sections {
            html += section
        }
        html += "</body>\n</html>\n"
        return html
    }

    static func section(_ rollout: StoredRollout) -> String {
        let state = rollout.state
        let phase = state.displayPhase.rawValue
        let id = HTMLText.escape(rollout.id)
        var html = "<section class=\"rollout\" id=\"\(id)\">\n"
        html += "<h2><a href=\"/v1/rollouts/\(id)\">\(id)</a> "
        html += "<span class=\"phase phase-\(HTMLText.escape(phase))\">\(HTMLText.escape(phase))</span></h2>\n"
        html += "<p>release \(HTMLText.escape(rollout.plan.release.version)) of \(HTMLText.escape(rollout.plan.release.firmware))"
        html += " · updated \(HTMLText.escape(timestamp(state.updatedAt)))</p>\n"
        if let waitingFor = RolloutText.waiting(state) {
            html += "<p>waiting for: \(shown(waitingFor))</p>\n"
        }
        if let pause = state.pause {
            html += "<p>paused by \(shown(pause.by)): \(shown(RolloutText.pause(pause, phase: state.phase)))</p>\n"
        }
        if let message = RolloutText.note(state) {
            html += "<p class=\"message\">\(shown(message))</p>\n"
        }
        html += "<table>\n<tr><th>stage</th><th>status</th><th>progress</th><th>devices</th>"
        html += "<th>ok</th><th>failed</th><th>timed out</th><th>rejected</th><th>last gate verdict</th></tr>\n"
        for stage in state.stages {
            html += row(stage)
        }
        if let rollback = state.rollback {
            let devices = rollback.devices ?? 0
            let done = rollback.progress.executed
            html += "<tr><td>rollback</td><td>\(rollback.endedAt == nil ? "running" : "done")</td>"
            html += "<td><progress value=\"\(min(done, devices))\" max=\"\(max(devices, 1))\">\(done)/\(devices)</progress></td>"
            html += "<td>\(devices)</td><td>\(rollback.progress.succeeded)</td><td>\(rollback.progress.failed)</td>"
            html += "<td>\(rollback.progress.timedOut)</td><td>\(rollback.progress.rejected)</td>"
            html += "<td>\(shown(RolloutText.rollbackCause(rollback.cause)))</td></tr>\n"
        }
        html += "</table>\n"
        html += measurements(rollout)
        html += "</section>\n"
        return html
    }

    /// The metric gates' measurements of the latest stage that has any: counts, last value or error, the input.
    static func measurements(_ rollout: StoredRollout) -> String {
        let stages = rollout.state.stages
        guard let index = stages.lastIndex(where: { !($0.measurements ?? [:]).isEmpty }) else { return "" }
        let stage = stages[index]
        let gates = rollout.plan.stages.indices.contains(index) ? rollout.plan.gates(for: rollout.plan.stages[index]).metrics : []
        var html = "<table class=\"measurements\">\n<tr><th>metric gate (\(HTMLText.escape(stage.name)))</th><th>provider</th>"
        html += "<th>measured</th><th>failed</th><th>unreadable</th><th>last</th><th>asked</th></tr>\n"
        for gate in gates {
            guard let tally = stage.measurements?[gate.name] else { continue }
            let last = tally.last
            var latest = "–"
            if let value = last?.value {
                latest = "\(GateEvaluator.format(value)) (\(last?.outcome.rawValue ?? ""))"
            } else if let error = last?.error {
                latest = "unreadable: \(error)"
            }
            let name = HTMLText.escape(gate.name) + (gate.isDryRun ? " <span class=\"muted\">(dry run)</span>" : "")
            html += "<tr><td>\(name)</td><td>\(HTMLText.escape(gate.kind.rawValue))</td><td>\(tally.taken)</td>"
            html += "<td>\(tally.failures)</td><td>\(tally.errors)</td>"
            html += "<td class=\"verdict-\(last?.outcome == .failure ? "fail" : "pass")\">\(shown(latest))</td>"
            html += "<td><code>\(shown(last?.input ?? ""))</code></td></tr>\n"
        }
        html += "</table>\n"
        return html
    }

    static func row(_ stage: StageState) -> String {
        let progress = stage.progress
        let devices = stage.devices ?? 0
        let executed = progress.executed
        var html = "<tr><td>\(HTMLText.escape(stage.name))</td><td>\(HTMLText.escape(stage.status.rawValue))</td>"
        html += "<td><progress value=\"\(min(executed, max(devices, 1)))\" max=\"\(max(devices, 1))\">"
        html += "\(executed)/\(devices)</progress></td>"
        html += "<td>\(stage.devices.map(String.init) ?? "–")</td><td>\(progress.succeeded)</td><td>\(progress.failed)</td>"
        html += "<td>\(progress.timedOut)</td><td>\(progress.rejected)</td>"
        if let evaluation = stage.lastEvaluation {
            let verdict = HTMLText.escape(evaluation.verdict.rawValue)
            html += "<td class=\"verdict-\(verdict)\">\(shown(evaluation.summary))</td>"
        } else {
            html += "<td class=\"muted\">–</td>"
        }
        html += "</tr>\n"
        return html
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
