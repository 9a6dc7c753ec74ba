@testable import StatusAPI
import Testing

@Suite("Response cache")
struct ResponseCacheTests {
    @Test func madeOncePerVersion() {
        let cache = ResponseCache<String, UInt64, String>()
        var made = 0
        let make = { () -> String in made += 1; return "body \(made)" }
        #expect(cache.value(for: "a", version: 1, make: make) == "body 1")
        #expect(cache.value(for: "a", version: 1, make: make) == "body 1")
        #expect(made == 1)
        #expect(cache.value(for: "a", version: 2, make: make) == "body 2")
        #expect(cache.cached("a", version: 1) == nil)
        #expect(cache.cached("b", version: 2) == nil)
    }

    @Test func aFailedMakeIsNotKept() {
        let cache = ResponseCache<String, UInt64, String>()
        #expect(cache.value(for: "a", version: 1, make: { () -> String? in nil }) == nil)
        #expect(cache.value(for: "a", version: 1, make: { () -> String? in "made" }) == "made")
    }

    @Test func boundedStartsOverWhenFull() {
        let cache = ResponseCache<Int, Int, Int>(entriesMax: 3)
        for key in 0..<3 { cache.keep(key, for: key, version: 0) }
        cache.keep(3, for: 3, version: 0)
        #expect(cache.cached(3, version: 0) == 3)
        #expect((0..<3).allSatisfy { cache.cached($0, version: 0) == nil })
        // Replacing a key that is kept does not start over.
        cache.keep(30, for: 3, version: 1)
        #expect(cache.cached(3, version: 1) == 30)
    }
}
