import Engine
import Foundation
import RolloutCore
import RolloutText

/// `GET /rollouts/{id}`: one rollout for a person — its stages as stacked bars, what it waits for and until when,
/// the commands it takes now, every verdict with its numbers, its timeline (who did what and why) and its plan.
/// Server-rendered, no script, no external asset; it reloads itself like the overview.
enum RolloutPage {
    static func render(_ detail: RolloutDetail, events: [RolloutEventRecord], refreshSeconds: Int, now: Date) -> String {
        let rollout = detail.rollout
        let state = rollout.state
        let id = HTMLText.escape(rollout.id)
        var html = StatusPage.head(title: "\(id) · rollout", refreshSeconds: refreshSeconds) + """
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
            h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin: 1.2em 0 .3em; }
            .phase { display: inline-block; padding: 0 .5em; border-radius: 4px; background: #eee; font-weight: 600; }
            table { border-collapse: collapse; margin-top: .4em; } td, th { padding: .15em .6em; text-align: left; vertical-align: top; }
            th { font-weight: 600; border-bottom: 1px solid #ddd; } .muted { color: #777; }
            .verdict-fail { color: #b00; } .verdict-pass { color: #070; } pre { background: #f6f6f6; padding: .6em; overflow-x: auto; }
            \(StatusPage.barStyle)
            </style>
            </head>
            <body>
            <form class="token" data-script-only hidden onsubmit="return false"><label>write token \
            <input type="password" id="token" autocomplete="off"></label> <span class="muted">(for the buttons; kept for \
            this browser session only)</span></form>
            <p id="action-result" role="status"></p>
            <main id="live">
            <p><a href="/">← all rollouts</a> · <a href="/v1/rollouts/\(id)">JSON</a> · rendered \(HTMLText.escape(StatusPage.timestamp(now)))</p>
            <h1>\(id) <span class="phase phase-\(state.displayPhase.rawValue)">\(state.displayPhase.rawValue)</span></h1>
            <p>release \(HTMLText.escape(rollout.plan.release.version)) of \(HTMLText.escape(rollout.plan.release.firmware))\
            \(rollout.plan.rollback.map { ", rollback to " + HTMLText.escape($0.version) } ?? "") · fleet \(rollout.fleetKind == "aws" ? "AWS" : "simulated")</p>

            """
        if let waiting = RolloutText.waiting(state) {
            html += "<p class=\"waiting\">waiting for: \(StatusPage.shown(waiting))"
            if let due = state.dueAt { html += " <span class=\"muted\">(until \(HTMLText.escape(StatusPage.timestamp(due))))</span>" }
            html += "</p>\n"
        }
        if let message = RolloutText.note(state) { html += "<p class=\"message\">\(StatusPage.shown(message))</p>\n" }
        html += actions(state, plan: rollout.plan)
        html += "<h2>Stages</h2>\n" + StatusPage.legend
        html += StatusPage.stageTable(rollout)
        html += verdicts(detail.verdicts)
        html += timeline(events)
        html += "<h2>Plan</h2>\n<pre class=\"plan\">\(StatusPage.shown(rollout.planSource))</pre>\n"
        html += "</main>\n" + PageScript.tags(refreshSeconds: refreshSeconds) + "</body>\n</html>\n"
        return html
    }

    /// The commands the rollout takes now (each legal by the state machine's own rule), to copy into a terminal.
    static func actions(_ state: RolloutState, plan: RolloutPlan) -> String {
        guard !state.phase.isTerminal else { return "" }
        let legal = ControlVerb.allCases.filter {
            RolloutStateMachine.rejection(of: $0.event(by: "page", reason: ""), in: state, plan: plan) == nil
        }
        guard !legal.isEmpty else { return "" }
        var html = "<h2>What you can do now</h2>\n<ul class=\"actions\">\n"
        for verb in legal {
            html += "<li><code>rollout \(verb.rawValue) \(HTMLText.escape(state.rolloutId)) --reason "
                + "&quot;…&quot;</code> <button type=\"button\" data-script-only hidden data-verb=\"\(verb.rawValue)\" "
                + "data-rollout=\"\(HTMLText.escape(state.rolloutId))\">\(verb.rawValue)</button></li>\n"
        }
        return html + "</ul>\n"
    }

    /// Every change of a stage's verdict, newest first (at most 50), with each criterion's numbers.
    static func verdicts(_ records: [VerdictRecord]) -> String {
        guard !records.isEmpty else { return "" }
        var html = "<h2>Verdicts</h2>\n<table class=\"verdicts\">\n<tr><th>at</th><th>stage</th><th>verdict</th>"
            + "<th>criteria</th></tr>\n"
        for record in records.suffix(50).reversed() {
            let verdict = record.evaluation.verdict.rawValue
            let criteria = record.evaluation.results.map {
                StatusPage.shown("\($0.gate): \($0.verdict.rawValue)\($0.dryRun == true ? " (dry run)" : "") — \($0.reason)")
            }.joined(separator: "<br>")
            html += "<tr><td>\(HTMLText.escape(StatusPage.timestamp(record.at)))</td><td>\(HTMLText.escape(record.stage))</td>"
                + "<td class=\"verdict-\(verdict)\">\(verdict)</td><td>\(criteria)</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// The event log, newest first (the last 200): when, what, and who and why for what people asked.
    static func timeline(_ events: [RolloutEventRecord]) -> String {
        guard !events.isEmpty else { return "" }
        var html = "<h2>Timeline</h2>\n<table class=\"timeline\">\n<tr><th>#</th><th>at</th><th>event</th><th>who · why</th></tr>\n"
        for record in events.reversed() {
            html += "<tr><td>\(record.sequence)</td><td>\(HTMLText.escape(StatusPage.timestamp(record.at)))</td>"
                + "<td>\(HTMLText.escape(record.event.kind))</td><td>\(StatusPage.shown(whoAndWhy(record.event)))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// `alice · canary metrics reviewed` for the commands people give; empty for the rest.
    static func whoAndWhy(_ event: RolloutEvent) -> String {
        func join(_ by: String, _ reason: String?) -> String {
            [by, reason ?? ""].filter { !$0.isEmpty }.joined(separator: " · ")
        }
        switch event {
        case .approved(let by, let reason), .resumeRequested(let by, let reason), .promoteRequested(let by, let reason, _):
            return join(by, reason)
        case .pauseRequested(let by, let reason), .abortRequested(let by, let reason), .rollbackRequested(let by, let reason):
            return join(by, reason)
        case .deviceExcluded(let thing, _, let cancel, _, let by, let reason):
            return join(by, reason) + " · \(thing)\(cancel ? " (cancel)" : "")"
        case .effectFailed(let effect, let message):
            return "\(effect.key): \(message.prefix(300))"
        default:
            return ""
        }
    }
}
