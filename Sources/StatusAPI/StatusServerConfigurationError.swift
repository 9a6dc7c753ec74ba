import Foundation

/// Why a `StatusServerConfiguration` cannot be used.
package struct StatusServerConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String

    package init(message: String) {
        self.message = message
    }

    package var description: String { message }
}
