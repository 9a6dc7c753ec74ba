import Foundation

/// Why a `StatusServerConfiguration` cannot be used.
public struct StatusServerConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}
