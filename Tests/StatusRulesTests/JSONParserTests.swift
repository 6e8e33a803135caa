import Foundation
import StatusRules
import Testing

@Suite("The JSON parser")
struct JSONParserTests {
    static let decoder = JSONDecoder()

    static func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Data(text.utf8)) }

    @Test(
        "valid documents parse to what Foundation's decoder reads",
        arguments: [
            #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#, #"  [ 1 , -2.5e3 , 0 , 0.125 , 1E+2 , -0 ]  "#,
            #""\"\\\/\b\f\n\r\t\u00e5\u00C4""#, #"{"emoji":"\ud83d\ude00 😀","nordic":"åäöæøÅÄÖÆØ"}"#, "[]", "{}", "\"\"", "123456789012",
            #"{"nested":[[[[{"x":[]}]]]]}"#,
        ])
    func agreesWithFoundation(text: String) throws {
        #expect(try Self.parse(text) == Self.decoder.decode(JSONValue.self, from: Data(text.utf8)))
    }

    @Test("a surrogate pair is one scalar; the last of a repeated key counts")
    func details() throws {
        #expect(try Self.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try Self.parse(#"{"k":1,"k":2}"#) == .object(["k": .number(2)]))
    }

    @Test(
        "malformed text is refused",
        arguments: [
            "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "1.", ".5", "+1", "-", "1e", "tru", "nul",
            "\"unterminated", "\"tab\there\"", "\"bad \\x escape\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
            "[1] x", "{} {}", "NaN", "1e999",
        ])
    func refusesMalformed(text: String) {
        #expect(throws: JSONParseError.self) { try Self.parse(text) }
    }

    @Test("invalid UTF-8 and nesting deeper than the limit are refused")
    func refusesInvalidBytesAndDepth() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Data([0x22, 0xC3, 0x28, 0x22])) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Data([0x22, 0xED, 0xA0, 0x80, 0x22])) }
        let deep = String(repeating: "[", count: JSONValue.maximumDepth + 1) + String(repeating: "]", count: JSONValue.maximumDepth + 1)
        #expect(throws: JSONParseError.self) { try Self.parse(deep) }
        let allowed = String(repeating: "[", count: JSONValue.maximumDepth) + String(repeating: "]", count: JSONValue.maximumDepth)
        #expect((try? Self.parse(allowed)) != nil)
    }

    @Test("random documents round-trip through canonical JSON, as Foundation reads them too")
    func randomRoundTrips() throws {
        var generator = SeededGenerator(seed: 20_261_203)
        for _ in 0..<500 {
            let value = Self.random(depth: 0, using: &generator)
            let text = value.canonicalString
            let parsed = try Self.parse(text)
            #expect(parsed == value, "\(text)")
            #expect(parsed == (try Self.decoder.decode(JSONValue.self, from: Data(text.utf8))))
        }
    }

    static func random(depth: Int, using generator: inout SeededGenerator) -> JSONValue {
        let pick = Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2:
            return .number(
                Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) / [1, 10, 1000][Int.random(in: 0..<3, using: &generator)])
        case 3:
            let alphabet = Array("aZ09 åÄø\"\\/\n\t\u{01}😀-_")
            return .string(String((0..<Int.random(in: 0..<12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }))
        case 4: return .array((0..<Int.random(in: 0..<4, using: &generator)).map { _ in random(depth: depth + 1, using: &generator) })
        default:
            var members: [String: JSONValue] = [:]
            for n in 0..<Int.random(in: 0..<4, using: &generator) { members["k\(n)é"] = random(depth: depth + 1, using: &generator) }
            return .object(members)
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failure repeats.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
