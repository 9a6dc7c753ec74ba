import Engine
import Foundation
import RolloutCore
import RolloutText

/// `rollout preflight`: read-only checks of a plan against the live account before launch, and the projected
/// timeline. Nothing is created, changed or uploaded; every check either passes, warns, blocks, or says it could
/// not be made (and why), so a report never claims what it did not see.
///
/// Checks: the bucket and artifacts; the fleet group, its size and each stage group; the ring set
/// (`<fleet>-ring-NN`); the presigning role; the caller's permissions for every call the rollout makes (IAM
/// `SimulatePrincipalPolicy`); job slots (concurrent and active jobs against the account's quotas); room in the
/// devices' thing groups (10 per thing); the job document's size.
package struct AWSPreflight: Sendable {
    package struct Options: Sendable {
        /// Devices whose groups are read for the membership check (spread evenly over the fleet).
        package var membershipSampleMax: Int
        /// Concurrent reads while sampling.
        package var readConcurrency: Int

        package init(membershipSampleMax: Int = 100, readConcurrency: Int = 8) {
            precondition(membershipSampleMax >= 1 && membershipSampleMax <= 10_000, "sample 1…10000 devices")
            precondition(readConcurrency >= 1 && readConcurrency <= 32, "1…32 concurrent reads")
            self.membershipSampleMax = membershipSampleMax
            self.readConcurrency = readConcurrency
        }
    }

    package let configuration: AWSConfiguration
    package let options: Options
    var fleet: AWSFleet { AWSFleet(configuration: configuration) }
    var quotas: AWSQuotas { configuration.rateBudgets.quotas }

    package init(configuration: AWSConfiguration, options: Options = Options()) {
        self.configuration = configuration
        self.options = options
    }

    /// What the checks learnt that later checks and the timeline need.
    struct Context {
        var plan: RolloutPlan
        var rolloutId: String
        var settings: AWSPlanSettings
        var region: String
        var bucketUsable = true
        var eligible: [String]?
        var groupSizes: [String: Int] = [:]
        var ringCount = 0
        var stages: [LaunchProjection.Stage] = []
        var release: StagedArtifact?
        var rollback: StagedArtifact?
    }

    /// Runs every check of `plan` (as submitted in `planSource`) and projects its timeline from `now`.
    package func run(plan: RolloutPlan, planSource: String, now: Date) async -> PreflightReport {
        guard let settings = plan.aws else {
            return PreflightReport(findings: [PreflightFinding(
                check: "plan", status: .blocked, resource: "plan \(plan.name)",
                summary: "the plan has no `aws:` section, so there is no bucket for firmware and job documents",
                remedy: "add `aws: {bucket: <bucket>}` to the plan")], stages: [])
        }
        var context = Context(plan: plan, rolloutId: RolloutIdentity.rolloutId(planName: plan.name, planSource: planSource),
                              settings: settings, region: settings.region ?? configuration.region)
        var findings: [PreflightFinding] = []
        findings.append(await checkBucket(&context))
        findings += await checkArtifacts(&context)
        findings += await checkFleet(&context)
        let ringFinding = await checkRings(&context)
        context.stages = LaunchProjection.calculate(plan: plan, eligible: context.eligible?.count ?? 0,
                                                    groupSizes: context.groupSizes, ringCount: context.ringCount,
                                                    rates: projectionRates, now: now)
        if let ringFinding {
            findings.append(ringFinding)
        } else if let group = plan.fleet.thingGroup {
            findings.append(assessNoRings(group: group, stages: context.stages))
        }
        findings.append(await checkPresigningRole(context))
        findings.append(await checkPermissions(context))
        findings.append(await checkJobSlots(context))
        findings.append(await checkGroupMembership(context))
        findings += checkJobDocuments(context)
        return PreflightReport(findings: findings, stages: context.stages)
    }

    /// Rates of the timeline: temporary groups fill at the fleet's pacing, never faster than the API budget.
    package var projectionRates: LaunchProjection.Rates {
        let budget = quotas.ratesPerSecond["AddThingToThingGroup"] ?? 100
        let pacing = configuration.groupAddRatePerSecond ?? budget
        return LaunchProjection.Rates(groupFillPerSecond: min(budget, pacing), directTargetsMax: AWSFleet.directTargetsMax,
                                      notificationsPerMinuteMax: AWSQuotas.jobExecutionsPerMinuteMax)
    }

    // MARK: - Fleet

    func checkFleet(_ context: inout Context) async -> [PreflightFinding] {
        let plan = context.plan
        var findings: [PreflightFinding] = []
        let resource = plan.fleet.thingGroup.map { "thing group \($0)" } ?? "things of the account"
        do {
            let inventory = try await fleet.inventory(plan.fleet)
            context.eligible = Array(inventory.deviceIds)
            if inventory.deviceIds.isEmpty {
                findings.append(PreflightFinding(
                    check: "fleet group", status: .blocked, resource: resource,
                    summary: "no eligible device (selector and exclusions applied)",
                    remedy: "add devices to the group, or fix the plan's `fleet` selection"))
            } else {
                var summary = "\(PreflightText.count(inventory.deviceIds.count)) eligible devices"
                if !plan.fleet.selector.isEmpty || !plan.fleet.exclude.isEmpty { summary += " (selector and exclusions applied)" }
                findings.append(PreflightFinding(check: "fleet group", status: .ok, resource: resource, summary: summary))
            }
        } catch FleetError.notFound(let message) {
            findings.append(PreflightFinding(
                check: "fleet group", status: .blocked, resource: resource, summary: "not found (\(message))",
                remedy: plan.fleet.thingGroup.map {
                    "create it (`aws iot create-thing-group --thing-group-name \($0)`) and add the devices, or fix "
                        + "the plan's `fleet.thingGroup`"
                }))
        } catch {
            findings.append(unchecked("fleet group", resource: resource, error: error,
                                      actions: "iot:ListThingsInThingGroup, iot:ListThings"))
        }
        for stage in plan.stages {
            guard case .group(let name) = stage.target, context.groupSizes[name] == nil else { continue }
            do {
                let members = try await fleet.groupMembers(name)
                context.groupSizes[name] = members.count
                findings.append(PreflightFinding(check: "stage group", status: members.isEmpty ? .warning : .ok,
                                                 resource: "thing group \(name)",
                                                 summary: "\(PreflightText.count(members.count)) devices (stage \(stage.name))",
                                                 remedy: members.isEmpty ? "add devices to \(name): an empty stage is skipped" : nil))
            } catch FleetError.notFound {
                findings.append(PreflightFinding(
                    check: "stage group", status: .blocked, resource: "thing group \(name)",
                    summary: "not found (stage \(stage.name) targets it)",
                    remedy: "create it (`aws iot create-thing-group --thing-group-name \(name)`), or fix stage \(stage.name)"))
            } catch {
                findings.append(unchecked("stage group", resource: "thing group \(name)", error: error,
                                          actions: "iot:ListThingsInThingGroup"))
            }
        }
        return findings
    }

    /// `<fleet>-ring-00 … -NN`: counted, their numbering checked, and their members compared with the fleet group's.
    /// Nil when the fleet has no rings (or no fleet group): `assessNoRings` then says what that costs.
    func checkRings(_ context: inout Context) async -> PreflightFinding? {
        guard let group = context.plan.fleet.thingGroup else { return nil }
        let prefix = RingLayout.groupPrefix(fleetGroup: group)
        let resource = AWSPreflight.ringResource(group)
        let iot = configuration.iotClient(region: context.region)
        let rings: [(name: String, number: Int)]
        do {
            rings = try await iot.listThingGroups(namePrefix: prefix).compactMap { name in
                RingLayout.ringIndex(ofGroup: name, fleetGroup: group).map { (name, $0) }
            }.sorted { $0.number < $1.number }
        } catch {
            return unchecked("rings", resource: resource, error: error, actions: "iot:ListThingGroups")
        }
        context.ringCount = rings.count
        guard let first = rings.first, let last = rings.last else { return nil }
        let span = "\(first.name) … \(last.name)"
        let missing = Set(0...last.number).subtracting(rings.map(\.number)).sorted()
        if !missing.isEmpty {
            return PreflightFinding(
                check: "rings", status: .warning, resource: resource,
                summary: "ring set incomplete: \(rings.count) rings (\(span)), missing "
                    + missing.prefix(5).map { prefix + String(format: "%02d", $0) }.joined(separator: ", ")
                    + (missing.count > 5 ? " and \(missing.count - 5) more" : ""),
                remedy: "delete the ring groups of \(group) and run `rollout rings sync --group \(group)` before launch")
        }
        do {
            var ringMembers: Set<String> = []
            for ring in rings { ringMembers.formUnion(try await iot.listThingsInThingGroup(ring.name)) }
            let fleetMembers = Set(try await fleet.groupMembers(group))
            let outside = fleetMembers.subtracting(ringMembers)
            let strangers = ringMembers.subtracting(fleetMembers)
            guard outside.isEmpty && strangers.isEmpty else {
                return PreflightFinding(
                    check: "rings", status: .warning, resource: resource,
                    summary: "stale ring set (\(span)): \(PreflightText.count(outside.count)) devices of \(group) are in no ring"
                        + (outside.min().map { " (e.g. \($0))" } ?? "")
                        + ", \(PreflightText.count(strangers.count)) ring members are no longer in \(group)",
                    remedy: "run `rollout rings sync --group \(group)` before launch (it adds the devices in no ring and "
                        + "removes those that left \(group)); until then rollouts on \(group) wait")
            }
            return PreflightFinding(check: "rings", status: .ok, resource: resource,
                                    summary: "\(rings.count) rings (\(span)) hold the fleet's "
                                        + "\(PreflightText.count(fleetMembers.count)) devices")
        } catch {
            return unchecked("rings", resource: resource, error: error, actions: "iot:ListThingsInThingGroup")
        }
    }

    static func ringResource(_ group: String) -> String { "thing groups \(group)-ring-NN" }

    /// Without rings, what the timeline's stages above 100 devices pay to fill temporary groups.
    func assessNoRings(group: String, stages: [LaunchProjection.Stage]) -> PreflightFinding {
        let rates = projectionRates
        let resource = AWSPreflight.ringResource(group)
        let filled = stages.filter { $0.targeting == .temporaryGroup }
        guard !filled.isEmpty else {
            return PreflightFinding(check: "rings", status: .ok, resource: resource,
                                    summary: "no rings (no stage above \(rates.directTargetsMax) devices needs them)")
        }
        let devices = filled.compactMap(\.devices).reduce(0, +)
        return PreflightFinding(
            check: "rings", status: .ok, resource: resource,
            summary: "no rings (stages above \(rates.directTargetsMax) devices will fill temporary groups at "
                + "\(PreflightText.count(rates.groupFillPerSecond))/s: ~\(PreflightText.duration(Double(devices) / rates.groupFillPerSecond)) "
                + "for \(PreflightText.count(devices)) devices)")
    }

    // MARK: - Job slots

    /// Concurrent and active jobs of the region against the account's quotas: the rollout needs one slot per
    /// stage, two while a rollback job runs beside the cancelled stage job.
    func checkJobSlots(_ context: Context) async -> PreflightFinding {
        let resource = "IoT jobs in \(context.region)"
        let needed = context.plan.onFailure == .rollback ? 2 : 1
        let jobs: [IoTJobSummary]
        do {
            jobs = try await configuration.iotClient(region: context.region).listJobs(status: "IN_PROGRESS")
        } catch {
            return unchecked("job slots", resource: resource, error: error, actions: "iot:ListJobs")
        }
        // Filtered here too: not every endpoint honours the status filter.
        let active = jobs.filter { $0.status == nil || $0.status == "IN_PROGRESS" }
        // A job that does not say whether it is concurrent may still be rolling out: counted as concurrent.
        let concurrent = active.filter { $0.isConcurrent ?? true }.count
        let concurrentFree = quotas.concurrentJobsMax - concurrent
        let activeFree = quotas.activeJobsMax - active.count
        let summary = "\(PreflightText.count(concurrent)) of \(PreflightText.count(quotas.concurrentJobsMax)) concurrent jobs and "
            + "\(PreflightText.count(active.count)) of \(PreflightText.count(quotas.activeJobsMax)) active jobs in use; the rollout "
            + "needs up to \(needed) at once"
        guard min(concurrentFree, activeFree) >= needed else {
            return PreflightFinding(
                check: "job slots", status: .warning, resource: resource,
                summary: summary + ": it will wait for a job slot",
                remedy: "let other jobs finish or cancel them (`aws iot list-jobs --status IN_PROGRESS`), or raise the "
                    + "quota (`aws service-quotas request-service-quota-increase --service-code iot --quota-code "
                    + "L-FBF5CD89 --desired-value N`); if it was raised, pass --aws-quota ConcurrentJobs=N")
        }
        return PreflightFinding(check: "job slots", status: .ok, resource: resource, summary: summary)
    }

    // MARK: - Group membership

    /// A device joins a temporary group for its stage (stages above 100 devices without rings) and another for a
    /// rollback (a rollback set above 100 devices); AWS allows 10 groups per thing. Read for a sample of devices.
    func checkGroupMembership(_ context: Context) async -> PreflightFinding {
        let resource = "thing groups per device"
        let limit = AWSQuotas.thingGroupsPerThingMax
        let eligible = context.eligible ?? []
        let stageGroup = context.stages.contains { $0.targeting == .temporaryGroup } ? 1 : 0
        let rollbackGroup = context.plan.onFailure == .rollback && eligible.count > AWSFleet.directTargetsMax ? 1 : 0
        let needed = stageGroup + rollbackGroup
        guard needed > 0, !eligible.isEmpty else {
            return PreflightFinding(check: "group membership", status: .ok, resource: resource,
                                    summary: "the rollout adds no device to a group")
        }
        let sample = AWSPreflight.spreadSample(eligible, count: options.membershipSampleMax)
        let iot = configuration.iotClient(region: context.region)
        var counts: [(device: String, groups: Int)] = []
        do {
            counts = try await AWSPreflight.forEachBounded(sample, concurrency: options.readConcurrency) { device in
                (device, try await iot.listThingGroupsForThing(device).count)
            }
        } catch {
            return unchecked("group membership", resource: resource, error: error, actions: "iot:ListThingGroupsForThing")
        }
        let crowded = counts.filter { $0.groups + needed > limit }.sorted { $0.device < $1.device }
        let scope = sample.count == eligible.count
            ? "all \(PreflightText.count(sample.count)) devices" : "\(PreflightText.count(sample.count)) of \(PreflightText.count(eligible.count)) devices (sampled)"
        let most = counts.map(\.groups).max() ?? 0
        guard crowded.isEmpty else {
            let example = crowded[0]
            return PreflightFinding(
                check: "group membership", status: .warning, resource: resource,
                summary: "\(crowded.count) of \(scope) have fewer than \(needed) free group slots of \(limit) "
                    + "(e.g. \(example.device) is in \(example.groups)): the stage holding them will wait at "
                    + "AddThingToThingGroup",
                remedy: "remove them from groups they no longer need (`aws iot list-thing-groups-for-thing --thing-name "
                    + "\(example.device)`, then `aws iot remove-thing-from-thing-group --thing-name \(example.device) "
                    + "--thing-group-name <group>`)")
        }
        return PreflightFinding(check: "group membership", status: .ok, resource: resource,
                                summary: "\(scope) read: at most \(most) of \(limit) groups used, \(needed) needed")
    }

    /// Up to `count` items spread evenly over `items` (all of them when there are fewer): deterministic.
    static func spreadSample(_ items: [String], count: Int) -> [String] {
        guard items.count > count else { return items }
        let step = Double(items.count) / Double(count)
        return (0..<count).map { items[min(items.count - 1, Int(Double($0) * step))] }
    }

    /// `work` on every item, at most `concurrency` at once; results in the items' order.
    static func forEachBounded<Result: Sendable>(_ items: [String], concurrency: Int,
                                                 _ work: @escaping @Sendable (String) async throws -> Result)
        async throws -> [Result]
    {
        var results: [Result?] = Array(repeating: nil, count: items.count)
        try await withThrowingTaskGroup(of: (Int, Result).self) { tasks in
            var next = 0
            while next < min(concurrency, items.count) {
                let index = next
                tasks.addTask { (index, try await work(items[index])) }
                next += 1
            }
            while let (index, result) = try await tasks.next() {
                results[index] = result
                if next < items.count {
                    let index = next
                    tasks.addTask { (index, try await work(items[index])) }
                    next += 1
                }
            }
        }
        return results.compactMap { $0 }
    }

    // MARK: - Helpers

    /// A check that could not be made: access denied names the permission it needs; anything else says what failed.
    func unchecked(_ check: String, resource: String, error: Error, actions: String) -> PreflightFinding {
        let text = CredentialRedaction.text("\(error)")
        if AWSPreflight.isAccessDenied(error) {
            return PreflightFinding(check: check, status: .couldNotCheck, resource: resource,
                                    summary: "the caller may not read it (\(text))",
                                    remedy: "grant \(actions) to the caller to run this check")
        }
        return PreflightFinding(check: check, status: .couldNotCheck, resource: resource,
                                summary: "could not be read: \(text)", remedy: "run preflight again; it needs \(actions)")
    }

    static let accessDeniedCodes: Set<String> = ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                                                 "UnauthorizedException", "Forbidden", "AuthorizationError"]

    static func isAccessDenied(_ error: Error) -> Bool {
        switch error {
        case let error as AWSError:
            return error.status == 403 || accessDeniedCodes.contains(error.code)
        case let error as FleetError:
            return accessDeniedCodes.contains { error.description.contains($0 + ":") }
        default:
            return false
        }
    }
}
