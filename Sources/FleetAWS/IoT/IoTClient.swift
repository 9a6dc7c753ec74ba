import Foundation
import HTTPTransport

/// The AWS IoT control-plane calls the rollout needs (REST+JSON, signing name `iot`).
///
/// List calls follow `nextToken` for at most `pageCountMax` pages and stop if a token repeats, so a server that
/// misbehaves cannot spin the loop forever.
package struct IoTClient: Sendable {
    package let client: AWSClient
    /// Bound on pages per listing: 10,000 pages of 250 = 2.5 million items.
    package var pageCountMax: Int
    package var pageSize: Int

    package init(client: AWSClient, pageCountMax: Int = 10_000, pageSize: Int = 250) {
        precondition(client.service == "iot", "IoTClient needs an iot AWSClient")
        precondition(pageCountMax >= 1 && pageSize >= 1 && pageSize <= 250, "page bounds out of range")
        self.client = client
        self.pageCountMax = pageCountMax
        self.pageSize = pageSize
    }

    /// A name as one path segment. IoT names (`[a-zA-Z0-9:_-]+`) never hold a `/`; one that did would be refused by
    /// the service, so it is sent as is rather than silently rewritten.
    static func segment(_ value: String) -> String {
        value
    }

    // MARK: - Things

    @discardableResult
    package func createThing(_ name: String, attributes: [String: String] = [:]) async throws -> IoTThing {
        struct Body: Encodable {
            struct Payload: Encodable { var attributes: [String: String] }
            var attributePayload: Payload?
        }
        return try await client.json("POST", "/things/\(IoTClient.segment(name))",
                                     body: Body(attributePayload: attributes.isEmpty ? nil : .init(attributes: attributes)),
                                     operation: "CreateThing")
    }

    package func describeThing(_ name: String) async throws -> IoTThing {
        try await client.json("GET", "/things/\(IoTClient.segment(name))", operation: "DescribeThing")
    }

    /// Thing names, all of them or those whose attribute `name` equals `value`.
    package func listThings(attributeName: String? = nil, attributeValue: String? = nil) async throws -> [String] {
        struct Page: Decodable {
            var things: [IoTThing]?
            var nextToken: String?
        }
        var query: [QueryItem] = []
        if let attributeName { query.append(QueryItem("attributeName", attributeName)) }
        if let attributeValue { query.append(QueryItem("attributeValue", attributeValue)) }
        return try await paginate(operation: "ListThings") { token in
            let page: Page = try await client.json("GET", "/things", query: query + pageQuery(token), operation: "ListThings")
            return ((page.things ?? []).map(\.thingName), page.nextToken)
        }
    }

    // MARK: - Thing groups

    @discardableResult
    package func createThingGroup(_ name: String, description: String? = nil) async throws -> IoTThingGroup {
        struct Body: Encodable {
            struct Properties: Encodable { var thingGroupDescription: String }
            var thingGroupProperties: Properties?
        }
        return try await client.json("POST", "/thing-groups/\(IoTClient.segment(name))",
                                     body: Body(thingGroupProperties: description.map { .init(thingGroupDescription: $0) }),
                                     operation: "CreateThingGroup")
    }

    package func describeThingGroup(_ name: String) async throws -> IoTThingGroup {
        try await client.json("GET", "/thing-groups/\(IoTClient.segment(name))", operation: "DescribeThingGroup")
    }

    package func deleteThingGroup(_ name: String) async throws {
        let _: EmptyResponse = try await client.json("DELETE", "/thing-groups/\(IoTClient.segment(name))",
                                                     operation: "DeleteThingGroup")
    }

    /// The body of AddThingToThingGroup and RemoveThingFromThingGroup.
    private struct GroupMembership: Encodable {
        var thingGroupName: String
        var thingName: String
    }

    package func addThingToThingGroup(thing: String, group: String) async throws {
        let _: EmptyResponse = try await client.json("PUT", "/thing-groups/addThingToThingGroup",
                                                     body: GroupMembership(thingGroupName: group, thingName: thing),
                                                     operation: "AddThingToThingGroup")
    }

    package func removeThingFromThingGroup(thing: String, group: String) async throws {
        let _: EmptyResponse = try await client.json("PUT", "/thing-groups/removeThingFromThingGroup",
                                                     body: GroupMembership(thingGroupName: group, thingName: thing),
                                                     operation: "RemoveThingFromThingGroup")
    }

    /// Names of the group's things (with `recursive`, those of its child groups too).
    package func listThingsInThingGroup(_ group: String, recursive: Bool = false) async throws -> [String] {
        struct Page: Decodable {
            var things: [String]?
            var nextToken: String?
        }
        let base = recursive ? [QueryItem("recursive", "true")] : []
        return try await paginate(operation: "ListThingsInThingGroup") { token in
            let page: Page = try await client.json("GET", "/thing-groups/\(IoTClient.segment(group))/things",
                                                   query: base + pageQuery(token), operation: "ListThingsInThingGroup")
            return (page.things ?? [], page.nextToken)
        }
    }

    /// Names of the thing groups whose name starts with `namePrefix` (all groups, child groups included).
    package func listThingGroups(namePrefix: String) async throws -> [String] {
        struct Page: Decodable {
            struct Group: Decodable { var groupName: String }
            var thingGroups: [Group]?
            var nextToken: String?
        }
        return try await paginate(operation: "ListThingGroups") { token in
            let page: Page = try await client.json("GET", "/thing-groups",
                                                   query: [QueryItem("namePrefixFilter", namePrefix)] + pageQuery(token),
                                                   operation: "ListThingGroups")
            return ((page.thingGroups ?? []).map(\.groupName), page.nextToken)
        }
    }

    /// Names of the groups `thing` belongs to (static and dynamic).
    package func listThingGroupsForThing(_ thing: String) async throws -> [String] {
        struct Page: Decodable {
            struct Group: Decodable { var groupName: String }
            var thingGroups: [Group]?
            var nextToken: String?
        }
        return try await paginate(operation: "ListThingGroupsForThing") { token in
            let page: Page = try await client.json("GET", "/things/\(IoTClient.segment(thing))/thing-groups",
                                                   query: pageQuery(token), operation: "ListThingGroupsForThing")
            return ((page.thingGroups ?? []).map(\.groupName), page.nextToken)
        }
    }

    // MARK: - Jobs

    /// Summaries of the account's jobs in `status` (all jobs when nil).
    package func listJobs(status: String? = nil) async throws -> [IoTJobSummary] {
        struct Page: Decodable {
            var jobs: [IoTJobSummary]?
            var nextToken: String?
        }
        let base = status.map { [QueryItem("status", $0)] } ?? []
        return try await paginate(operation: "ListJobs") { token in
            let page: Page = try await client.json("GET", "/jobs", query: base + pageQuery(token), operation: "ListJobs")
            return (page.jobs ?? [], page.nextToken)
        }
    }

    @discardableResult
    package func createJob(_ jobId: String, _ request: IoTCreateJobRequest) async throws -> String? {
        struct Answer: Decodable { var jobArn: String? }
        let answer: Answer = try await client.json("PUT", "/jobs/\(IoTClient.segment(jobId))", body: request,
                                                   operation: "CreateJob")
        return answer.jobArn
    }

    package func describeJob(_ jobId: String) async throws -> IoTDescribeJobResponse {
        try await client.json("GET", "/jobs/\(IoTClient.segment(jobId))", operation: "DescribeJob")
    }

    /// A job template's document (DescribeJobTemplate); nil when it has none inline.
    package func jobTemplateDocument(_ templateId: String) async throws -> String? {
        struct Answer: Decodable { var document: String? }
        let answer: Answer = try await client.json("GET", "/job-templates/\(IoTClient.segment(templateId))",
                                                   operation: "DescribeJobTemplate")
        return answer.document
    }

    /// The job document as created (placeholders not substituted).
    package func getJobDocument(_ jobId: String) async throws -> String? {
        struct Answer: Decodable { var document: String? }
        let answer: Answer = try await client.json("GET", "/jobs/\(IoTClient.segment(jobId))/job-document",
                                                   query: [QueryItem("beforeSubstitution", "true")],
                                                   operation: "GetJobDocument")
        return answer.document
    }

    /// Executions of the job, all or those in `status`.
    package func listJobExecutionsForJob(_ jobId: String, status: String? = nil) async throws -> [IoTJobExecutionSummary] {
        struct Page: Decodable {
            var executionSummaries: [IoTJobExecutionSummary]?
            var nextToken: String?
        }
        let base = status.map { [QueryItem("status", $0)] } ?? []
        return try await paginate(operation: "ListJobExecutionsForJob") { token in
            let page: Page = try await client.json("GET", "/jobs/\(IoTClient.segment(jobId))/things",
                                                   query: base + pageQuery(token, maximum: 100),
                                                   operation: "ListJobExecutionsForJob")
            return (page.executionSummaries ?? [], page.nextToken)
        }
    }

    package func describeJobExecution(jobId: String, thing: String) async throws -> IoTJobExecution {
        struct Answer: Decodable { var execution: IoTJobExecution }
        let answer: Answer = try await client.json(
            "GET", "/things/\(IoTClient.segment(thing))/jobs/\(IoTClient.segment(jobId))", operation: "DescribeJobExecution")
        return answer.execution
    }

    package func cancelJob(_ jobId: String, reasonCode: String?, comment: String?, force: Bool) async throws {
        struct Body: Encodable {
            var reasonCode: String?
            var comment: String?
        }
        let query = force ? [QueryItem("force", "true")] : []
        let _: EmptyResponse = try await client.json("PUT", "/jobs/\(IoTClient.segment(jobId))/cancel", query: query,
                                                     body: Body(reasonCode: reasonCode, comment: comment),
                                                     operation: "CancelJob")
    }

    package func cancelJobExecution(jobId: String, thing: String, force: Bool) async throws {
        let query = force ? [QueryItem("force", "true")] : []
        let _: EmptyResponse = try await client.json(
            "PUT", "/things/\(IoTClient.segment(thing))/jobs/\(IoTClient.segment(jobId))/cancel", query: query,
            operation: "CancelJobExecution")
    }

    package func deleteJobExecution(jobId: String, thing: String, executionNumber: Int64, force: Bool) async throws {
        let query = force ? [QueryItem("force", "true")] : []
        let _: EmptyResponse = try await client.json(
            "DELETE",
            "/things/\(IoTClient.segment(thing))/jobs/\(IoTClient.segment(jobId))/executionNumber/\(executionNumber)",
            query: query, operation: "DeleteJobExecution")
    }

    package func deleteJob(_ jobId: String, force: Bool) async throws {
        let query = force ? [QueryItem("force", "true")] : []
        let _: EmptyResponse = try await client.json("DELETE", "/jobs/\(IoTClient.segment(jobId))", query: query,
                                                     operation: "DeleteJob")
    }

    // MARK: - Pagination

    func pageQuery(_ token: String?, maximum: Int = 250) -> [QueryItem] {
        var items = [QueryItem("maxResults", String(min(pageSize, maximum)))]
        if let token { items.append(QueryItem("nextToken", token)) }
        return items
    }

    /// Follows `nextToken` until it is absent, at most `pageCountMax` pages; a repeated token is an error.
    func paginate<Item>(operation: String, page: (String?) async throws -> ([Item], String?)) async throws -> [Item] {
        var items: [Item] = []
        var token: String?
        var seenTokens: Set<String> = []
        for _ in 0..<pageCountMax {
            let (pageItems, next) = try await page(token)
            items.append(contentsOf: pageItems)
            guard let next, !next.isEmpty else { return items }
            guard seenTokens.insert(next).inserted else {
                throw AWSError(code: "InvalidResponse", message: "\(operation) repeated nextToken \(next)", status: 200)
            }
            token = next
        }
        throw AWSError(code: "TooManyPages", message: "\(operation) returned more than \(pageCountMax) pages", status: 200)
    }

    /// `arn:aws:iot:<region>:<account>:thing/<name>` → `<name>` (a bare name stays as is).
    package static func thingName(fromArn arn: String) -> String {
        guard let range = arn.range(of: ":thing/") else { return arn }
        return String(arn[range.upperBound...])
    }
}
