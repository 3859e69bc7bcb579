public import NodalJSON

/// What the run service offers, one method per operation of Stepflow's REST API
/// (`../shared/reference/stepflow/openapi.yaml`, served as Nodal's at `/api/v1/openapi.json`) and of
/// the seed's JSON-RPC (`runs/submit`, `runs/get`). Requests and replies are JSON in the spec's
/// shapes (camelCase fields, `EXECUTION_STATUS_*` statuses), so the HTTP layer only moves them:
/// it parses paths and queries, bounds bodies, checks tokens and frames events.
///
/// Every method either returns the reply's body or throws a `ServiceError` naming the field.
/// ``RunService`` is the implementation; tests of the HTTP layer may use their own.
public protocol RunAPI: Sendable {
    // MARK: Flows (stored as content-addressed flow blobs)

    /// `POST /flows`: `{flow, dryRun?}` → `{flowId, stored, diagnostics}`.
    func storeFlow(_ request: JSON) async throws(ServiceError) -> JSON
    /// `GET /flows/{flowId}` → `{flowId, flow, allExamples}`.
    func flow(id: String) async throws(ServiceError) -> JSON
    /// `DELETE /flows/{flowId}` → `{}`.
    func deleteFlow(id: String) async throws(ServiceError) -> JSON
    /// `GET /flows/{flowId}/variables` → `{flowId, variables}`.
    func flowVariables(id: String) async throws(ServiceError) -> JSON

    // MARK: Runs

    /// `POST /runs`: `{flowId, input: [..], overrides?, variables?, maxConcurrency?, wait?,
    /// timeoutSecs?}` → `{summary, results?}`. With `wait`, returns when the run ended or the wait
    /// (bounded by the service's limits) ran out, whichever is first.
    func createRun(_ request: JSON) async throws(ServiceError) -> JSON
    /// `GET /runs/{runId}` → `{summary, steps}`; with `wait`, once the run ended or `timeout` passed.
    func run(id: String, wait: Bool, timeout: Duration?) async throws(ServiceError) -> JSON
    /// `GET /runs` → `{runs: [RunSummary]}`, newest first.
    func listRuns(_ query: RunQuery) async throws(ServiceError) -> JSON
    /// `DELETE /runs/{runId}` → `{}`; refused (409) while the run is still going.
    func deleteRun(id: String) async throws(ServiceError) -> JSON
    /// `POST /runs/{runId}/cancel` → `{summary}`.
    func cancelRun(id: String) async throws(ServiceError) -> JSON
    /// `POST /runs/{runId}/resume` (Nodal): answers a paused run. `{values: {key: value}}`, or
    /// `{value}` for the one key the run waits for → `{summary, results?}` like `createRun`.
    func resumeRun(id: String, _ request: JSON) async throws(ServiceError) -> JSON
    /// `GET /runs/{runId}/items` → `{results: [ItemResult]}` in the order asked
    /// (`RESULT_ORDER_BY_INDEX`, the default, or `RESULT_ORDER_BY_COMPLETION`).
    func items(runID: String, order: String?) async throws(ServiceError) -> JSON
    /// `GET /runs/{runId}/steps` → `{steps: [StepStatus]}` (every item's, or one item's).
    func steps(runID: String, itemIndex: Int?) async throws(ServiceError) -> JSON
    /// `GET /runs/{runId}/steps/{stepId}` → `{step: StepStatus}`.
    func step(runID: String, stepID: String, itemIndex: Int?) async throws(ServiceError) -> JSON
    /// `GET /runs/{runId}/flow` → `{flowId, flow}`.
    func runFlow(runID: String) async throws(ServiceError) -> JSON
    /// `GET /runs/{runId}/events`: the run's journal from `subscription.after` on, then live
    /// events as they happen; the sequence ends after the run's `run_completed` event (at once
    /// for a run that already ended, after its journal). Throws before the first event for an
    /// unknown run.
    func events(runID: String, _ subscription: EventSubscription) async throws(ServiceError) -> AsyncStream<ServiceEvent>

    // MARK: Blobs

    /// `POST /blobs`: `{jsonData | rawData (base64), blobType?, filename?, contentType?}` → `{blobId, filename?}`.
    func putBlob(_ request: JSON) async throws(ServiceError) -> JSON
    /// `GET /blobs/{blobId}` → `{blobId, blobType, jsonData | rawData, contentType?, filename?}`.
    func blob(id: String) async throws(ServiceError) -> JSON

    // MARK: Components and health

    /// `GET /components` → `{components: [ComponentInfoEntry], complete, failedPlugins}`.
    func components(excludeSchemas: Bool) async throws(ServiceError) -> JSON
    /// `GET /health` → `{status, timestamp, build}`.
    func health() async -> JSON

    // MARK: JSON-RPC (seed 002): params in, result out

    /// `runs/submit`: `{flowId, inputs, wait?, maxConcurrency?, overrides?, observability?}` → the run status.
    func submit(_ params: JSON) async throws(ServiceError) -> JSON
    /// `runs/get`: `{runId, wait?, includeResults?, resultOrder?, observability?}` → the run status.
    func status(_ params: JSON) async throws(ServiceError) -> JSON
}
