// Generated from workflows/openapi.json (keep them identical; a test compares the file with the served document).
// To change the API description, edit workflows/openapi.json and paste its exact text between the delimiters
// (the blank line before the closing delimiter keeps the file's final newline).

/// The OpenAPI 3 document of the status API, served at `/openapi.json`.
public enum OpenAPIDocument {
    public static let json = #"""
{
  "openapi": "3.0.3",
  "info": {
    "title": "rollout worker API",
    "version": "1.0.0",
    "description": "Status and control of staged firmware rollouts. Reads are open; every state-changing call (POST) needs `Authorization: Bearer <token>` when the worker has a token (it must have one to listen beyond loopback). Errors are JSON with a stable `code` and a `message`; dates are ISO 8601."
  },
  "servers": [
    {
      "url": "http://127.0.0.1:8080"
    }
  ],
  "paths": {
    "/healthz": {
      "get": {
        "operationId": "health",
        "summary": "Liveness",
        "responses": {
          "200": {
            "description": "The process answers.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/readyz": {
      "get": {
        "operationId": "ready",
        "summary": "Readiness: the database is open and unfinished rollouts are scheduled",
        "responses": {
          "200": {
            "description": "Ready.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "503": {
            "description": "Still starting.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "summary": "Prometheus metrics",
        "description": "Families: rollout_rollouts{phase}, rollout_stages{status}, rollout_gate_verdicts_total{verdict}, rollout_fleet_calls_total, rollout_fleet_errors_total, rollout_jobs_created_total, rollout_commits_total, rollout_effect_queue_depth, rollout_step_errors_total, rollout_worker_start_time_seconds.",
        "responses": {
          "200": {
            "description": "Text exposition format 0.0.4.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document",
        "responses": {
          "200": {
            "description": "OpenAPI 3.0 document.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/": {
      "get": {
        "operationId": "statusPage",
        "summary": "HTML status page (reloads every 5 s)",
        "responses": {
          "200": {
            "description": "Every rollout with its stages' progress and last gate verdicts.",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/rollouts": {
      "get": {
        "operationId": "listRollouts",
        "summary": "Rollouts, newest first",
        "parameters": [
          {
            "name": "phase",
            "in": "query",
            "required": false,
            "description": "Only rollouts in this display phase.",
            "schema": {
              "type": "string",
              "enum": [
                "scheduled",
                "waitingForWindow",
                "preparing",
                "deploying",
                "baking",
                "awaitingApproval",
                "paused",
                "rollingBack",
                "completed",
                "rolledBack",
                "aborted",
                "failed"
              ]
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000,
              "default": 100
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The rollouts.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutList"
                }
              }
            }
          },
          "400": {
            "description": "Unknown phase or bad limit (`invalid_parameter`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      },
      "post": {
        "operationId": "submitRollout",
        "summary": "Submit a plan",
        "description": "The body is the plan's YAML or JSON text, whatever the content type. The same plan text is always the same rollout: submitting it again answers 200 with `created: false`.",
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "parameters": [
          {
            "name": "file",
            "in": "query",
            "required": false,
            "description": "File name shown in plan errors (default `plan.yaml`).",
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/yaml": {
              "schema": {
                "type": "string"
              }
            },
            "application/json": {
              "schema": {
                "type": "string"
              }
            },
            "text/plain": {
              "schema": {
                "type": "string"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "A new rollout.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SubmitResult"
                }
              }
            }
          },
          "200": {
            "description": "The rollout of this plan already exists.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/SubmitResult"
                }
              }
            }
          },
          "400": {
            "description": "Invalid plan (`invalid_plan`, with `issues`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "Missing or wrong bearer token (`unauthorized`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "Body larger than the server's limit (`body_too_large`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/rollouts/{id}": {
      "get": {
        "operationId": "getRollout",
        "summary": "One rollout in full",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "Rollout id: `<plan name>-<8 hex of the plan text's SHA-256>`.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The rollout.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RolloutDetail"
                }
              }
            }
          },
          "404": {
            "description": "Unknown rollout (`not_found`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/rollouts/{id}/events": {
      "get": {
        "operationId": "listEvents",
        "summary": "A page of the rollout's event log",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "Rollout id: `<plan name>-<8 hex of the plan text's SHA-256>`.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "after",
            "in": "query",
            "required": false,
            "description": "Events with a sequence above this.",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "default": 0
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000,
              "default": 100
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Events in order.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EventPage"
                }
              }
            }
          },
          "400": {
            "description": "Bad `after` or `limit` (`invalid_parameter`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "Unknown rollout (`not_found`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/rollouts/{id}/pause": {
      "post": {
        "operationId": "pauseRollout",
        "summary": "Hold the rollout (decisions to advance wait; effects in flight complete).",
        "description": "Records the command as an event; the worker acts on it. Body optional.",
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "Rollout id: `<plan name>-<8 hex of the plan text's SHA-256>`.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CommandRequest"
              }
            }
          }
        },
        "responses": {
          "202": {
            "description": "Recorded.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/CommandResult"
                }
              }
            }
          },
          "400": {
            "description": "Malformed body (`invalid_request`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "Missing or wrong bearer token (`unauthorized`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "Unknown rollout (`not_found`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "The command makes no sense now (`illegal_transition`), e.g. approve when nothing awaits approval.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "Body too large (`body_too_large`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/rollouts/{id}/resume": {
      "post": {
        "operationId": "resumeRollout",
        "summary": "Lift a pause: go on, override a failed gate, judge again, or retry a failed effect, by pause kind.",
        "description": "Records the command as an event; the worker acts on it. Body optional.",
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "Rollout id: `<plan name>-<8 hex of the plan text's SHA-256>`.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CommandRequest"
              }
            }
          }
        },
        "responses": {
          "202": {
            "description": "Recorded.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/CommandResult"
                }
              }
            }
          },
          "400": {
            "description": "Malformed body (`invalid_request`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "Missing or wrong bearer token (`unauthorized`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "Unknown rollout (`not_found`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "The command makes no sense now (`illegal_transition`), e.g. approve when nothing awaits approval.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "Body too large (`body_too_large`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/rollouts/{id}/abort": {
      "post": {
        "operationId": "abortRollout",
        "summary": "Stop the rollout: cancel the running job, clean up; terminal `aborted`.",
        "description": "Records the command as an event; the worker acts on it. Body optional.",
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "Rollout id: `<plan name>-<8 hex of the plan text's SHA-256>`.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CommandRequest"
              }
            }
          }
        },
        "responses": {
          "202": {
            "description": "Recorded.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/CommandResult"
                }
              }
            }
          },
          "400": {
            "description": "Malformed body (`invalid_request`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "Missing or wrong bearer token (`unauthorized`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "Unknown rollout (`not_found`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "The command makes no sense now (`illegal_transition`), e.g. approve when nothing awaits approval.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "Body too large (`body_too_large`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/rollouts/{id}/approve": {
      "post": {
        "operationId": "approveRollout",
        "summary": "Approve the stage that awaits approval.",
        "description": "Records the command as an event; the worker acts on it. Body optional.",
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "Rollout id: `<plan name>-<8 hex of the plan text's SHA-256>`.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CommandRequest"
              }
            }
          }
        },
        "responses": {
          "202": {
            "description": "Recorded.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/CommandResult"
                }
              }
            }
          },
          "400": {
            "description": "Malformed body (`invalid_request`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "Missing or wrong bearer token (`unauthorized`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "Unknown rollout (`not_found`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "The command makes no sense now (`illegal_transition`), e.g. approve when nothing awaits approval.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "Body too large (`body_too_large`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/v1/rollouts/{id}/rollback": {
      "post": {
        "operationId": "rollbackRollout",
        "summary": "Cancel the running job and put the previous firmware back on every device that took the new one.",
        "description": "Records the command as an event; the worker acts on it. Body optional.",
        "security": [
          {
            "bearerAuth": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "Rollout id: `<plan name>-<8 hex of the plan text's SHA-256>`.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CommandRequest"
              }
            }
          }
        },
        "responses": {
          "202": {
            "description": "Recorded.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/CommandResult"
                }
              }
            }
          },
          "400": {
            "description": "Malformed body (`invalid_request`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "description": "Missing or wrong bearer token (`unauthorized`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "404": {
            "description": "Unknown rollout (`not_found`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "The command makes no sense now (`illegal_transition`), e.g. approve when nothing awaits approval.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "description": "Body too large (`body_too_large`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "default": {
            "description": "Any other failure (`internal_error`, `store_unavailable`, `method_not_allowed`…).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearerAuth": {
        "type": "http",
        "scheme": "bearer"
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "description": "Every error: a stable machine-readable `code` and a message for people.",
        "required": [
          "code",
          "message"
        ],
        "properties": {
          "code": {
            "type": "string",
            "description": "Stable: not_found, unauthorized, invalid_plan, invalid_request, invalid_parameter, illegal_transition, conflict, body_too_large, method_not_allowed, store_unavailable, internal_error."
          },
          "message": {
            "type": "string"
          },
          "issues": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/PlanIssue"
            },
            "description": "For `invalid_plan`: every problem found."
          }
        }
      },
      "PlanIssue": {
        "type": "object",
        "required": [
          "file",
          "line",
          "column",
          "field",
          "message"
        ],
        "properties": {
          "file": {
            "type": "string"
          },
          "line": {
            "type": "integer",
            "description": "1-based; 0 when the problem has no place in the text."
          },
          "column": {
            "type": "integer"
          },
          "field": {
            "type": "string",
            "description": "Dotted path, e.g. `waves[1].percent`."
          },
          "message": {
            "type": "string"
          }
        }
      },
      "Health": {
        "type": "object",
        "required": [
          "status"
        ],
        "properties": {
          "status": {
            "type": "string",
            "enum": [
              "ok",
              "ready",
              "starting"
            ]
          }
        }
      },
      "StageSummary": {
        "type": "object",
        "required": [
          "name",
          "status",
          "devices",
          "succeeded",
          "failed",
          "timedOut",
          "rejected",
          "inProgress",
          "queued",
          "verdict"
        ],
        "properties": {
          "name": {
            "type": "string",
            "description": "`canary`, `wave-1` … `wave-n`."
          },
          "status": {
            "type": "string",
            "enum": [
              "pending",
              "deploying",
              "baking",
              "passed",
              "failed",
              "skipped",
              "cancelled"
            ]
          },
          "devices": {
            "type": "integer",
            "description": "Devices assigned to the stage; null before the fleet is split.",
            "nullable": true
          },
          "succeeded": {
            "type": "integer"
          },
          "failed": {
            "type": "integer"
          },
          "timedOut": {
            "type": "integer"
          },
          "rejected": {
            "type": "integer"
          },
          "inProgress": {
            "type": "integer"
          },
          "queued": {
            "type": "integer"
          },
          "verdict": {
            "type": "string",
            "enum": [
              "pass",
              "fail",
              "wait",
              "inconclusive",
              null
            ],
            "description": "Last gate verdict; null before the first evaluation.",
            "nullable": true
          }
        }
      },
      "RolloutSummary": {
        "type": "object",
        "required": [
          "id",
          "name",
          "phase",
          "currentStage",
          "stages",
          "createdAt",
          "updatedAt",
          "endedAt",
          "waitingFor",
          "dueAt",
          "message",
          "eligibleDevices"
        ],
        "properties": {
          "id": {
            "type": "string"
          },
          "name": {
            "type": "string",
            "description": "The plan's name."
          },
          "phase": {
            "type": "string",
            "enum": [
              "scheduled",
              "waitingForWindow",
              "preparing",
              "deploying",
              "baking",
              "awaitingApproval",
              "paused",
              "rollingBack",
              "completed",
              "rolledBack",
              "aborted",
              "failed"
            ],
            "description": "Display phase: `paused` while a pause is in force."
          },
          "currentStage": {
            "type": "string",
            "description": "The stage being worked on or next to start.",
            "nullable": true
          },
          "stages": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/StageSummary"
            }
          },
          "createdAt": {
            "type": "string",
            "format": "date-time"
          },
          "updatedAt": {
            "type": "string",
            "format": "date-time"
          },
          "endedAt": {
            "type": "string",
            "format": "date-time",
            "nullable": true
          },
          "waitingFor": {
            "type": "string",
            "description": "What the rollout waits for, for people.",
            "nullable": true
          },
          "dueAt": {
            "type": "string",
            "format": "date-time",
            "description": "When a timer fires next (start time, window, bake end).",
            "nullable": true
          },
          "message": {
            "type": "string",
            "description": "The last notable thing that happened.",
            "nullable": true
          },
          "eligibleDevices": {
            "type": "integer",
            "nullable": true
          }
        }
      },
      "RolloutList": {
        "type": "object",
        "required": [
          "rollouts"
        ],
        "properties": {
          "rollouts": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/RolloutSummary"
            }
          }
        }
      },
      "GateResult": {
        "type": "object",
        "required": [
          "gate",
          "verdict",
          "reason"
        ],
        "properties": {
          "gate": {
            "type": "string",
            "description": "`failed`, `timedOut`, `rejected`, `executed`, `completed` or `metric:<name>`."
          },
          "verdict": {
            "type": "string",
            "enum": [
              "pass",
              "fail",
              "wait",
              "inconclusive"
            ]
          },
          "observed": {
            "type": "number"
          },
          "limit": {
            "type": "number"
          },
          "reason": {
            "type": "string"
          }
        }
      },
      "StageGates": {
        "type": "object",
        "required": [
          "stage",
          "status",
          "criteria",
          "verdict",
          "summary",
          "results"
        ],
        "properties": {
          "stage": {
            "type": "string"
          },
          "status": {
            "type": "string",
            "enum": [
              "pending",
              "deploying",
              "baking",
              "passed",
              "failed",
              "skipped",
              "cancelled"
            ]
          },
          "criteria": {
            "type": "object",
            "description": "The gates that judge this stage (its override or the plan's)."
          },
          "verdict": {
            "type": "string",
            "enum": [
              "pass",
              "fail",
              "wait",
              "inconclusive",
              null
            ],
            "nullable": true
          },
          "summary": {
            "type": "string",
            "nullable": true
          },
          "results": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/GateResult"
            },
            "description": "The numbers of the last evaluation."
          }
        }
      },
      "VerdictEntry": {
        "type": "object",
        "required": [
          "stage",
          "at",
          "verdict",
          "summary",
          "results"
        ],
        "properties": {
          "stage": {
            "type": "string"
          },
          "at": {
            "type": "string",
            "format": "date-time"
          },
          "verdict": {
            "type": "string",
            "enum": [
              "pass",
              "fail",
              "wait",
              "inconclusive"
            ]
          },
          "summary": {
            "type": "string"
          },
          "results": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/GateResult"
            }
          }
        }
      },
      "RolloutDetail": {
        "allOf": [
          {
            "$ref": "#/components/schemas/RolloutSummary"
          },
          {
            "type": "object",
            "required": [
              "fleetKind",
              "plan",
              "state",
              "gates",
              "verdicts",
              "nextWakeAt",
              "pendingEffects",
              "pause",
              "rollback"
            ],
            "properties": {
              "fleetKind": {
                "type": "string",
                "description": "`sim` or `aws`."
              },
              "plan": {
                "type": "object",
                "description": "The validated plan, every default filled in."
              },
              "state": {
                "type": "object",
                "description": "The full persisted rollout state."
              },
              "gates": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/StageGates"
                }
              },
              "verdicts": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/VerdictEntry"
                },
                "description": "Every change of verdict, oldest first."
              },
              "nextWakeAt": {
                "type": "string",
                "format": "date-time",
                "description": "When the worker looks at it next; null when it waits for a person or is finished.",
                "nullable": true
              },
              "pendingEffects": {
                "type": "integer",
                "description": "Effects waiting in the outbox."
              },
              "pause": {
                "type": "object",
                "description": "Why it is held and what resume does.",
                "nullable": true
              },
              "rollback": {
                "type": "object",
                "nullable": true
              }
            }
          }
        ]
      },
      "Event": {
        "type": "object",
        "required": [
          "sequence",
          "at",
          "type",
          "event"
        ],
        "properties": {
          "sequence": {
            "type": "integer",
            "description": "1-based position in the log."
          },
          "at": {
            "type": "string",
            "format": "date-time"
          },
          "type": {
            "type": "string",
            "description": "The event kind: submitted, timerFired, prepared, jobCreated, progressObserved, approved, pauseRequested, resumeRequested, abortRequested, rollbackRequested, jobCancelled, rollbackJobCreated, rollbackProgressObserved, effectFailed."
          },
          "event": {
            "type": "object",
            "description": "`{\"<type>\": {…data}}`."
          }
        }
      },
      "EventPage": {
        "type": "object",
        "required": [
          "events",
          "next"
        ],
        "properties": {
          "events": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Event"
            }
          },
          "next": {
            "type": "integer",
            "description": "Pass as `after` for the next page; null at the end of the log so far.",
            "nullable": true
          }
        }
      },
      "SubmitResult": {
        "type": "object",
        "required": [
          "id",
          "created",
          "phase",
          "message",
          "location"
        ],
        "properties": {
          "id": {
            "type": "string"
          },
          "created": {
            "type": "boolean",
            "description": "False when the same plan text was submitted before."
          },
          "phase": {
            "type": "string",
            "enum": [
              "scheduled",
              "waitingForWindow",
              "preparing",
              "deploying",
              "baking",
              "awaitingApproval",
              "paused",
              "rollingBack",
              "completed",
              "rolledBack",
              "aborted",
              "failed"
            ]
          },
          "message": {
            "type": "string",
            "nullable": true
          },
          "location": {
            "type": "string"
          }
        }
      },
      "CommandRequest": {
        "type": "object",
        "properties": {
          "by": {
            "type": "string",
            "description": "Who asks (default `api`)."
          },
          "reason": {
            "type": "string",
            "description": "Why (pause, abort, rollback)."
          }
        }
      },
      "CommandResult": {
        "type": "object",
        "required": [
          "id",
          "command",
          "accepted",
          "phase",
          "currentStage",
          "waitingFor",
          "message",
          "eventSequence"
        ],
        "properties": {
          "id": {
            "type": "string"
          },
          "command": {
            "type": "string",
            "enum": [
              "pause",
              "resume",
              "abort",
              "approve",
              "rollback"
            ]
          },
          "accepted": {
            "type": "boolean"
          },
          "phase": {
            "type": "string",
            "enum": [
              "scheduled",
              "waitingForWindow",
              "preparing",
              "deploying",
              "baking",
              "awaitingApproval",
              "paused",
              "rollingBack",
              "completed",
              "rolledBack",
              "aborted",
              "failed"
            ]
          },
          "currentStage": {
            "type": "string",
            "nullable": true
          },
          "waitingFor": {
            "type": "string",
            "nullable": true
          },
          "message": {
            "type": "string",
            "nullable": true
          },
          "eventSequence": {
            "type": "integer",
            "description": "Sequence of the recorded command event."
          }
        }
      }
    }
  }
}

"""#
}
