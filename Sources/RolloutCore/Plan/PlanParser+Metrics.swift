import Foundation
import Yams

/// The reader of one metric gate: its provider and query, credentials by reference, bounds and measurement policy.
extension PlanParser.Context {
    static let metricFields = [
        "name", "provider", "url", "pointer", "query", "reduce", "auth", "max", "min",
        "interval", "count", "failureLimit", "consecutiveErrorLimit", "consecutiveSuccessLimit", "initialDelay", "dryRun",
        "region", "period", "lookback", "namespace", "metric", "dimensions", "statistic", "expression", "metrics",
        "alarms",
    ]
    /// Fields that belong to one provider only (the others' fields are refused, naming the provider they need).
    static let providerFields: [MetricProvider: Set<String>] = [
        .httpJSON: ["url", "pointer", "auth"],
        .prometheus: ["url", "query", "reduce", "auth"],
        .cloudWatch: ["url", "region", "period", "lookback", "namespace", "metric", "dimensions", "statistic",
                      "expression", "metrics", "reduce"],
        .cloudWatchAlarm: ["url", "region", "alarms"],
    ]
    /// Query parameter names that carry credentials (compared lower-cased, without `-` and `_`).
    static let secretQueryNames: Set<String> = [
        "token", "accesstoken", "apikey", "apitoken", "secret", "clientsecret", "password", "passwd", "pwd",
        "authorization", "auth", "signature", "sig", "xamzsignature", "xamzsecuritytoken", "xamzcredential",
    ]

    /// What a metric is read for: a gate judged at each measurement, or the baseline read once (no name, bounds,
    /// measurement policy or dry run; not an alarm).
    enum MetricPurpose {
        case gate, baseline
    }

    /// Fields of a metric gate that a baseline metric has no use for.
    static let gateOnlyFields: Set<String> = [
        "name", "max", "min", "interval", "count", "failureLimit", "consecutiveErrorLimit", "consecutiveSuccessLimit",
        "initialDelay", "dryRun",
    ]

    func readMetric(_ node: Node, _ field: String, purpose: MetricPurpose = .gate,
                    reader: inout PlanNodeReader) -> MetricGate? {
        guard let map = reader.mapping(node, field, allowed: Self.metricFields) else { return nil }
        var name: String?
        if purpose == .baseline {
            name = MetricGate.baselineName
            for key in Self.gateOnlyFields.sorted() where map[key] != nil {
                reader.report(map[key], "\(field).\(key)", "a baseline is read once, when the rollout is prepared, and "
                              + "judged by jobOutcomes; `\(key)` belongs to a gate under gates.metrics")
            }
        } else if let value = map["name"] {
            name = readToken(value, "\(field).name", reader: &reader)
        } else {
            reader.report(node, "\(field).name", "missing; expected a short name such as crash-rate")
        }
        var provider = MetricProvider.httpJSON
        if let value = map["provider"], let text = reader.nonEmptyString(value, "\(field).provider") {
            if let known = MetricProvider(rawValue: text) {
                provider = known
            } else {
                reader.report(value, "\(field).provider", "expected one of "
                              + MetricProvider.allCases.map(\.rawValue).joined(separator: ", ") + ", not `\(text)`")
                return nil
            }
        }
        if purpose == .baseline, provider == .cloudWatchAlarm {
            reader.report(map["provider"], "\(field).provider", "a baseline is a failure rate; an alarm gives none")
            return nil
        }
        let own = Self.providerFields[provider] ?? []
        for (key, value) in map.sorted(by: { $0.key < $1.key }) {
            let providerOnly = Self.providerFields.filter { $0.value.contains(key) }.map(\.key)
            guard !providerOnly.isEmpty, !own.contains(key) else { continue }
            let names = providerOnly.map(\.rawValue).sorted().joined(separator: " or ")
            reader.report(value, "\(field).\(key)", "`\(key)` belongs to provider \(names), not \(provider.rawValue)"
                          + (map["provider"] == nil ? " (the default; set `provider:`)" : ""))
        }
        var gate = MetricGate(name: name ?? "", url: "", pointer: "")
        gate.provider = map["provider"] == nil ? nil : provider
        readMetricEndpoint(map, field, provider: provider, into: &gate, reader: &reader)
        switch provider {
        case .httpJSON:
            if let value = map["pointer"], let text = reader.string(value, "\(field).pointer") {
                if JSONPointer.isValid(text) {
                    gate.pointer = text
                } else {
                    reader.report(value, "\(field).pointer", "expected a JSON pointer such as /data/crashRate, found `\(text)`")
                }
            }
        case .prometheus:
            if let value = map["query"], let text = reader.nonEmptyString(value, "\(field).query") {
                if let problem = MetricQueryTemplate.promQLProblem(text) {
                    reader.report(value, "\(field).query", "not valid PromQL: \(problem)")
                }
                reportUnknownPlaceholders(text, value, "\(field).query", reader: &reader)
                gate.query = text
            } else if map["query"] == nil {
                reader.report(node, "\(field).query", "missing; expected a PromQL instant query, e.g. "
                              + "sum(rate(crashes_total{version=\"${version}\"}[5m]))")
            }
        case .cloudWatch:
            gate.cloudWatch = readCloudWatchQuery(node, map, field, reader: &reader)
        case .cloudWatchAlarm:
            var query = CloudWatchMetricQuery()
            if let value = map["region"] { query.region = readRegion(value, "\(field).region", reader: &reader) }
            if let value = map["alarms"], let names = reader.stringList(value, "\(field).alarms") {
                if names.isEmpty || names.count > 100 {
                    reader.report(value, "\(field).alarms", "expected 1 to 100 alarm names")
                }
                gate.alarmNames = Array(names.prefix(100))
            } else if map["alarms"] == nil {
                reader.report(node, "\(field).alarms", "missing; expected the names of CloudWatch alarms")
            }
            gate.cloudWatch = query.region == nil ? nil : query
        }
        if let value = map["reduce"], let text = reader.nonEmptyString(value, "\(field).reduce") {
            if let reduction = SeriesReduction(rawValue: text) {
                gate.reduce = reduction
            } else {
                reader.report(value, "\(field).reduce", "expected one of "
                              + SeriesReduction.allCases.map(\.rawValue).joined(separator: ", ") + ", not `\(text)`")
            }
        }
        if let value = map["auth"] { gate.auth = readMetricAuth(value, "\(field).auth", reader: &reader) }
        guard purpose == .gate else { return name == nil ? nil : gate }
        readMetricBounds(node, map, field, provider: provider, into: &gate, reader: &reader)
        gate.measurement = readMeasurementPolicy(node, map, field, reader: &reader)
        if let value = map["dryRun"], let flag = reader.boolean(value, "\(field).dryRun") { gate.dryRun = flag ? true : nil }
        guard name != nil else { return nil }
        return gate
    }

    /// `url`: required for HTTP JSON and Prometheus; an optional endpoint override for CloudWatch.
    func readMetricEndpoint(_ map: [String: Node], _ field: String, provider: MetricProvider, into gate: inout MetricGate,
                            reader: inout PlanNodeReader) {
        let needed = provider == .httpJSON || provider == .prometheus
        guard let value = map["url"] else {
            if needed {
                let what = provider == .httpJSON ? "the URL of a JSON document" : "the Prometheus server's base URL"
                reader.report(map["name"], "\(field).url", "missing; expected \(what)")
            }
            return
        }
        guard let text = reader.nonEmptyString(value, "\(field).url") else { return }
        guard text.hasPrefix("http://") || text.hasPrefix("https://") || text.hasPrefix("sim://") else {
            reader.report(value, "\(field).url", "expected an http:// or https:// URL (or sim://… in a rehearsal), "
                          + "found `\(CredentialRedaction.url(text))`")
            return
        }
        reportUnknownPlaceholders(text, value, "\(field).url", reader: &reader)
        if !needed, text.contains("${") {
            reader.report(value, "\(field).url", "a CloudWatch endpoint takes no placeholders")
        }
        if let secret = Self.inlineSecret(inURL: text) {
            reader.report(value, "\(field).url", "\(secret) is a secret written into the plan; give it by reference "
                          + "instead (auth: {bearerTokenFile: …} or {bearerTokenEnv: …}, or auth.basic with passwordFile "
                          + "or passwordEnv)")
            return
        }
        gate.url = text
    }

    /// A password in the user info or a credential-named query parameter, in words; nil when there is none.
    static func inlineSecret(inURL text: String) -> String? {
        guard let components = URLComponents(string: text) else { return nil }
        if components.password != nil { return "the password in the URL's user info" }
        if components.user != nil { return "the URL's user info (a user name or token)" }
        for item in components.queryItems ?? [] {
            let key = item.name.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
            if secretQueryNames.contains(key) { return "the query parameter `\(item.name)`" }
        }
        return nil
    }

    func reportUnknownPlaceholders(_ text: String, _ node: Node, _ field: String, reader: inout PlanNodeReader) {
        let unknown = MetricQueryTemplate.unknownPlaceholders(in: text)
        guard let first = unknown.first else { return }
        let known = MetricQueryTemplate.placeholders.map { "${\($0)}" }.joined(separator: ", ")
        let shown = first == "${" ? "`${` without its closing }" : "unknown placeholder `${\(first)}`"
        reader.report(node, field, "\(shown); known: \(known)")
    }

    /// `max`/`min` (at least one; none for alarms, which fail while one is in ALARM).
    func readMetricBounds(_ node: Node, _ map: [String: Node], _ field: String, provider: MetricProvider,
                          into gate: inout MetricGate, reader: inout PlanNodeReader) {
        if provider == .cloudWatchAlarm {
            for key in ["max", "min"] where map[key] != nil {
                reader.report(map[key], "\(field).\(key)", "an alarm gate fails while a named alarm is in ALARM; "
                              + "it takes no `\(key)`")
            }
            gate.max = 0
            return
        }
        if let value = map["max"] { gate.max = reader.number(value, "\(field).max", range: -1e12...1e12) }
        if let value = map["min"] { gate.min = reader.number(value, "\(field).min", range: -1e12...1e12) }
        if map["max"] == nil && map["min"] == nil {
            reader.report(node, field, "expected a threshold: `max` (fail above) and/or `min` (fail below)")
        }
        if let max = gate.max, let min = gate.min, min > max {
            reader.report(node, field, "`min` (\(min)) is above `max` (\(max))")
        }
    }

    /// `interval`, `count`, `failureLimit`, `consecutiveErrorLimit`, `consecutiveSuccessLimit`, `initialDelay`; nil
    /// when none is given (the default policy).
    func readMeasurementPolicy(_ node: Node, _ map: [String: Node], _ field: String,
                               reader: inout PlanNodeReader) -> MeasurementPolicy? {
        let keys = ["interval", "count", "failureLimit", "consecutiveErrorLimit", "consecutiveSuccessLimit", "initialDelay"]
        guard keys.contains(where: { map[$0] != nil }) else { return nil }
        var policy = MeasurementPolicy()
        let limits = 0...MeasurementPolicy.limitMax
        if let value = map["interval"] {
            policy.intervalSeconds = reader.duration(value, "\(field).interval", minimumSeconds: 1, maximumSeconds: 86_400)
        }
        if let value = map["count"] {
            policy.count = reader.integer(value, "\(field).count", range: 1...MeasurementPolicy.countMax)
        }
        if let value = map["failureLimit"], let number = reader.integer(value, "\(field).failureLimit", range: limits) {
            policy.failureLimit = number
        }
        if let value = map["consecutiveErrorLimit"],
           let number = reader.integer(value, "\(field).consecutiveErrorLimit", range: limits) {
            policy.consecutiveErrorLimit = number
        }
        if let value = map["consecutiveSuccessLimit"] {
            policy.consecutiveSuccessLimit = reader.integer(value, "\(field).consecutiveSuccessLimit", range: 1...MeasurementPolicy.limitMax)
        }
        if let value = map["initialDelay"], let seconds = reader.duration(value, "\(field).initialDelay") {
            policy.initialDelaySeconds = seconds
        }
        if let count = policy.count {
            if let wanted = policy.consecutiveSuccessLimit, wanted > count {
                reader.report(map["consecutiveSuccessLimit"], "\(field).consecutiveSuccessLimit",
                              "\(wanted) successes in a row cannot happen in \(count) measurements (`count`)")
            }
            if policy.failureLimit >= count {
                reader.report(map["failureLimit"], "\(field).failureLimit", "with \(count) measurements (`count`), a "
                              + "failureLimit of \(policy.failureLimit) can never fail the gate")
            }
        }
        return policy
    }

    /// `auth`: one of `bearerTokenFile`, `bearerTokenEnv`, `basic {username, passwordFile | passwordEnv}`,
    /// `sigv4 {region, service}`. A secret written inline is an error that says how to pass it by reference.
    func readMetricAuth(_ node: Node, _ field: String, reader: inout PlanNodeReader) -> MetricAuth? {
        let inlineKeys = ["bearerToken", "token", "password", "apiKey", "secret"]
        guard case .mapping(let raw) = node else {
            reader.report(node, field, "expected a mapping such as {bearerTokenFile: /run/secrets/prometheus-token}")
            return nil
        }
        for (key, value) in raw {
            if let text = key.string, inlineKeys.contains(text) {
                reader.report(value, "\(field).\(text)", "a secret is never written in a plan: use bearerTokenFile or "
                              + "bearerTokenEnv (or basic.passwordFile / basic.passwordEnv)")
                return nil
            }
        }
        guard let map = reader.mapping(node, field, allowed: ["bearerTokenFile", "bearerTokenEnv", "basic", "sigv4"]) else {
            return nil
        }
        guard map.count == 1 else {
            reader.report(node, field, "expected one way to authenticate: bearerTokenFile, bearerTokenEnv, basic or sigv4")
            return nil
        }
        var auth = MetricAuth()
        if let value = map["bearerTokenFile"] { auth.bearerTokenFile = reader.nonEmptyString(value, "\(field).bearerTokenFile") }
        if let value = map["bearerTokenEnv"] { auth.bearerTokenEnv = readEnvName(value, "\(field).bearerTokenEnv", reader: &reader) }
        if let value = map["basic"] {
            if case .mapping(let basicRaw) = value, let secret = basicRaw.first(where: { $0.key.string == "password" }) {
                reader.report(secret.value, "\(field).basic.password", "a password is never written in a plan: use "
                              + "passwordFile or passwordEnv")
                return nil
            }
            guard let basic = reader.mapping(value, "\(field).basic", allowed: ["username", "passwordFile", "passwordEnv"])
            else { return nil }
            if let user = basic["username"] { auth.basicUsername = reader.nonEmptyString(user, "\(field).basic.username") } else {
                reader.report(value, "\(field).basic.username", "missing; expected the user name")
            }
            if let file = basic["passwordFile"] { auth.basicPasswordFile = reader.nonEmptyString(file, "\(field).basic.passwordFile") }
            if let env = basic["passwordEnv"] { auth.basicPasswordEnv = readEnvName(env, "\(field).basic.passwordEnv", reader: &reader) }
            if (basic["passwordFile"] == nil) == (basic["passwordEnv"] == nil) {
                reader.report(value, "\(field).basic", "expected one of passwordFile or passwordEnv")
            }
        }
        if let value = map["sigv4"], let sigv4 = reader.mapping(value, "\(field).sigv4", allowed: ["region", "service"]) {
            if let region = sigv4["region"] { auth.sigV4Region = readRegion(region, "\(field).sigv4.region", reader: &reader) } else {
                reader.report(value, "\(field).sigv4.region", "missing; expected the workspace's region, e.g. eu-west-1")
            }
            auth.sigV4Service = "aps"
            if let service = sigv4["service"], let text = reader.nonEmptyString(service, "\(field).sigv4.service") {
                auth.sigV4Service = text
            }
        }
        return auth
    }

    /// A variable the worker may read for a plan: `ROLLOUT_…` only, so a plan cannot name the worker's own secrets.
    func readEnvName(_ node: Node, _ field: String, reader: inout PlanNodeReader) -> String? {
        guard let text = reader.nonEmptyString(node, field) else { return nil }
        guard text.hasPrefix("ROLLOUT_"), text.count > "ROLLOUT_".count else {
            reader.report(node, field, "expected a variable named ROLLOUT_… (e.g. ROLLOUT_PROMETHEUS_TOKEN): the worker "
                          + "reads no other variable for a plan, found `\(text)`")
            return nil
        }
        let valid = text.count <= 128 && text.unicodeScalars.allSatisfy {
            ($0.properties.isASCIIHexDigit || ("A"..."Z").contains($0) || ("a"..."z").contains($0) || $0 == "_")
        } && !(text.first?.isNumber ?? true)
        guard valid else {
            reader.report(node, field, "expected an environment variable's name such as PROMETHEUS_TOKEN, found `\(text)`")
            return nil
        }
        return text
    }

    func readRegion(_ node: Node, _ field: String, reader: inout PlanNodeReader) -> String? {
        guard let text = reader.nonEmptyString(node, field) else { return nil }
        let parts = text.split(separator: "-")
        guard parts.count >= 3, text.count <= 32, parts.last?.allSatisfy(\.isNumber) == true,
              text.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
            reader.report(node, field, "expected an AWS region such as eu-west-1, found `\(text)`")
            return nil
        }
        return text
    }

    /// A metric statistic (`namespace`, `metric`, `dimensions`, `statistic`) or an `expression` over `metrics`.
    func readCloudWatchQuery(_ node: Node, _ map: [String: Node], _ field: String,
                             reader: inout PlanNodeReader) -> CloudWatchMetricQuery? {
        var query = CloudWatchMetricQuery()
        if let value = map["region"] { query.region = readRegion(value, "\(field).region", reader: &reader) }
        var lookbackGiven = false
        if let value = map["period"], let seconds = reader.duration(value, "\(field).period", minimumSeconds: 1,
                                                                      maximumSeconds: 86_400) {
            if [1, 5, 10, 30].contains(seconds) || seconds % 60 == 0 {
                query.periodSeconds = seconds
                query.lookbackSeconds = max(seconds * 3, 900)
            } else {
                reader.report(value, "\(field).period", "expected 1s, 5s, 10s, 30s or a multiple of 60s, found "
                              + DurationText.format(seconds))
            }
        }
        if let value = map["lookback"], let seconds = reader.duration(value, "\(field).lookback", minimumSeconds: 1,
                                                                        maximumSeconds: 14 * 86_400) {
            query.lookbackSeconds = seconds
            lookbackGiven = true
        }
        if lookbackGiven, query.lookbackSeconds < query.periodSeconds {
            reader.report(map["lookback"], "\(field).lookback", "shorter than the period: no datapoint could fall in it")
        }
        if let value = map["expression"] {
            if let text = reader.nonEmptyString(value, "\(field).expression") {
                reportUnknownPlaceholders(text, value, "\(field).expression", reader: &reader)
                query.expression = text
            }
            for key in ["namespace", "metric", "statistic", "dimensions"] where map[key] != nil {
                reader.report(map[key], "\(field).\(key)", "with an expression, each metric goes under `metrics` "
                              + "(id, namespace, metric, dimensions, statistic)")
            }
            if let list = map["metrics"], let items = reader.sequence(list, "\(field).metrics") {
                var ids: Set<String> = []
                for (index, item) in items.prefix(10).enumerated() {
                    if let stat = readCloudWatchStat(item, "\(field).metrics[\(index)]", id: nil, reader: &reader) {
                        if !ids.insert(stat.id).inserted {
                            reader.report(item, "\(field).metrics[\(index)].id", "duplicate id `\(stat.id)`")
                        }
                        query.metrics.append(stat)
                    }
                }
                if items.count > 10 { reader.report(list, "\(field).metrics", "at most 10 metrics per expression") }
            }
            if let expression = query.expression, let node = map["expression"] {
                let used = Self.expressionIds(expression)
                let defined = Set(query.metrics.map(\.id))
                if let unknown = used.first(where: { !defined.contains($0) }) {
                    reader.report(node, "\(field).expression", "`\(unknown)` is not the id of one of the gate's `metrics` "
                                  + "(ids: \(defined.sorted().joined(separator: ", ")))")
                } else if let unused = query.metrics.first(where: { !used.contains($0.id) }) {
                    reader.report(map["metrics"], "\(field).metrics", "`\(unused.id)` is not used by the expression")
                }
            }
            return query
        }
        if map["metrics"] != nil {
            reader.report(map["metrics"], "\(field).metrics", "`metrics` are the inputs of an `expression`; give one")
        }
        query.stat = readCloudWatchStat(node, "\(field)", id: "m1", reader: &reader, map: map)
        return query
    }

    /// The query ids a metric-math expression names: identifiers starting with a lower-case letter, outside quotes
    /// (CloudWatch's functions are upper case: `SUM`, `METRICS`, `SEARCH`).
    static func expressionIds(_ expression: String) -> [String] {
        var ids: [String] = []
        var current = ""
        var quote: Character?
        for character in expression + " " {
            if let open = quote {
                if character == open { quote = nil }
                continue
            }
            if character == "\"" || character == "'" {
                quote = character
                current = ""
                continue
            }
            if character.isLetter || character.isNumber || character == "_" {
                current.append(character)
                continue
            }
            if let first = current.first, first.isLowercase, first.isASCII, !ids.contains(current) { ids.append(current) }
            current = ""
        }
        return ids
    }

    /// One metric statistic; `map` is the gate's own mapping when the statistic is written inline in the gate.
    func readCloudWatchStat(_ node: Node, _ field: String, id fixedId: String?, reader: inout PlanNodeReader,
                            map given: [String: Node]? = nil) -> CloudWatchMetricStat? {
        let map: [String: Node]
        if let given {
            map = given
        } else {
            guard let own = reader.mapping(node, field, allowed: ["id", "namespace", "metric", "dimensions", "statistic"])
            else { return nil }
            map = own
        }
        var id = fixedId
        if fixedId == nil {
            if let value = map["id"], let text = reader.nonEmptyString(value, "\(field).id") {
                let valid = text.first.map { $0.isLowercase && $0.isASCII } == true && text.count <= 255
                    && text.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
                if valid { id = text } else {
                    reader.report(value, "\(field).id", "expected an id starting with a lower-case letter, then letters, "
                                  + "digits or _, found `\(text)`")
                }
            } else if map["id"] == nil {
                reader.report(node, "\(field).id", "missing; expected the id the expression uses, e.g. errors")
            }
        }
        var namespace: String?, metricName: String?, statistic: String?
        if let value = map["namespace"] { namespace = reader.nonEmptyString(value, "\(field).namespace") } else {
            reader.report(node, "\(field).namespace", "missing; expected a CloudWatch namespace, e.g. AWS/IoT or Fleet")
        }
        if let value = map["metric"] { metricName = reader.nonEmptyString(value, "\(field).metric") } else {
            reader.report(node, "\(field).metric", "missing; expected the metric's name")
        }
        if let value = map["statistic"], let text = reader.nonEmptyString(value, "\(field).statistic") {
            if CloudWatchMetricStat.isValidStatistic(text) {
                statistic = text
            } else {
                reader.report(value, "\(field).statistic", "expected "
                              + CloudWatchMetricStat.namedStatistics.joined(separator: ", ")
                              + " or a percentile such as p99, not `\(text)`")
            }
        } else if map["statistic"] == nil {
            reader.report(node, "\(field).statistic", "missing; expected Average, Sum, Minimum, Maximum, SampleCount or pNN")
        }
        var dimensions: [CloudWatchDimension] = []
        if let value = map["dimensions"] {
            if case .mapping(let pairs) = value {
                for (key, item) in pairs {
                    guard let name = key.string, !name.isEmpty,
                          let text = reader.nonEmptyString(item, "\(field).dimensions.\(key.string ?? "")") else { continue }
                    reportUnknownPlaceholders(text, item, "\(field).dimensions.\(name)", reader: &reader)
                    dimensions.append(CloudWatchDimension(name: name, value: text))
                }
                if dimensions.count > 30 { reader.report(value, "\(field).dimensions", "at most 30 dimensions") }
            } else {
                reader.report(value, "\(field).dimensions", "expected a mapping of dimension names to values, e.g. "
                              + "{Version: \"${version}\"}")
            }
        }
        guard let id, let namespace, let metricName, let statistic else { return nil }
        return CloudWatchMetricStat(id: id, namespace: namespace, metricName: metricName, dimensions: dimensions,
                                    statistic: statistic)
    }
}
