/// Device ids, held compactly: a collection of `String`s for whoever reads them one at a time (AWS calls, group
/// membership), and their bytes for whoever does not need a `String` at all (the cohort planner hashes the bytes, the
/// simulated fleet reads its device numbers, the store writes the bytes).
///
/// Ids that follow one numbering (a prefix and a fixed number of decimal digits, as the simulated fleet names its
/// devices: `sim-0000042`) are kept as numbers, 4 bytes each; any other ids as their UTF-8 bytes back to back plus
/// 4 bytes for where each ends. A million ids take 4 MB or about 15 MB, instead of 16 MB of `String` values.
package struct DeviceIdList: RandomAccessCollection, Equatable, Sendable, ExpressibleByArrayLiteral {
    /// Ids made of `prefix` and a number written with exactly `width` decimal digits (leading zeros kept).
    package struct Numbering: Equatable, Sendable {
        package static let widthMax = 9  // every 9-digit number fits a UInt32

        package let prefix: [UInt8]
        package let width: Int

        package init(prefix: String, width: Int) {
            precondition((1...Self.widthMax).contains(width), "a numbering has 1…9 digits")
            self.prefix = Array(prefix.utf8)
            self.width = width
        }

        init(prefixBytes: [UInt8], width: Int) {
            precondition((1...Self.widthMax).contains(width), "a numbering has 1…9 digits")
            self.prefix = prefixBytes
            self.width = width
        }

        /// 10^width: every number of the numbering is below it.
        package var numberLimit: UInt32 {
            var limit: UInt32 = 1
            for _ in 0..<width { limit &*= 10 }
            return limit
        }

        /// Writes `number` as `width` digits ending just before `end`.
        @inline(__always)
        func writeDigits(_ number: UInt32, into buffer: UnsafeMutableBufferPointer<UInt8>, end: Int) {
            var value = number
            var position = end
            for _ in 0..<width {
                position -= 1
                buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
                value /= 10
            }
        }

        /// The number of `bytes` when it is an id of this numbering.
        package func number(of bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
            guard bytes.count == prefix.count + width else { return nil }
            for index in prefix.indices where bytes[index] != prefix[index] { return nil }
            var value: UInt32 = 0
            for index in prefix.count..<bytes.count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + UInt32(digit)
            }
            return value
        }
    }

    enum Storage: Equatable, Sendable {
        case numbered(Numbering, [UInt32])
        /// Every id's UTF-8 bytes back to back; id `i` ends at `ends[i]` and starts where id `i - 1` ends.
        case packed(bytes: [UInt8], ends: [UInt32])
    }

    private(set) var storage: Storage

    package init() {
        storage = .packed(bytes: [], ends: [])
    }

    package init<Ids: Sequence>(_ ids: Ids) where Ids.Element == String {
        var bytes: [UInt8] = []
        var ends: [UInt32] = []
        ends.reserveCapacity(ids.underestimatedCount)
        for id in ids {
            bytes.append(contentsOf: id.utf8)
            precondition(bytes.count <= UInt32.max, "device ids beyond 4 GiB")
            ends.append(UInt32(bytes.count))
        }
        storage = .packed(bytes: bytes, ends: ends)
    }

    package init(arrayLiteral ids: String...) {
        self.init(ids)
    }

    /// Ids `numbering.prefix` + each of `numbers` (each below `numbering.numberLimit`).
    package init(numbering: Numbering, numbers: [UInt32]) {
        let limit = numbering.numberLimit
        precondition(numbers.allSatisfy { $0 < limit }, "a number has more digits than its numbering")
        storage = .numbered(numbering, numbers)
    }

    /// Ids from their UTF-8 bytes back to back and where each ends (`ends` ascending, the last one `bytes.count`).
    package init(utf8 bytes: [UInt8], ends: [UInt32]) {
        precondition(ends.last.map { Int($0) == bytes.count } ?? bytes.isEmpty, "the last id ends with the bytes")
        precondition(zip(ends, ends.dropFirst()).allSatisfy { $0 <= $1 }, "ids end in order")
        storage = .packed(bytes: bytes, ends: ends)
    }

    // MARK: Collection

    package var startIndex: Int { 0 }

    package var endIndex: Int {
        switch storage {
        case .numbered(_, let numbers): return numbers.count
        case .packed(_, let ends): return ends.count
        }
    }

    package subscript(position: Int) -> String {
        withUTF8(at: position) { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: bytes and numbers

    /// Lends the UTF-8 bytes of the id at `position` (no `String` is made).
    package func withUTF8<Result>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows
        -> Result
    {
        precondition(indices.contains(position), "device index out of range")
        switch storage {
        case .numbered(let numbering, let numbers):
            let length = numbering.prefix.count + numbering.width
            return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { buffer in
                _ = buffer.initialize(from: numbering.prefix)
                numbering.writeDigits(numbers[position], into: buffer, end: length)
                return try body(UnsafeBufferPointer(buffer))
            }
        case .packed(let bytes, let ends):
            let start = position == 0 ? 0 : Int(ends[position - 1])
            return try bytes.withUnsafeBufferPointer { all in
                try body(UnsafeBufferPointer(rebasing: all[start..<Int(ends[position])]))
            }
        }
    }

    /// Calls `body` with the position and UTF-8 bytes of every id in order: one buffer for a numbered list (only the
    /// digits are rewritten), slices of the bytes otherwise. Faster than `withUTF8(at:)` id by id.
    package func forEachUTF8(_ body: (Int, UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        switch storage {
        case .numbered(let numbering, let numbers):
            let length = numbering.prefix.count + numbering.width
            try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { buffer in
                _ = buffer.initialize(from: numbering.prefix)
                let id = UnsafeBufferPointer(buffer)
                for position in numbers.indices {
                    numbering.writeDigits(numbers[position], into: buffer, end: length)
                    try body(position, id)
                }
            }
        case .packed(let bytes, let ends):
            try bytes.withUnsafeBufferPointer { all in
                var start = 0
                for position in ends.indices {
                    let end = Int(ends[position])
                    try body(position, UnsafeBufferPointer(rebasing: all[start..<end]))
                    start = end
                }
            }
        }
    }

    /// The numbers of the ids when they are kept numbered as `numbering` says (nil otherwise: read the bytes).
    package func numbers(in numbering: Numbering) -> [UInt32]? {
        guard case .numbered(let own, let numbers) = storage, own == numbering else { return nil }
        return numbers
    }

    /// Total UTF-8 bytes of every id.
    package var utf8Count: Int {
        switch storage {
        case .numbered(let numbering, let numbers): return numbers.count * (numbering.prefix.count + numbering.width)
        case .packed(let bytes, _): return bytes.count
        }
    }

    // MARK: making lists from lists

    /// The ids at `positions`, in that order.
    package func selecting(_ positions: [UInt32]) -> DeviceIdList {
        switch storage {
        case .numbered(let numbering, let numbers):
            let selected = numbers.withUnsafeBufferPointer { numbers in
                [UInt32](unsafeUninitializedCapacity: positions.count) { buffer, initialized in
                    for (offset, position) in positions.enumerated() { buffer[offset] = numbers[Int(position)] }
                    initialized = positions.count
                }
            }
            return DeviceIdList(storage: .numbered(numbering, selected))
        case .packed(let bytes, let ends):
            var selectedBytes: [UInt8] = []
            var selectedEnds: [UInt32] = []
            selectedEnds.reserveCapacity(positions.count)
            for position in positions.lazy.map(Int.init) {
                let start = position == 0 ? 0 : Int(ends[position - 1])
                selectedBytes.append(contentsOf: bytes[start..<Int(ends[position])])
                selectedEnds.append(UInt32(selectedBytes.count))
            }
            return DeviceIdList(storage: .packed(bytes: selectedBytes, ends: selectedEnds))
        }
    }

    /// The ids in `range`, as a list of their own (a copy of their numbers or bytes).
    package func ids(in range: Range<Int>) -> DeviceIdList {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range out of bounds")
        switch storage {
        case .numbered(let numbering, let numbers):
            return DeviceIdList(storage: .numbered(numbering, Array(numbers[range])))
        case .packed(let bytes, let ends):
            guard !range.isEmpty else { return DeviceIdList() }
            let base = range.lowerBound == 0 ? 0 : ends[range.lowerBound - 1]
            return DeviceIdList(storage: .packed(bytes: Array(bytes[Int(base)..<Int(ends[range.upperBound - 1])]),
                                                 ends: ends[range].map { $0 - base }))
        }
    }

    /// The same ids, numbered when every one of them follows one numbering (the prefix and digit count of the first
    /// id), as read back from a store; otherwise unchanged.
    package func compacted() -> DeviceIdList {
        guard case .packed(let bytes, let ends) = storage, let firstEnd = ends.first, firstEnd > 0 else { return self }
        let digits = bytes[..<Int(firstEnd)].reversed().prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
        guard (1...Numbering.widthMax).contains(digits) else { return self }
        let numbering = Numbering(prefixBytes: Array(bytes[..<(Int(firstEnd) - digits)]), width: digits)
        var numbers: [UInt32] = []
        numbers.reserveCapacity(ends.count)
        let complete: Bool = bytes.withUnsafeBufferPointer { all in
            var start = 0
            for end in ends {
                guard let number = numbering.number(of: UnsafeBufferPointer(rebasing: all[start..<Int(end)])) else {
                    return false
                }
                numbers.append(number)
                start = Int(end)
            }
            return true
        }
        return complete ? DeviceIdList(storage: .numbered(numbering, numbers)) : self
    }

    private init(storage: Storage) {
        self.storage = storage
    }

    // MARK: Equatable

    /// The same ids in the same order, however each list keeps them.
    package static func == (lhs: DeviceIdList, rhs: DeviceIdList) -> Bool {
        if lhs.storage == rhs.storage { return true }
        guard lhs.count == rhs.count else { return false }
        if case .numbered(let left, _) = lhs.storage, case .numbered(let right, _) = rhs.storage, left == right {
            return false  // same numbering, different numbers
        }
        for position in lhs.indices {
            let same = lhs.withUTF8(at: position) { left in
                rhs.withUTF8(at: position) { right in left.elementsEqual(right) }
            }
            if !same { return false }
        }
        return true
    }
}
