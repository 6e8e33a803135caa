/// Masks personal identity numbers in text bound for logs: Swedish personnummer (10 or 12
/// digits, optional `-` or `+`), Norwegian fødselsnummer/D-number (11 digits) and Danish CPR
/// (10 digits, optional `-`). Any run of 10–12 digits, with or without such a separator, is
/// masked: that also hides organisation numbers, which is the safe side to err on.
public enum IdentityRedaction {
    /// `text` with every identity-number-like run replaced by `*` of the same length, keeping the last two digits' places masked too.
    public static func redact(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count >= 10 else { return text }
        var output = bytes
        var index = 0
        var changed = false
        while index < bytes.count {
            guard isDigit(bytes[index]) else {
                index += 1
                continue
            }
            // A run of digits, allowing one separator after six or eight digits.
            var end = index
            var digits = 0
            while end < bytes.count {
                if isDigit(bytes[end]) {
                    digits += 1
                    end += 1
                } else if (bytes[end] == UInt8(ascii: "-") || bytes[end] == UInt8(ascii: "+")) && (digits == 6 || digits == 8)
                    && end + 1 < bytes.count && isDigit(bytes[end + 1])
                {
                    end += 1
                } else {
                    break
                }
            }
            if (10...12).contains(digits) {
                for position in index..<end where isDigit(bytes[position]) { output[position] = UInt8(ascii: "*") }
                changed = true
            }
            index = end
        }
        return changed ? String(decoding: output, as: UTF8.self) : text
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}
