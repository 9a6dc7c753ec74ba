import Foundation
@testable import HTTPTransport
import Testing

@testable import FleetAWS

@Suite("AWSClient retries and errors, IoT pagination")
struct AWSClientTests {
    static func client(_ transport: ScriptedTransport, sleeps: SleepRecorder, attempts: Int = 6,
                       service: String = "iot") -> AWSClient {
        AWSClient(service: service, region: "eu-west-1", endpoint: HTTPEndpoint(host: "\(service).eu-west-1.amazonaws.com"),
                  credentials: StaticCredentialsProvider(AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s")),
                  transport: transport,
                  retry: RetryPolicy(maxAttempts: attempts, baseDelaySeconds: 0.1, maxDelaySeconds: 1,
                                     random: SeededRandom(seed: 1), sleep: sleeps.sleep))
    }

    @Test("throttling, 5xx and transport failures are retried with capped jittered backoff")
    func retries() async throws {
        let transport = ScriptedTransport([
            ScriptedTransport.json(400, ["message": "Rate exceeded"], headers: ["x-amzn-ErrorType": "ThrottlingException:http://x"]),
            ScriptedTransport.json(429, ["__type": "com.amazon#TooManyRequestsException", "message": "slow"]),
            .respond(HTTPResponse(status: 503, body: Data("<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>".utf8))),
            .fail(TransportError(.timeout, "timed out")),
            .fail(TransportError(.answerLost, "connection reset")),
            ScriptedTransport.json(200, ["thingName": "t"]),
        ])
        let sleeps = SleepRecorder()
        let thing: IoTThing = try await Self.client(transport, sleeps: sleeps).json("GET", "/things/t", operation: "DescribeThing")
        #expect(thing.thingName == "t")
        #expect(transport.requests.count == 6)
        #expect(sleeps.recorded.count == 5)
        for (index, wait) in sleeps.recorded.enumerated() {
            #expect(wait >= 0 && wait <= min(1, 0.1 * pow(2, Double(index))))
        }
        // Each attempt is signed anew.
        #expect(Set(transport.requests.compactMap { $0.headers["Authorization"] }).count >= 1)
        #expect(transport.requests.allSatisfy { $0.headers["Authorization"] != nil })
    }

    @Test("Retry-After is honoured, attempts are bounded")
    func bounded() async throws {
        let throttle = ScriptedTransport.json(429, ["message": "wait"], headers: ["Retry-After": "3"])
        let transport = ScriptedTransport(Array(repeating: throttle, count: 10))
        let sleeps = SleepRecorder()
        do {
            let _: EmptyResponse = try await Self.client(transport, sleeps: sleeps, attempts: 4)
                .json("GET", "/jobs/j", operation: "DescribeJob")
            Issue.record("expected a throttling error")
        } catch let error as AWSError {
            #expect(error.isThrottling && error.attempts == 4)
        }
        #expect(transport.requests.count == 4)
        #expect(sleeps.recorded == [3, 3, 3])
    }

    @Test("other 4xx are not retried and carry code, message, status, request id")
    func permanent() async throws {
        let transport = ScriptedTransport([
            ScriptedTransport.json(400, ["message": "targets must not be empty"],
                                   headers: ["x-amzn-ErrorType": "InvalidRequestException:", "x-amzn-RequestId": "req-1"]),
        ])
        let sleeps = SleepRecorder()
        do {
            let _: EmptyResponse = try await Self.client(transport, sleeps: sleeps).json("PUT", "/jobs/j", operation: "CreateJob")
            Issue.record("expected an error")
        } catch let error as AWSError {
            #expect(error.code == "InvalidRequestException")
            #expect(error.message == "targets must not be empty")
            #expect(error.status == 400 && error.requestId == "req-1")
            #expect(!error.isRetryable)
            #expect(FleetErrorMapping.map(error, context: "job j") == .permanent("job j: InvalidRequestException: targets must not be empty"))
        }
        #expect(transport.requests.count == 1 && sleeps.recorded.isEmpty)
    }

    @Test("S3 XML errors and body-less answers are parsed")
    func errorParsing() {
        let xml = AWSError.from(HTTPResponse(status: 403, body: Data("<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access &amp; denied</Message><RequestId>R1</RequestId></Error>".utf8)))
        #expect(xml.code == "AccessDenied" && xml.message == "Access & denied" && xml.requestId == "R1")
        let head = AWSError.from(HTTPResponse(status: 404))
        #expect(head.code == "NotFound")
        let json = AWSError.from(HTTPResponse(status: 400, body: Data(#"{"__type":"RequestLimitExceeded","Message":"m"}"#.utf8)))
        #expect(json.isThrottling && json.isRetryable && json.message == "m")
    }

    @Test("page loop follows nextToken, refuses a repeated token, is bounded")
    func pagination() async throws {
        let pages = ScriptedTransport([
            ScriptedTransport.json(200, ["things": ["a", "b"], "nextToken": "t1"]),
            ScriptedTransport.json(200, ["things": ["c"], "nextToken": "t2"]),
            ScriptedTransport.json(200, ["things": ["d"]]),
        ])
        let iot = IoTClient(client: Self.client(pages, sleeps: SleepRecorder()), pageSize: 2)
        #expect(try await iot.listThingsInThingGroup("g") == ["a", "b", "c", "d"])
        #expect(pages.requests.map { $0.query.first { $0.name == "nextToken" }?.value } == [nil, "t1", "t2"])
        #expect(pages.requests.allSatisfy { $0.query.contains(QueryItem("maxResults", "2")) })

        let looping = ScriptedTransport([
            ScriptedTransport.json(200, ["things": ["a"], "nextToken": "same"]),
            ScriptedTransport.json(200, ["things": ["b"], "nextToken": "same"]),
        ])
        await #expect(throws: AWSError.self) {
            _ = try await IoTClient(client: Self.client(looping, sleeps: SleepRecorder())).listThingsInThingGroup("g")
        }
        let endless = ScriptedTransport((0..<5).map { ScriptedTransport.json(200, ["things": ["x"], "nextToken": "t\($0)"]) })
        await #expect(throws: AWSError.self) {
            _ = try await IoTClient(client: Self.client(endless, sleeps: SleepRecorder()), pageCountMax: 3)
                .listThingsInThingGroup("g")
        }
        #expect(endless.requests.count == 3)
    }

    @Test("cancel reasons: codes pass through, text becomes the comment")
    func cancelReasons() {
        #expect(AWSFleet.cancelReason("MANUAL_ABORT") == ("MANUAL_ABORT", nil))
        let (code, comment) = AWSFleet.cancelReason("gate failed:\n30% failed")
        #expect(code == "ROLLOUT_GATE_FAILED" && comment == "gate failed:30% failed")
    }
}
