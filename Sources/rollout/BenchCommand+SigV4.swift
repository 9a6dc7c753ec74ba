import FleetAWS
import Foundation
import HTTPTransport

/// `rollout bench --sigv4`: SigV4 signatures per second for an IoT CreateJob request (PUT with a JSON body: the body
/// is hashed, the canonical request built, hashed and signed), beside botocore signing the same request.
extension BenchCommand {
    static let sigV4Body = Data(#"""
        {"document":"{\"operation\":\"firmwareUpdate\",\"version\":\"2.1.0\",\"previousVersion\":\"2.0.3\",\"firmwareUrl\":\"${aws:iot:s3-presigned-url:https://s3.eu-west-1.amazonaws.com/fleet-firmware/firmware/sensor-fw/2.1.0/5f1c.bin}\",\"checksumAlgorithm\":\"SHA256\",\"checksum\":\"5f1c0e6a9b\",\"size\":1048576,\"rolloutId\":\"sensor-fw-2-1-0-3f842a80\",\"stage\":\"wave-1\"}","targets":["arn:aws:iot:eu-west-1:123456789012:thinggroup/rollout-sensor-fw-2-1-0-3f842a80-wave-1"],"targetSelection":"SNAPSHOT","jobExecutionsRolloutConfig":{"maximumPerMinute":1000},"timeoutConfig":{"inProgressTimeoutInMinutes":30}}
        """#.utf8)
    static let sigV4URL = "https://iot.eu-west-1.amazonaws.com/jobs/sensor-fw-2-1-0-3f842a80-wave-1"
    static let sigV4Credentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                                 secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                                 source: "bench")
    /// 2026-01-05T12:00:00Z: one fixed instant for both signers, so their signatures can be compared.
    static let sigV4Date = Date(timeIntervalSince1970: 1_767_614_400)

    func benchSigV4(directory: String, seconds: Int) throws {
        let signer = SigV4Signer(service: "iot", region: "eu-west-1")
        let template = HTTPRequest(method: "PUT", host: "iot.eu-west-1.amazonaws.com",
                                   path: "/jobs/sensor-fw-2-1-0-3f842a80-wave-1",
                                   headers: ["Content-Type": "application/json"], body: .data(Self.sigV4Body))
        var signed = template
        signer.sign(&signed, credentials: Self.sigV4Credentials, date: Self.sigV4Date)
        let authorization = signed.headers["Authorization"] ?? ""
        var rates: [Double] = []
        for _ in 0..<repeats {
            var count = 0
            var checksum = 0
            let start = DispatchTime.now()
            let deadline = start.uptimeNanoseconds + UInt64(seconds) * 1_000_000_000 / UInt64(repeats)
            repeat {
                for _ in 0..<1000 {
                    var request = template
                    signer.sign(&request, credentials: Self.sigV4Credentials, date: Self.sigV4Date)
                    checksum &+= request.headers.fields.count  // keeps the work observable
                }
                count += 1000
            } while DispatchTime.now().uptimeNanoseconds < deadline
            precondition(checksum > 0, "every signed request has headers")
            rates.append(Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9))
        }
        rates.sort()
        let best = rates[rates.count - 1]
        var line = "SigV4: \(BenchText.rate(best)) signatures/s (median \(BenchText.rate(rates[rates.count / 2]))), "
            + "IoT CreateJob, \(Self.sigV4Body.count)-byte body"
        do {
            let output = try BenchFloor.python(Self.botocoreScript, arguments: [
                "\(Double(seconds) / Double(repeats))", "\(repeats)", Self.sigV4URL,
                String(decoding: Self.sigV4Body, as: UTF8.self),
            ], module: "botocore", directory: directory)
            let answer = try JSONSerialization.jsonObject(with: output) as? [String: Any] ?? [:]
            let floor = answer["rate"] as? Double ?? 0
            let same = answer["authorization"] as? String == authorization
            line += "\n    floor botocore \(answer["version"] ?? "?") signing the same request: \(BenchText.rate(floor))/s → "
                + "\(BenchText.ratio(best / max(floor, 1))) botocore; signatures \(same ? "identical" : "DIFFER")"
        } catch {
            line += "\n    floor botocore: not available (\(error))"
        }
        print(line)
    }

    /// botocore's `SigV4Auth.add_auth` on one request, again and again (best of the runs), at the same instant.
    static let botocoreScript = #"""
        import datetime, json, sys, time
        import botocore, botocore.auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        seconds, runs, url, body = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()
        stamp = datetime.datetime(2026, 1, 5, 12, 0, 0)
        botocore.auth.get_current_datetime = lambda *args, **kwargs: stamp
        auth = botocore.auth.SigV4Auth(Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                                       "iot", "eu-west-1")
        request = AWSRequest(method="PUT", url=url, data=body, headers={"Content-Type": "application/json"})
        auth.add_auth(request)
        authorization = request.headers["Authorization"]
        best = 0
        for _ in range(runs):
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                for _ in range(200):
                    auth.add_auth(request)
                count += 200
            best = max(best, count / (time.perf_counter() - start))
        print(json.dumps({"rate": best, "authorization": authorization, "version": botocore.__version__}))
        """#
}
