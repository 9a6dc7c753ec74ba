import Foundation
@testable import StatusAPI
import Testing

@Suite("credential masking of encoded JSON")
struct JSONStringRedactionTests {
    func masked(_ json: String) -> String {
        String(decoding: JSONStringRedaction.apply(to: Data(json.utf8)), as: UTF8.self)
    }

    @Test("strings with URLs are masked; everything else stays byte for byte")
    func masksStringsOnly() throws {
        let json = #"{"a":"see https://u:p@h/x?k=v","b":1.25,"c":[true,null,"plain \"quoted\" \\ text"],"https://k:v@h/":"k"}"#
        #expect(masked(json)
                == #"{"a":"see https://***@h/x?k=***","b":1.25,"c":[true,null,"plain \"quoted\" \\ text"],"https://***@h/":"k"}"#)
        let untouched = #"{"message":"no link: a:b \"x\" é \u0001","n":[1,2.5e-7]}"#
        #expect(masked(untouched) == untouched)
    }

    @Test("escaped slashes and escapes inside a URL are read as JSON text")
    func escapedForms() throws {
        let json = #"{"u":"https:\/\/u:p@h\/x?a=1\u0026token=t","v":"\u0068ttps://a:b@c/"}"#
        let value = try JSONSerialization.jsonObject(with: Data(masked(json).utf8)) as? [String: String]
        #expect(value?["u"] == "https://***@h/x?a=***&token=***")
        #expect(value?["v"] == "https://***@c/")
    }

    @Test("masking a masked document changes nothing")
    func idempotent() {
        let once = masked(#"{"a":"https://u:p@h/x?k=v&w=1","b":"http://h/***"}"#)
        #expect(masked(once) == once)
    }
}
