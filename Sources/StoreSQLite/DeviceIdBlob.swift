import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A cohort's device ids as ONE blob: UTF-8 ids joined by "\n" (ids never contain a newline).
///
/// One row instead of a million keeps saving and loading a 1,000,000-device cohort to tens of milliseconds:
/// encoding is a byte copy per id, decoding a `memchr` walk that builds each `String` straight from the bytes
/// (ids up to 15 bytes become small strings, with no allocation at all).
enum DeviceIdBlob {
    static let newline: UInt8 = 0x0A

    /// The ids joined by newlines. Precondition: no id contains a newline.
    static func encode(_ ids: [String]) -> [UInt8] {
        var total = max(0, ids.count - 1)
        for id in ids {
            total += id.utf8.count
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(total)
        for index in ids.indices {
            if index > 0 { bytes.append(newline) }
            var id = ids[index]
            id.withUTF8 { utf8 in
                precondition(utf8.firstIndex(of: newline) == nil, "device ids never contain a newline")
                bytes.append(contentsOf: utf8)
            }
        }
        precondition(bytes.count == total, "blob size is the sum of the ids and their separators")
        return bytes
    }

    /// Splits `bytes` into exactly `count` ids; nil when the blob does not hold that many.
    static func decode(_ bytes: UnsafeRawBufferPointer, count: Int) -> [String]? {
        precondition(count >= 0, "device count is never negative")
        if count == 0 { return bytes.isEmpty ? [] : nil }
        var ids = [String]()
        ids.reserveCapacity(count)
        let buffer = bytes.assumingMemoryBound(to: UInt8.self)
        guard let base = buffer.baseAddress else {
            return count == 1 ? [""] : nil  // one empty id encodes as an empty blob
        }
        var start = 0
        // One id per pass; the last one ends at the end of the blob. At most `count` passes.
        for _ in 0..<(count - 1) {
            guard let found = memchr(base + start, Int32(newline), buffer.count - start) else { return nil }
            let end = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
            ids.append(String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self))
            start = end + 1
        }
        let last = UnsafeBufferPointer(start: base + start, count: buffer.count - start)
        guard last.firstIndex(of: newline) == nil else { return nil }
        ids.append(String(decoding: last, as: UTF8.self))
        return ids
    }
}
