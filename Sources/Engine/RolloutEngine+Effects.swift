import Foundation
import Logging
import RolloutCore
import RolloutText

/// Performing one effect of the outbox on the fleet: what each effect does, and what it needs (cohorts, rings, the
/// rollback set).
extension RolloutEngine {
    struct EffectOutcome {
        var event: RolloutEvent?
        var cohorts: CohortAssignment?
    }

    func perform(_ effect: Effect, runtime: inout Runtime) async throws -> EffectOutcome {
        let plan = runtime.rollout.plan
        let state = runtime.rollout.state
        switch effect {
        case .prepare:
            let (prepared, cohorts) = try await prepare(runtime.rollout)
            return EffectOutcome(event: .prepared(prepared), cohorts: cohorts)
        case .createJob(let index):
            let request = try jobRequest(forStage: index, runtime: &runtime)
            try await fleet.createJob(request)
            counters.withLock { $0.jobsCreated += 1 }
            return EffectOutcome(event: .jobCreated(stage: index))
        case .cancelJob(let stage, let jobId, let reason):
            try await fleet.cancelJob(jobId: jobId, reason: reason, force: plan.job.cancelForce)
            return EffectOutcome(event: stage.map { .jobCancelled(stage: $0) })
        case .createRollbackJob:
            let devices = try await rollbackSet(state: state)
            guard !devices.isEmpty else { return EffectOutcome(event: .rollbackJobCreated(devices: 0)) }
            guard let target = state.rollbackArtifact, let rollback = state.rollback else {
                throw FleetError.permanent("the rollback artifact was not staged")
            }
            let document = JobDocument.forRollback(rolloutId: state.rolloutId, rollback: target,
                                                   releaseVersion: plan.release.version)
            // No abort criteria: a rollback must reach every device it can, however many fail.
            var request = JobRequest(rolloutId: state.rolloutId, jobId: rollback.jobId, stage: "rollback",
                                     targets: .devices(DeviceIdList(devices)), document: document, settings: plan.job,
                                     aws: plan.aws)
            request.templateArn = plan.job.rollbackTemplateArn
            try checkLease(runtime)  // again: listing a large fleet's devices may outlast the lease
            try await fleet.createJob(request)
            counters.withLock { $0.jobsCreated += 1 }
            return EffectOutcome(event: .rollbackJobCreated(devices: devices.count))
        case .listRollbackStragglers(let jobId):
            let others = Set(ExecutionStatus.allCases).subtracting([.succeeded])
            let devices = try await fleet.devices(jobId: jobId, statuses: others)
            return EffectOutcome(event: .rollbackStragglersListed(
                devices: Array(devices.prefix(RollbackState.notRolledBackListedMax)), count: devices.count))
        case .cleanUp(let jobId):
            try await fleet.cleanUp(rolloutId: state.rolloutId, jobId: jobId)
            return EffectOutcome()
        case .cancelExecution(let jobId, let thing, let force):
            try await fleet.cancelExecution(jobId: jobId, thing: thing, force: force)
            return EffectOutcome()
        case .notify(let notification):
            try await notifier.send(notification, to: plan.notifications)
            return EffectOutcome()
        }
    }

    /// Stages artifacts, reads the inventory and splits it into stages.
    func prepare(_ rollout: StoredRollout) async throws -> (PreparedRollout, CohortAssignment) {
        let plan = rollout.plan
        let release = try await fleet.stageArtifact(ArtifactRequest(
            rolloutId: rollout.id, firmware: plan.release.firmware, version: plan.release.version,
            location: plan.release.artifact, signingKeyPath: plan.release.signingKeyPath, aws: plan.aws))
        var rollbackArtifact: StagedArtifact?
        if let rollback = plan.rollback {
            rollbackArtifact = try await fleet.stageArtifact(ArtifactRequest(
                rolloutId: rollout.id, firmware: plan.release.firmware, version: rollback.version,
                location: rollback.artifact, signingKeyPath: plan.release.signingKeyPath, aws: plan.aws))
        }
        var inventory = try await fleet.inventory(plan.fleet)
        // Devices people took out before the rollout assigned its devices are left out of every stage.
        let takenOut = Set((rollout.state.exclusions ?? []).filter { $0.stage == nil }.map(\.thing))
        if !takenOut.isEmpty {
            inventory.deviceIds = DeviceIdList(inventory.deviceIds.filter { !takenOut.contains($0) })
        }
        var groups: [String: [String]] = [:]
        for stage in plan.stages {
            if case .group(let name) = stage.target, groups[name] == nil {
                groups[name] = try await fleet.groupMembers(name)
            }
        }
        let rings = try await usableRings(plan.fleet, eligible: inventory.deviceIds)
        let cohorts: CohortAssignment
        var stageRingGroups: [[String]]?
        do {
            if let rings {
                let split = try CohortPlanner.assignRings(rolloutId: rollout.id, eligible: inventory.deviceIds,
                                                          stages: plan.stages, groupMembers: groups, rings: rings)
                cohorts = split.assignment
                stageRingGroups = split.stageRings.map { $0.map { rings.groupNames[$0] } }
            } else {
                cohorts = try CohortPlanner.assign(rolloutId: rollout.id, eligible: inventory.deviceIds,
                                                   stages: plan.stages, groupMembers: groups)
            }
        } catch {
            throw FleetError.permanent(error.message)
        }
        var baseline: OutcomeBaseline?
        if OutcomeBaseline.isWanted(by: plan) {
            // Bounded: the newest 1,000 finished rollouts are history enough.
            let history = try store.rollouts(phases: Set(RolloutPhase.allCases.filter(\.isTerminal)), limit: 1_000)
            baseline = OutcomeBaseline.from(history: history.map { ($0.plan, $0.state) }, for: plan, excluding: rollout.id)
        } else if let metric = OutcomeBaseline.metric(of: plan), let version = plan.rollback?.version {
            // Read once, here: the reading is a fact of the prepared rollout, so a replay judges identically. An
            // unreadable rate leaves the gate on failedMaxPercent alone (stricter, never looser).
            let values = MetricQueryTemplate.Values(stage: plan.stages.first?.name ?? "", rolloutId: rollout.id,
                                                    version: version)
            let reading = await metricSource.read(metric, values: values)
            baseline = OutcomeBaseline.measured(version: version, reading: reading)
        }
        let prepared = PreparedRollout(eligibleDevices: cohorts.eligibleCount, stageSizes: cohorts.stageSizes,
                                       release: release, rollback: rollbackArtifact, stageRingGroups: stageRingGroups,
                                       baseline: baseline)
        return (prepared, cohorts)
    }

    /// The fleet's ring set when the plan may use it (`FleetSelection.mayUseRings`) and the fleet has one; a ring
    /// set out of step with the fleet makes the rollout wait, naming what to run: one that misses eligible devices
    /// (grown since the last sync: a ring stage would never reach them), or one that still holds devices that left
    /// the fleet (a ring stage would reach them).
    func usableRings(_ selection: FleetSelection, eligible: DeviceIdList) async throws -> RingMembership? {
        guard selection.mayUseRings, let group = selection.thingGroup,
              let rings = try await fleet.ringMembership(fleetGroup: group) else { return nil }
        let outside = rings.devicesOutsideRings(eligible)
        let departed = rings.membersOutsideFleet(eligible)
        guard outside.isEmpty && departed.isEmpty else {
            let detail = outside.isEmpty
                ? "\(departed.count) devices in the rings of \(group) are no longer in \(group) and would be reached by "
                    + "a ring's job (e.g. \(departed.prefix(3).joined(separator: ", ")))"
                : "\(outside.count) of \(eligible.count) devices of \(group) are in no ring "
                    + "(e.g. \(outside.sorted().prefix(3).joined(separator: ", ")))"
            throw FleetError.capacity(FleetCapacityWait(
                resource: .rings(fleetGroup: group), detail: detail,
                remedy: "run `rollout rings sync --group \(group)` (or set fleet.targeting: groups)"))
        }
        return rings
    }

    func jobRequest(forStage index: Int, runtime: inout Runtime) throws -> JobRequest {
        let rollout = runtime.rollout
        let plan = rollout.plan
        let state = rollout.state
        if runtime.cohorts == nil {
            runtime.cohorts = try store.cohorts(rolloutId: rollout.id)
        }
        guard let cohorts = runtime.cohorts, let release = state.release else {
            throw FleetError.permanent("cohorts or release artifact missing for \(state.stages[index].name)")
        }
        let spec = plan.stages[index]
        var devices = cohorts.devices(ofStage: index)
        // Devices taken out before the stage started are left out of its job (those taken out later are in it: a
        // retried CreateJob must ask for the same job).
        // (`stage == nil`: taken out before devices were assigned; the preparation left them out already, and this set
        // is fixed from then on.)
        let takenOut = Set((state.exclusions ?? []).filter { ($0.stage == spec.name || $0.stage == nil) && !$0.inJob }
            .map(\.thing))
        if !takenOut.isEmpty { devices = DeviceIdList(devices.filter { !takenOut.contains($0) }) }
        // A ring stage targets its ring groups (O(1) calls however large); any other stage its assigned devices,
        // also a group stage: the group may hold devices outside the fleet or excluded by the plan.
        let targets = state.stages[index].ringGroups.map { JobTargets.groups($0) } ?? JobTargets.devices(devices)
        let document = JobDocument.forStage(rolloutId: rollout.id, stage: spec.name, release: release,
                                            previousVersion: plan.rollback?.version, rollback: state.rollbackArtifact)
        var request = JobRequest(rolloutId: rollout.id, jobId: state.stages[index].jobId, stage: spec.name, targets: targets,
                                 document: document, settings: plan.job, aws: plan.aws,
                                 abortCriteria: JobAbortCriterion.derived(from: plan.gates(for: spec).jobOutcomes))
        request.templateArn = plan.job.templateArn
        return request
    }

    /// The rollback job's devices: read from the fleet by the first attempt and kept in the store, so a retry after
    /// a lost CreateJob answer asks for the very job the first attempt made (the adoption then matches).
    func rollbackSet(state: RolloutState) async throws -> [String] {
        if let kept = try store.rollbackSet(rolloutId: state.rolloutId) { return kept }
        return try store.keepRollbackSet(rolloutId: state.rolloutId, devices: try await rollbackDevices(state: state))
    }

    /// Every device that may hold the new firmware, in any stage, sorted: see `Fleet.devicesThatMayHoldFirmware`.
    func rollbackDevices(state: RolloutState) async throws -> [String] {
        var devices = Set<String>()
        // Every stage that started may have a job (its creation may have happened just before a crash).
        for stage in state.stages where stage.startedAt != nil {
            do {
                let found = try await fleet.devicesThatMayHoldFirmware(jobId: stage.jobId)
                devices.formUnion(found)
            } catch FleetError.notFound {
                continue  // the job was never created (crash before creation, then cancelled)
            }
        }
        return devices.sorted()
    }
}
