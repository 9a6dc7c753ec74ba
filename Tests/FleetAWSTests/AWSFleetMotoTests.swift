import Engine
import Foundation
@testable import HTTPTransport
import RolloutCore
import Testing

@testable import FleetAWS

@Suite("AWSFleet against moto + device layer")
struct AWSFleetMotoTests {
    struct Setup {
        var moto: MotoServer
        var fleet: AWSFleet
        var iot: IoTClient
        var recorder: RecordingTransport
        var bucket: String
        var settings: AWSPlanSettings
        var prefix: String
    }

    /// A bucket, `count` things named `<prefix>-NNNN`, and a fleet whose calls are recorded.
    static func setUp(_ tag: String, things count: Int) async throws -> Setup {
        let moto = try await MotoServer.ready()
        let recorder = RecordingTransport(MotoServer.sharedTransport)
        let configuration = try moto.configuration(transport: recorder)
        let fleet = AWSFleet(configuration: configuration)
        let prefix = UniqueName.make(tag)
        let bucket = prefix
        try await configuration.s3Client().createBucket(bucket)
        let iot = configuration.iotClient()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<count {
                tasks.addTask {
                    try await iot.createThing(thingName(prefix, index),
                                              attributes: ["rev": index % 2 == 0 ? "A" : "B"])
                }
                if index % 8 == 7 { try await tasks.next() }
            }
            try await tasks.waitForAll()
        }
        return Setup(moto: moto, fleet: fleet, iot: iot, recorder: recorder, bucket: bucket,
                     settings: AWSPlanSettings(bucket: bucket), prefix: prefix)
    }

    static func thingName(_ prefix: String, _ index: Int) -> String {
        "\(prefix)-\(String(format: "%04d", index))"
    }

    static func document(_ rolloutId: String, stage: String, version: String = "2.0.0") -> JobDocument {
        JobDocument(version: version, previousVersion: "1.0.0",
                    firmwareUrl: "https://s3.us-east-1.amazonaws.com/b/firmware/x.bin", checksum: String(repeating: "a", count: 64),
                    size: 1234, signature: nil, rolloutId: rolloutId, stage: stage)
    }

    static func jobRequest(_ setup: Setup, jobId: String, targets: JobTargets, version: String = "2.0.0") -> JobRequest {
        JobRequest(rolloutId: setup.prefix, jobId: jobId, stage: "canary", targets: targets,
                   document: document(setup.prefix, stage: "canary", version: version),
                   settings: JobSettings(inProgressTimeoutSeconds: 600, maxPerMinute: 50, retriesOnFailure: 1),
                   aws: setup.settings)
    }

    @Test("stageArtifact uploads once to the content-addressed key, then skips; signature verifies")
    func stageArtifact() async throws {
        let setup = try await Self.setUp("stage", things: 0)
        let data = Data.pseudoRandom(count: 3 * 1024 * 1024, seed: 7)
        let path = try TemporaryFile.make(suffix: ".bin", contents: data)
        let keyPair = try FirmwareSigning.generateKeyPair()
        let keyPath = try TemporaryFile.make(suffix: ".pem", contents: keyPair.privateKeyPEM)
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: keyPath)
        }
        let request = ArtifactRequest(rolloutId: setup.prefix, firmware: "sensor-fw", version: "2.0.0",
                                      location: .file(path: path), signingKeyPath: keyPath, aws: setup.settings)
        let staged = try await setup.fleet.stageArtifact(request)
        let digest = SHA256Digest.hash(data).lowercaseHex
        #expect(staged.sha256Hex == digest)
        #expect(staged.sizeBytes == Int64(data.count))
        #expect(staged.key == "firmware/sensor-fw/2.0.0/\(digest).bin")
        #expect(staged.bucket == setup.bucket)
        #expect(staged.url == "https://s3.us-east-1.amazonaws.com/\(setup.bucket)/firmware/sensor-fw/2.0.0/\(digest).bin")
        let signature = try #require(staged.signatureBase64.flatMap { Data(base64Encoded: $0) })
        #expect(try FirmwareSigning.verify(filePath: path, signature: signature, publicKeyPEM: keyPair.publicKeyPEM))
        #expect(setup.recorder.count("PUT", pathContains: "/firmware/") == 1)

        let head = try await setup.moto.boto3("s3", "head_object", ["Bucket": setup.bucket, "Key": staged.key!])
        #expect(head["ContentLength"] as? Int == data.count)
        #expect((head["Metadata"] as? [String: String])?["sha256"] == digest)

        let again = try await setup.fleet.stageArtifact(request)
        #expect(again.sha256Hex == digest && again.key == staged.key)
        #expect(setup.recorder.count("PUT", pathContains: "/firmware/") == 1, "second staging must not upload")

        // An s3:// artifact is used in place; with a presigning role the URL is the IoT placeholder.
        var inPlace = request
        inPlace.location = .s3(bucket: setup.bucket, key: staged.key!)
        inPlace.signingKeyPath = nil
        inPlace.aws?.presignedUrlRoleArn = "arn:aws:iam::123456789012:role/presign"
        let used = try await setup.fleet.stageArtifact(inPlace)
        #expect(used.sha256Hex == digest && used.sizeBytes == Int64(data.count))
        #expect(used.url == "${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/\(setup.bucket)/\(staged.key!)}")

        // Without a stored digest the object is read (ranged) and hashed.
        _ = try await setup.moto.boto3("s3", "put_object", ["Bucket": setup.bucket, "Key": "raw/plain.bin", "Body": "plain bytes"])
        inPlace.location = .s3(bucket: setup.bucket, key: "raw/plain.bin")
        let hashed = try await setup.fleet.stageArtifact(inPlace)
        #expect(hashed.sha256Hex == SHA256Digest.hash("plain bytes").lowercaseHex)

        inPlace.location = .s3(bucket: setup.bucket, key: "raw/missing.bin")
        await #expect(throws: FleetError.notFound("s3://\(setup.bucket)/raw/missing.bin")) {
            try await setup.fleet.stageArtifact(inPlace)
        }
    }

    @Test("the job document goes to AWS in the plan's shape: nrf-fota, a template; the same bytes adopt the job")
    func documentShapes() async throws {
        let setup = try await Self.setUp("shape", things: 2)
        let devices = (0..<2).map { Self.thingName(setup.prefix, $0) }
        var nrf = Self.jobRequest(setup, jobId: "\(setup.prefix)-nrf", targets: .devices(DeviceIdList(devices)))
        nrf.settings.document = .nrfFOTA
        try await setup.fleet.createJob(nrf)
        let nrfAnswer = try await setup.moto.boto3("iot", "get_job_document", ["jobId": nrf.jobId])
        let nrfDocument = try #require(try JSONSerialization.jsonObject(
            with: Data((nrfAnswer["document"] as? String ?? "").utf8)) as? [String: Any])
        #expect(nrfDocument["operation"] as? String == "app_fw_update")
        #expect(nrfDocument["fwversion"] as? String == nrf.document.version)
        try await setup.fleet.createJob(nrf)  // adopted: the same bytes

        var templated = Self.jobRequest(setup, jobId: "\(setup.prefix)-tpl", targets: .devices(DeviceIdList(devices)))
        templated.settings.document = .template(path: "doc.json",
                                                text: #"{"cmd": "flash", "image": "${firmware.url}", "n": ${firmware.size}}"#)
        try await setup.fleet.createJob(templated)
        let templatedAnswer = try await setup.moto.boto3("iot", "get_job_document", ["jobId": templated.jobId])
        #expect(templatedAnswer["document"] as? String
                == #"{"cmd": "flash", "image": "\#(templated.document.firmwareUrl)", "n": \#(templated.document.size)}"#)
        // The same job asked for in another shape is another document: a conflict, never a silent adoption.
        var reshaped = templated
        reshaped.settings.document = .awsOTA
        await #expect(throws: FleetError.self) { try await setup.fleet.createJob(reshaped) }
    }

    @Test("a job from a job template: created with jobTemplateArn and the plan's settings, no copy of ours, adopted again")
    func fromJobTemplate() async throws {
        let setup = try await Self.setUp("tpl", things: 2)
        let devices = (0..<2).map { Self.thingName(setup.prefix, $0) }
        let templateDocument = #"{"operation": "vendor-ota", "image": "fw-2.0.0.bin"}"#
        let created = try await setup.moto.boto3("iot", "create_job_template", [
            "jobTemplateId": "\(setup.prefix)-ota", "document": templateDocument, "description": "vendor OTA",
        ])
        let templateArn = try #require(created["jobTemplateArn"] as? String)
        var request = Self.jobRequest(setup, jobId: "\(setup.prefix)-canary", targets: .devices(DeviceIdList(devices)))
        request.templateArn = templateArn
        try await setup.fleet.createJob(request)
        let answer = try await setup.moto.boto3("iot", "get_job_document", ["jobId": request.jobId])
        #expect(answer["document"] as? String == templateDocument)
        let described = try await setup.moto.boto3("iot", "describe_job", ["jobId": request.jobId])
        #expect(((described["job"] as? [String: Any])?["timeoutConfig"] as? [String: Int])?["inProgressTimeoutInMinutes"] == 10,
                "the plan's settings go with the template")
        let listed = try await setup.moto.boto3("s3", "list_objects_v2", ["Bucket": setup.bucket])
        #expect(!((listed["Contents"] as? [[String: Any]]) ?? []).contains { ($0["Key"] as? String)?.hasPrefix("jobs/") == true },
                "no document of ours, so no copy")
        try await setup.fleet.createJob(request)  // a retry after a lost answer: adopted
        #expect(setup.recorder.calls.filter { $0.method == "PUT" && $0.path == "/jobs/\(request.jobId)" }.count == 1)
        request.templateArn = nil  // the same job id with a document of ours instead: not the same job
        await #expect(throws: FleetError.self) { try await setup.fleet.createJob(request) }
    }

    @Test("one device's execution: described, a queued one cancelled, an installing one only with force, repeats harmless")
    func singleExecutions() async throws {
        let setup = try await Self.setUp("exec", things: 3)
        let devices = (0..<3).map { Self.thingName(setup.prefix, $0) }
        let jobId = "\(setup.prefix)-canary"
        try await setup.fleet.createJob(Self.jobRequest(setup, jobId: jobId, targets: .devices(DeviceIdList(devices))))
        let queued = try #require(try await setup.fleet.execution(jobId: jobId, thing: devices[0]))
        #expect(queued.status == .queued && queued.jobId == jobId && queued.queuedAt != nil)
        #expect(try await setup.fleet.execution(jobId: jobId, thing: "\(setup.prefix)-stranger") == nil)
        #expect(try await setup.fleet.execution(jobId: "\(setup.prefix)-no-such-job", thing: devices[0]) == nil)

        try await setup.fleet.cancelExecution(jobId: jobId, thing: devices[0], force: false)
        #expect(try await setup.fleet.execution(jobId: jobId, thing: devices[0])?.status == .canceled)
        try await setup.fleet.cancelExecution(jobId: jobId, thing: devices[0], force: false)  // a repeat after a lost answer

        try await setup.moto.control("outcomes", ["jobId": jobId, "rules": [["match": "-0001$", "status": "IN_PROGRESS"]],
                                                  "default": NSNull()])
        try await setup.fleet.cancelExecution(jobId: jobId, thing: devices[1], force: false)
        #expect(try await setup.fleet.execution(jobId: jobId, thing: devices[1])?.status == .inProgress,
                "without force an installing device goes on")
        try await setup.fleet.cancelExecution(jobId: jobId, thing: devices[1], force: true)
        #expect(try await setup.fleet.execution(jobId: jobId, thing: devices[1])?.status == .canceled)
        #expect(try await setup.fleet.execution(jobId: jobId, thing: devices[2])?.status == .queued, "the others untouched")
    }

    @Test("purge deletes an ended rollout's jobs (force only for one in progress) and job documents, keeps firmware")
    func purge() async throws {
        let setup = try await Self.setUp("purge", things: 2)
        let devices = (0..<2).map { Self.thingName(setup.prefix, $0) }
        let jobIds = ["\(setup.prefix)-canary", "\(setup.prefix)-wave-1"]
        for jobId in jobIds {
            try await setup.fleet.createJob(Self.jobRequest(setup, jobId: jobId, targets: .devices(DeviceIdList(devices))))
        }
        _ = try await setup.moto.boto3("s3", "put_object", ["Bucket": setup.bucket, "Key": "firmware/fw/2.1.0/abc.bin",
                                                            "Body": "image"])
        try await setup.moto.control("outcomes", ["jobId": jobIds[0], "default": "SUCCEEDED"])
        let aws = Self.jobRequest(setup, jobId: jobIds[0], targets: .devices([])).aws
        #expect(try await setup.fleet.existingJobs(jobIds + ["\(setup.prefix)-rollback"], aws: aws) == jobIds)

        #expect(try await setup.fleet.purgeJobs(rolloutId: setup.prefix, jobIds: jobIds, aws: aws) == false,
                "deletion asked; AWS deletes asynchronously, so the next call confirms")
        let deletes = setup.recorder.calls.filter { $0.method == "DELETE" && $0.path.hasPrefix("/jobs/") }
        #expect(deletes.count == 2)
        #expect(deletes.first { $0.path.hasSuffix("wave-1") }?.query.contains("force=true") == true,
                "the second job is still in progress: only force deletes it")
        #expect(deletes.first { $0.path.hasSuffix("canary") }?.query.contains("force=true") == false)
        #expect(try await setup.fleet.purgeJobs(rolloutId: setup.prefix, jobIds: jobIds, aws: aws) == true)
        #expect(try await setup.fleet.existingJobs(jobIds, aws: aws).isEmpty)
        let listed = try await setup.moto.boto3("s3", "list_objects_v2", ["Bucket": setup.bucket])
        let keys = (listed["Contents"] as? [[String: Any]] ?? []).compactMap { $0["Key"] as? String }
        #expect(!keys.contains { $0.hasPrefix("jobs/") }, "\(keys)")
        #expect(keys.contains("firmware/fw/2.1.0/abc.bin"), "firmware is kept")
        #expect(try await setup.fleet.purgeJobs(rolloutId: setup.prefix, jobIds: jobIds, aws: aws) == true, "again: harmless")
    }

    @Test("createJob targets thing ARNs, adopts a matching job, refuses a differing one")
    func createJobIdempotent() async throws {
        let setup = try await Self.setUp("job", things: 5)
        let devices = (0..<5).map { Self.thingName(setup.prefix, $0) }
        let jobId = "\(setup.prefix)-canary"
        let request = Self.jobRequest(setup, jobId: jobId, targets: .devices(DeviceIdList(devices)))
        try await setup.fleet.createJob(request)

        let described = try await setup.moto.boto3("iot", "describe_job", ["jobId": jobId])
        let job = try #require(described["job"] as? [String: Any])
        let targets = try #require(job["targets"] as? [String])
        #expect(Set(targets.map { IoTClient.thingName(fromArn: $0) }) == Set(devices))
        #expect(targets.allSatisfy { $0.hasPrefix("arn:aws:iot:us-east-1:123456789012:thing/") })
        #expect(job["targetSelection"] as? String == "SNAPSHOT")
        #expect((job["timeoutConfig"] as? [String: Int])?["inProgressTimeoutInMinutes"] == 10)
        #expect((job["jobExecutionsRolloutConfig"] as? [String: Int])?["maximumPerMinute"] == 50)
        let documentAnswer = try await setup.moto.boto3("iot", "get_job_document", ["jobId": jobId])
        let sent = try AWSFleet.encodeDocument(request.document, shape: request.settings.document)
        #expect(documentAnswer["document"] as? String == String(decoding: sent, as: UTF8.self))
        let stored = try await setup.moto.boto3("s3", "get_object", ["Bucket": setup.bucket, "Key": "jobs/\(jobId).json"],
                                                readBody: true)
        #expect(stored["BodyBase64"] as? String == sent.base64EncodedString())

        // Same request again (a crash-and-retry): adopted, no second CreateJob.
        try await setup.fleet.createJob(request)
        #expect(setup.recorder.calls.filter { $0.method == "PUT" && $0.path == "/jobs/\(jobId)" }.count == 1)

        // Another document or other targets under the same id: conflict.
        await #expect(throws: FleetError.self) {
            try await setup.fleet.createJob(Self.jobRequest(setup, jobId: jobId, targets: .devices(DeviceIdList(devices)), version: "9.9.9"))
        }
        do {
            try await setup.fleet.createJob(Self.jobRequest(setup, jobId: jobId, targets: .devices(DeviceIdList(devices.prefix(2)))))
            Issue.record("expected a conflict")
        } catch let error as FleetError {
            guard case .conflict = error else { Issue.record("expected conflict, got \(error)"); return }
        }
    }

    @Test("a 409 from CreateJob (AWS behaviour) is resolved by describing and adopting")
    func conflictAnswerAdopts() async throws {
        let setup = try await Self.setUp("race", things: 2)
        let devices = (0..<2).map { Self.thingName(setup.prefix, $0) }
        let jobId = "\(setup.prefix)-wave-1"
        let request = Self.jobRequest(setup, jobId: jobId, targets: .devices(DeviceIdList(devices)))
        try await setup.fleet.createJob(request)
        // The device layer answers 409 to a duplicate id: drive CreateJob directly past the DescribeJob check.
        do {
            try await setup.iot.createJob(jobId, IoTCreateJobRequest(targets: ["arn:x"], document: "{}"))
            Issue.record("expected 409")
        } catch let error as AWSError {
            #expect(error.code == "ResourceAlreadyExistsException")
            #expect(error.status == 409)
            #expect(FleetErrorMapping.map(error, context: "job") == .conflict("job: ResourceAlreadyExistsException: Job \(jobId) already exists"))
        }
    }

    @Test("more than 100 devices go through a temporary group: resumable, expanded, cleaned up")
    func temporaryGroup() async throws {
        let setup = try await Self.setUp("big", things: 130)
        let devices = (0..<130).map { Self.thingName(setup.prefix, $0) }
        let jobId = "\(setup.prefix)-wave-2"
        let group = AWSFleet.temporaryGroupName(jobId: jobId)

        // A previous run crashed after creating the group and adding 40 devices.
        try await setup.iot.createThingGroup(group)
        for device in devices.prefix(40) {
            try await setup.iot.addThingToThingGroup(thing: device, group: group)
        }
        let addsBefore = setup.recorder.count("PUT", pathContains: "addThingToThingGroup", succeeded: true)
        try await setup.fleet.createJob(Self.jobRequest(setup, jobId: jobId, targets: .devices(DeviceIdList(devices))))
        #expect(setup.recorder.count("PUT", pathContains: "addThingToThingGroup", succeeded: true) - addsBefore == 90,
                "only the 90 missing devices are added")

        let members = try await setup.moto.boto3("iot", "list_things_in_thing_group", ["thingGroupName": group])
        #expect(Set(members["things"] as? [String] ?? []) == Set(devices))
        let job = try #require(try await setup.moto.boto3("iot", "describe_job", ["jobId": jobId])["job"] as? [String: Any])
        let targets = job["targets"] as? [String] ?? []
        #expect(targets.count == 1 && targets[0].hasSuffix(":thinggroup/\(group)"))

        // Executions per member (device layer), paginated listing, progress from jobProcessDetails.
        var progress = try await setup.fleet.jobProgress(jobId: jobId)
        #expect(progress.queued == 130 && !progress.jobDone)
        try await setup.moto.control("outcomes", ["jobId": jobId, "rules": [["match": "-00[0-1][0-9]$", "status": "FAILED"]],
                                                  "default": "SUCCEEDED", "limit": 120])
        progress = try await setup.fleet.jobProgress(jobId: jobId)
        #expect(progress.failed == 20 && progress.succeeded == 100 && progress.queued == 10)
        #expect(!progress.jobDone)
        let failed = try await setup.fleet.devices(jobId: jobId, statuses: [.failed])
        #expect(failed == Array(devices.prefix(20)))
        let touched = try await setup.fleet.devices(jobId: jobId, statuses: [.succeeded, .failed])
        #expect(touched.count == 120)
        #expect(setup.recorder.count("GET", pathContains: "/jobs/\(jobId)/things") >= 3, "ListJobExecutionsForJob pages")

        try await setup.moto.control("outcomes", ["jobId": jobId, "default": "SUCCEEDED"])
        progress = try await setup.fleet.jobProgress(jobId: jobId)
        #expect(progress.jobDone && progress.succeeded == 110)

        // Group members are read page by page.
        var paged = setup.iot
        paged.pageSize = 25
        #expect(try await paged.listThingsInThingGroup(group).count == 130)
        #expect(try await setup.fleet.groupMembers(group) == devices)

        try await setup.fleet.cleanUp(rolloutId: setup.prefix, jobId: jobId)
        try await setup.fleet.cleanUp(rolloutId: setup.prefix, jobId: jobId)
        let gone = try await setup.moto.boto3("iot", "describe_thing_group", ["thingGroupName": group])
        #expect((gone["error"] as? [String: Any])?["Code"] as? String == "ResourceNotFoundException")
    }

    @Test("an existing thing group is targeted by its ARN; inventory applies group, selector and exclusions")
    func groupTargetAndInventory() async throws {
        let setup = try await Self.setUp("grp", things: 6)
        let group = "\(setup.prefix)-fleet"
        try await setup.iot.createThingGroup(group)
        let devices = (0..<6).map { Self.thingName(setup.prefix, $0) }
        for device in devices.prefix(4) {
            try await setup.iot.addThingToThingGroup(thing: device, group: group)
        }
        let inventory = try await setup.fleet.inventory(FleetSelection(thingGroup: group, selector: ["rev": ["A"]],
                                                                       exclude: [devices[2]]))
        #expect(inventory.deviceIds == [devices[0]])
        let everyRevB = try await setup.fleet.inventory(FleetSelection(selector: ["rev": ["B"]]))
        #expect(Set(devices.indices.filter { $0 % 2 == 1 }.map { devices[$0] }).isSubset(of: Set(everyRevB.deviceIds)))

        let jobId = "\(setup.prefix)-canary"
        try await setup.fleet.createJob(Self.jobRequest(setup, jobId: jobId, targets: .group(group)))
        let progress = try await setup.fleet.jobProgress(jobId: jobId)
        #expect(progress.queued == 4)
    }

    @Test("cancelJob cancels pending executions and is idempotent")
    func cancel() async throws {
        let setup = try await Self.setUp("cancel", things: 4)
        let devices = (0..<4).map { Self.thingName(setup.prefix, $0) }
        let jobId = "\(setup.prefix)-canary"
        try await setup.fleet.createJob(Self.jobRequest(setup, jobId: jobId, targets: .devices(DeviceIdList(devices))))
        try await setup.moto.control("outcomes", ["jobId": jobId, "default": "SUCCEEDED", "limit": 1])
        try await setup.fleet.cancelJob(jobId: jobId, reason: "failure rate 30% above 5% on canary", force: false)
        let job = try #require(try await setup.moto.boto3("iot", "describe_job", ["jobId": jobId])["job"] as? [String: Any])
        #expect(job["status"] as? String == "CANCELED")
        #expect(job["reasonCode"] as? String == "ROLLOUT_GATE_FAILED")
        #expect(job["comment"] as? String == "failure rate 30% above 5% on canary")
        let progress = try await setup.fleet.jobProgress(jobId: jobId)
        #expect(progress.canceled == 3 && progress.succeeded == 1 && progress.jobDone)
        let before = setup.recorder.count("PUT", pathContains: "/cancel")
        try await setup.fleet.cancelJob(jobId: jobId, reason: "AGAIN", force: true)
        #expect(setup.recorder.count("PUT", pathContains: "/cancel") == before)
        await #expect(throws: FleetError.self) {
            try await setup.fleet.cancelJob(jobId: "\(setup.prefix)-nope", reason: "x", force: false)
        }
    }

    @Test("a 30% throttling and 5xx storm is survived with bounded retries")
    func throttlingStorm() async throws {
        let moto = try await MotoServer.ready()
        let sleeps = SleepRecorder()
        let recorder = RecordingTransport(MotoServer.sharedTransport)
        let retry = RetryPolicy(maxAttempts: 10, baseDelaySeconds: 0.05, maxDelaySeconds: 2,
                                random: SeededRandom(seed: 99), sleep: sleeps.sleep)
        let configuration = try moto.configuration(retry: retry, transport: recorder)
        let fleet = AWSFleet(configuration: configuration)
        let prefix = UniqueName.make("storm")
        let iot = configuration.iotClient()
        let s3 = configuration.s3Client()
        try await s3.createBucket(prefix)
        let devices = (0..<6).map { "\(prefix)-\($0)" }
        for device in devices { try await iot.createThing(device) }

        try await moto.control("faults", ["name": prefix, "rules": [["match": prefix, "share": 0.3, "kind": "mixed", "seed": 5]]])
        do {
            let path = try TemporaryFile.make(contents: Data("storm firmware".utf8))
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = try await fleet.stageArtifact(ArtifactRequest(rolloutId: prefix, firmware: "fw", version: "1",
                                                              location: .file(path: path), aws: AWSPlanSettings(bucket: prefix)))
            let jobId = "\(prefix)-canary"
            try await fleet.createJob(JobRequest(rolloutId: prefix, jobId: jobId, stage: "canary",
                                                 targets: .devices(DeviceIdList(devices)),
                                                 document: Self.document(prefix, stage: "canary"),
                                                 settings: JobSettings(), aws: AWSPlanSettings(bucket: prefix)))
            for _ in 0..<10 {
                _ = try await fleet.jobProgress(jobId: jobId)
            }
            let stats = try await moto.control("stats", [:])
            try await moto.control("faults", ["name": prefix, "rules": []])
            #expect(((stats["injected"] as? [String: Int])?[prefix] ?? 0) > 3)
            #expect(recorder.calls.contains { $0.status == 400 || $0.status == 503 || $0.status == 500 })
            #expect(!sleeps.recorded.isEmpty && sleeps.recorded.allSatisfy { $0 >= 0 && $0 <= 2 })
        } catch {
            try await moto.control("faults", ["name": prefix, "rules": []])
            throw error
        }
    }

    @Test("a throttle that never ends becomes FleetError.retryable after the attempts")
    func throttleExhausted() async throws {
        let moto = try await MotoServer.ready()
        let sleeps = SleepRecorder()
        let retry = RetryPolicy(maxAttempts: 4, random: SeededRandom(seed: 3), sleep: sleeps.sleep)
        let fleet = AWSFleet(configuration: try moto.configuration(retry: retry))
        let jobId = UniqueName.make("stormforever")
        try await moto.control("faults", ["name": jobId, "rules": [["match": jobId, "share": 1.0, "kind": "throttle", "retryAfter": 1]]])
        do {
            _ = try await fleet.jobProgress(jobId: jobId)
            Issue.record("expected a retryable error")
        } catch let error as FleetError {
            #expect(error.isRetryable)
            #expect(error.description.contains("ThrottlingException"))
        }
        try await moto.control("faults", ["name": jobId, "rules": []])
        #expect(sleeps.recorded.count == 3)
        #expect(sleeps.recorded.allSatisfy { $0 >= 1 }, "Retry-After is honoured")
    }

    @Test("non-retryable answers surface code and message; missing jobs are notFound")
    func permanentErrors() async throws {
        let moto = try await MotoServer.ready()
        let fleet = AWSFleet(configuration: try moto.configuration())
        do {
            _ = try await fleet.jobProgress(jobId: UniqueName.make("absent"))
            Issue.record("expected notFound")
        } catch let error as FleetError {
            guard case .notFound(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("ResourceNotFoundException"))
        }
        await #expect(throws: FleetError.permanent("the AWS fleet needs the plan's `aws` settings (bucket)")) {
            try await fleet.stageArtifact(ArtifactRequest(rolloutId: "r", firmware: "f", version: "1",
                                                          location: .file(path: "/nonexistent")))
        }
    }
}
