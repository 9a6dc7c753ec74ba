/// Splits a command line into words as POSIX `sh` quoting does, without a shell (no variables, globs, pipes or
/// redirections): what the AWS CLI does to a `credential_process` value (Python's `shlex.split`). Whitespace
/// separates words; `'…'` is literal; in `"…"` a backslash escapes only `"` and `\`; outside quotes a backslash
/// escapes the next character; `#` is an ordinary character.
package enum ShellWords {
    package static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        /// True once the current word has started (so `''` gives an empty word).
        var inWord = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch character {
            case " ", "\t", "\n", "\r", "\r\n":
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
            case "'":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "'" { closed = true; break }
                    current.append(next)
                }
                guard closed else { throw CredentialsError("credential_process: no closing quotation (')") }
            case "\"":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "\"" { closed = true; break }
                    if next == "\\" {
                        guard let escaped = iterator.next() else { break }
                        if escaped != "\"" && escaped != "\\" { current.append("\\") }
                        current.append(escaped)
                        continue
                    }
                    current.append(next)
                }
                guard closed else { throw CredentialsError("credential_process: no closing quotation (\")") }
            case "\\":
                guard let escaped = iterator.next() else {
                    throw CredentialsError("credential_process: a backslash ends the command line")
                }
                inWord = true
                current.append(escaped)
            default:
                inWord = true
                current.append(character)
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
