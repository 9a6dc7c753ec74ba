import Testing
@testable import RolloutCore

@Suite struct DeviceIdListTests {
    let numbering = DeviceIdList.Numbering(prefix: "sim-", width: 7)

    @Test func numberedAndPackedListsOfTheSameIdsAreEqual() {
        let numbered = DeviceIdList(numbering: numbering, numbers: [0, 42, 9_999_999])
        let packed: DeviceIdList = ["sim-0000000", "sim-0000042", "sim-9999999"]
        #expect(Array(numbered) == ["sim-0000000", "sim-0000042", "sim-9999999"])
        #expect(numbered == packed)
        #expect(numbered != DeviceIdList(numbering: numbering, numbers: [0, 42, 9_999_998]))
        #expect(numbered != ["sim-0000000", "sim-0000042"])
        #expect(numbered.utf8Count == 33)
    }

    @Test func compactingFindsTheNumberingOnlyWhenEveryIdFollowsIt() {
        let packed: DeviceIdList = ["sim-0000007", "sim-0000003"]
        #expect(packed.numbers(in: numbering) == nil)
        #expect(packed.compacted().numbers(in: numbering) == [7, 3])
        #expect(packed.compacted() == packed)
        for ids: DeviceIdList in [["sim-7", "sim-0000003"], ["sim-0000007", "sam-0000003"], ["a", "b"], [""],
                                  ["dev-00000a1"], ["x-1234567890"]] {
            #expect(ids.compacted().numbers(in: numbering) == nil)
            #expect(ids.compacted() == ids)
        }
        #expect(DeviceIdList(["12", "07"]).compacted().numbers(in: .init(prefix: "", width: 2)) == [12, 7])
    }

    @Test func bytesMatchTheStrings() {
        for ids in [DeviceIdList(numbering: numbering, numbers: [5, 1, 3]), ["é-ü", "", "😀-device"]] {
            var seen: [String] = []
            ids.forEachUTF8 { position, bytes in
                #expect(position == seen.count)
                seen.append(String(decoding: bytes, as: UTF8.self))
            }
            #expect(seen == Array(ids))
            for position in ids.indices {
                #expect(ids.withUTF8(at: position) { String(decoding: $0, as: UTF8.self) } == ids[position])
            }
        }
    }

    @Test func selectingAndRangesKeepTheForm() {
        let numbered = DeviceIdList(numbering: numbering, numbers: [10, 11, 12, 13])
        #expect(numbered.selecting([3, 0]).numbers(in: numbering) == [13, 10])
        #expect(numbered.ids(in: 1..<3).numbers(in: numbering) == [11, 12])
        let packed: DeviceIdList = ["a", "bb", "", "ccc"]
        #expect(packed.selecting([3, 2, 0]) == ["ccc", "", "a"])
        #expect(packed.ids(in: 1..<4) == ["bb", "", "ccc"])
        #expect(packed.ids(in: 2..<2).isEmpty)
        #expect(packed.ids(in: 0..<1) == ["a"])
    }
}
