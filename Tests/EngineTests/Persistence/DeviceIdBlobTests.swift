import Foundation
import RolloutCore
import Testing
@testable import Engine

@Suite struct DeviceIdBlobTests {
    @Test(arguments: [
        [],
        [""],
        ["", ""],
        ["a"],
        ["a", "", "b"],
        ["dev-00000001", "dev-00000002"],
        ["é-ü", "😀-device-with-a-name-longer-than-fifteen-bytes", "x"],
    ] as [[String]])
    func roundTrips(ids: [String]) {
        let blob = DeviceIdBlob.encode(DeviceIdList(ids))
        #expect(blob.count == ids.reduce(0) { $0 + $1.utf8.count } + max(0, ids.count - 1))
        let decoded = blob.withUnsafeBytes { DeviceIdBlob.decode($0, count: ids.count) }
        #expect(decoded.map(Array.init) == ids)
    }

    @Test func joinsWithNewlines() {
        #expect(DeviceIdBlob.encode(["a", "bc", ""]) == Array("a\nbc\n".utf8))
        #expect(DeviceIdBlob.encode(DeviceIdList(numbering: .init(prefix: "d-", width: 3), numbers: [7, 42]))
                == Array("d-007\nd-042".utf8))
    }

    @Test func refusesABlobThatDoesNotHoldTheCount() {
        let blob = Array("a\nb\nc".utf8)
        blob.withUnsafeBytes { bytes in
            #expect(DeviceIdBlob.decode(bytes, count: 3) == ["a", "b", "c"])
            #expect(DeviceIdBlob.decode(bytes, count: 2) == nil)  // a newline left in the last id
            #expect(DeviceIdBlob.decode(bytes, count: 4) == nil)  // too few ids
            #expect(DeviceIdBlob.decode(bytes, count: 0) == nil)
        }
        [UInt8]().withUnsafeBytes { empty in
            #expect(DeviceIdBlob.decode(empty, count: 0) == [])
            #expect(DeviceIdBlob.decode(empty, count: 1) == [""])
            #expect(DeviceIdBlob.decode(empty, count: 2) == nil)
        }
    }

    @Test func countsNewlinesAtEveryAlignment() {
        for length in 0..<40 {
            for every in 1..<6 {
                let bytes = (0..<length).map { $0 % every == 0 ? DeviceIdBlob.newline : UInt8(ascii: "x") }
                let expected = bytes.filter { $0 == DeviceIdBlob.newline }.count
                #expect(bytes.withUnsafeBytes(DeviceIdBlob.countNewlines) == expected)
            }
        }
        // Bytes next to "\n" in value (0x09, 0x0B, 0x8A) are not newlines.
        let neighbours: [UInt8] = [0x09, 0x0B, 0x8A, 0x0A, 0xFF, 0x00, 0x0A, 0x1A, 0x0A]
        #expect(neighbours.withUnsafeBytes(DeviceIdBlob.countNewlines) == 3)
    }

    @Test func refusesToEncodeAnIdWithANewline() async {
        await #expect(processExitsWith: .failure) {
            _ = DeviceIdBlob.encode(["dev-1", "dev\n2"])
        }
    }
}
