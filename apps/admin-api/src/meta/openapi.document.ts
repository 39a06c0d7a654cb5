/**
 * The admin API's OpenAPI 3 description, written by hand (no decorators on controllers): it is
 * a contract for Restate-compatible clients, so it changes only when the contract does.
 * Served at `GET /openapi.json`; docs/admin-api.md shows the same calls with curl.
 */
import { RESTATE_COMPATIBLE_VERSION, TRIBUTARY_VERSION } from './version';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
/** OpenAPI 3.0 ignores siblings of `$ref`, so a nullable reference wraps it in `allOf`. */
const nullableRef = (name: string): Json => ({ allOf: [ref(name)], nullable: true });

function json(description: string, schema: Json): Json {
  return { description, content: { 'application/json': { schema } } };
}

const error = (description: string): Json => json(description, ref('Error'));

function awakeableCommand(summary: string): Json {
  return {
    post: {
      tags: ['invocations'],
      summary,
      parameters: [
        pathParam('id', 'The awakeable id the handler got from ctx.awakeable()', 'sign_1...'),
      ],
      requestBody: { required: false, content: { '*/*': { schema: {} } } },
      responses: {
        '202': { description: 'Delivered: the invocation waiting on it goes on' },
        '400': error('Not an awakeable id'),
        '404': error('Its invocation is unknown or completed'),
        '413': error('The payload is larger than 4 MiB'),
      },
    },
  };
}

function pathParam(name: string, description: string, example?: string): Json {
  return {
    name,
    in: 'path',
    required: true,
    description,
    schema: { type: 'string', ...(example === undefined ? {} : { example }) },
  };
}

function queryParam(name: string, description: string, schema: Json = { type: 'string' }): Json {
  return { name, in: 'query', required: false, description, schema };
}

function body(schema: Json): Json {
  return { required: true, content: { 'application/json': { schema } } };
}

const stringMap: Json = { type: 'object', additionalProperties: { type: 'string' } };
const nullableString: Json = { type: 'string', nullable: true };

const subscriptionId = pathParam('id', 'Subscription id', 'sub_17dIxfx6WtqJgknUTtNq7v3');
const deploymentId = pathParam('id', 'Deployment id', 'dp_14LsPzTy2mCmKEWu8yW7YPZ');
const invocationId = pathParam('id', 'Invocation id', 'inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz');
const serviceName = pathParam('service', 'Service name', 'Counter');
const clusterName = pathParam('name', 'Kafka cluster name', 'my-cluster');

const badRequest = error('Invalid request: malformed JSON, wrong types, unknown fields');
const notFound = error('No such resource');

/** The management calls answer with an empty body: 200 when done, 202 when under way. */
const invocationCommand = (summary: string, extra: Record<string, Json> = {}): Json => ({
  patch: {
    tags: ['invocations'],
    summary,
    parameters: [invocationId],
    responses: {
      '200': { description: 'Done' },
      '202': { description: 'Accepted; takes effect shortly' },
      '400': error('Malformed id'),
      '404': notFound,
      ...extra,
    },
  },
});

/** The filters of GET /invocations, which GET /invocation-counts shares. */
const invocationFilterParams: Json[] = [
  queryParam('status', 'One or more statuses, comma-separated'),
  queryParam('target', 'Service, Service/handler or Service/key/handler'),
  queryParam('service', 'Target service'),
  queryParam('handler', 'Target handler'),
  queryParam('key', 'Virtual object / workflow key'),
  queryParam('subscription_id', 'Invocations made by this subscription'),
  queryParam('created_after', 'ISO 8601 date or date-time'),
  queryParam('created_before', 'ISO 8601 date or date-time'),
];

const schemas: Record<string, Json> = {
  Error: {
    type: 'object',
    required: ['message', 'restate_code'],
    properties: {
      message: { type: 'string', description: 'What is wrong and what to fix' },
      restate_code: { ...nullableString, description: "Restate's error code, e.g. META0009" },
    },
  },
  Version: {
    type: 'object',
    required: ['version', 'min_admin_api_version', 'max_admin_api_version', 'features'],
    properties: {
      version: {
        type: 'string',
        description: 'The Restate release whose admin API this mirrors',
        example: RESTATE_COMPATIBLE_VERSION,
      },
      min_admin_api_version: { type: 'integer', example: 2 },
      max_admin_api_version: { type: 'integer', example: 4 },
      features: { type: 'object', additionalProperties: { type: 'boolean' } },
      server: { type: 'string', enum: ['tributary'] },
      tributary_version: { type: 'string', example: TRIBUTARY_VERSION },
    },
  },
  Health: {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable', 'draining'] },
      checks: {
        type: 'object',
        properties: {
          postgres: { type: 'string', enum: ['up', 'unreachable'] },
          kafka: { type: 'string', enum: ['up', 'unreachable'] },
        },
      },
    },
  },
  RegisterDeploymentRequest: {
    type: 'object',
    required: ['uri'],
    properties: {
      uri: { type: 'string', example: 'http://localhost:9080' },
      additional_headers: { ...stringMap, nullable: true },
      use_http_11: { type: 'boolean' },
      force: { type: 'boolean', description: 'Overwrite an existing deployment of this uri' },
      breaking: { type: 'boolean' },
      dry_run: { type: 'boolean', description: 'Discover and validate, register nothing' },
    },
  },
  Handler: {
    type: 'object',
    required: ['name', 'ty', 'public', 'input_description', 'output_description'],
    properties: {
      name: { type: 'string' },
      ty: {
        type: 'string',
        enum: ['Exclusive', 'Shared', 'Workflow'],
        nullable: true,
        description: 'null for the handlers of a Service',
      },
      input_description: { type: 'string' },
      output_description: { type: 'string' },
      input_json_schema: { type: 'object' },
      output_json_schema: { type: 'object' },
      public: { type: 'boolean' },
      retry_policy: { type: 'object', description: 'Always empty: the policy is per service' },
    },
  },
  Service: {
    type: 'object',
    required: ['name', 'ty', 'deployment_id', 'revision'],
    properties: {
      name: { type: 'string' },
      ty: { type: 'string', enum: ['Service', 'VirtualObject', 'Workflow'] },
      handlers: { type: 'array', items: ref('Handler') },
      deployment_id: { type: 'string' },
      revision: { type: 'integer' },
      public: { type: 'boolean' },
      idempotency_retention: { type: 'string', example: '1d' },
      workflow_completion_retention: { ...nullableString, example: '1d' },
      inactivity_timeout: { type: 'string', example: '1m' },
      abort_timeout: { type: 'string', example: '10m' },
      enable_lazy_state: { type: 'boolean' },
      retry_policy: {
        type: 'object',
        properties: {
          initial_interval: { type: 'string', example: '500ms' },
          exponentiation_factor: { type: 'number' },
          max_attempts: { type: 'integer' },
          max_interval: { type: 'string', example: '1m' },
          on_max_attempts: { type: 'string', enum: ['Pause', 'Kill'] },
        },
      },
    },
  },
  Deployment: {
    type: 'object',
    required: ['id', 'services'],
    properties: {
      id: { type: 'string', example: 'dp_14LsPzTy2mCmKEWu8yW7YPZ' },
      uri: { type: 'string' },
      protocol_type: { type: 'string', enum: ['RequestResponse', 'BidiStream'] },
      http_version: { type: 'string', enum: ['HTTP/1.1', 'HTTP/2.0'] },
      service_protocol: {
        type: 'string',
        enum: ['tributary', 'restate'],
        description: 'Which protocol the invoker speaks to the deployment (Tributary only)',
      },
      additional_headers: stringMap,
      created_at: { type: 'string', format: 'date-time' },
      min_protocol_version: { type: 'integer' },
      max_protocol_version: { type: 'integer' },
      services: {
        type: 'array',
        items: ref('Service'),
      },
    },
  },
  KafkaCluster: {
    type: 'object',
    required: ['name', 'properties'],
    properties: {
      name: { type: 'string', example: 'my-cluster' },
      properties: {
        ...stringMap,
        description:
          "librdkafka properties; must hold 'bootstrap.servers' or 'metadata.broker.list'. Secrets shown as ***",
        example: { 'bootstrap.servers': 'broker:9092' },
      },
      created_at: { type: 'string', format: 'date-time' },
      source: {
        type: 'string',
        enum: ['config', 'api'],
        description: 'config: from the config file, read-only',
      },
      warnings: {
        type: 'array',
        items: { type: 'string' },
        description: 'On create and update: properties without an effect here',
      },
      subscriptions: {
        type: 'array',
        items: ref('Subscription'),
        description: 'GET /kafka-clusters/{name} only',
      },
    },
  },
  UpdateKafkaClusterRequest: {
    type: 'object',
    required: ['properties'],
    properties: { properties: stringMap },
  },
  CreateSubscriptionRequest: {
    type: 'object',
    required: ['source', 'sink'],
    properties: {
      source: { type: 'string', example: 'kafka://my-cluster/orders' },
      sink: { type: 'string', example: 'service://Counter/add' },
      options: {
        ...stringMap,
        description:
          'librdkafka consumer options (over the cluster properties) and tributary.dead-letter-topic, tributary.max-attempts',
        example: { 'auto.offset.reset': 'earliest' },
      },
    },
  },
  UpdateSubscriptionRequest: {
    type: 'object',
    required: ['options'],
    properties: {
      options: {
        ...stringMap,
        description:
          'Replaces the options; group.id and client.id keep their current values unless given',
      },
    },
  },
  Subscription: {
    type: 'object',
    required: ['id', 'source', 'sink', 'options'],
    properties: {
      id: { type: 'string', example: 'sub_17dIxfx6WtqJgknUTtNq7v3' },
      source: { type: 'string', example: 'kafka://my-cluster/orders' },
      sink: { type: 'string', example: 'service://Counter/add' },
      options: {
        ...stringMap,
        description: 'As given plus the resolved group.id and client.id; secrets shown as ***',
      },
      status: { type: 'string', enum: ['active', 'paused'] },
      dead_letter_topic: nullableString,
      warnings: {
        type: 'array',
        items: { type: 'string' },
        description: 'Options accepted without an effect here',
      },
      created_at: { type: 'string', format: 'date-time' },
      updated_at: { type: 'string', format: 'date-time' },
    },
  },
  SubscriptionDetail: {
    allOf: [
      ref('Subscription'),
      {
        type: 'object',
        properties: {
          partitions: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                partition: { type: 'integer' },
                committed_offset: { type: 'integer', nullable: true },
                end_offset: { type: 'integer' },
                lag: { type: 'integer', nullable: true },
                worker: { ...nullableString, description: 'Consumer worker holding it' },
              },
            },
          },
          partitions_error: {
            ...nullableString,
            description: 'Why partitions is empty when Kafka could not tell',
          },
        },
      },
    ],
  },
  Invocation: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      target: { type: 'string', example: 'Counter/my-key/add' },
      target_service_name: { type: 'string' },
      target_service_key: nullableString,
      target_handler_name: { type: 'string' },
      target_service_ty: { type: 'string', enum: ['service', 'virtual_object', 'workflow'] },
      status: {
        type: 'string',
        enum: [
          'pending',
          'scheduled',
          'ready',
          'running',
          'backing-off',
          'paused',
          'suspended',
          'completed',
        ],
      },
      completion_result: { type: 'string', enum: ['success', 'failure'], nullable: true },
      completion_failure: nullableString,
      invoked_by: {
        type: 'string',
        enum: ['subscription', 'restart_as_new', 'ingress', 'service'],
      },
      invoked_by_subscription_id: nullableString,
      invoked_by_id: {
        ...nullableString,
        description: 'The invocation that called or sent to this one (invoked_by service)',
      },
      restarted_from: nullableString,
      workflow_run_of: {
        ...nullableString,
        description: 'A workflow run that did not run: the run of its workflow id it records',
      },
      created_at: { type: 'string', format: 'date-time' },
      modified_at: { type: 'string', format: 'date-time' },
      inboxed_at: { type: 'string', format: 'date-time', nullable: true },
      scheduled_at: { type: 'string', format: 'date-time', nullable: true },
      running_at: { type: 'string', format: 'date-time', nullable: true },
      completed_at: { type: 'string', format: 'date-time', nullable: true },
      retry_count: { type: 'integer' },
      next_retry_at: { type: 'string', format: 'date-time', nullable: true },
      last_failure: nullableString,
      last_failure_error_code: { type: 'integer', nullable: true },
      kafka: {
        type: 'object',
        nullable: true,
        properties: {
          topic: { type: 'string' },
          partition: { type: 'integer' },
          offset: { type: 'string', description: '64-bit, as decimal text' },
          timestamp: nullableString,
        },
      },
      dead_letter_topic: nullableString,
      dead_lettered_at: { type: 'string', format: 'date-time', nullable: true },
    },
  },
  InvocationDetail: {
    allOf: [
      ref('Invocation'),
      {
        type: 'object',
        properties: {
          headers: { ...stringMap, description: "The handler's request headers" },
          raw_headers: {
            ...stringMap,
            nullable: true,
            description: 'Record headers that are not UTF-8, base64',
          },
          journal: {
            type: 'array',
            items: ref('JournalEntry'),
            description:
              'The journal the invoker stored (Restate SDK deployments), in order; empty when none is stored',
          },
          attempts: {
            type: 'array',
            items: ref('FailedAttempt'),
            description: 'Each attempt that failed, oldest first; empty when none did',
          },
        },
        required: ['journal', 'attempts'],
      },
    ],
  },
  FailedAttempt: {
    type: 'object',
    required: ['attempt', 'started_at', 'ended_at', 'error_code', 'failure'],
    properties: {
      attempt: { type: 'integer', description: '1 for the first attempt that failed' },
      started_at: nullableString,
      ended_at: { type: 'string' },
      error_code: { type: 'integer', nullable: true },
      failure: { type: 'string' },
    },
  },
  DeploymentHealth: {
    type: 'object',
    required: ['deployments'],
    properties: {
      deployments: {
        type: 'array',
        items: {
          type: 'object',
          required: [
            'id',
            'uri',
            'discovered_at',
            'reachable',
            'probe_error',
            'probed_at',
            'failing',
            'last_failure',
            'last_failure_at',
          ],
          properties: {
            id: { type: 'string' },
            uri: { type: 'string' },
            discovered_at: { type: 'string', description: 'When it was registered (discovered)' },
            reachable: {
              type: 'boolean',
              description: 'A TCP connection to its host and port opened within 2 s (cached 5 s)',
            },
            probe_error: nullableString,
            probed_at: { type: 'string' },
            failing: {
              type: 'integer',
              description: "Its services' open invocations whose last attempt failed",
            },
            last_failure: nullableString,
            last_failure_at: nullableString,
          },
        },
      },
    },
  },
  JournalEntry: {
    type: 'object',
    description: "One journal entry, after the columns of Restate's sys_journal",
    properties: {
      index: {
        type: 'integer',
        description:
          'Restate numbering: 0 is the input command (not stored), so entries start at 1',
      },
      entry_type: {
        type: 'string',
        example: 'Command: Run',
        description:
          "Restate's name: 'Command: <Type>' or 'Notification: <Type>'; 'Custom(0x…)' or 'Unknown(0x…)' for other message types",
      },
      name: { ...nullableString, description: "The command's name; null when empty" },
      completed: {
        type: 'boolean',
        nullable: true,
        description: 'For a command awaiting a completion: whether the journal holds it',
      },
      invoked_id: { ...nullableString, description: "Call, one-way call: the callee's id" },
      invoked_target: {
        ...nullableString,
        description: 'Call, one-way call: Service/handler or Service/key/handler',
      },
      sleep_wakeup_at: { type: 'string', format: 'date-time', nullable: true },
      promise_name: { ...nullableString, description: 'Get, peek, complete promise' },
      raw_length: { type: 'integer', description: 'Bytes of the stored protobuf message' },
      entry: nullableRef('JournalEntryDetail'),
      decode_error: { ...nullableString, description: 'Why entry is null' },
    },
    required: [
      'index',
      'entry_type',
      'name',
      'completed',
      'invoked_id',
      'invoked_target',
      'sleep_wakeup_at',
      'promise_name',
      'raw_length',
      'entry',
      'decode_error',
    ],
  },
  JournalEntryDetail: {
    type: 'object',
    description:
      'The decoded message; which fields are present depends on entry_type (docs/admin-api.md)',
    properties: {
      headers: { type: 'array', items: ref('JournalHeader') },
      value: nullableRef('JournalValue'),
      result: nullableRef('JournalResult'),
      state_key: ref('JournalValue'),
      state_keys: { type: 'array', items: ref('JournalValue') },
      promise_key: { type: 'string' },
      completion: nullableRef('JournalResult'),
      wake_up_time: { type: 'string', format: 'date-time' },
      service_name: { type: 'string' },
      handler_name: { type: 'string' },
      service_key: { type: 'string' },
      idempotency_key: nullableString,
      parameter: ref('JournalValue'),
      invoke_time: { type: 'string', format: 'date-time', nullable: true },
      invocation_id_notification_idx: { type: 'integer' },
      result_completion_id: { type: 'integer' },
      completion_id: { type: 'integer' },
      target_invocation_id: { type: 'string' },
      signal_index: { type: 'integer', nullable: true },
      signal_name: nullableString,
      target: nullableRef('JournalInvocationTarget'),
      awakeable_id: { type: 'string' },
    },
  },
  JournalValue: {
    type: 'object',
    description: 'Bytes: UTF-8 text when valid UTF-8, else base64; at most the first 4096 shown',
    properties: {
      size: { type: 'integer', description: 'Bytes of the whole value' },
      encoding: { type: 'string', enum: ['utf8', 'base64'] },
      content: { type: 'string' },
      truncated: { type: 'boolean' },
    },
    required: ['size', 'encoding', 'content', 'truncated'],
  },
  JournalResult: {
    type: 'object',
    properties: {
      kind: { type: 'string', enum: ['void', 'value', 'failure', 'invocation_id', 'state_keys'] },
      value: ref('JournalValue'),
      failure: {
        type: 'object',
        properties: {
          code: { type: 'integer' },
          message: { type: 'string', description: 'Over 4096 bytes: cut, its size appended' },
          metadata: { type: 'array', items: ref('JournalHeader') },
        },
        required: ['code', 'message', 'metadata'],
      },
      invocation_id: { type: 'string' },
      state_keys: { type: 'array', items: ref('JournalValue') },
    },
    required: ['kind'],
  },
  JournalHeader: {
    type: 'object',
    properties: { key: { type: 'string' }, value: { type: 'string' } },
    required: ['key', 'value'],
  },
  JournalInvocationTarget: {
    type: 'object',
    properties: {
      kind: { type: 'string', enum: ['invocation_id', 'idempotent_request', 'workflow'] },
      invocation_id: { type: 'string' },
      service_name: { type: 'string' },
      service_key: nullableString,
      handler_name: { type: 'string' },
      idempotency_key: { type: 'string' },
      workflow_name: { type: 'string' },
      workflow_key: { type: 'string' },
    },
    required: ['kind'],
  },
  RestartAsNewResult: {
    type: 'object',
    properties: { new_invocation_id: { type: 'string' } },
  },
  StatusCounts: {
    type: 'object',
    required: [
      'pending',
      'scheduled',
      'ready',
      'running',
      'backing-off',
      'paused',
      'suspended',
      'completed',
    ],
    properties: Object.fromEntries(
      [
        'pending',
        'scheduled',
        'ready',
        'running',
        'backing-off',
        'paused',
        'suspended',
        'completed',
      ].map((s) => [s, { type: 'integer' }]),
    ),
  },
  InvocationCounts: {
    type: 'object',
    required: ['as_of', 'cap', 'capped', 'total', 'by_status', 'by_subscription'],
    properties: {
      as_of: {
        type: 'string',
        description: 'The server clock when counting: only invocations created before it count',
      },
      cap: { type: 'integer', description: 'Completed invocations are counted up to this many' },
      capped: {
        type: 'boolean',
        description: 'The completed ones reached cap: by_status.completed and total are at least',
      },
      total: { type: 'integer' },
      by_status: ref('StatusCounts'),
      by_subscription: {
        type: 'array',
        items: {
          type: 'object',
          required: ['subscription_id', 'open', 'last_minute'],
          properties: {
            subscription_id: { type: 'string' },
            open: {
              type: 'object',
              description: 'Its open (not completed) invocations by status',
              required: [
                'pending',
                'scheduled',
                'ready',
                'running',
                'backing-off',
                'paused',
                'suspended',
              ],
              properties: Object.fromEntries(
                [
                  'pending',
                  'scheduled',
                  'ready',
                  'running',
                  'backing-off',
                  'paused',
                  'suspended',
                ].map((st) => [st, { type: 'integer' }]),
              ),
            },
            last_minute: {
              type: 'object',
              description: 'Invocations that ended in the minute before as_of',
              required: ['completed', 'failed', 'dead_lettered'],
              properties: {
                completed: { type: 'integer' },
                failed: { type: 'integer' },
                dead_lettered: { type: 'integer' },
              },
            },
          },
        },
      },
    },
  },
  LagHistory: {
    type: 'object',
    required: ['interval_ms', 'samples'],
    properties: {
      interval_ms: { type: 'integer', description: 'Sampling interval' },
      samples: {
        type: 'array',
        items: {
          type: 'object',
          required: ['at', 'lag', 'end_offset_sum', 'committed_offset_sum'],
          properties: {
            at: { type: 'integer', description: 'Unix milliseconds' },
            lag: { type: 'integer', nullable: true },
            end_offset_sum: { type: 'integer' },
            committed_offset_sum: { type: 'integer', nullable: true },
          },
        },
      },
    },
  },
  ResetOffsetsRequest: {
    type: 'object',
    required: ['to'],
    properties: {
      to: { type: 'string', enum: ['earliest', 'latest', 'offset', 'timestamp'] },
      offset: { type: 'integer', description: "With to: 'offset' (needs partition)" },
      timestamp: {
        type: 'string',
        description: "With to: 'timestamp': ISO 8601 or Unix milliseconds",
      },
      partition: { type: 'integer', description: 'One partition; all when absent' },
      dry_run: { type: 'boolean', description: 'Only say what would happen' },
    },
  },
  ResetOffsets: {
    type: 'object',
    required: [
      'subscription_id',
      'group_id',
      'topic',
      'applied',
      'records_read_again',
      'invocations_existing',
      'new_invocations',
      'records_skipped',
      'partitions',
    ],
    properties: {
      subscription_id: { type: 'string' },
      group_id: { type: 'string' },
      topic: { type: 'string' },
      applied: { type: 'boolean' },
      records_read_again: { type: 'integer' },
      invocations_existing: {
        type: 'integer',
        description: 'Records read again whose invocation is still stored: not run again',
      },
      new_invocations: { type: 'integer' },
      records_skipped: { type: 'integer' },
      partitions: {
        type: 'array',
        items: {
          type: 'object',
          required: [
            'partition',
            'committed_offset',
            'target_offset',
            'end_offset',
            'records_read_again',
            'invocations_existing',
            'records_skipped',
          ],
          properties: {
            partition: { type: 'integer' },
            committed_offset: { type: 'integer', nullable: true },
            target_offset: { type: 'integer' },
            end_offset: { type: 'integer' },
            records_read_again: { type: 'integer' },
            invocations_existing: { type: 'integer' },
            records_skipped: { type: 'integer' },
          },
        },
      },
    },
  },
  RecordPage: {
    type: 'object',
    required: ['topic', 'partition', 'low_offset', 'high_offset', 'records', 'next_offset'],
    properties: {
      topic: { type: 'string' },
      partition: { type: 'integer' },
      low_offset: { type: 'string' },
      high_offset: { type: 'string' },
      next_offset: nullableString,
      records: {
        type: 'array',
        items: {
          type: 'object',
          required: [
            'partition',
            'offset',
            'timestamp',
            'key',
            'value',
            'headers',
            'invocation_id',
          ],
          properties: {
            partition: { type: 'integer' },
            offset: { type: 'string' },
            timestamp: { type: 'string', description: 'Unix milliseconds' },
            key: { ...nullableString, description: 'base64' },
            value: { ...nullableString, description: 'base64' },
            headers: { ...stringMap, description: 'values base64' },
            invocation_id: {
              type: 'string',
              description: 'The invocation this record becomes (derived from the record)',
            },
          },
        },
      },
    },
  },
  ObjectState: {
    type: 'object',
    required: ['service', 'key', 'version', 'entries'],
    properties: {
      service: { type: 'string' },
      key: { type: 'string' },
      version: { type: 'string', description: "Restate's state version, for POST .../state" },
      entries: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'value'],
          properties: {
            name: { type: 'string' },
            value: { type: 'string', description: 'base64' },
          },
        },
      },
    },
  },
  StateKeys: {
    type: 'object',
    required: ['service', 'keys', 'next_after'],
    properties: {
      service: { type: 'string' },
      keys: {
        type: 'array',
        items: {
          type: 'object',
          required: ['key', 'entries'],
          properties: { key: { type: 'string' }, entries: { type: 'integer' } },
        },
      },
      next_after: nullableString,
    },
  },
  ModifyServiceStateRequest: {
    type: 'object',
    required: ['object_key', 'new_state'],
    properties: {
      object_key: { type: 'string' },
      version: { ...nullableString, description: 'Apply only if the state still has this version' },
      new_state: {
        type: 'object',
        additionalProperties: { type: 'array', items: { type: 'integer' } },
      },
    },
  },
  DeadLetterPage: {
    type: 'object',
    required: ['subscription_id', 'total', 'dead_letters', 'next_cursor'],
    properties: {
      subscription_id: { type: 'string' },
      total: { type: 'integer' },
      next_cursor: nullableString,
      dead_letters: {
        type: 'array',
        items: {
          type: 'object',
          required: [
            'invocation_id',
            'target',
            'failure',
            'error_code',
            'retry_count',
            'completed_at',
            'dead_lettered_at',
            'dead_letter_topic',
            'kafka',
          ],
          properties: {
            invocation_id: { type: 'string' },
            target: { type: 'string' },
            failure: nullableString,
            error_code: { type: 'integer', nullable: true },
            retry_count: { type: 'integer' },
            completed_at: nullableString,
            dead_lettered_at: { ...nullableString, description: 'null while not yet written' },
            dead_letter_topic: { type: 'string' },
            kafka: {
              type: 'object',
              nullable: true,
              required: ['topic', 'partition', 'offset'],
              properties: {
                topic: { type: 'string' },
                partition: { type: 'integer' },
                offset: { type: 'string' },
              },
            },
          },
        },
      },
    },
  },
};

export const ADMIN_OPENAPI_DOCUMENT = {
  openapi: '3.0.3',
  info: {
    title: 'Tributary admin API',
    version: TRIBUTARY_VERSION,
    description: `Compatible with Restate's admin API ${RESTATE_COMPATIBLE_VERSION}. Every path is also served under /v2, /v3 and /v4. Every error answers {"message", "restate_code"}.`,
  },
  servers: [{ url: 'http://localhost:9070' }],
  tags: [
    { name: 'meta' },
    { name: 'deployments' },
    { name: 'services' },
    { name: 'kafka-clusters' },
    { name: 'subscriptions' },
    { name: 'invocations' },
    { name: 'console', description: 'Endpoints the web console (/ui) needs beyond Restate' },
  ],
  paths: {
    '/health': {
      get: {
        tags: ['meta'],
        summary: 'Readiness: Postgres and Kafka answer',
        responses: {
          '200': json('Ready', ref('Health')),
          '503': json('Not ready', ref('Health')),
        },
      },
    },
    '/version': {
      get: {
        tags: ['meta'],
        summary: 'Restate-compatible version and admin API versions',
        responses: { '200': json('Version', ref('Version')) },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['meta'],
        summary: 'This document',
        responses: { '200': json('OpenAPI 3 document', { type: 'object' }) },
      },
    },
    '/deployments': {
      get: {
        tags: ['deployments'],
        summary: 'List deployments',
        responses: {
          '200': json('Deployments', {
            type: 'object',
            properties: {
              deployments: {
                type: 'array',
                items: {
                  allOf: [
                    ref('Deployment'),
                    {
                      type: 'object',
                      properties: {
                        services: {
                          type: 'array',
                          items: {
                            type: 'object',
                            required: ['name', 'revision'],
                            properties: { name: { type: 'string' }, revision: { type: 'integer' } },
                          },
                        },
                      },
                    },
                  ],
                },
              },
            },
          }),
        },
      },
      post: {
        tags: ['deployments'],
        summary: 'Discover an endpoint (GET {uri}/discover) and register its services',
        requestBody: body(ref('RegisterDeploymentRequest')),
        responses: {
          '201': json('Registered', ref('Deployment')),
          '200': json('Already registered, unchanged (or dry run)', ref('Deployment')),
          '400': badRequest,
          '409': error('Conflicts with registered services; use force'),
          '502': error('Discovery failed'),
        },
      },
    },
    '/deployments/{id}': {
      get: {
        tags: ['deployments'],
        summary: 'Get a deployment',
        parameters: [deploymentId],
        responses: {
          '200': json('Deployment', ref('Deployment')),
          '400': error('Malformed deployment id'),
          '404': notFound,
        },
      },
      delete: {
        tags: ['deployments'],
        summary: 'Remove a deployment',
        parameters: [
          deploymentId,
          queryParam('force', 'Remove even if in use', { type: 'boolean' }),
        ],
        responses: { '202': { description: 'Removed' }, '404': notFound },
      },
    },
    '/services': {
      get: {
        tags: ['services'],
        summary: 'List services',
        responses: {
          '200': json('Services', {
            type: 'object',
            properties: { services: { type: 'array', items: ref('Service') } },
          }),
        },
      },
    },
    '/services/{service}': {
      get: {
        tags: ['services'],
        summary: 'Get a service',
        parameters: [serviceName],
        responses: { '200': json('Service', ref('Service')), '404': notFound },
      },
    },
    '/services/{service}/handlers/{handler}': {
      get: {
        tags: ['services'],
        summary: 'Get one handler of a service',
        parameters: [serviceName, pathParam('handler', 'Handler name', 'add')],
        responses: { '200': json('Handler', ref('Handler')), '404': notFound },
      },
    },
    '/services/{service}/handlers': {
      get: {
        tags: ['services'],
        summary: "List a service's handlers",
        parameters: [serviceName],
        responses: {
          '200': json('Handlers', {
            type: 'object',
            properties: { handlers: { type: 'array', items: ref('Handler') } },
          }),
          '404': notFound,
        },
      },
    },
    '/kafka-clusters': {
      get: {
        tags: ['kafka-clusters'],
        summary: 'List Kafka clusters (config-file clusters included)',
        responses: {
          '200': json('Clusters', {
            type: 'object',
            properties: { clusters: { type: 'array', items: ref('KafkaCluster') } },
          }),
        },
      },
      post: {
        tags: ['kafka-clusters'],
        summary: 'Create a Kafka cluster',
        requestBody: body(ref('KafkaCluster')),
        responses: {
          '201': json('Created', ref('KafkaCluster')),
          '400': badRequest,
          '409': error('A cluster of this name exists'),
        },
      },
    },
    '/kafka-clusters/{name}': {
      get: {
        tags: ['kafka-clusters'],
        summary: 'Get a Kafka cluster with its subscriptions',
        parameters: [
          clusterName,
          queryParam(
            'include_subscriptions',
            'true to list the subscriptions reading from the cluster; false (the default, as in Restate) answers an empty list',
            { type: 'boolean', default: false },
          ),
        ],
        responses: { '200': json('Cluster', ref('KafkaCluster')), '404': notFound },
      },
      patch: {
        tags: ['kafka-clusters'],
        summary: "Replace a cluster's properties",
        parameters: [clusterName],
        requestBody: body(ref('UpdateKafkaClusterRequest')),
        responses: {
          '200': json('Updated', ref('KafkaCluster')),
          '400': badRequest,
          '404': notFound,
        },
      },
      delete: {
        tags: ['kafka-clusters'],
        summary: 'Delete a cluster',
        parameters: [
          clusterName,
          queryParam('force', 'Delete even when subscriptions use it', { type: 'boolean' }),
        ],
        responses: {
          '202': { description: 'Deleted' },
          '404': notFound,
          '409': error('Subscriptions use the cluster; remove them or use force=true'),
        },
      },
    },
    '/subscriptions': {
      get: {
        tags: ['subscriptions'],
        summary: 'List subscriptions',
        parameters: [
          queryParam('source', 'Exact source URI'),
          queryParam('sink', 'Exact sink URI'),
        ],
        responses: {
          '200': json('Subscriptions', {
            type: 'object',
            properties: { subscriptions: { type: 'array', items: ref('Subscription') } },
          }),
          '400': badRequest,
        },
      },
      post: {
        tags: ['subscriptions'],
        summary: 'Create a subscription; the same source, sink and options again is a no-op',
        requestBody: body(ref('CreateSubscriptionRequest')),
        responses: {
          '201': {
            ...(json('Created', ref('Subscription')) as Record<string, Json>),
            headers: {
              Location: {
                description: 'subscriptions/<id>',
                schema: { type: 'string' },
              },
            },
          },
          '200': json('The same subscription existed', ref('Subscription')),
          '400': error(
            'Invalid source/sink URI (restate_code META0009), unknown cluster, unregistered handler, invalid options',
          ),
          '413': error('Body too large'),
        },
      },
    },
    '/subscriptions/{id}': {
      get: {
        tags: ['subscriptions'],
        summary: 'Get a subscription with per-partition offsets, lag and worker',
        parameters: [subscriptionId],
        responses: {
          '200': json('Subscription', ref('SubscriptionDetail')),
          '400': error('Malformed id'),
          '404': notFound,
        },
      },
      patch: {
        tags: ['subscriptions'],
        summary: 'Replace the options',
        parameters: [subscriptionId],
        requestBody: body(ref('UpdateSubscriptionRequest')),
        responses: {
          '200': json('Updated', ref('Subscription')),
          '400': badRequest,
          '404': notFound,
        },
      },
      delete: {
        tags: ['subscriptions'],
        summary: 'Delete; consumption stops within seconds',
        parameters: [subscriptionId],
        responses: {
          '202': { description: 'Deleted' },
          '400': error('Malformed id'),
          '404': notFound,
        },
      },
    },
    '/subscriptions/{id}/pause': {
      patch: {
        tags: ['subscriptions'],
        summary: 'Stop consuming, keeping the committed offsets',
        parameters: [subscriptionId],
        responses: { '200': json('Paused', ref('Subscription')), '404': notFound },
      },
    },
    '/subscriptions/{id}/resume': {
      patch: {
        tags: ['subscriptions'],
        summary: 'Consume again from the committed offsets',
        parameters: [subscriptionId],
        responses: { '200': json('Active', ref('Subscription')), '404': notFound },
      },
    },
    '/invocations': {
      get: {
        tags: ['invocations'],
        summary: 'List invocations, newest first, paged',
        parameters: [
          queryParam('status', 'One or more statuses, comma-separated'),
          queryParam('target', 'Service, Service/handler or Service/key/handler'),
          queryParam('service', 'Target service'),
          queryParam('handler', 'Target handler'),
          queryParam('key', 'Virtual object / workflow key'),
          queryParam('subscription_id', 'Invocations made by this subscription'),
          queryParam('created_after', 'ISO 8601 date or date-time'),
          queryParam('created_before', 'ISO 8601 date or date-time'),
          queryParam('limit', 'Page size, 1 to 1000 (default 100)', { type: 'integer' }),
          queryParam('cursor', 'next_cursor of the previous page'),
        ],
        responses: {
          '200': json('Invocations', {
            type: 'object',
            properties: {
              invocations: { type: 'array', items: ref('Invocation') },
              next_cursor: nullableString,
            },
          }),
          '400': badRequest,
        },
      },
    },
    '/invocations/{id}': {
      get: {
        tags: ['invocations'],
        summary: 'Get an invocation',
        parameters: [invocationId],
        responses: {
          '200': json('Invocation', ref('InvocationDetail')),
          '400': error('Malformed id'),
          '404': notFound,
        },
      },
      delete: {
        tags: ['invocations'],
        summary: 'Deprecated: cancel, kill or purge',
        deprecated: true,
        parameters: [
          invocationId,
          queryParam('mode', 'cancel (default), kill or purge', {
            type: 'string',
            enum: ['cancel', 'kill', 'purge'],
          }),
        ],
        responses: {
          '202': { description: 'Accepted' },
          '404': notFound,
          '409': error('Conflict'),
        },
      },
    },
    '/invocations/{id}/output': {
      get: {
        tags: ['invocations'],
        summary: "The completed invocation's output",
        parameters: [invocationId],
        responses: {
          '200': { description: 'The output, with the content type the handler gave it' },
          '404': notFound,
          '470': error('Not completed yet'),
          '500': error("Completed with a failure: the failure's code (else 500) and message"),
        },
      },
    },
    '/restate/awakeables/{id}/resolve': awakeableCommand(
      'Resolve an awakeable of a Restate SDK handler with the body (JSON, or bytes of another content type)',
    ),
    '/restate/awakeables/{id}/reject': awakeableCommand(
      "Reject an awakeable of a Restate SDK handler: the body (text, or a JSON string) is the failure's message",
    ),
    '/invocations/{id}/cancel': invocationCommand('Cancel', {
      '409': error('Already completed'),
    }),
    '/invocations/{id}/kill': invocationCommand('Kill', { '409': error('Already completed') }),
    '/invocations/{id}/pause': invocationCommand('Pause', {
      '409': error(
        'Not started yet (pending, scheduled) or completed: only ready, running, backing-off and suspended invocations can be paused',
      ),
    }),
    '/invocations/{id}/resume': invocationCommand('Resume', {
      '425': error('Inboxed or scheduled: not resumable yet'),
    }),
    '/invocations/{id}/purge': invocationCommand('Purge a completed invocation', {
      '409': error('Not completed yet'),
    }),
    '/invocations/{id}/restart-as-new': {
      patch: {
        tags: ['invocations'],
        summary: 'Restart as a new invocation with the same input',
        parameters: [invocationId],
        responses: {
          '200': json('Restarted', ref('RestartAsNewResult')),
          '404': notFound,
          '409': error('Still running'),
        },
      },
    },
    '/invocation-counts': {
      get: {
        tags: ['console'],
        summary:
          'How many invocations the filters of GET /invocations match, by status and subscription',
        parameters: invocationFilterParams,
        responses: {
          '200': json('Counts', ref('InvocationCounts')),
          '400': badRequest,
        },
      },
    },
    '/deployment-health': {
      get: {
        tags: ['console'],
        summary:
          'Each deployment: reachable (a TCP probe, 2 s timeout, cached 5 s), when discovered, its failing invocations',
        responses: { '200': json('Health', ref('DeploymentHealth')) },
      },
    },
    '/invocations/{id}/input': {
      get: {
        tags: ['console'],
        summary: "The invocation's input bytes (the record's value)",
        parameters: [invocationId],
        responses: {
          '200': {
            description:
              "The input, with the record's content-type header, else application/octet-stream",
          },
          '400': error('Malformed id'),
          '404': notFound,
        },
      },
    },
    '/subscriptions/{id}/lag-history': {
      get: {
        tags: ['console'],
        summary: 'Lag and offsets sampled every 5s while watched (the last hour at most)',
        parameters: [subscriptionId],
        responses: {
          '200': json('Samples, oldest first', ref('LagHistory')),
          '400': error('Malformed id'),
          '404': notFound,
        },
      },
    },
    '/subscriptions/{id}/reset-offsets': {
      post: {
        tags: ['console'],
        summary:
          "Move the subscription's consumer group (replay or skip); dry_run says how many records are read again",
        parameters: [subscriptionId],
        requestBody: body(ref('ResetOffsetsRequest')),
        responses: {
          '200': json('What moves (applied: false on a dry run)', ref('ResetOffsets')),
          '400': badRequest,
          '404': notFound,
          '409': error(
            'The subscription is active, its group has members, or its topic is missing',
          ),
          '502': error('Kafka failed'),
        },
      },
    },
    '/subscriptions/{id}/records': {
      get: {
        tags: ['console'],
        summary:
          "A page of the subscription's topic, one partition, each record with its invocation id",
        parameters: [
          subscriptionId,
          queryParam('partition', 'Partition (default 0)', { type: 'integer' }),
          queryParam('offset', 'First offset (default: the last records)', { type: 'integer' }),
          queryParam('timestamp', 'Instead of offset: the first record at or after this time'),
          queryParam('limit', 'Records, 1 to 100 (default 20)', { type: 'integer' }),
        ],
        responses: {
          '200': json('Records', ref('RecordPage')),
          '400': badRequest,
          '404': notFound,
          '409': error('The topic is missing'),
          '502': error('Kafka failed'),
        },
      },
    },
    '/services/{service}/state': {
      get: {
        tags: ['console'],
        summary: 'Keys of a virtual object or workflow with state, in key order, paged',
        parameters: [serviceName, queryParam('after', 'next_after of the previous page')],
        responses: {
          '200': json('Keys', ref('StateKeys')),
          '400': error('Not a virtual object or workflow'),
          '404': notFound,
        },
      },
      post: {
        tags: ['services'],
        summary: "Replace a key's state (Restate's), if still at version when given",
        parameters: [serviceName],
        requestBody: body(ref('ModifyServiceStateRequest')),
        responses: {
          '202': { description: 'Replaced' },
          '400': badRequest,
          '404': notFound,
          '409': error('The state changed since version, or an invocation of the key is running'),
        },
      },
    },
    '/services/{service}/state/{key}': {
      get: {
        tags: ['console'],
        summary: "A key's state entries and version",
        parameters: [serviceName, pathParam('key', 'Object or workflow key', 'bob')],
        responses: {
          '200': json('State', ref('ObjectState')),
          '400': error('Not a virtual object or workflow'),
          '404': notFound,
        },
      },
    },
    '/subscriptions/{id}/dead-letters': {
      get: {
        tags: ['console'],
        summary:
          'Invocations of the subscription that failed into its dead-letter topic, newest first, with why',
        parameters: [subscriptionId, queryParam('cursor', 'next_cursor of the previous page')],
        responses: {
          '200': json('Dead letters', ref('DeadLetterPage')),
          '400': badRequest,
          '404': notFound,
        },
      },
    },
  },
  components: { schemas },
} as const;
