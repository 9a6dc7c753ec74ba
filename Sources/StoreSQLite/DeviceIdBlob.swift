/// A cohort's device ids as ONE blob: UTF-8 ids joined by "\n" (ids never contain a newline).
///
/// One row instead of a million keeps saving and loading a 1,000,000-device cohort to tens of milliseconds:
/// encoding is a byte copy per id into one preallocated buffer, decoding one walk over the bytes that builds
/// each `String` straight from them (ids up to 15 bytes become small strings: no allocation at all).
enum DeviceIdBlob {
    static let newline: UInt8 = 0x0A

    /// The ids joined by newlines. Precondition: no id contains a newline.
    static func encode(_ ids: [String]) -> [UInt8] {
        var total = max(0, ids.count - 1)
        for id in ids {
            total += id.utf8.count
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var offset = 0
            for index in ids.indices {
                if index > 0 {
                    buffer[offset] = newline
                    offset += 1
                }
                let (_, copied) = UnsafeMutableBufferPointer(rebasing: buffer[offset...]).initialize(from: ids[index].utf8)
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
    static func decode(_ bytes: UnsafeRawBufferPointer, count: Int) -> [String]? {
        precondition(count >= 0, "device count is never negative")
        if count == 0 { return bytes.isEmpty ? [] : nil }
        let buffer = bytes.assumingMemoryBound(to: UInt8.self)
        var ids = [String]()
        ids.reserveCapacity(count)
        var start = 0
        // One pass over the bytes; an id ends at each newline, the last one at the end of the blob.
        for index in 0..<buffer.count where buffer[index] == newline {
            guard ids.count < count - 1 else { return nil }
            ids.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self))
            start = index + 1
        }
        guard ids.count == count - 1 else { return nil }
        ids.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<buffer.count]), as: UTF8.self))
        return ids
    }

    /// Newline bytes in `bytes`, counted a 64-bit word at a time: a word's bytes equal to "\n" become zero after
    /// the XOR, and `~(((x & 0x7F…) + 0x7F…) | x) & 0x80…` sets the top bit of exactly the zero bytes.
    static func countNewlines(_ bytes: UnsafeRawBufferPointer) -> Int {
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
