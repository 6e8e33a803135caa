import Foundation

/// Splits a SQL script into statements, so each can be sent with the extended protocol (which
/// takes one statement at a time). Understands quoted strings and identifiers, dollar-quoted
/// bodies (`$$ … $$`, `$fn$ … $fn$`) and comments, so semicolons inside them do not split.
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        let s = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var i = 0
        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty && !isOnlyComments(text) { statements.append(text) }
            current = String.UnicodeScalarView()
        }
        while i < s.count {
            let c = s[i]
            if c == "-", i + 1 < s.count, s[i + 1] == "-" {
                while i < s.count, s[i] != "\n" {
                    current.append(s[i])
                    i += 1
                }
                continue
            }
            if c == "/", i + 1 < s.count, s[i + 1] == "*" {
                var depth = 0
                repeat {
                    if s[i] == "/", i + 1 < s.count, s[i + 1] == "*" {
                        depth += 1
                        current.append(s[i])
                        current.append(s[i + 1])
                        i += 2
                    } else if s[i] == "*", i + 1 < s.count, s[i + 1] == "/" {
                        depth -= 1
                        current.append(s[i])
                        current.append(s[i + 1])
                        i += 2
                    } else {
                        current.append(s[i])
                        i += 1
                    }
                } while depth > 0 && i < s.count
                continue
            }
            if c == "'" || c == "\"" {
                current.append(c)
                i += 1
                while i < s.count {
                    current.append(s[i])
                    if s[i] == c {
                        if i + 1 < s.count, s[i + 1] == c {  // doubled quote
                            current.append(s[i + 1])
                            i += 2
                            continue
                        }
                        i += 1
                        break
                    }
                    i += 1
                }
                continue
            }
            if c == "$", let tag = dollarTag(s, at: i) {
                current.append(contentsOf: tag)
                i += tag.count
                while i < s.count {
                    if s[i] == "$", Array(s[i..<min(s.count, i + tag.count)]) == tag {
                        current.append(contentsOf: tag)
                        i += tag.count
                        break
                    }
                    current.append(s[i])
                    i += 1
                }
                continue
            }
            if c == ";" {
                flush()
                i += 1
                continue
            }
            current.append(c)
            i += 1
        }
        flush()
        return statements
    }

    /// The dollar-quote tag starting at `i` (`$$` or `$name$`), if one does; `$1` is a parameter.
    private static func dollarTag(_ s: [Unicode.Scalar], at i: Int) -> [Unicode.Scalar]? {
        guard i + 1 < s.count else { return nil }
        if s[i + 1] == "$" { return [s[i], s[i + 1]] }
        guard s[i + 1] == "_" || s[i + 1].properties.isAlphabetic else { return nil }
        var j = i + 1
        while j < s.count, s[j] == "_" || s[j].properties.isAlphabetic || ("0"..."9").contains(s[j]) { j += 1 }
        guard j < s.count, s[j] == "$" else { return nil }
        return Array(s[i...j])
    }

    private static func isOnlyComments(_ text: String) -> Bool {
        text.split(separator: "\n").allSatisfy {
            $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") || $0.trimmingCharacters(in: .whitespaces).isEmpty
        }
    }
}
