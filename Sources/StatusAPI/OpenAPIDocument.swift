/// The OpenAPI 3 document of the status API, served at `/openapi.json`: `Sources/StatusAPI/Resources/openapi.json`,
/// embedded in the binary by SwiftPM (`.embedInCode`), so a static binary deployed alone still serves it.
package enum OpenAPIDocument {
    package static let json = String(decoding: PackageResources.openapi_json, as: UTF8.self)
}
