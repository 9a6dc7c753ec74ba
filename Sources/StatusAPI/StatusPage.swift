import Engine
import Foundation
import RolloutCore
import RolloutText

/// The server-rendered HTML status page (`GET /`): plain HTML that reloads itself every few seconds, or, with
/// script, updates its `#live` part in place (`PageScript`).
/// Free text (messages, reasons, verdict summaries) is shown with credentials masked, then HTML-escaped.
enum StatusPage {
    static let contentType = "text/html; charset=utf-8"

    /// Text from a state or a person, as the page shows it.
    static func shown(_ text: String) -> String {
        HTMLText.escape(CredentialRedaction.text(text))
    }

    static func render(rollouts: [StoredRollout], refreshSeconds: Int, now: Date, filter: RolloutPhase? = nil) -> String {
        render(entries: rollouts.map { Entry(phase: $0.state.displayPhase, section: section($0)) },
               refreshSeconds: refreshSeconds, now: now, filter: filter)
    }

    /// One rollout on the overview: its display phase (where it is pinned) and its `section` (made ahead, so the API
    /// can reuse those of unchanged rollouts).
    struct Entry {
        var phase: RolloutPhase
        var section: String
    }

    /// Where a rollout goes on the overview: what needs a person first, then what runs, then what is over.
    enum Group: Int, CaseIterable {
        case needsPerson, running, finished

        init(_ phase: RolloutPhase) {
            switch phase {
            case .awaitingApproval, .paused, .rollbackIncomplete: self = .needsPerson
            case .completed, .rolledBack, .aborted, .failed: self = .finished
            default: self = .running
            }
        }

        var title: String {
            switch self {
            case .needsPerson: return "Needs a person"
            case .running: return "Running"
            case .finished: return "Finished"
            }
        }
    }

    /// The overview: pinned what needs a person (awaiting approval, paused or inconclusive, rollback incomplete), then
    /// what runs, then what is over (collapsed); `filter` keeps one display phase.
    static func render(entries: [Entry], refreshSeconds: Int, now: Date, filter: RolloutPhase? = nil) -> String {
        let shownEntries = entries.filter { filter == nil || $0.phase == filter }
        var html = head(title: "rollout status", refreshSeconds: refreshSeconds) + """
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
            \(barStyle)
            </style>
            </head>
            <body>
            <h1>rollout status</h1>
            <main id="live">
            <p class="muted">\(shownEntries.count) rollout\(shownEntries.count == 1 ? "" : "s") · \
            rendered \(HTMLText.escape(timestamp(now))) · refreshes every \(refreshSeconds) s · \
            <a href="/v1/rollouts">JSON</a> · <a href="/metrics">metrics</a> · <a href="/openapi.json">API</a></p>

            """
        html += filterLinks(entries, filter: filter)
        if !shownEntries.isEmpty { html += legend }
        if shownEntries.isEmpty {
            html += filter == nil ? "<p>No rollouts yet. Submit a plan with <code>POST /v1/rollouts</code>.</p>\n"
                : "<p>No rollout is \(HTMLText.escape(filter!.rawValue)).</p>\n"
        }
        for group in Group.allCases {
            let members = shownEntries.filter { Group($0.phase) == group }
            guard !members.isEmpty else { continue }
            let body = members.map(\.section).joined()
            if group == .finished && filter == nil {
                html += "<details class=\"group group-finished\"><summary><h2 class=\"group-title\">\(group.title) "
                    + "(\(members.count))</h2></summary>\n\(body)</details>\n"
            } else {
                html += "<div class=\"group group-\(group)\"><h2 class=\"group-title\">\(group.title) (\(members.count))</h2>\n"
                    + body + "</div>\n"
            }
        }
        html += "</main>\n" + PageScript.tags(refreshSeconds: refreshSeconds) + "</body>\n</html>\n"
        return html
    }

    /// The start of every page: self-reloading without script (`<noscript>`), its title (already escaped).
    static func head(title: String, refreshSeconds: Int) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <noscript><meta http-equiv="refresh" content="\(refreshSeconds)"></noscript>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title)</title>

        """
    }

    /// `all · awaitingApproval (2) · baking (1) …`: links that keep one display phase (no script needed).
    static func filterLinks(_ entries: [Entry], filter: RolloutPhase?) -> String {
        let counts = Dictionary(grouping: entries, by: \.phase).mapValues(\.count)
        guard !counts.isEmpty else { return "" }
        var links = [filter == nil ? "<strong>all</strong>" : "<a href=\"/\">all</a>"]
        for phase in RolloutPhase.allCases {
            guard let count = counts[phase] else { continue }
            let label = "\(phase.rawValue) (\(count))"
            links.append(phase == filter ? "<strong>\(label)</strong>" : "<a href=\"/?phase=\(phase.rawValue)\">\(label)</a>")
        }
        return "<p class=\"filter\">show: " + links.joined(separator: " · ") + "</p>\n"
    }

    /// Colours from the Okabe–Ito palette (told apart with every common colour-vision deficiency), and failures
    /// also hatched, so the bar reads in greyscale too.
    static let barStyle = """
        .bar { display: inline-flex; width: 16em; height: 1em; border: 1px solid #999; background: #fff; vertical-align: middle; }
        .bar span { display: block; height: 100%; }
        .seg-succeeded { background: #009E73; } .seg-inProgress { background: #56B4E9; } .seg-queued { background: #DDDDDD; }
        .seg-failed { background: repeating-linear-gradient(45deg, #D55E00 0 4px, #8a3d00 4px 6px); }
        .seg-timedOut { background: repeating-linear-gradient(-45deg, #E69F00 0 4px, #8a6000 4px 6px); }
        .seg-rejected { background: repeating-linear-gradient(90deg, #CC79A7 0 4px, #7a4864 4px 6px); }
        .legend span { display: inline-block; width: .8em; height: .8em; margin: 0 .2em 0 .6em; vertical-align: middle; }
        """

    /// A stage's devices as one bar stacked by outcome (succeeded, failed, timed out, rejected, in progress,
    /// queued), each segment's width its share of the stage, with its count as a tooltip and as text for readers
    /// without styles.
    static func bar(_ progress: JobProgress, devices: Int) -> String {
        let total = max(devices, progress.executed + progress.inProgress + progress.queued, 1)
        let segments: [(String, Int)] = [
            ("succeeded", progress.succeeded), ("failed", progress.failed), ("timedOut", progress.timedOut),
            ("rejected", progress.rejected), ("inProgress", progress.inProgress), ("queued", progress.queued),
        ]
        var html = "<span class=\"bar\" role=\"img\" aria-label=\""
            + segments.filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }.joined(separator: ", ") + " of \(devices)\">"
        for (name, count) in segments where count > 0 {
            let percent = (Double(count) * 100 / Double(total) * 100).rounded() / 100
            html += "<span class=\"seg-\(name)\" style=\"width:\(percent)%\" title=\"\(count) \(name)\"></span>"
        }
        return html + "</span>"
    }

    /// What each colour means.
    static let legend = "<p class=\"legend muted\"><span class=\"seg-succeeded\"></span>succeeded"
        + "<span class=\"seg-failed\"></span>failed<span class=\"seg-timedOut\"></span>timed out"
        + "<span class=\"seg-rejected\"></span>rejected<span class=\"seg-inProgress\"></span>in progress"
        + "<span class=\"seg-queued\"></span>queued</p>\n"

    static func section(_ rollout: StoredRollout) -> String {
        let state = rollout.state
        let phase = state.displayPhase.rawValue
        let id = HTMLText.escape(rollout.id)
        var html = "<section class=\"rollout\" id=\"\(id)\">\n"
        html += "<h3><a href=\"/rollouts/\(id)\">\(id)</a> "
        html += "<span class=\"phase phase-\(HTMLText.escape(phase))\">\(HTMLText.escape(phase))</span></h3>\n"
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
        html += stageTable(rollout)
        html += "</section>\n"
        return html
    }

    /// The stage table (stacked bars, counts, last verdicts, the rollback row) and the metric measurements.
    static func stageTable(_ rollout: StoredRollout) -> String {
        let state = rollout.state
        var html = "<table>\n<tr><th>stage</th><th>status</th><th>progress</th><th>devices</th>"
        html += "<th>ok</th><th>failed</th><th>timed out</th><th>rejected</th><th>last gate verdict</th></tr>\n"
        for stage in state.stages {
            html += row(stage)
        }
        if let rollback = state.rollback {
            let devices = rollback.devices ?? 0
            let done = rollback.progress.executed
            html += "<tr><td>rollback</td><td>\(rollback.endedAt == nil ? "running" : "done")</td>"
            html += "<td>\(bar(rollback.progress, devices: devices)) \(done)/\(devices)</td>"
            html += "<td>\(devices)</td><td>\(rollback.progress.succeeded)</td><td>\(rollback.progress.failed)</td>"
            html += "<td>\(rollback.progress.timedOut)</td><td>\(rollback.progress.rejected)</td>"
            html += "<td>\(shown(RolloutText.rollbackCause(rollback.cause)))</td></tr>\n"
        }
        html += "</table>\n"
        html += measurements(rollout)
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
        html += "<td>\(bar(progress, devices: devices)) \(executed)/\(devices)</td>"
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
