/// The OpenAPI 3.0.3 document of what this server answers, served at `/api/v1/openapi.json`.
/// Kept in the source so an installed `nodal` (one executable, no resource bundle) serves it.
/// Schemas marked `x-nodal-limit` get this server's own limits when it is served
/// (`OpenAPIDocument.served(limits:)`). `OpenAPIDocumentTests` holds it to the router's routes
/// and the query parameters' enums.
extension OpenAPIDocument {
    static let template = #"""
{
  "openapi": "3.0.3",
  "info": {
    "title": "Nodal run service",
    "description": "nodal serve: runs of stored flows over lists of inputs, tracked and resumable, with Stepflow's REST API (same paths, parameters and shapes, so its clients work), JSON-RPC for runs/submit and runs/get, and Nodal's additions: answering paused runs, items' execution times and error details, paused counts and events. Every refusal is a JSON Error naming the field at fault. When the server has a token, every operation but /health needs Authorization: Bearer <token>.",
    "license": {
      "name": "Apache-2.0",
      "url": "https://www.apache.org/licenses/LICENSE-2.0"
    },
    "version": "0.1.0"
  },
  "servers": [
    {
      "url": "/api/v1",
      "description": "This server"
    }
  ],
  "tags": [
    {
      "name": "Flows",
      "description": "Flows stored by content: the id is the SHA-256 of the flow."
    },
    {
      "name": "Runs",
      "description": "Runs of stored flows, each over a list of inputs (items)."
    },
    {
      "name": "Blobs",
      "description": "Content-addressed JSON and binary data."
    },
    {
      "name": "Components",
      "description": "What flow steps can use."
    },
    {
      "name": "Health",
      "description": "Whether the server is up, and this document."
    },
    {
      "name": "JSON-RPC",
      "description": "The run methods as JSON-RPC 2.0."
    }
  ],
  "paths": {
    "/flows": {
      "post": {
        "tags": [
          "Flows"
        ],
        "summary": "Store a flow",
        "description": "Checks a flow and stores it under the SHA-256 of its content; the same flow always gets the same id. Fatal findings (or dryRun) leave it unstored, with the findings in diagnostics.",
        "operationId": "storeFlow",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/StoreFlowRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/StoreFlowResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/PayloadTooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/flows/{flowId}": {
      "get": {
        "tags": [
          "Flows"
        ],
        "summary": "Read a stored flow",
        "description": "The flow stored under this id, with its example inputs.",
        "operationId": "getFlow",
        "parameters": [
          {
            "name": "flowId",
            "in": "path",
            "required": true,
            "description": "A stored flow's id.",
            "schema": {
              "type": "string",
              "pattern": "^(sha256:)?[0-9a-fA-F]{64}$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GetFlowResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      },
      "delete": {
        "tags": [
          "Flows"
        ],
        "summary": "Delete a stored flow",
        "description": "Removes the flow; runs that used it keep their copy.",
        "operationId": "deleteFlow",
        "parameters": [
          {
            "name": "flowId",
            "in": "path",
            "required": true,
            "description": "A stored flow's id.",
            "schema": {
              "type": "string",
              "pattern": "^(sha256:)?[0-9a-fA-F]{64}$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DeleteFlowResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/flows/{flowId}/variables": {
      "get": {
        "tags": [
          "Flows"
        ],
        "summary": "A flow's variables",
        "description": "The variables the flow reads, with their schemas and defaults, without the rest of the flow.",
        "operationId": "getFlowVariables",
        "parameters": [
          {
            "name": "flowId",
            "in": "path",
            "required": true,
            "description": "A stored flow's id.",
            "schema": {
              "type": "string",
              "pattern": "^(sha256:)?[0-9a-fA-F]{64}$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GetFlowVariablesResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/runs": {
      "get": {
        "tags": [
          "Runs"
        ],
        "summary": "List runs",
        "description": "Runs newest first, filtered and paged as the parameters say.",
        "operationId": "listRuns",
        "parameters": [
          {
            "name": "status",
            "in": "query",
            "description": "Only runs in this state (UNSPECIFIED: any).",
            "schema": {
              "type": "string",
              "enum": [
                "EXECUTION_STATUS_UNSPECIFIED",
                "EXECUTION_STATUS_RUNNING",
                "EXECUTION_STATUS_COMPLETED",
                "EXECUTION_STATUS_FAILED",
                "EXECUTION_STATUS_CANCELLED",
                "EXECUTION_STATUS_PAUSED",
                "EXECUTION_STATUS_RECOVERY_FAILED"
              ]
            }
          },
          {
            "name": "flowName",
            "in": "query",
            "description": "Only runs of flows with this name.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "rootRunId",
            "in": "query",
            "description": "Only this run and the sub-runs under it.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "parentRunId",
            "in": "query",
            "description": "Only sub-runs submitted by this run.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "rootsOnly",
            "in": "query",
            "description": "Only runs that are not sub-runs.",
            "schema": {
              "type": "boolean"
            }
          },
          {
            "name": "maxDepth",
            "in": "query",
            "description": "Only runs at most this deep among sub-runs (0: top-level runs).",
            "schema": {
              "type": "integer",
              "format": "uint32",
              "minimum": 0,
              "maximum": 4294967295
            }
          },
          {
            "name": "limit",
            "in": "query",
            "description": "At most this many runs (1 to 1000).",
            "schema": {
              "type": "integer",
              "format": "uint32",
              "minimum": 1,
              "maximum": 1000
            }
          },
          {
            "name": "offset",
            "in": "query",
            "description": "Skip this many runs first.",
            "schema": {
              "type": "integer",
              "format": "uint32",
              "minimum": 0,
              "maximum": 4294967295
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ListRunsResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      },
      "post": {
        "tags": [
          "Runs"
        ],
        "summary": "Run a flow",
        "description": "Starts a run of a stored flow over a list of inputs, one item each. Answers at once with the run's summary, or with wait=true once it ended (with every item's result) or the wait ran out.",
        "operationId": "createRun",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CreateRunRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/CreateRunResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/PayloadTooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/runs/{runId}": {
      "get": {
        "tags": [
          "Runs"
        ],
        "summary": "Read a run",
        "description": "The run's summary and its steps; with wait=true, once it ended or timeoutSecs passed.",
        "operationId": "getRun",
        "parameters": [
          {
            "name": "runId",
            "in": "path",
            "required": true,
            "description": "The run's id.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "wait",
            "in": "query",
            "description": "Answer once the run ended.",
            "schema": {
              "type": "boolean"
            }
          },
          {
            "name": "timeoutSecs",
            "in": "query",
            "description": "The longest wait in seconds: at most the server's --max-wait.",
            "schema": {
              "type": "string",
              "x-nodal-limit": "maxWaitSecondsDigits"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GetRunResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      },
      "delete": {
        "tags": [
          "Runs"
        ],
        "summary": "Delete a run",
        "description": "Removes a run that ended, with its items and journal.",
        "operationId": "deleteRun",
        "parameters": [
          {
            "name": "runId",
            "in": "path",
            "required": true,
            "description": "The run's id.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DeleteRunResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/runs/{runId}/cancel": {
      "post": {
        "tags": [
          "Runs"
        ],
        "summary": "Cancel a run",
        "description": "Stops the run's items that are still going; it ends CANCELLED.",
        "operationId": "cancelRun",
        "parameters": [
          {
            "name": "runId",
            "in": "path",
            "required": true,
            "description": "The run's id.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/CancelRunResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/runs/{runId}/resume": {
      "post": {
        "tags": [
          "Runs"
        ],
        "summary": "Answer a paused run",
        "description": "Nodal: gives the answer a paused run waits for (an interrupt step), and its items go on.",
        "operationId": "resumeRun",
        "parameters": [
          {
            "name": "runId",
            "in": "path",
            "required": true,
            "description": "The run's id.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ResumeRunRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/CreateRunResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/PayloadTooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/runs/{runId}/events": {
      "get": {
        "tags": [
          "Runs"
        ],
        "summary": "Follow a run's events",
        "description": "The run's journal from the start (or after since / Last-Event-ID), then its events as they happen, as server-sent events. Each event has id (the sequence number), event (its name) and data (a StatusEvent as JSON). A comment line ': keepalive' comes after 15 s without events. The stream ends after run_completed.",
        "operationId": "getRunStatusStream",
        "parameters": [
          {
            "name": "runId",
            "in": "path",
            "required": true,
            "description": "The run's id.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "since",
            "in": "query",
            "description": "Only events after this sequence number (a reconnecting client's Last-Event-ID header wins). At most 19 digits; a longer one is refused (400).",
            "schema": {
              "type": "string",
              "pattern": "^[0-9]+$",
              "maxLength": 19
            }
          },
          {
            "name": "eventTypes",
            "in": "query",
            "description": "Only these kinds of event; repeat the parameter or separate with commas. None: every kind.",
            "schema": {
              "type": "array",
              "items": {
                "type": "string",
                "enum": [
                  "STATUS_EVENT_TYPE_UNSPECIFIED",
                  "STATUS_EVENT_TYPE_RUN_CREATED",
                  "STATUS_EVENT_TYPE_STEP_STARTED",
                  "STATUS_EVENT_TYPE_STEP_COMPLETED",
                  "STATUS_EVENT_TYPE_STEP_READY",
                  "STATUS_EVENT_TYPE_ITEM_COMPLETED",
                  "STATUS_EVENT_TYPE_RUN_COMPLETED",
                  "STATUS_EVENT_TYPE_SUB_RUN_CREATED",
                  "STATUS_EVENT_TYPE_STEPS_NEEDED",
                  "STATUS_EVENT_TYPE_RUN_PAUSED"
                ]
              }
            },
            "style": "form",
            "explode": true
          },
          {
            "name": "includeSubRuns",
            "in": "query",
            "description": "Also the events of sub-runs.",
            "schema": {
              "type": "boolean"
            }
          },
          {
            "name": "includeResults",
            "in": "query",
            "description": "Include step and item results in the events.",
            "schema": {
              "type": "boolean"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The event stream: frames of id:, event: and data: lines, each ended by a blank line.",
            "content": {
              "text/event-stream": {
                "schema": {
                  "type": "object",
                  "description": "One server-sent event.",
                  "required": [
                    "id",
                    "event",
                    "data"
                  ],
                  "properties": {
                    "id": {
                      "type": "string",
                      "pattern": "^[0-9]+$",
                      "description": "The event's sequence number (send it back as Last-Event-ID)."
                    },
                    "event": {
                      "type": "string",
                      "enum": [
                        "run_created",
                        "step_started",
                        "step_completed",
                        "step_ready",
                        "item_completed",
                        "run_completed",
                        "sub_run_created",
                        "steps_needed",
                        "run_paused"
                      ]
                    },
                    "data": {
                      "type": "string",
                      "description": "A StatusEvent as JSON."
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/runs/{runId}/items": {
      "get": {
        "tags": [
          "Runs"
        ],
        "summary": "A run's item results",
        "description": "Every item's result, by index or in the order they ended.",
        "operationId": "getRunItems",
        "parameters": [
          {
            "name": "runId",
            "in": "path",
            "required": true,
            "description": "The run's id.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "resultOrder",
            "in": "query",
            "description": "BY_INDEX (the default) or BY_COMPLETION.",
            "schema": {
              "type": "string",
              "enum": [
                "RESULT_ORDER_UNSPECIFIED",
                "RESULT_ORDER_BY_INDEX",
                "RESULT_ORDER_BY_COMPLETION"
              ]
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GetRunItemsResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/runs/{runId}/steps": {
      "get": {
        "tags": [
          "Runs"
        ],
        "summary": "A run's steps",
        "description": "Every step of every item, or of one item.",
        "operationId": "getRunSteps",
        "parameters": [
          {
            "name": "runId",
            "in": "path",
            "required": true,
            "description": "The run's id.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "itemIndex",
            "in": "query",
            "description": "Only this item's steps.",
            "schema": {
              "type": "integer",
              "format": "uint32",
              "minimum": 0,
              "maximum": 4294967295
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GetRunStepsResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/runs/{runId}/steps/{stepId}": {
      "get": {
        "tags": [
          "Runs"
        ],
        "summary": "One step of a run",
        "description": "One step's status (of item 0 unless itemIndex says otherwise).",
        "operationId": "getStepDetail",
        "parameters": [
          {
            "name": "runId",
            "in": "path",
            "required": true,
            "description": "The run's id.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "stepId",
            "in": "path",
            "required": true,
            "description": "The step's id in the flow.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "itemIndex",
            "in": "query",
            "description": "The item.",
            "schema": {
              "type": "integer",
              "format": "uint32",
              "minimum": 0,
              "maximum": 4294967295
            }
          },
          {
            "name": "asof",
            "in": "query",
            "description": "Read-after-write: answer only with what includes this journal sequence number. This server answers from the store it writes, so every number it gave out is included.",
            "schema": {
              "type": "string",
              "pattern": "^[0-9]+$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GetStepDetailResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/runs/{runId}/flow": {
      "get": {
        "tags": [
          "Runs"
        ],
        "summary": "The flow a run runs",
        "description": "The flow as the run stored it.",
        "operationId": "getRunFlow",
        "parameters": [
          {
            "name": "runId",
            "in": "path",
            "required": true,
            "description": "The run's id.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GetRunFlowResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/blobs": {
      "post": {
        "tags": [
          "Blobs"
        ],
        "summary": "Store a blob",
        "description": "Stores JSON or bytes under the SHA-256 of the content.",
        "operationId": "storeBlob",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/PutBlobRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/PutBlobResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/PayloadTooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/blobs/{blobId}": {
      "get": {
        "tags": [
          "Blobs"
        ],
        "summary": "Read a blob",
        "description": "The blob as JSON; with Accept: application/octet-stream, a binary blob's bytes under its own content type (and X-Blob-Filename), or a JSON blob's content as JSON text.",
        "operationId": "getBlob",
        "parameters": [
          {
            "name": "blobId",
            "in": "path",
            "required": true,
            "description": "The blob's id.",
            "schema": {
              "type": "string",
              "pattern": "^(sha256:)?[0-9a-fA-F]{64}$"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The blob.",
            "headers": {
              "X-Blob-Filename": {
                "description": "The blob's file name, for raw bytes.",
                "schema": {
                  "type": "string"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/GetBlobResponse"
                }
              },
              "application/octet-stream": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/components": {
      "get": {
        "tags": [
          "Components"
        ],
        "summary": "List components",
        "description": "Every component the server's plugins and builtins offer.",
        "operationId": "listComponents",
        "parameters": [
          {
            "name": "excludeSchemas",
            "in": "query",
            "description": "Leave out input and output schemas.",
            "schema": {
              "type": "boolean"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ListRegisteredComponentsResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/health": {
      "get": {
        "tags": [
          "Health"
        ],
        "summary": "Health",
        "description": "Whether the server is up, and its build. Needs no token.",
        "operationId": "healthCheck",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/HealthCheckResponse"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": []
      }
    },
    "/jsonrpc": {
      "post": {
        "tags": [
          "JSON-RPC"
        ],
        "summary": "JSON-RPC 2.0",
        "operationId": "jsonRpc",
        "description": "runs/submit and runs/get as JSON-RPC 2.0 calls (a JsonRpcRequest, or a batch: a non-empty array of them). Every JSON-RPC answer is HTTP 200, its errors included (a JsonRpcResponse, or an array for a batch); notifications get none, and a request of notifications only is answered 204.",
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "description": "A JsonRpcRequest or an array of them. Anything else, an empty body included, is answered with a JSON-RPC error (HTTP 200), not an HTTP one."
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The answer, or the batch's answers.",
            "content": {
              "application/json": {
                "schema": {
                  "oneOf": [
                    {
                      "$ref": "#/components/schemas/JsonRpcResponse"
                    },
                    {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/JsonRpcResponse"
                      }
                    }
                  ]
                }
              }
            }
          },
          "204": {
            "description": "Only notifications were sent: nothing to answer."
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "413": {
            "$ref": "#/components/responses/PayloadTooLarge"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedMediaType"
          },
          "500": {
            "$ref": "#/components/responses/InternalError"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    },
    "/openapi.json": {
      "get": {
        "tags": [
          "Health"
        ],
        "summary": "This document",
        "operationId": "openAPIDocument",
        "description": "The OpenAPI document of what this server answers.",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "default": {
            "$ref": "#/components/responses/Default"
          }
        },
        "security": [
          {},
          {
            "bearerAuth": []
          }
        ]
      }
    }
  },
  "components": {
    "schemas": {
      "Error": {
        "type": "object",
        "properties": {
          "code": {
            "type": "integer",
            "description": "The HTTP status of the answer, repeated in the body.",
            "format": "int32"
          },
          "message": {
            "type": "string",
            "description": "What was wrong, in a sentence meant for the person who sent the request."
          },
          "error": {
            "type": "string",
            "description": "Nodal's stable code for the refusal, in capitals: INVALID_FIELD, INVALID_JSON, BODY_TOO_LARGE, UNAUTHORIZED, RUN_NOT_FOUND, ROUTE_NOT_FOUND, METHOD_NOT_ALLOWED, ..."
          },
          "field": {
            "type": "string",
            "description": "The request field, query parameter or header the refusal is about, when it is about one: a JSON path such as input[2].document, or a name such as limit or Authorization."
          }
        },
        "required": [
          "code",
          "message",
          "error"
        ],
        "description": "A refused or failed request. Stepflow's Status fields (code, message) with Nodal's error code and the field at fault."
      },
      "BuildInfo": {
        "type": "object",
        "properties": {
          "gitVersion": {
            "type": "string",
            "description": "The version of the server."
          },
          "dirty": {
            "type": "boolean",
            "description": "Whether the build had uncommitted changes."
          },
          "rustcVersion": {
            "type": "string",
            "description": "Kept for Stepflow's clients; Nodal reports the Swift compiler here or leaves it out."
          },
          "profile": {
            "type": "string",
            "description": "debug or release."
          },
          "features": {
            "type": "array",
            "description": "Optional parts built in.",
            "items": {
              "type": "string"
            }
          },
          "target": {
            "type": "string",
            "description": "The platform the server was built for."
          }
        },
        "description": "What build of the server is answering."
      },
      "HealthCheckResponse": {
        "type": "object",
        "properties": {
          "status": {
            "type": "string",
            "description": "healthy while the server takes runs."
          },
          "timestamp": {
            "type": "string",
            "description": "When the answer was made.",
            "format": "date-time"
          },
          "build": {
            "$ref": "#/components/schemas/BuildInfo"
          },
          "liveRuns": {
            "type": "integer",
            "description": "Nodal: runs in memory now (running or paused).",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "store": {
            "type": "string",
            "description": "Nodal: the kind of run store."
          },
          "execution": {
            "type": "string",
            "description": "Nodal: queued when runs go to workers (a PostgreSQL store); absent when the server runs them itself."
          },
          "workers": {
            "type": "array",
            "nullable": true,
            "description": "Nodal, with queued execution: the workers heard from within their lease (null when the store did not answer).",
            "items": {
              "type": "object",
              "properties": {
                "id": {"type": "string"},
                "host": {"type": "string"},
                "pid": {"type": "integer"},
                "startedAt": {"type": "string", "format": "date-time"},
                "lastHeartbeat": {"type": "string", "format": "date-time"},
                "concurrency": {"type": "integer"},
                "items": {"type": "integer"},
                "draining": {"type": "boolean"},
                "leaseSecs": {"type": "number"},
                "live": {"type": "boolean"}
              }
            }
          }
        }
      },
      "Diagnostic": {
        "type": "object",
        "properties": {
          "kind": {
            "type": "string",
            "description": "The kind of finding, a camelCase name."
          },
          "code": {
            "type": "integer",
            "description": "A number for the kind.",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "level": {
            "type": "string",
            "enum": [
              "DIAGNOSTIC_LEVEL_UNSPECIFIED",
              "DIAGNOSTIC_LEVEL_FATAL",
              "DIAGNOSTIC_LEVEL_ERROR",
              "DIAGNOSTIC_LEVEL_WARNING"
            ],
            "description": "How serious: a fatal finding keeps the flow from running."
          },
          "formatted": {
            "type": "string",
            "description": "The finding as a sentence."
          },
          "data": {
            "description": "More about the finding, when there is more."
          },
          "path": {
            "type": "string",
            "description": "Where in the flow, as a JSON path ($.steps[0].input)."
          },
          "experimental": {
            "type": "boolean",
            "description": "Whether the check that found it may be wrong."
          }
        },
        "description": "One finding of checking a flow."
      },
      "Diagnostics": {
        "type": "object",
        "properties": {
          "diagnostics": {
            "type": "array",
            "description": "Every finding.",
            "items": {
              "$ref": "#/components/schemas/Diagnostic"
            }
          },
          "numFatal": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "numError": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "numWarning": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          }
        },
        "description": "What checking a flow found, with counts by level."
      },
      "StoreFlowRequest": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "flow": {
            "type": "object",
            "description": "The flow, in Stepflow's flow format, as JSON."
          },
          "dryRun": {
            "type": "boolean",
            "description": "Check the flow without storing it.",
            "nullable": true
          }
        },
        "required": [
          "flow"
        ]
      },
      "StoreFlowResponse": {
        "type": "object",
        "properties": {
          "flowId": {
            "type": "string",
            "description": "The flow's id: the SHA-256 of its content, in hex. Given for a dry run too."
          },
          "stored": {
            "type": "boolean",
            "description": "Whether it was stored: false for a dry run or a flow with fatal findings."
          },
          "diagnostics": {
            "$ref": "#/components/schemas/Diagnostics"
          }
        }
      },
      "ExampleInput": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string"
          },
          "description": {
            "type": "string"
          },
          "input": {
            "description": "An input the flow can be run with."
          }
        },
        "description": "An example input taken from the flow's examples or test cases."
      },
      "GetFlowResponse": {
        "type": "object",
        "properties": {
          "flow": {
            "type": "object",
            "description": "The stored flow."
          },
          "flowId": {
            "type": "string"
          },
          "allExamples": {
            "type": "array",
            "description": "The flow's examples and test cases, as inputs.",
            "items": {
              "$ref": "#/components/schemas/ExampleInput"
            }
          }
        }
      },
      "DeleteFlowResponse": {
        "type": "object",
        "properties": {}
      },
      "FlowVariable": {
        "type": "object",
        "properties": {
          "description": {
            "type": "string"
          },
          "defaultValue": {
            "description": "Used when a run gives no value."
          },
          "required": {
            "type": "boolean"
          },
          "schema": {
            "type": "object",
            "description": "JSON Schema the value must match."
          },
          "envVar": {
            "type": "string",
            "description": "An environment variable the value may come from."
          }
        },
        "description": "A variable the flow reads with $variable."
      },
      "GetFlowVariablesResponse": {
        "type": "object",
        "properties": {
          "flowId": {
            "type": "string"
          },
          "variables": {
            "type": "object",
            "description": "The flow's variables by name.",
            "additionalProperties": {
              "$ref": "#/components/schemas/FlowVariable"
            }
          }
        }
      },
      "ItemStatistics": {
        "type": "object",
        "properties": {
          "total": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "completed": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "running": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "failed": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "cancelled": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "paused": {
            "type": "integer",
            "description": "Nodal: items waiting for an answer (POST /runs/{runId}/resume).",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          }
        },
        "description": "How many of a run's items are where."
      },
      "RunSummary": {
        "type": "object",
        "properties": {
          "runId": {
            "type": "string"
          },
          "flowId": {
            "type": "string"
          },
          "flowName": {
            "type": "string"
          },
          "status": {
            "type": "string",
            "enum": [
              "EXECUTION_STATUS_UNSPECIFIED",
              "EXECUTION_STATUS_RUNNING",
              "EXECUTION_STATUS_COMPLETED",
              "EXECUTION_STATUS_FAILED",
              "EXECUTION_STATUS_CANCELLED",
              "EXECUTION_STATUS_PAUSED",
              "EXECUTION_STATUS_RECOVERY_FAILED"
            ],
            "description": "Where the run is: RUNNING until every item ended; PAUSED while an item waits for an answer and none runs."
          },
          "items": {
            "$ref": "#/components/schemas/ItemStatistics"
          },
          "createdAt": {
            "type": "string",
            "format": "date-time"
          },
          "completedAt": {
            "type": "string",
            "format": "date-time"
          },
          "rootRunId": {
            "type": "string",
            "description": "The run at the top of the chain of sub-runs; the run itself when it has no parent."
          },
          "parentRunId": {
            "type": "string",
            "description": "The run that submitted this one from a step, for a sub-run."
          },
          "orchestratorId": {
            "type": "string",
            "description": "The process running it, when known."
          },
          "createdAtSeqno": {
            "type": "string",
            "description": "Journal sequence number of the run's creation."
          },
          "finishedAtSeqno": {
            "type": "string",
            "description": "Journal sequence number of the run's end."
          }
        },
        "description": "A run at a glance."
      },
      "ItemResult": {
        "type": "object",
        "properties": {
          "itemIndex": {
            "type": "integer",
            "description": "The item's place in the run's input list, from 0.",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "status": {
            "type": "string",
            "enum": [
              "EXECUTION_STATUS_UNSPECIFIED",
              "EXECUTION_STATUS_RUNNING",
              "EXECUTION_STATUS_COMPLETED",
              "EXECUTION_STATUS_FAILED",
              "EXECUTION_STATUS_CANCELLED",
              "EXECUTION_STATUS_PAUSED",
              "EXECUTION_STATUS_RECOVERY_FAILED"
            ],
            "description": "How the item ended, or RUNNING/PAUSED."
          },
          "output": {
            "description": "The flow's output for the item, when it succeeded."
          },
          "errorMessage": {
            "type": "string",
            "description": "Why the item failed, when it did."
          },
          "errorCode": {
            "type": "string",
            "enum": [
              "TASK_ERROR_CODE_UNSPECIFIED",
              "TASK_ERROR_CODE_TIMEOUT",
              "TASK_ERROR_CODE_INVALID_INPUT",
              "TASK_ERROR_CODE_COMPONENT_FAILED",
              "TASK_ERROR_CODE_CANCELLED",
              "TASK_ERROR_CODE_UNREACHABLE",
              "TASK_ERROR_CODE_COMPONENT_NOT_FOUND",
              "TASK_ERROR_CODE_RESOURCE_UNAVAILABLE",
              "TASK_ERROR_CODE_EXPRESSION_FAILURE",
              "TASK_ERROR_CODE_ORCHESTRATOR_ERROR",
              "TASK_ERROR_CODE_WORKER_ERROR"
            ],
            "description": "The kind of failure, when it failed."
          },
          "errorDetails": {
            "type": "object",
            "properties": {
              "code": {
                "type": "string",
                "description": "Nodal's error code (STEP_FAILED, TIMEOUT, ...)."
              },
              "step": {
                "type": "string",
                "description": "The step that failed."
              },
              "details": {
                "description": "The error's own data, when it has some."
              }
            },
            "description": "Nodal: more about the failure, when it failed."
          },
          "pause": {
            "type": "object",
            "properties": {
              "key": {
                "type": "string",
                "description": "What the answer goes under (POST /runs/{runId}/resume)."
              },
              "step": {
                "type": "string",
                "description": "The step that waits."
              },
              "value": {
                "description": "What the step shows the person answering."
              }
            },
            "description": "Nodal: what a paused item waits for."
          },
          "executionTimeMs": {
            "type": "number",
            "description": "Nodal: how long the item ran, in milliseconds.",
            "minimum": 0
          },
          "completedAt": {
            "type": "string",
            "format": "date-time"
          }
        },
        "description": "One item's outcome."
      },
      "StepStatus": {
        "type": "object",
        "properties": {
          "stepId": {
            "type": "string"
          },
          "stepIndex": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "itemIndex": {
            "type": "integer",
            "description": "The item the step ran for.",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "status": {
            "type": "string",
            "enum": [
              "EXECUTION_STATUS_UNSPECIFIED",
              "EXECUTION_STATUS_RUNNING",
              "EXECUTION_STATUS_COMPLETED",
              "EXECUTION_STATUS_FAILED",
              "EXECUTION_STATUS_CANCELLED",
              "EXECUTION_STATUS_PAUSED",
              "EXECUTION_STATUS_RECOVERY_FAILED"
            ],
            "description": "Where the step is (UNSPECIFIED for states Stepflow has no name for: see nodalStatus)."
          },
          "nodalStatus": {
            "type": "string",
            "description": "Nodal: the step's own state when status cannot say it (skipped, notRun, pending)."
          },
          "component": {
            "type": "string"
          },
          "output": {
            "description": "The step's output, once it has one."
          },
          "errorMessage": {
            "type": "string"
          },
          "errorCode": {
            "type": "string",
            "enum": [
              "TASK_ERROR_CODE_UNSPECIFIED",
              "TASK_ERROR_CODE_TIMEOUT",
              "TASK_ERROR_CODE_INVALID_INPUT",
              "TASK_ERROR_CODE_COMPONENT_FAILED",
              "TASK_ERROR_CODE_CANCELLED",
              "TASK_ERROR_CODE_UNREACHABLE",
              "TASK_ERROR_CODE_COMPONENT_NOT_FOUND",
              "TASK_ERROR_CODE_RESOURCE_UNAVAILABLE",
              "TASK_ERROR_CODE_EXPRESSION_FAILURE",
              "TASK_ERROR_CODE_ORCHESTRATOR_ERROR",
              "TASK_ERROR_CODE_WORKER_ERROR"
            ]
          },
          "startedAt": {
            "type": "string",
            "format": "date-time"
          },
          "completedAt": {
            "type": "string",
            "format": "date-time"
          },
          "journalSeqno": {
            "type": "string",
            "description": "Sequence number of the journal entry this status comes from."
          },
          "updatedAt": {
            "type": "string",
            "format": "date-time"
          }
        },
        "description": "One step of one item."
      },
      "CreateRunRequest": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "flowId": {
            "type": "string",
            "description": "A stored flow's id (POST /flows).",
            "pattern": "^(sha256:)?[0-9a-fA-F]{64}$"
          },
          "input": {
            "type": "array",
            "description": "One input per item; each item is a run of the flow. Inputs may name flow inputs by property or by schema title, or set a step's input field as STEP_ID::FIELD. At most the server's --max-items.",
            "items": {
              "description": "An item's input."
            },
            "minItems": 1,
            "x-nodal-limit": "maxItemsPerRun"
          },
          "overrides": {
            "type": "object",
            "description": "Changes to steps, by step id.",
            "nullable": true
          },
          "variables": {
            "type": "object",
            "description": "Values for the flow's variables.",
            "additionalProperties": {
              "description": "A variable's value."
            },
            "nullable": true
          },
          "maxConcurrency": {
            "type": "integer",
            "description": "How many items may run at once.",
            "format": "uint32",
            "minimum": 1,
            "maximum": 4294967295,
            "nullable": true
          },
          "wait": {
            "type": "boolean",
            "description": "Answer once the run ended (or the wait ran out) instead of at once.",
            "nullable": true
          },
          "timeoutSecs": {
            "anyOf": [
              {
                "type": "number",
                "minimum": 0,
                "x-nodal-limit": "maxWaitSeconds"
              },
              {
                "type": "string",
                "x-nodal-limit": "maxWaitSecondsText"
              }
            ],
            "nullable": true,
            "description": "The longest wait, in seconds (a number, or a string as Stepflow writes it): at most the server's --max-wait."
          }
        },
        "required": [
          "flowId",
          "input"
        ]
      },
      "CreateRunResponse": {
        "type": "object",
        "properties": {
          "summary": {
            "$ref": "#/components/schemas/RunSummary"
          },
          "results": {
            "type": "array",
            "description": "The items' results, when the request waited and the run ended.",
            "items": {
              "$ref": "#/components/schemas/ItemResult"
            }
          }
        }
      },
      "GetRunResponse": {
        "type": "object",
        "properties": {
          "summary": {
            "$ref": "#/components/schemas/RunSummary"
          },
          "steps": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/StepStatus"
            }
          }
        }
      },
      "ListRunsResponse": {
        "type": "object",
        "properties": {
          "runs": {
            "type": "array",
            "description": "Newest first.",
            "items": {
              "$ref": "#/components/schemas/RunSummary"
            }
          }
        }
      },
      "DeleteRunResponse": {
        "type": "object",
        "properties": {}
      },
      "CancelRunResponse": {
        "type": "object",
        "properties": {
          "summary": {
            "$ref": "#/components/schemas/RunSummary"
          }
        }
      },
      "ResumeRunRequest": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "values": {
            "type": "object",
            "description": "Answers by the key each paused item waits for.",
            "additionalProperties": {
              "description": "The answer."
            },
            "minProperties": 1,
            "nullable": true
          },
          "value": {
            "description": "The answer, when the run waits for one key only."
          },
          "itemIndex": {
            "type": "integer",
            "description": "Answer only this item (others stay paused).",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295,
            "nullable": true
          },
          "wait": {
            "type": "boolean",
            "description": "Answer once the run ended or paused again.",
            "nullable": true
          },
          "timeoutSecs": {
            "anyOf": [
              {
                "type": "number",
                "minimum": 0,
                "x-nodal-limit": "maxWaitSeconds"
              },
              {
                "type": "string",
                "x-nodal-limit": "maxWaitSecondsText"
              }
            ],
            "nullable": true,
            "description": "The longest wait, in seconds: at most the server's --max-wait."
          }
        },
        "description": "Nodal: the answer to a paused run: values or value, not both.",
        "oneOf": [
          {
            "required": [
              "values"
            ],
            "properties": {
              "values": {
                "type": "object"
              }
            }
          },
          {
            "required": [
              "value"
            ]
          }
        ]
      },
      "GetRunItemsResponse": {
        "type": "object",
        "properties": {
          "results": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/ItemResult"
            }
          }
        }
      },
      "GetRunStepsResponse": {
        "type": "object",
        "properties": {
          "steps": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/StepStatus"
            }
          }
        }
      },
      "GetStepDetailResponse": {
        "type": "object",
        "properties": {
          "step": {
            "$ref": "#/components/schemas/StepStatus"
          }
        }
      },
      "GetRunFlowResponse": {
        "type": "object",
        "properties": {
          "flow": {
            "type": "object"
          },
          "flowId": {
            "type": "string"
          }
        }
      },
      "RunCreatedEvent": {
        "type": "object",
        "properties": {
          "runId": {
            "type": "string"
          },
          "flowId": {
            "type": "string"
          },
          "itemCount": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          }
        }
      },
      "StepStartedEvent": {
        "type": "object",
        "properties": {
          "runId": {
            "type": "string"
          },
          "itemIndex": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "stepIndex": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "stepId": {
            "type": "string"
          },
          "attempt": {
            "type": "integer",
            "description": "1 for the first try, more for retries.",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          }
        }
      },
      "StepCompletedEvent": {
        "type": "object",
        "properties": {
          "runId": {
            "type": "string"
          },
          "itemIndex": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "stepIndex": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "stepId": {
            "type": "string"
          },
          "status": {
            "type": "string",
            "enum": [
              "EXECUTION_STATUS_UNSPECIFIED",
              "EXECUTION_STATUS_RUNNING",
              "EXECUTION_STATUS_COMPLETED",
              "EXECUTION_STATUS_FAILED",
              "EXECUTION_STATUS_CANCELLED",
              "EXECUTION_STATUS_PAUSED",
              "EXECUTION_STATUS_RECOVERY_FAILED"
            ],
            "description": "How the step ended."
          },
          "result": {
            "description": "The step's output; only with includeResults=true."
          }
        }
      },
      "StepReadyEvent": {
        "type": "object",
        "properties": {
          "runId": {
            "type": "string"
          },
          "itemIndex": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "stepIndex": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "stepId": {
            "type": "string"
          }
        }
      },
      "ItemCompletedEvent": {
        "type": "object",
        "properties": {
          "runId": {
            "type": "string"
          },
          "itemIndex": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "result": {
            "description": "The item's result; only with includeResults=true."
          }
        }
      },
      "RunCompletedEvent": {
        "type": "object",
        "properties": {
          "runId": {
            "type": "string"
          },
          "status": {
            "type": "string",
            "enum": [
              "EXECUTION_STATUS_UNSPECIFIED",
              "EXECUTION_STATUS_RUNNING",
              "EXECUTION_STATUS_COMPLETED",
              "EXECUTION_STATUS_FAILED",
              "EXECUTION_STATUS_CANCELLED",
              "EXECUTION_STATUS_PAUSED",
              "EXECUTION_STATUS_RECOVERY_FAILED"
            ],
            "description": "How the run ended."
          }
        }
      },
      "SubRunCreatedEvent": {
        "type": "object",
        "properties": {
          "runId": {
            "type": "string"
          },
          "parentRunId": {
            "type": "string"
          },
          "flowId": {
            "type": "string"
          },
          "itemCount": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          }
        }
      },
      "StepsNeededEvent": {
        "type": "object",
        "properties": {
          "runId": {
            "type": "string"
          },
          "itemIndex": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "stepIds": {
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        }
      },
      "RunPausedEvent": {
        "type": "object",
        "properties": {
          "runId": {
            "type": "string"
          },
          "itemIndex": {
            "type": "integer",
            "format": "uint32",
            "minimum": 0,
            "maximum": 4294967295
          },
          "stepId": {
            "type": "string",
            "description": "The step that waits."
          },
          "key": {
            "type": "string",
            "description": "The key the answer goes under."
          },
          "value": {
            "description": "What the step shows the person answering."
          }
        },
        "description": "Nodal: an item stopped to wait for an answer (POST /runs/{runId}/resume)."
      },
      "StatusEvent": {
        "type": "object",
        "properties": {
          "sequenceNumber": {
            "type": "string",
            "description": "The entry's place in the run's journal; the SSE id."
          },
          "timestamp": {
            "type": "string",
            "format": "date-time"
          },
          "runCreated": {
            "$ref": "#/components/schemas/RunCreatedEvent"
          },
          "stepStarted": {
            "$ref": "#/components/schemas/StepStartedEvent"
          },
          "stepCompleted": {
            "$ref": "#/components/schemas/StepCompletedEvent"
          },
          "stepReady": {
            "$ref": "#/components/schemas/StepReadyEvent"
          },
          "itemCompleted": {
            "$ref": "#/components/schemas/ItemCompletedEvent"
          },
          "runCompleted": {
            "$ref": "#/components/schemas/RunCompletedEvent"
          },
          "subRunCreated": {
            "$ref": "#/components/schemas/SubRunCreatedEvent"
          },
          "stepsNeeded": {
            "$ref": "#/components/schemas/StepsNeededEvent"
          },
          "runPaused": {
            "$ref": "#/components/schemas/RunPausedEvent"
          }
        },
        "description": "One entry of a run's journal, with exactly one of the event fields. In the event stream it is the data of an SSE event whose id is sequenceNumber and whose name is the event in snake_case (run_created, step_started, step_completed, step_ready, item_completed, run_completed, sub_run_created, steps_needed, run_paused)."
      },
      "PutBlobRequest": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "jsonData": {
            "description": "The blob's content as JSON (data and flow blobs; a flow blob must hold a flow)."
          },
          "rawData": {
            "type": "string",
            "description": "The blob's bytes in base64 (binary blobs).",
            "format": "byte",
            "nullable": true
          },
          "blobType": {
            "type": "string",
            "enum": [
              "data",
              "flow",
              "binary",
              null
            ],
            "description": "What the blob holds: data or flow for jsonData, binary for rawData.",
            "nullable": true
          },
          "filename": {
            "type": "string",
            "nullable": true
          },
          "contentType": {
            "type": "string",
            "description": "The bytes' media type, for rawData.",
            "nullable": true
          }
        },
        "description": "A blob: jsonData or rawData, not both.",
        "oneOf": [
          {
            "required": [
              "jsonData"
            ],
            "not": {
              "required": [
                "rawData"
              ]
            },
            "properties": {
              "blobType": {
                "type": "string",
                "enum": [
                  "data",
                  "flow",
                  null
                ],
                "nullable": true
              }
            }
          },
          {
            "required": [
              "rawData"
            ],
            "not": {
              "required": [
                "jsonData"
              ]
            },
            "properties": {
              "rawData": {
                "type": "string",
                "format": "byte"
              },
              "blobType": {
                "type": "string",
                "enum": [
                  "binary",
                  null
                ],
                "nullable": true
              }
            }
          }
        ]
      },
      "PutBlobResponse": {
        "type": "object",
        "properties": {
          "blobId": {
            "type": "string",
            "description": "The SHA-256 of the content, in hex."
          },
          "filename": {
            "type": "string"
          }
        }
      },
      "GetBlobResponse": {
        "type": "object",
        "properties": {
          "jsonData": {
            "description": "The content of a data or flow blob."
          },
          "rawData": {
            "type": "string",
            "description": "The bytes of a binary blob, in base64.",
            "format": "byte"
          },
          "blobType": {
            "type": "string"
          },
          "blobId": {
            "type": "string"
          },
          "filename": {
            "type": "string"
          },
          "contentType": {
            "type": "string"
          }
        }
      },
      "ComponentInfoEntry": {
        "type": "object",
        "properties": {
          "componentId": {
            "type": "string"
          },
          "description": {
            "type": "string"
          },
          "inputSchema": {
            "type": "object",
            "description": "JSON Schema of the input; left out with excludeSchemas=true.",
            "nullable": true
          },
          "outputSchema": {
            "type": "object",
            "description": "JSON Schema of the output; left out with excludeSchemas=true.",
            "nullable": true
          },
          "path": {
            "type": "string",
            "description": "The route the component answers at, such as /builtin/map."
          },
          "plugin": {
            "type": "string",
            "description": "The plugin it comes from."
          }
        },
        "description": "A component a flow step can use."
      },
      "PluginDiscoveryError": {
        "type": "object",
        "properties": {
          "plugin": {
            "type": "string"
          },
          "error": {
            "type": "string"
          }
        },
        "description": "A plugin whose components could not be listed."
      },
      "ListRegisteredComponentsResponse": {
        "type": "object",
        "properties": {
          "components": {
            "type": "array",
            "description": "Sorted by path.",
            "items": {
              "$ref": "#/components/schemas/ComponentInfoEntry"
            }
          },
          "complete": {
            "type": "boolean",
            "description": "False when a plugin could not be listed (see failedPlugins)."
          },
          "failedPlugins": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/PluginDiscoveryError"
            }
          }
        }
      },
      "JsonRpcRequest": {
        "type": "object",
        "properties": {
          "jsonrpc": {
            "type": "string",
            "enum": [
              "2.0"
            ]
          },
          "id": {
            "description": "A string, a number or null; leave it out for a notification, which gets no answer."
          },
          "method": {
            "type": "string",
            "enum": [
              "runs/submit",
              "runs/get"
            ]
          },
          "params": {
            "type": "object",
            "description": "runs/submit: {flowId, inputs, wait?, maxConcurrency?, overrides?, observability?}. runs/get: {runId, wait?, includeResults?, resultOrder? (byIndex or byCompletion), observability?}."
          }
        },
        "required": [
          "jsonrpc",
          "method"
        ],
        "description": "A JSON-RPC 2.0 call."
      },
      "JsonRpcError": {
        "type": "object",
        "properties": {
          "code": {
            "type": "integer",
            "description": "-32700 the body is not JSON, -32600 not a call, -32601 no such method, -32602 bad params (data has field and error), -32000 the service refused (data has the HTTP status, error and field)."
          },
          "message": {
            "type": "string"
          },
          "data": {
            "type": "object"
          }
        },
        "required": [
          "code",
          "message"
        ]
      },
      "JsonRpcResponse": {
        "type": "object",
        "properties": {
          "jsonrpc": {
            "type": "string",
            "enum": [
              "2.0"
            ]
          },
          "id": {
            "description": "The call's id (null when the call could not be read)."
          },
          "result": {
            "description": "The run's status: runId, flowId, flowName, status, items, createdAt, completedAt and, when asked, results."
          },
          "error": {
            "$ref": "#/components/schemas/JsonRpcError"
          }
        },
        "required": [
          "jsonrpc"
        ],
        "description": "A JSON-RPC 2.0 answer: result or error."
      }
    },
    "responses": {
      "BadRequest": {
        "description": "A parameter, header or body field is wrong; field names it.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "The server has a token and the request did not carry it (Authorization: Bearer <token>).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "headers": {
          "WWW-Authenticate": {
            "description": "Bearer",
            "schema": {
              "type": "string"
            }
          }
        }
      },
      "NotFound": {
        "description": "No run, flow, step or blob with that id.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Conflict": {
        "description": "The run is not in a state for this (still running, not paused, already ended).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "PayloadTooLarge": {
        "description": "The body is larger than the server's --max-body-bytes, or the run has more items than its --max-items.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "UnsupportedMediaType": {
        "description": "The body is not sent as application/json.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unprocessable": {
        "description": "The flow cannot run (its checks found fatal problems).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "InternalError": {
        "description": "The server or its store failed; the request may be sent again.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unavailable": {
        "description": "The server is shutting down.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Default": {
        "description": "Any other refusal, in the same shape.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "securitySchemes": {
      "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "The token given to nodal serve with --token-file or NODAL_TOKEN."
      }
    }
  }
}
"""#
}
