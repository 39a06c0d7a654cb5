import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import {
  InvocationEntity,
  InvocationStatus,
  KafkaClusterEntity,
  ObjectStateEntity,
} from '../../libs/shared/src/database/entities';
import { newId, newInvocationId } from '../../libs/shared/src/ids/ids';
import { AdminTestApp, startAdminApi } from '../support/admin-app';
import { insertSubscription, registerService } from '../support/fixtures';
import { testKafka } from '../support/kafka';

/**
 * Issue 7, part 2: every admin endpoint against bad input. Each case is one request; it must
 * answer a 4xx with Restate's error body (never a 5xx), and leave every table as it was.
 * Requests go out byte for byte over a plain socket: superagent would resolve `..`, re-encode
 * unicode and refuse some paths before they reach the server.
 */
jest.setTimeout(120_000);

const TABLES = [
  'deployments',
  'services',
  'handlers',
  'kafka_clusters',
  'subscriptions',
  'invocations',
  'invocation_payloads',
  'object_state',
] as const;

/** Ids of the seeded rows, filled in for `{placeholders}` in the cases' paths and bodies. */
const SEEDED = {
  dp: '', // the deployment of Counter, under a subscription
  dpGreeter: '',
  sub: newId('sub'), // placeholder until seeded: on cluster `local`, sink Counter/add
  subOther: '', // on the API cluster `other`, sink Greeter/greet
  running: newInvocationId(),
  completed: newInvocationId(),
  paused: newInvocationId(),
  pending: newInvocationId(),
  failed: newInvocationId(),
  unknownDp: newId('dp'),
  unknownSub: newId('sub'),
  unknownInv: newInvocationId(),
};
type Placeholder = keyof typeof SEEDED;

const fill = (text: string): string =>
  text.replace(/\{(\w+)\}/g, (all, name: string) =>
    name in SEEDED ? SEEDED[name as Placeholder] : all,
  );

interface BadRequest {
  /** What is wrong with it, for the test name. */
  what: string;
  method: string;
  /** Sent exactly as written (after `{placeholder}` substitution). */
  path: string;
  /** A string is sent as is (placeholders filled); an object is JSON-encoded. */
  body?: string | Buffer | object;
  /** Defaults to application/json when there is a body; null sends none. */
  contentType?: string | null;
  headers?: Record<string, string>;
  /** Send the body in chunks, without content-length. */
  chunked?: boolean;
  /** The exact status; any 4xx when not given. */
  status?: number;
  /** The message must match. */
  message?: RegExp;
  restateCode?: string | null;
  /** Answered by Node's HTTP parser before the app: no Restate error body. */
  refusedByNode?: boolean;
}

interface Answer {
  status: number;
  contentType: string | undefined;
  allow: string | undefined;
  text: string;
  body: unknown;
}

const MAX_BODY_BYTES = 1024 * 1024;

// Injection-like strings, each sent wherever a name, URI or filter is accepted.
const INJECTIONS = [
  "'; DROP TABLE invocations; --",
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1:1/a}',
  '{{7*7}}',
  '%s%s%s%n',
];

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

/** Bodies that are not a JSON object at all, and what the answer says. */
const MALFORMED = /^Malformed JSON in request body: ./;
const NOT_AN_OBJECT = /^Invalid request body: expected a JSON object, got an array$/;
const MALFORMED_JSON: [string, string | Buffer, RegExp][] = [
  ['truncated JSON', '{"uri": "http://127.0.0.1:1", "for', MALFORMED],
  ['a lone {', '{', MALFORMED],
  ['a trailing comma', '{"a": 1,}', MALFORMED],
  ['single quotes', "{'a': 1}", MALFORMED],
  ['NaN', 'NaN', MALFORMED],
  ['a bare string', '"a bare string"', MALFORMED],
  ['null', 'null', MALFORMED],
  ['a number', '42', MALFORMED],
  ['true', 'true', MALFORMED],
  ['only whitespace', '   ', MALFORMED],
  ['invalid UTF-8', Buffer.from('{"a":"\xff\xfe"}', 'latin1'), /property a should not exist/],
  ['an array', '[]', NOT_AN_OBJECT],
  ['an array of objects', '[{"uri": "http://127.0.0.1:1"}]', NOT_AN_OBJECT],
  ['nested 100 000 deep', '['.repeat(100_000) + ']'.repeat(100_000), /nested deeper than 32/],
  [
    'an object nested 100 000 deep',
    '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000),
    /nested deeper than 32/,
  ],
  ['a BOM then an object', '\ufeff{"a":1}', /property a should not exist/],
];

const WRONG_CONTENT_TYPES: [string, string | null, string][] = [
  ['JSON as text/plain', 'text/plain', '{"a":"b"}'],
  ['a form', 'application/x-www-form-urlencoded', 'a=b&c=d'],
  ['multipart', 'multipart/form-data; boundary=x', '--x\r\n\r\nhello\r\n--x--'],
  ['XML', 'application/xml', '<a>b</a>'],
  ['no content-type at all', null, '{"a":"b"}'],
];

/** Every endpoint that takes a body, with a valid body to mutate. */
interface BodyEndpoint {
  method: string;
  path: string;
  valid: Record<string, unknown>;
}

const BODY_ENDPOINTS: BodyEndpoint[] = [
  { method: 'POST', path: '/deployments', valid: { uri: 'http://127.0.0.1:1' } },
  {
    method: 'POST',
    path: '/kafka-clusters',
    valid: { name: 'fresh', properties: { 'bootstrap.servers': '127.0.0.1:9092' } },
  },
  {
    method: 'PATCH',
    path: '/kafka-clusters/other',
    valid: { properties: { 'bootstrap.servers': '127.0.0.1:9093' } },
  },
  {
    method: 'POST',
    path: '/subscriptions',
    valid: { source: 'kafka://local/fresh-topic', sink: 'service://Counter/add' },
  },
  {
    method: 'PATCH',
    path: '/subscriptions/{sub}',
    valid: { options: { 'auto.offset.reset': 'earliest' } },
  },
];

function bodyCases(): BadRequest[] {
  const cases: BadRequest[] = [];
  for (const e of BODY_ENDPOINTS) {
    const at = { method: e.method, path: e.path };
    for (const [what, body, message] of MALFORMED_JSON) {
      cases.push({ ...at, what, body, status: 400, message });
    }
    for (const [what, contentType, body] of WRONG_CONTENT_TYPES) {
      cases.push({
        ...at,
        what,
        body,
        contentType,
        status: 415,
        message: /content-type application\/json/,
      });
    }
    cases.push(
      {
        ...at,
        what: 'an empty body',
        body: '',
        status: 400,
      },
      {
        ...at,
        what: 'no body at all',
        contentType: null,
        status: 400,
      },
      {
        ...at,
        what: 'an empty object',
        body: {},
        status: 400,
      },
      {
        ...at,
        what: 'an unknown field',
        body: { ...e.valid, extra: 1 },
        status: 400,
        message: /property extra should not exist/,
      },
      {
        ...at,
        what: 'a __proto__ field',
        body: `{"__proto__": {"polluted": true}, ${JSON.stringify(e.valid).slice(1)}`,
        status: 400,
      },
      {
        ...at,
        what: 'a body one byte over admin.max-body-bytes',
        body: oversized(e.valid, MAX_BODY_BYTES + 1),
        status: 413,
        message: /exceeds the limit of 1048576 bytes/,
      },
      {
        ...at,
        what: 'a chunked body over admin.max-body-bytes',
        body: oversized(e.valid, 3 * MAX_BODY_BYTES),
        chunked: true,
        status: 413,
        message: /exceeds the limit of 1048576 bytes/,
      },
      {
        ...at,
        what: 'an unsupported charset',
        body: JSON.stringify(e.valid),
        contentType: 'application/json; charset=latin1',
        status: 415,
      },
      {
        ...at,
        what: 'an unknown content-encoding',
        body: JSON.stringify(e.valid),
        headers: { 'content-encoding': 'x-unknown' },
        status: 415,
      },
      {
        ...at,
        what: 'a gzip content-encoding that is not gzip',
        body: JSON.stringify(e.valid),
        headers: { 'content-encoding': 'gzip' },
        status: 400,
      },
    );
    // Wrong types for every field of the valid body.
    for (const field of Object.keys(e.valid)) {
      for (const wrong of [null, 42, true, [], ['x'], 'x', {}]) {
        if (typeof wrong === typeof e.valid[field] && !Array.isArray(wrong) && wrong !== null) {
          continue;
        }
        cases.push({
          ...at,
          what: `${field} = ${JSON.stringify(wrong)}`,
          body: { ...e.valid, [field]: wrong },
          status: 400,
        });
      }
    }
  }
  return cases;
}

/** A JSON body of exactly `size` bytes: the valid body plus padding. */
function oversized(valid: Record<string, unknown>, size: number): string {
  const start = `{"pad":"`;
  const end = `",${JSON.stringify(valid).slice(1)}`;
  return start + 'x'.repeat(size - start.length - end.length) + end;
}

function deploymentCases(): BadRequest[] {
  const post = (what: string, body: object, extra: Partial<BadRequest> = {}): BadRequest => ({
    what,
    method: 'POST',
    path: '/deployments',
    body,
    status: 400,
    ...extra,
  });
  return [
    post('uri missing', { force: true }, { message: /uri is required/ }),
    post('uri empty', { uri: '' }, { message: /absolute http:\/\/ or https:\/\/ URI/ }),
    post('uri not a URI', { uri: 'not a uri' }),
    post('uri file://', { uri: 'file:///etc/passwd' }),
    post('uri ftp://', { uri: 'ftp://127.0.0.1/' }),
    post('uri without host', { uri: 'http://' }),
    post('uri javascript:', { uri: 'javascript:alert(1)' }),
    post('uri nobody listens at', { uri: 'http://127.0.0.1:1' }, { restateCode: 'META0003' }),
    ...INJECTIONS.map((s) =>
      post(`injection in the uri: ${s}`, { uri: `http://127.0.0.1:1/${encodeURIComponent(s)}` }),
    ),
    ...INJECTIONS.map((s) => post(`injection as the uri: ${s}`, { uri: s })),
    post('additional_headers a string', { uri: 'http://127.0.0.1:1', additional_headers: 'x' }),
    post('additional_headers an array', {
      uri: 'http://127.0.0.1:1',
      additional_headers: ['a'],
    }),
    post('additional_headers with a number', {
      uri: 'http://127.0.0.1:1',
      additional_headers: { a: 1 },
    }),
    post('additional_headers with a bad name', {
      uri: 'http://127.0.0.1:1',
      additional_headers: { 'bad name': 'v' },
    }),
    post('additional_headers with a line break (header injection)', {
      uri: 'http://127.0.0.1:1',
      additional_headers: { a: 'x\r\nInjected: yes' },
    }),
    post('additional_headers with a NUL', {
      uri: 'http://127.0.0.1:1',
      additional_headers: { a: 'x\u0000y' },
    }),
    post('use_http_11 a string', { uri: 'http://127.0.0.1:1', use_http_11: 'true' }),
    post('breaking a number', { uri: 'http://127.0.0.1:1', breaking: 1 }),
    post('force a string', { uri: 'http://127.0.0.1:1', force: 'yes' }),
    post('dry_run a string', { uri: 'http://127.0.0.1:1', dry_run: 'true' }),
    post('metadata a string', { uri: 'http://127.0.0.1:1', metadata: 'x' }),
    post('metadata with a number', { uri: 'http://127.0.0.1:1', metadata: { a: 1 } }),
    post(
      'metadata not empty',
      { uri: 'http://127.0.0.1:1', metadata: { a: 'b' } },
      {
        message: /metadata is not supported/,
      },
    ),
    ...idCases('/deployments/', 'dp', ['GET', 'DELETE']),
    {
      what: 'force not a boolean',
      method: 'DELETE',
      path: '/deployments/{dp}?force=yes',
      status: 400,
      message: /'force' is invalid/,
    },
    {
      what: 'force given twice',
      method: 'DELETE',
      path: '/deployments/{dp}?force=true&force=false',
      status: 400,
    },
    {
      what: 'still used by a subscription',
      method: 'DELETE',
      path: '/deployments/{dp}',
      status: 409,
      message: /leaves subscriptions without a handler/,
    },
  ];
}

function serviceCases(): BadRequest[] {
  const names = [
    ['unknown', 'Nope'],
    ['lower case of a known one', 'counter'],
    ['very long', 'S'.repeat(5000)],
    ['unicode', encodeURIComponent('Zähler☃')],
    ['%00', '%00'],
    ['an encoded path', '..%2F..%2Fetc%2Fpasswd'],
    ['an encoded slash', 'Counter%2Fhandlers'],
    ...INJECTIONS.map((s) => [`injection ${s}`, encodeURIComponent(s)]),
  ];
  const cases: BadRequest[] = [];
  for (const [what, name] of names) {
    cases.push(
      { what, method: 'GET', path: `/services/${name}`, status: 404 },
      { what, method: 'GET', path: `/services/${name}/handlers`, status: 404 },
      { what, method: 'GET', path: `/services/${name}/handlers/add`, status: 404 },
      { what: `handler ${what}`, method: 'GET', path: `/services/Counter/handlers/${name}` },
    );
  }
  cases.push(
    {
      what: 'bad percent-encoding',
      method: 'GET',
      path: '/services/%E0%A4%A',
      status: 400,
      message: /percent-encoding/,
    },
    { what: 'bad percent-encoding', method: 'GET', path: '/services/%FF', status: 400 },
    { what: 'a lone %', method: 'GET', path: '/services/%', status: 400 },
  );
  return cases;
}

function kafkaClusterCases(): BadRequest[] {
  const props = { 'bootstrap.servers': '127.0.0.1:9092' };
  const post = (what: string, body: object, extra: Partial<BadRequest> = {}): BadRequest => ({
    what,
    method: 'POST',
    path: '/kafka-clusters',
    body,
    status: 400,
    ...extra,
  });
  const patch = (what: string, properties: unknown, extra: Partial<BadRequest> = {}) => ({
    what,
    method: 'PATCH',
    path: '/kafka-clusters/other',
    body: { properties },
    status: 400,
    ...extra,
  });
  const badProperties: [string, unknown][] = [
    ['no broker', { 'client.id': 'x' }],
    ['an unknown key', { ...props, 'bootstrap.server': 'x' }],
    ['a non-string value', { 'bootstrap.servers': 9092 }],
    ['a null value', { ...props, 'client.id': null }],
    ['an object value', { ...props, 'client.id': { a: 1 } }],
    ['a bad number', { ...props, 'fetch.wait.max.ms': 'soon' }],
    ['a negative number', { ...props, 'session.timeout.ms': '-1' }],
    ['a huge number', { ...props, 'fetch.wait.max.ms': '99999999999999999999999' }],
    ['a huge value', { ...props, 'client.id': 'x'.repeat(100_000) }],
    ['a NUL in a value', { ...props, 'client.id': 'a\u0000b' }],
    ['a NUL in a key', { ...props, 'client\u0000id': 'a' }],
    ['a subscription option', { ...props, 'tributary.dead-letter-topic': 'dlq' }],
    ['a bad security.protocol', { ...props, 'security.protocol': 'carrier-pigeon' }],
    ['an injection as broker', { 'bootstrap.servers': INJECTIONS[0] }],
    ['a __proto__ key', JSON.parse(`{"__proto__": {"bootstrap.servers": "a:1"}}`)],
  ];
  return [
    post('name missing', { properties: props }),
    post('name empty', { name: '', properties: props }),
    post('name with a slash', { name: 'a/b', properties: props }),
    post('name ..', { name: '..', properties: props }),
    post('name too long', { name: 'c'.repeat(300), properties: props }),
    post('name with a NUL', { name: 'a\u0000b', properties: props }),
    post('name unicode', { name: 'clüster', properties: props }),
    ...INJECTIONS.map((s) => post(`name ${s}`, { name: s, properties: props })),
    post(
      'name of a config-file cluster',
      { name: 'local', properties: props },
      { status: 409, message: /conflicts with static configuration/ },
    ),
    post(
      'name of an existing cluster',
      { name: 'other', properties: props },
      { status: 409, message: /already exists/ },
    ),
    post('properties missing', { name: 'fresh' }),
    ...badProperties.map(([what, p]) =>
      post(`properties with ${what}`, { name: 'fresh', properties: p }),
    ),
    ...badProperties.map(([what, p]) => patch(`properties with ${what}`, p)),
    patch('properties of a config-file cluster', props, {
      path: '/kafka-clusters/local',
      status: 409,
      message: /defined in the configuration file/,
    }),
    patch('unknown cluster', props, { path: '/kafka-clusters/nope', status: 404 }),
    {
      what: 'a name (cannot change)',
      method: 'PATCH',
      path: '/kafka-clusters/other',
      body: { name: 'renamed', properties: props },
      status: 400,
    },
    ...clusterNameCases(),
    {
      what: 'include_subscriptions not a boolean',
      method: 'GET',
      path: '/kafka-clusters/other?include_subscriptions=yes',
      status: 400,
    },
    {
      what: 'force not a boolean',
      method: 'DELETE',
      path: '/kafka-clusters/other?force=1',
      status: 400,
    },
    {
      what: 'force given twice',
      method: 'DELETE',
      path: '/kafka-clusters/other?force=true&force=true',
      status: 400,
    },
    {
      what: 'still used by a subscription',
      method: 'DELETE',
      path: '/kafka-clusters/other',
      status: 409,
      message: /being orphan/,
    },
    {
      what: 'a config-file cluster',
      method: 'DELETE',
      path: '/kafka-clusters/local?force=true',
      status: 409,
    },
  ];
}

function clusterNameCases(): BadRequest[] {
  const names: [string, string, number][] = [
    ['unknown', 'nope', 404],
    ['very long', 'c'.repeat(5000), 400],
    ['unicode', encodeURIComponent('clüster'), 400],
    ['%00', '%00', 400],
    ['an encoded path', '..%2F..%2Fetc%2Fpasswd', 400],
    ['..', '%2E%2E', 400],
    ...INJECTIONS.map((s): [string, string, number] => [
      `injection ${s}`,
      encodeURIComponent(s),
      400,
    ]),
  ];
  const cases: BadRequest[] = [];
  for (const [what, name, status] of names) {
    const path = `/kafka-clusters/${name}`;
    cases.push(
      { what: `name ${what}`, method: 'GET', path, status },
      { what: `name ${what}`, method: 'DELETE', path, status },
      {
        what: `name ${what}`,
        method: 'PATCH',
        path,
        body: { properties: { 'bootstrap.servers': '127.0.0.1:9092' } },
        status,
      },
    );
  }
  return cases;
}

function subscriptionCases(): BadRequest[] {
  const ok = { source: 'kafka://local/fresh-topic', sink: 'service://Counter/add' };
  const post = (what: string, body: object, extra: Partial<BadRequest> = {}): BadRequest => ({
    what,
    method: 'POST',
    path: '/subscriptions',
    body,
    status: 400,
    ...extra,
  });
  const badOptions: [string, unknown, RegExp?][] = [
    ['an unknown key', { 'bootstrap.server': 'x' }, /did you mean 'bootstrap.servers'/],
    ['a number value', { 'fetch.wait.max.ms': 100 }, /values must be strings/],
    ['a null value', { 'client.id': null }, /values must be strings/],
    ['an array value', { 'client.id': ['a'] }, /values must be strings/],
    ['a bad number', { 'fetch.wait.max.ms': 'soon' }],
    ['a negative number', { 'fetch.wait.max.ms': '-5' }],
    ['a fractional number', { 'fetch.wait.max.ms': '1.5' }],
    ['a huge number', { 'fetch.wait.max.ms': '99999999999999999999999' }],
    ['an exponent', { 'fetch.wait.max.ms': '1e999' }],
    ['a bad auto.offset.reset', { 'auto.offset.reset': 'sometimes' }],
    ['an unknown tributary option', { 'tributary.dead-letter': 'x' }],
    ['max-attempts 0', { 'tributary.max-attempts': '0' }],
    ['max-attempts not a number', { 'tributary.max-attempts': 'many' }],
    ['max-attempts huge', { 'tributary.max-attempts': '99999999999999999999' }],
    ['a dead-letter topic equal to the source', { 'tributary.dead-letter-topic': '{topic}' }],
    ['a dead-letter topic that is no topic name', { 'tributary.dead-letter-topic': 'a/b' }],
    ['a huge value', { 'client.id': 'x'.repeat(100_000) }],
    ['a huge group.id', { 'group.id': 'g'.repeat(100_000) }],
    ['an empty group.id', { 'group.id': '' }],
    ['a NUL in a value', { 'client.id': 'a\u0000b' }],
    ['a NUL in a key', { 'client\u0000id': 'a' }],
    ['a __proto__ key', JSON.parse('{"__proto__": {"group.id": "stolen"}}')],
    ['an API-only key', { opaque: 'x' }],
  ];
  const fillTopic = (options: unknown, topic: string): unknown =>
    JSON.parse(JSON.stringify(options).replace('{topic}', topic));
  return [
    post('source missing', { sink: ok.sink }),
    post('sink missing', { source: ok.source }),
    post(
      'source without scheme',
      { ...ok, source: 'local/t' },
      {
        restateCode: 'META0009',
        message: /\[META0009\] invalid source URI/,
      },
    ),
    post(
      'source of another scheme',
      { ...ok, source: 'http://local/t' },
      { restateCode: 'META0009' },
    ),
    post('source without cluster', { ...ok, source: 'kafka:///t' }, { restateCode: 'META0009' }),
    post('source without topic', { ...ok, source: 'kafka://local/' }, { restateCode: 'META0009' }),
    post(
      'source with two topics',
      { ...ok, source: 'kafka://local/a/b' },
      { restateCode: 'META0009' },
    ),
    post(
      'source with a query',
      { ...ok, source: 'kafka://local/t?x=1' },
      { restateCode: 'META0009' },
    ),
    post('source topic too long', { ...ok, source: `kafka://local/${'t'.repeat(250)}` }),
    post('source topic ..', { ...ok, source: 'kafka://local/..' }),
    post(
      'source on an unknown cluster',
      { ...ok, source: 'kafka://nope/t' },
      { message: /Kafka cluster 'nope' not found. Available clusters: \["local", "other"\]/ },
    ),
    post('source with a NUL', { ...ok, source: 'kafka://local/a\u0000b' }),
    post('source on a NUL cluster', { ...ok, source: 'kafka://a\u0000b/t' }),
    ...INJECTIONS.map((s) => post(`source topic ${s}`, { ...ok, source: `kafka://local/${s}` })),
    ...INJECTIONS.map((s) => post(`source cluster ${s}`, { ...ok, source: `kafka://${s}/t` })),
    post('sink without scheme', { ...ok, sink: 'Counter/add' }, { restateCode: 'META0009' }),
    post('sink without service', { ...ok, sink: 'service:///add' }, { restateCode: 'META0009' }),
    post('sink without handler', { ...ok, sink: 'service://Counter' }, { restateCode: 'META0009' }),
    post(
      'sink of an unknown service',
      { ...ok, sink: 'service://Nope/add' },
      { restateCode: 'META0009', message: /cannot find service\/handler/ },
    ),
    post(
      'sink of an unknown handler',
      { ...ok, sink: 'service://Counter/nope' },
      { restateCode: 'META0009' },
    ),
    post(
      'sink with a path',
      { ...ok, sink: 'service://Counter/add/more' },
      { restateCode: 'META0009' },
    ),
    post('sink with a NUL', { ...ok, sink: 'service://Counter/a\u0000dd' }),
    ...INJECTIONS.map((s) => post(`sink service ${s}`, { ...ok, sink: `service://${s}/add` })),
    ...INJECTIONS.map((s) => post(`sink handler ${s}`, { ...ok, sink: `service://Counter/${s}` })),
    ...badOptions.map(([what, options, message]) =>
      post(
        `options with ${what}`,
        { ...ok, options: fillTopic(options, 'fresh-topic') },
        message ? { message } : {},
      ),
    ),
    ...badOptions.map(([what, options, message]): BadRequest => ({
      what: `options with ${what}`,
      method: 'PATCH',
      path: '/subscriptions/{sub}',
      body: { options: fillTopic(options, 'orders') },
      status: 400,
      ...(message ? { message } : {}),
    })),
    {
      what: 'a new source (cannot change)',
      method: 'PATCH',
      path: '/subscriptions/{sub}',
      body: { source: 'kafka://local/other', options: {} },
      status: 400,
    },
    {
      what: 'a new sink (cannot change)',
      method: 'PATCH',
      path: '/subscriptions/{sub}',
      body: { sink: 'service://Greeter/greet', options: {} },
      status: 400,
    },
    {
      what: 'unknown subscription',
      method: 'PATCH',
      path: '/subscriptions/{unknownSub}',
      body: { options: {} },
      status: 404,
    },
    ...idCases('/subscriptions/', 'sub', ['GET', 'DELETE', 'PATCH']),
    ...idCases('/subscriptions/', 'sub', ['PATCH'], '/pause'),
    ...idCases('/subscriptions/', 'sub', ['PATCH'], '/resume'),
    ...['pause', 'resume'].map((action): BadRequest => ({
      what: 'malformed JSON body',
      method: 'PATCH',
      path: `/subscriptions/{sub}/${action}`,
      body: '{',
      status: 400,
    })),
    {
      what: 'an unknown query parameter',
      method: 'GET',
      path: '/subscriptions?service=Counter',
      status: 400,
      message: /^Invalid query parameters: property service should not exist$/,
    },
    {
      what: 'a repeated query parameter',
      method: 'GET',
      path: '/subscriptions?sink=a&sink=b',
      status: 400,
      message: /^Invalid query parameters: sink must be given once, as a plain string$/,
    },
    {
      what: 'an array-style query parameter',
      method: 'GET',
      path: '/subscriptions?sink[]=a',
      status: 400,
    },
    {
      what: 'an object-style query parameter',
      method: 'GET',
      path: '/subscriptions?sink[a]=b',
      status: 400,
    },
    {
      what: 'a NUL in a filter',
      method: 'GET',
      path: '/subscriptions?source=kafka://local/a%00b',
      status: 400,
    },
    ...INJECTIONS.map((s): BadRequest => ({
      what: `injection in a filter (no match): ${s}`,
      method: 'GET',
      path: `/subscriptions?source=${encodeURIComponent(s)}&sink=${encodeURIComponent(s)}`,
      status: 200,
    })),
  ];
}

const INVOCATION_ACTIONS = ['cancel', 'kill', 'pause', 'resume', 'purge', 'restart-as-new'];

function invocationCases(): BadRequest[] {
  const list = (what: string, query: string, extra: Partial<BadRequest> = {}): BadRequest => ({
    what,
    method: 'GET',
    path: `/invocations?${query}`,
    status: 400,
    ...extra,
  });
  const cases: BadRequest[] = [
    list('an unknown parameter', 'servce=Counter', { message: /Unknown query parameter 'servce'/ }),
    list('an unknown status', 'status=done', { message: /unknown status 'done'/ }),
    list('an empty status', 'status='),
    list('limit 0', 'limit=0'),
    list('limit negative', 'limit=-1'),
    list('limit too big', 'limit=1001'),
    list('limit huge', 'limit=99999999999999999999'),
    list('limit not a number', 'limit=ten'),
    list('limit 1e3', 'limit=1e3'),
    list('limit twice', 'limit=1&limit=2', { message: /more than once/ }),
    list('limit as an array', 'limit[]=1'),
    list('a garbage cursor', 'cursor=garbage'),
    list('a cursor of another shape', `cursor=${Buffer.from('{"a":1}').toString('base64url')}`),
    list(
      'a cursor with an injection',
      `cursor=${Buffer.from(JSON.stringify(['2025-01-01T00:00:00.000000Z', INJECTIONS[0]])).toString('base64url')}`,
    ),
    list('created_after not a date', 'created_after=yesterday'),
    list('created_after Feb 30', 'created_after=2025-02-30'),
    list('created_after year 0', 'created_after=0000-01-01'),
    list('created_after year 0 with a time', 'created_after=0000-01-01T00:00:00Z'),
    list('created_after hour 25', 'created_after=2025-01-01T25:00:00Z'),
    list('created_before with a bad offset', 'created_before=2025-01-01T00:00:00%2B99:99'),
    list('created_before twice', 'created_before=2025-01-01&created_before=2025-01-02'),
    list('subscription_id malformed', 'subscription_id=sub_!!!'),
    list('subscription_id of another kind', `subscription_id=${SEEDED.unknownInv}`),
    list('target with an empty service', 'target=/add'),
    list('target with an empty handler', 'target=Counter/'),
    list('service empty', 'service='),
    list('service contradicting the target', 'target=Counter/add&service=Greeter'),
    list('a NUL in service', 'service=a%00b'),
    list('a NUL in handler', 'handler=a%00b'),
    list('a NUL in key', 'key=a%00b'),
    list('a NUL in target', 'target=Counter/a%00b/add'),
    list('bad percent-encoding in a value (taken literally, no match)', 'service=%E0%A4%A', {
      status: 200,
    }),
    ...INJECTIONS.map((s) =>
      list(
        `injection in filters (no match): ${s}`,
        `service=${encodeURIComponent(s)}&key=${encodeURIComponent(s)}&handler=${encodeURIComponent(s)}`,
        { status: 200 },
      ),
    ),
    ...idCases('/invocations/', 'inv', ['GET', 'DELETE']),
    ...idCases('/invocations/', 'inv', ['GET'], '/output'),
    ...INVOCATION_ACTIONS.flatMap((action) =>
      idCases('/invocations/', 'inv', ['PATCH'], `/${action}`),
    ),
    // Actions that an existing invocation's status forbids.
    conflict('cancel', 'completed', 409, /was already completed/),
    conflict('kill', 'failed', 409, /was already completed/),
    conflict('pause', 'completed', 409, /is not running, cannot be paused/),
    conflict('pause', 'pending', 409, /is not running, cannot be paused/),
    conflict('resume', 'completed', 409, /is completed, cannot be resumed/),
    conflict('resume', 'pending', 425, /either inboxed or scheduled/),
    conflict('purge', 'running', 409, /is not yet completed/),
    conflict('purge', 'paused', 409, /is not yet completed/),
    conflict('restart-as-new', 'running', 409, /is still running/),
    conflict('restart-as-new', 'pending', 425, /not running yet/),
    {
      what: 'output of a running invocation',
      method: 'GET',
      path: '/invocations/{running}/output',
      status: 470,
      message: /is not completed yet/,
    },
    // A malformed body is refused before the action runs: the running one is not killed.
    ...INVOCATION_ACTIONS.map((action): BadRequest => ({
      what: 'malformed JSON body',
      method: 'PATCH',
      path: `/invocations/{running}/${action}`,
      body: '{"oops"',
      status: 400,
      message: /^Malformed JSON in request body: /,
    })),
    {
      what: 'an unknown mode',
      method: 'DELETE',
      path: '/invocations/{running}?mode=obliterate',
      status: 400,
      message: /'mode' is invalid/,
    },
    {
      what: 'an empty mode',
      method: 'DELETE',
      path: '/invocations/{running}?mode=',
      status: 400,
    },
    {
      what: 'mode twice',
      method: 'DELETE',
      path: '/invocations/{running}?mode=kill&mode=purge',
      status: 400,
    },
    {
      what: 'mode purge of a running one',
      method: 'DELETE',
      path: '/invocations/{running}?mode=purge',
      status: 409,
    },
    {
      what: 'mode kill of a completed one',
      method: 'DELETE',
      path: '/invocations/{completed}?mode=kill',
      status: 409,
    },
  ];
  return cases;
}

function conflict(action: string, row: Placeholder, status: number, message: RegExp): BadRequest {
  return {
    what: `on a ${row} invocation`,
    method: 'PATCH',
    path: `/invocations/{${row}}/${action}`,
    status,
    message,
  };
}

/** Malformed ids and unknown ids of the right shape, on `prefix{id}suffix`. */
function idCases(
  prefix: string,
  kind: 'dp' | 'sub' | 'inv',
  methods: string[],
  suffix = '',
): BadRequest[] {
  const unknown = { dp: '{unknownDp}', sub: '{unknownSub}', inv: '{unknownInv}' }[kind];
  const other = kind === 'inv' ? '{unknownSub}' : '{unknownInv}';
  const ids: [string, string, number][] = [
    [`${kind}_`, `${kind}_`, 400],
    [`${kind}_!!!`, `${kind}_!!!`, 400],
    ['very long', `${kind}_1${'a'.repeat(5000)}`, 400],
    ['unicode', `${kind}_${encodeURIComponent('ünïcødé✓'.repeat(3))}`, 400],
    ['%00', `${kind}_%00`, 400],
    ['an encoded ../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', 400],
    ['SQL', encodeURIComponent(`${kind}_' OR 1=1 --`), 400],
    ['upper-case prefix', `${kind.toUpperCase()}_1${'a'.repeat(kind === 'inv' ? 33 : 22)}`, 400],
    ['one character short', `${kind}_1${'a'.repeat(kind === 'inv' ? 32 : 21)}`, 400],
    ['another kind of id', other, 400],
    ['unknown, of the right shape', unknown, 404],
  ];
  const cases: BadRequest[] = [];
  for (const method of methods) {
    for (const [what, id, status] of ids) {
      const body = method === 'PATCH' && suffix === '' ? { options: {} } : undefined;
      cases.push({ what: `id ${what}`, method, path: `${prefix}${id}${suffix}`, body, status });
    }
  }
  return cases;
}

/** Every route, and whether it answers GET (HEAD then answers like GET, without a body). */
const ROUTES: [string, boolean][] = [
  ['/deployments', true],
  ['/deployments/{dp}', true],
  ['/services', true],
  ['/services/Counter', true],
  ['/services/Counter/handlers', true],
  ['/services/Counter/handlers/add', true],
  ['/kafka-clusters', true],
  ['/kafka-clusters/other', true],
  ['/subscriptions', true],
  ['/subscriptions/{sub}', true],
  ['/subscriptions/{sub}/pause', false],
  ['/subscriptions/{sub}/resume', false],
  ['/invocations', true],
  ['/invocations/{running}', true],
  ['/invocations/{completed}/output', true],
  ...INVOCATION_ACTIONS.map((a): [string, boolean] => [`/invocations/{running}/${a}`, false]),
  ['/version', true],
  ['/openapi.json', true],
  ['/health', true],
];

function methodCases(): BadRequest[] {
  const cases: BadRequest[] = [];
  for (const [path, readable] of ROUTES) {
    cases.push(
      { what: 'PUT', method: 'PUT', path, body: {}, status: 405 },
      { what: 'TRACE', method: 'TRACE', path, status: 405 },
      { what: 'OPTIONS', method: 'OPTIONS', path, status: 405 },
      { what: 'HEAD', method: 'HEAD', path, status: readable ? 200 : 405 },
      { what: 'a made-up method', method: 'PURGE', path, status: 405 },
    );
  }
  for (const path of ['/services', '/services/Counter', '/version', '/openapi.json', '/health']) {
    cases.push(
      { what: 'POST to a read-only route', method: 'POST', path, body: {}, status: 405 },
      { what: 'DELETE of a read-only route', method: 'DELETE', path, status: 405 },
    );
  }
  cases.push(
    {
      what: 'POST to an item',
      method: 'POST',
      path: '/subscriptions/{sub}',
      body: {},
      status: 405,
    },
    { what: 'DELETE of a collection', method: 'DELETE', path: '/subscriptions', status: 405 },
    { what: 'DELETE of a collection', method: 'DELETE', path: '/deployments', status: 405 },
    {
      what: 'PATCH of a collection',
      method: 'PATCH',
      path: '/kafka-clusters',
      body: {},
      status: 405,
    },
    { what: 'GET of an action', method: 'GET', path: '/invocations/{running}/kill', status: 405 },
    { what: 'POST of an action', method: 'POST', path: '/invocations/{running}/kill', status: 405 },
  );
  return cases;
}

function pathCases(): BadRequest[] {
  const get = (what: string, path: string, status?: number): BadRequest => ({
    what,
    method: 'GET',
    path,
    ...(status === undefined ? {} : { status }),
  });
  return [
    get('a double slash before', '//deployments', 404),
    get('a double slash inside', '/services//Counter', 404),
    get('an unknown API version', '/v9/deployments', 404),
    get('API version 1', '/v1/deployments', 404),
    get('API version 5', '/v5/subscriptions', 404),
    get('a doubled version', '/v4/v4/deployments', 404),
    get('an upper-case version', '/V4/deployments', 404),
    get('a dot-dot after the version', '/v4/../subscriptions', 404),
    get('a dot-dot inside', '/deployments/../subscriptions', 404),
    get('an encoded dot-dot', '/v4/%2E%2E/subscriptions', 404),
    get('an encoded slash in the route', '/subscriptions%2F{sub}', 404),
    get('an encoded slash in an id', '/subscriptions/{sub}%2Fpause', 400),
    get('an encoded slash in a name', '/kafka-clusters/other%2Fx', 400),
    get('a path to etc/passwd', '/../../etc/passwd', 404),
    get('an unknown route', '/subscription', 404),
    get('a backslash', '/deployments\\..\\subscriptions', 404),
    get('the root (redirects to the console)', '/', 302),
    get('a file extension', '/deployments.json', 404),
    get('a trailing slash on a list (served)', '/deployments/', 200),
    get('a trailing slash on an item (served)', '/subscriptions/{sub}/', 200),
    get('a trailing slash on an unknown id', '/subscriptions/{unknownSub}/', 404),
    get('two trailing slashes', '/deployments//', 404),
    get('a semicolon parameter', '/subscriptions/{sub};jsessionid=1', 400),
    get('query params as arrays on a route without them (ignored)', '/version?a=1&a=2', 200),
    get('an absurd query string', `/invocations?${'a=1&'.repeat(2000)}`, 400),
    {
      what: 'a path longer than Node takes (16 KiB of request head)',
      method: 'GET',
      path: `/subscriptions/sub_${'a'.repeat(20_000)}`,
      status: 431,
      refusedByNode: true,
    },
  ];
}

const CASES: BadRequest[] = [
  ...bodyCases(),
  ...deploymentCases(),
  ...serviceCases(),
  ...kafkaClusterCases(),
  ...subscriptionCases(),
  ...invocationCases(),
  ...methodCases(),
  ...pathCases(),
];

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

describe('admin API against bad input (real Postgres and Kafka)', () => {
  let t: AdminTestApp;
  let ds: DataSource;
  let port: number;
  let busMessagesBefore: number;

  beforeAll(async () => {
    t = await startAdminApi('bad-input-admin');
    ds = t.app.get(DataSource);
    await new Promise<void>((resolve) => t.http.listen(0, '127.0.0.1', resolve));
    port = (t.http.address() as AddressInfo).port;
    await seed();
    busMessagesBefore = await busMessages();
  });

  afterAll(async () => {
    await t?.close();
  });

  async function seed(): Promise<void> {
    await registerService(ds, 'Counter', 'VIRTUAL_OBJECT', { add: 'EXCLUSIVE', get: 'SHARED' });
    await registerService(ds, 'Greeter', 'SERVICE', { greet: null });
    const deployments: { id: string; uri: string }[] = await ds.query(
      'SELECT id, uri FROM deployments',
    );
    SEEDED.dp = deployments.find((d) => d.uri.endsWith('/Counter'))!.id;
    SEEDED.dpGreeter = deployments.find((d) => d.uri.endsWith('/Greeter'))!.id;
    await ds.getRepository(KafkaClusterEntity).insert({
      name: 'other',
      properties: { 'bootstrap.servers': '127.0.0.1:9092' },
    });
    SEEDED.sub = await insertSubscription(ds, 'orders', 'Counter', 'add');
    SEEDED.subOther = await insertSubscription(ds, 'greetings', 'Greeter', 'greet', {}, 'other');
    const rows: [Placeholder, InvocationStatus, QueryDeepPartialEntity<InvocationEntity>][] = [
      [
        'running',
        'running',
        { leaseOwner: 'invoker-1', leaseExpiresAt: new Date(Date.now() + 3_600_000), epoch: 1 },
      ],
      [
        'completed',
        'completed',
        { completionResult: 'success', completedAt: new Date(), output: Buffer.from('1') },
      ],
      ['paused', 'paused', { retryCount: 3, lastFailure: 'handler answered 500' }],
      ['pending', 'pending', { targetKey: 'k2' }],
      [
        'failed',
        'completed',
        { completionResult: 'failure', completionFailure: 'boom', completedAt: new Date() },
      ],
    ];
    for (const [id, status, extra] of rows) {
      await ds.getRepository(InvocationEntity).insert({
        id: SEEDED[id],
        targetService: 'Counter',
        targetHandler: 'add',
        targetKey: 'k1',
        serviceTy: 'VIRTUAL_OBJECT',
        handlerTy: 'EXCLUSIVE',
        exclusive: true,
        status,
        invokedBy: 'subscription',
        subscriptionId: SEEDED.sub,
        kafkaTopic: 'orders',
        kafkaPartition: 0,
        kafkaOffset: '1',
        busPartition: 0,
        ...extra,
      });
    }
    await ds.getRepository(ObjectStateEntity).insert({
      serviceName: 'Counter',
      objectKey: 'k1',
      stateKey: 'count',
      value: Buffer.from('1'),
    });
  }

  /** Row count and a hash of every row, per table. */
  async function snapshot(): Promise<Record<string, { rows: number; hash: string }>> {
    const result: Record<string, { rows: number; hash: string }> = {};
    for (const table of TABLES) {
      const rows: { row: string }[] = await ds.query(
        `SELECT t::text AS row FROM "${table}" t ORDER BY 1`,
      );
      const hash = createHash('sha256');
      for (const r of rows) hash.update(r.row).update('\n');
      result[table] = { rows: rows.length, hash: hash.digest('hex') };
    }
    return result;
  }

  /** Messages on the bus topic: control messages the admin API sent. */
  async function busMessages(): Promise<number> {
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(`${t.config.bus.topicPrefix}.invocations.v1`);
      return offsets.reduce((sum, p) => sum + Number(p.high), 0);
    } catch {
      return 0;
    } finally {
      await admin.disconnect();
    }
  }

  /** One request over a fresh connection, the path and body sent exactly as given. */
  function send(c: BadRequest): Promise<Answer> {
    let body: Buffer | undefined;
    if (Buffer.isBuffer(c.body)) body = c.body;
    else if (typeof c.body === 'string') body = Buffer.from(fill(c.body));
    else if (c.body !== undefined) body = Buffer.from(fill(JSON.stringify(c.body)));
    const headers: Record<string, string> = { connection: 'close', ...c.headers };
    const contentType = c.contentType === undefined ? 'application/json' : c.contentType;
    if (body !== undefined && contentType !== null) headers['content-type'] = contentType;
    if (body !== undefined && !c.chunked) headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, method: c.method, path: fill(c.path), headers, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            resolve({
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'],
              allow: res.headers.allow,
              text,
              body: parsed,
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (body !== undefined && c.chunked) {
        for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
      } else if (body !== undefined) {
        req.write(body);
      }
      req.end();
    });
  }

  it('is seeded: the rows the cases touch exist', async () => {
    await request(t.http).get(`/deployments/${SEEDED.dp}`).expect(200);
    await request(t.http).get(`/subscriptions/${SEEDED.sub}`).expect(200);
    await request(t.http).get(`/kafka-clusters/other`).expect(200);
    await request(t.http).get(`/invocations/${SEEDED.running}`).expect(200);
    await request(t.http).get('/services/Counter/handlers/add').expect(200);
  });

  it.each(CASES.map((c) => [`${c.method} ${c.path.slice(0, 90)}: ${c.what}`, c] as const))(
    '%s',
    async (_name, c) => {
      const before = await snapshot();
      const res = await send(c);
      const context = `${c.method} ${fill(c.path).slice(0, 200)} answered ${res.status} ${res.text.slice(0, 500)}`;
      if (c.status !== undefined)
        expect({ context, status: res.status }).toEqual({ context, status: c.status });
      else
        expect({ context, clientError: res.status >= 400 && res.status < 500 }).toEqual({
          context,
          clientError: true,
        });
      if (res.status === 405) expect(res.allow).toMatch(/^[A-Z]+(, [A-Z]+)*$/);
      if (res.status >= 400 && c.method !== 'HEAD' && !c.refusedByNode) {
        expect(res.contentType).toMatch(/^application\/json/);
        expect(Object.keys(res.body as object).sort()).toEqual(['message', 'restate_code']);
        const { message, restate_code: code } = res.body as Record<string, unknown>;
        expect(typeof message).toBe('string');
        expect(code === null || typeof code === 'string').toBe(true);
        if (c.restateCode !== undefined) expect(code).toBe(c.restateCode);
        expect((message as string).trim()).not.toBe('');
        if (c.message) expect(message).toMatch(c.message);
      }
      expect(await snapshot()).toEqual(before);
    },
  );

  it('sent no control message to the invoker for any of them', async () => {
    expect(await busMessages()).toBe(busMessagesBefore);
  });
});
