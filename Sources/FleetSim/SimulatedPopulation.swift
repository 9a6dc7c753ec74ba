import Foundation
import RolloutCore

/// The simulated devices, as compact arrays (a million devices take a few megabytes).
///
/// Device `i` is named `sim-0000000`+i; its hardware revision and whether it ever checks in are drawn from the seed.
package struct SimulatedPopulation: Sendable {
    package static let idPrefix = "sim-"
    /// How device ids are numbered: lists of them are kept as the device numbers themselves (`DeviceIdList`).
    package static let numbering = DeviceIdList.Numbering(prefix: idPrefix, width: 7)
    package let count: Int
    package let hardwareNames: [String]
    /// Index into `hardwareNames`, per device.
    package let hardware: [UInt8]
    package let online: [Bool]

    package init(count: Int, scenario: SimulationScenario, draw: SeededDraw) {
        precondition(count >= 1 && count <= SimulationScenario.devicesMax, "population size out of range")
        self.count = count
        hardwareNames = scenario.hardware.map(\.name)
        let totalWeight = scenario.hardware.reduce(0) { $0 + $1.weight }
        var cumulative: [Double] = []
        var running = 0.0
        for revision in scenario.hardware {
            running += revision.weight / totalWeight
            cumulative.append(running)
        }
        var hardware = [UInt8](repeating: 0, count: count)
        var online = [Bool](repeating: true, count: count)
        let offlineShare = scenario.offlinePercent / 100
        for device in 0..<count {
            let unit = draw.unit(1, UInt64(device))
            var revision = 0
            while revision < cumulative.count - 1 && unit >= cumulative[revision] { revision += 1 }
            hardware[device] = UInt8(revision)
            if offlineShare > 0 { online[device] = draw.unit(2, UInt64(device)) >= offlineShare }
        }
        self.hardware = hardware
        self.online = online
    }

    /// `sim-0000042` for device 42 (built by hand: `String(format:)` is too slow for a million ids).
    package static func deviceId(_ index: Int) -> String {
        precondition(index >= 0 && index < 10_000_000, "device index out of range")
        // "sim-" + 7 digits = 11 bytes: fits a small string, built without intermediate arrays.
        return String(unsafeUninitializedCapacity: 11) { buffer in
            buffer[0] = UInt8(ascii: "s")
            buffer[1] = UInt8(ascii: "i")
            buffer[2] = UInt8(ascii: "m")
            buffer[3] = UInt8(ascii: "-")
            var value = index
            for position in stride(from: 10, through: 4, by: -1) {
                buffer[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            return 11
        }
    }

    /// The index of a simulated device id, or nil when it is not one of ours.
    package func index(of deviceId: String) -> Int? {
        var deviceId = deviceId
        return deviceId.withUTF8 { index(ofUTF8: $0) }
    }

    /// The index of the device whose id has these UTF-8 bytes, or nil when it is not one of ours. Ids of other
    /// lengths (`sim-42`) are accepted too, as they always were.
    package func index(ofUTF8 bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        if let number = Self.numbering.number(of: bytes) {
            return Int(number) < count ? Int(number) : nil
        }
        let prefix = Self.numbering.prefix
        guard bytes.count > prefix.count, bytes.starts(with: prefix) else { return nil }
        var value = 0
        for byte in bytes[prefix.count...] {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            if value >= count { return nil }
        }
        return value
    }

    /// The devices whose indices are `indices` (each below `count`), kept as numbers.
    package static func deviceIds(_ indices: [UInt32]) -> DeviceIdList {
        DeviceIdList(numbering: numbering, numbers: indices)
    }
}
