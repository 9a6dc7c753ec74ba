/// Masks the credentials that URLs carry, for everything that leaves the worker for people: API responses, the
/// status page, log lines.
///
/// Plans put secrets into URLs: a metric source read with `https://user:password@host/…?apiKey=…`, a Slack-style
/// webhook whose path *is* the secret. What is stored and what the engine uses keep the real URLs; only the edges
/// show these masked forms. Pure (text in, text out), and idempotent: masking a masked text changes nothing.
///
/// - any URL (`url`): user info → `***`, every query value → `***` (names kept, so a reader still sees which
///   parameters are set), a fragment → `***`.
/// - a webhook URL (`webhookURL`): scheme, host and port only, the path replaced by `/***`.
/// - free text (`text`): every `scheme://…` URL found in it, masked as any URL.
package enum CredentialRedaction {
    /// What replaces a secret.
    package static let mask = "***"

    /// `https://user:pw@host:8443/path?apiKey=k&window=5m#frag` → `https://***@host:8443/path?apiKey=***&window=***#***`.
    /// Text without `scheme://` is treated as a path with an optional query.
    package static func url(_ text: String) -> String {
        let parts = URLParts(text)
        var result = ""
        if let scheme = parts.scheme { result += scheme + "://" }
        if parts.userInfo != nil { result += mask + "@" }
        result += parts.hostAndPort + parts.path
        if let query = parts.query { result += "?" + maskQuery(query) }
        if let fragment = parts.fragment { result += "#" + (fragment.isEmpty ? "" : mask) }
        return result
    }

    /// `https://hooks.slack.com/services/T000/B000/XXX` → `https://hooks.slack.com/***`: the host tells a reader
    /// where notifications go; everything after it may be the secret. Text without `scheme://host` becomes `***`.
    package static func webhookURL(_ text: String) -> String {
        let parts = URLParts(text)
        guard let scheme = parts.scheme, !parts.hostAndPort.isEmpty else { return mask }
        return "\(scheme)://\(parts.hostAndPort)/\(mask)"
    }

    /// Free text (an error message, a reason someone typed) with every `scheme://…` URL in it masked as `url` does.
    /// A URL ends at whitespace, a quote or an angle bracket; trailing sentence punctuation stays outside it.
    package static func text(_ text: String) -> String {
        guard text.contains("://") else { return text }
        let characters = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < characters.count {
            guard let (start, end) = urlRange(in: characters, schemeSeparatorFrom: index) else {
                result.append(contentsOf: characters[index...])
                break
            }
            result.append(contentsOf: characters[index..<start])
            let found = String(String.UnicodeScalarView(characters[start..<end]))
            result.append(contentsOf: url(found).unicodeScalars)
            index = end
        }
        return String(result)
    }

    /// The plan as shown to people: metric URLs (the plan's and each stage's) masked as URLs, webhooks as webhooks.
    package static func plan(_ plan: RolloutPlan) -> RolloutPlan {
        var shown = plan
        shown.gates = gates(plan.gates)
        shown.canary.gates = plan.canary.gates.map(gates)
        for index in shown.waves.indices {
            shown.waves[index].gates = plan.waves[index].gates.map(gates)
        }
        shown.notifications = plan.notifications.map { WebhookTarget(url: webhookURL($0.url)) }
        return shown
    }

    /// Gate criteria as shown to people: metric URLs masked.
    package static func gates(_ gates: GateSet) -> GateSet {
        var shown = gates
        for index in shown.metrics.indices {
            shown.metrics[index].url = url(gates.metrics[index].url)
        }
        return shown
    }

    // MARK: parts

    /// `name=value` → `name=***`; an item without `=` may itself be a token (`?s3cr3t`), so it is masked whole.
    static func maskQuery(_ query: Substring) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { item -> String in
            if item.isEmpty { return "" }
            guard let equals = item.firstIndex(of: "=") else { return mask }
            return String(item[..<equals]) + "=" + mask
        }.joined(separator: "&")
    }

    /// The next URL in `characters` at or after `from`: the start of its scheme and the end of the URL, or nil.
    static func urlRange(in characters: [Unicode.Scalar], schemeSeparatorFrom from: Int) -> (Int, Int)? {
        var separator = from
        while separator + 2 < characters.count {
            defer { separator += 1 }
            guard characters[separator] == ":", characters[separator + 1] == "/", characters[separator + 2] == "/" else {
                continue
            }
            var start = separator
            while start > from, isSchemeCharacter(characters[start - 1]) { start -= 1 }
            // A scheme starts with a letter (RFC 3986); `://` alone or after digits is not a URL.
            while start < separator, !characters[start].properties.isAlphabetic { start += 1 }
            guard start < separator else { continue }
            var end = separator + 3
            while end < characters.count, !endsURL(characters[end]) { end += 1 }
            while end > separator + 3, ".,;:!?)]}".unicodeScalars.contains(characters[end - 1]) { end -= 1 }
            return (start, end)
        }
        return nil
    }

    static func isSchemeCharacter(_ character: Unicode.Scalar) -> Bool {
        character.isASCII && (character.properties.isAlphabetic || ("0"..."9").contains(character)
            || character == "+" || character == "-" || character == ".")
    }

    static func endsURL(_ character: Unicode.Scalar) -> Bool {
        character.properties.isWhitespace || "\"'<>`".unicodeScalars.contains(character)
    }
}

/// A URL cut into the pieces `CredentialRedaction` masks, by RFC 3986's delimiters only (no percent-decoding,
/// no normalization): what is not a secret is shown exactly as written.
private struct URLParts {
    var scheme: String?
    var userInfo: Substring?
    var hostAndPort: Substring = ""
    var path: Substring = ""
    var query: Substring?
    var fragment: Substring?

    init(_ text: String) {
        var rest = Substring(text)
        if let separator = rest.range(of: "://"), !rest[..<separator.lowerBound].isEmpty,
           rest[..<separator.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) {
            scheme = String(rest[..<separator.lowerBound])
            rest = rest[separator.upperBound...]
            let authorityEnd = rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                userInfo = authority[..<at]
                hostAndPort = authority[authority.index(after: at)...]
            } else {
                hostAndPort = authority
            }
            rest = rest[authorityEnd...]
        }
        if let hash = rest.firstIndex(of: "#") {
            fragment = rest[rest.index(after: hash)...]
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        path = rest
    }
}
