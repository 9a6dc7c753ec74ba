import RolloutCore

/// A cohort's device ids as ONE blob: UTF-8 ids joined by "\n" (ids never contain a newline).
///
/// One row instead of a million keeps saving and loading a 1,000,000-device cohort to tens of milliseconds:
/// encoding is a byte copy per id into one preallocated buffer, decoding one walk over the bytes into a
/// `DeviceIdList` (numbered again when the ids follow one numbering, as the simulated fleet's do). No `String` is made.
package enum DeviceIdBlob {
    package static let newline: UInt8 = 0x0A

    /// The ids joined by newlines. Precondition: no id contains a newline.
    package static func encode(_ ids: DeviceIdList) -> [UInt8] {
        let total = ids.utf8Count + max(0, ids.count - 1)
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var offset = 0
            ids.forEachUTF8 { index, id in
                if index > 0 {
                    buffer[offset] = newline
                    offset += 1
                }
                let (_, copied) = UnsafeMutableBufferPointer(rebasing: buffer[offset...]).initialize(from: id)
                offset += copied
            }
            initialized = offset
        }
        precondition(bytes.count == total, "blob size is the sum of the ids and their separators")
        // Only the separators may be newlines; checked on the whole blob at once (8 bytes per step).
        precondition(bytes.withUnsafeBytes(countNewlines) == max(0, ids.count - 1), "device ids never contain a newline")
        return bytes
    }

    /// Splits `bytes` into exactly `count` ids; nil when the blob does not hold that many.
    package static func decode(_ bytes: UnsafeRawBufferPointer, count: Int) -> DeviceIdList? {
        precondition(count >= 0, "device count is never negative")
        if count == 0 { return bytes.isEmpty ? DeviceIdList() : nil }
        guard countNewlines(bytes) == count - 1 else { return nil }
        let buffer = bytes.assumingMemoryBound(to: UInt8.self)
        var ids = [UInt8]()
        ids.reserveCapacity(buffer.count - (count - 1))
        var ends = [UInt32]()
        ends.reserveCapacity(count)
        // One pass over the bytes; an id ends at each newline, the last one at the end of the blob.
        var start = 0
        for index in 0..<buffer.count where buffer[index] == newline {
            ids.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<index]))
            ends.append(UInt32(ids.count))
            start = index + 1
        }
        ids.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<buffer.count]))
        ends.append(UInt32(ids.count))
        return DeviceIdList(utf8: ids, ends: ends).compacted()
    }

    /// Newline bytes in `bytes`, counted a 64-bit word at a time: a word's bytes equal to "\n" become zero after
    /// the XOR, and `~(((x & 0x7F…) + 0x7F…) | x) & 0x80…` sets the top bit of exactly the zero bytes.
    package static func countNewlines(_ bytes: UnsafeRawBufferPointer) -> Int {
        let words = bytes.count / 8
        var count = 0
        for word in 0..<words {
            let x = bytes.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self) ^ 0x0A0A_0A0A_0A0A_0A0A
            let zeros = ~(((x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | x) & 0x8080_8080_8080_8080
            count &+= zeros.nonzeroBitCount
        }
        for index in (words * 8)..<bytes.count where bytes[index] == newline {
            count &+= 1
        }
        return count
    }
}
