import Foundation
import Testing
@testable import StoreSQLite

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
        let blob = DeviceIdBlob.encode(ids)
        #expect(blob.count == ids.reduce(0) { $0 + $1.utf8.count } + max(0, ids.count - 1))
        let decoded = blob.withUnsafeBytes { DeviceIdBlob.decode($0, count: ids.count) }
        #expect(decoded == ids)
    }

    @Test func joinsWithNewlines() {
        #expect(DeviceIdBlob.encode(["a", "bc", ""]) == Array("a\nbc\n".utf8))
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
}
