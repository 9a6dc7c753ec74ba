import ArgumentParser
import Engine
import Foundation
import HTTPTransport
import RolloutCore

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a plan to a running worker. The same plan text is the same rollout: submitting twice is safe.",
        discussion: """
            The plan is validated locally first (exit 65 with every problem), then sent to the worker. A plan whose \
            release already rolls out on the same fleet under another rollout (an edited plan) is refused with \
            exit 4, naming that rollout, unless --supersede: the worker then aborts it (recorded as superseded) \
            before starting this one.
            """
    )

    @Argument(help: "The plan file.")
    var plan: String

    @Flag(help: "Abort a live rollout of the same release on the same fleet, and start this one instead.")
    var supersede = false

    @OptionGroup var serverOptions: ServerOptions

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        let loaded = try LoadedPlan.load(plan)
        try await Self.send(source: loaded.source, planPath: plan, client: serverOptions.client(), output: output,
                            supersede: supersede)
    }

    /// Sends the plan text unchanged (its hash is the rollout id) with its file name and absolute directory, so a
    /// worker on the same machine resolves relative artifact paths as `rollout validate` did.
    static func send(source: String, planPath: String, client: WorkerClient, output: OutputFormat,
                     supersede: Bool) async throws {
        let absolute = URL(fileURLWithPath: planPath).standardizedFileURL
        var query = URLComponents()
        query.queryItems = [URLQueryItem(name: "file", value: absolute.lastPathComponent),
                            URLQueryItem(name: "baseDirectory", value: absolute.deletingLastPathComponent().path)]
        if supersede { query.queryItems?.append(URLQueryItem(name: "supersede", value: "true")) }
        do {
            let answer = try await client.send("POST", "/v1/rollouts?\(query.percentEncodedQuery ?? "")",
                                               body: Data(source.utf8), contentType: "application/yaml")
            if output == .json {
                let data = try JSONSerialization.data(withJSONObject: answer, options: [.prettyPrinted, .sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let object = answer as? [String: Any] ?? [:]
            let id = object["id"] as? String ?? "?"
            let created = object["created"] as? Bool ?? false
            print(created ? "submitted \(id)" : "already submitted: \(id) (\(object["phase"] as? String ?? "?"))")
        } catch let failure as WorkerClient.Failure {
            Console.error("error: \(failure)")
            throw failure.exitCode
        }
    }
}

struct EnqueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "For CI on a tag push: fill a plan template and submit it. The same tag twice is the same rollout.",
        discussion: """
            The template may use ${TAG} (the tag as given), ${VERSION} (the tag without a leading `v`), \
            ${VERSION_ID} (the version with every character a plan name does not allow turned into `-`: \
            `name: sensor-fw-${VERSION_ID}` names the rollout of 2.1.0 sensor-fw-2-1-0) and any ${KEY} given with \
            --set KEY=VALUE. An unknown ${NAME} is an error. The filled plan is validated (exit 65 if it is not \
            valid, failing the CI job), then submitted; its text (and so its rollout id) depends only on the \
            template and the values.
            """
    )

    @Option(help: "The plan template.")
    var template: String

    @Option(help: "The pushed tag, e.g. v2.1.0.")
    var tag: String

    @Option(name: .customLong("set"), help: "KEY=VALUE to fill ${KEY}; repeatable.")
    var values: [String] = []

    @Flag(help: "Print the filled plan and validate it, without submitting.")
    var dryRun = false

    @Flag(help: "Abort a live rollout of the same release on the same fleet (e.g. the tag's earlier, edited plan).")
    var supersede = false

    @OptionGroup var serverOptions: ServerOptions

    @Option(help: "text or json.")
    var output: OutputFormat = .text

    func run() async throws {
        let text: String
        do {
            text = try PlanFile.readText(atPath: template)
        } catch {
            Console.error(error.description)
            throw ExitCode(ExitStatus.invalidInput)
        }
        let version = tag.hasPrefix("v") ? String(tag.dropFirst()) : tag
        let versionId = String(version.unicodeScalars.map { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-")
                ? Character(scalar) : "-"
        })
        var substitutions = ["TAG": tag, "VERSION": version, "VERSION_ID": versionId]
        for pair in values {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--set expects KEY=VALUE, found `\(pair)`")
            }
            substitutions[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        let filled: String
        do {
            filled = try TemplateFilling.fill(text, values: substitutions)
        } catch {
            Console.error("\(template): \(error)")
            throw ExitCode(ExitStatus.invalidInput)
        }
        let directory = (template as NSString).deletingLastPathComponent
        do {
            _ = try PlanParser.parse(filled, file: "\(template) (tag \(tag))", baseDirectory: directory.isEmpty ? "." : directory)
        } catch {
            Console.error(error.description)
            throw ExitCode(ExitStatus.invalidInput)
        }
        if dryRun {
            print(filled)
            return
        }
        try await SubmitCommand.send(source: filled, planPath: template, client: serverOptions.client(), output: output,
                                     supersede: supersede)
    }
}

/// `${NAME}` substitution for plan templates. The metric gates' own placeholders (`${stage}`, `${rolloutId}`,
/// `${version}`: `MetricQueryTemplate`) belong to the worker, which fills them per measurement: they stay as written.
enum TemplateFilling {
    struct UnknownName: Error, CustomStringConvertible {
        var name: String
        var line: Int
        var description: String { "line \(line): ${\(name)} has no value (use --set \(name)=VALUE)" }
    }

    static func fill(_ text: String, values: [String: String]) throws -> String {
        var result = ""
        var line = 1
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "$", text[index...].hasPrefix("${"),
               let close = text[index...].firstIndex(of: "}") {
                let name = String(text[text.index(index, offsetBy: 2)..<close])
                if MetricQueryTemplate.placeholders.contains(name) {
                    result += "${\(name)}"
                    index = text.index(after: close)
                    continue
                }
                guard let value = values[name] else { throw UnknownName(name: name, line: line) }
                result += value
                index = text.index(after: close)
                continue
            }
            if character == "\n" { line += 1 }
            result.append(character)
            index = text.index(after: index)
        }
        return result
    }
}
