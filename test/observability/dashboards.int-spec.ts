import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import * as t from '@tributary/sdk';
import { KafkajsAdmin } from '../../libs/shared/src/kafka/kafkajs.client';
import { testKafka, uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';
import { ROOT } from '../support/processes';

/**
 * The Grafana dashboard and the Prometheus alert rules under deploy/ name only metrics that the
 * running processes export: the invoker and the consumer worker are started, their /metrics
 * scraped, and every `tributary_*` name the files use must be among the exported families.
 * Every alert rule must have its runbook section in docs/operations.md.
 */
jest.setTimeout(120_000);

const DASHBOARD = path.join(ROOT, 'deploy/grafana/tributary-dashboard.json');
const ALERTS = path.join(ROOT, 'deploy/prometheus/tributary-alerts.yml');
const OPERATIONS = path.join(ROOT, 'docs/operations.md');

interface Rule {
  alert: string;
  expr: string;
  annotations: { summary: string; runbook: string };
}

const metricNames = (text: string): Set<string> =>
  new Set(text.match(/\btributary_[a-z0-9_]+\b/g) ?? []);

/** Metric families in a Prometheus text exposition, with their types. */
function families(exposition: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1], m[2]);
  return out;
}

/** Whether `name` is exported: a family itself, or a histogram's `_bucket`/`_sum`/`_count`. */
function exported(name: string, types: Map<string, string>): boolean {
  if (types.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && types.get(base) === 'histogram';
}

describe('deploy/: dashboard and alert rules', () => {
  let pipeline: Pipeline;
  let types: Map<string, string>;

  beforeAll(async () => {
    pipeline = await Pipeline.start('dashboards');
    types = new Map();
    for (const app of ['worker-0', 'invoker-0']) {
      const res = await fetch(`${pipeline.app(app).url}/metrics`);
      expect(res.status).toBe(200);
      for (const [name, type] of families(await res.text())) types.set(name, type);
    }
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('exports, per active subscription, whether this worker holds one of its partitions', async () => {
    const admin = KafkajsAdmin.create(testKafka());
    const endpoint = await t.serve({
      services: [t.service({ name: 'Held', handlers: { run: async () => 'ok' } })],
      port: 0,
    });
    try {
      expect((await pipeline.admin('POST', '/deployments', { uri: endpoint.url })).status).toBe(
        201,
      );
      const topic = uniqueName('held');
      await admin.ensureTopics([{ topic, partitions: 2 }]);
      const res = await pipeline.admin('POST', '/subscriptions', {
        source: `kafka://local/${topic}`,
        sink: 'service://Held/run',
      });
      expect(res.status).toBe(201);
      const series = `tributary_worker_subscription_partitions_held{subscription="${res.body.id as string}"}`;
      const scrape = async () => (await fetch(`${pipeline.app('worker-0').url}/metrics`)).text();
      await waitFor(
        async () => (await scrape()).includes(`${series} 1`),
        `${series} 1`,
        30_000,
        200,
      );
      // Paused: no longer active, its series goes.
      const paused = await pipeline.admin('PATCH', `/subscriptions/${res.body.id as string}/pause`);
      expect(paused.status).toBe(200);
      await waitFor(
        async () => !(await scrape()).includes(series),
        `${series} removed`,
        30_000,
        200,
      );
    } finally {
      await endpoint.close();
      await admin.close();
    }
  });

  it('the dashboard names only exported metrics, and covers what the issue lists', () => {
    const text = readFileSync(DASHBOARD, 'utf8');
    const dashboard = JSON.parse(text) as {
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    const names = metricNames(text);
    expect([...names].filter((n) => !exported(n, types))).toEqual([]);
    for (const wanted of [
      'tributary_worker_lag_records',
      'tributary_worker_records_consumed_total',
      'tributary_invoker_invocations',
      'tributary_invoker_attempts_total',
      'tributary_invoker_handler_duration_seconds_bucket',
      'tributary_invoker_dead_lettered_total',
      'tributary_process_process_resident_memory_bytes',
      'tributary_process_nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(names).toContain(wanted);
    }
    // Every graph queries something.
    const graphs = dashboard.panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThan(10);
    for (const p of graphs)
      expect({ [p.title]: p.targets?.length ?? 0 }).not.toEqual({ [p.title]: 0 });
  });

  it('the alert rules name only exported metrics (and `up`), each with its runbook', () => {
    const file = parse(readFileSync(ALERTS, 'utf8')) as { groups: { rules: Rule[] }[] };
    const rules = file.groups.flatMap((g) => g.rules);
    const alerts = rules.map((r) => r.alert);
    expect(alerts).toEqual(
      expect.arrayContaining([
        'TributaryLagGrowing',
        'TributaryInvocationsPaused',
        'TributaryDeadLetters',
        'TributaryHandlerErrorRate',
        'TributarySubscriptionNotConsumed',
        'TributaryNoLiveWorker',
      ]),
    );
    const names = new Set(rules.flatMap((r) => [...metricNames(r.expr)]));
    expect([...names].filter((n) => !exported(n, types))).toEqual([]);
    // The one other series a rule reads is Prometheus' own scrape health.
    for (const r of rules) {
      const others = r.expr
        .replace(/\{[^}]*\}/g, '')
        .replace(/\b(by|without)\s*\([^)]*\)/g, '')
        .replace(/\[[^\]]*\]/g, '')
        .match(/\b[a-z_][a-z0-9_]*\b(?!\s*\()/g)
        ?.filter((w) => !w.startsWith('tributary_') && !['and', 'or', 'unless'].includes(w));
      expect({ [r.alert]: others ?? [] }).toEqual({
        [r.alert]: r.alert === 'TributaryNoLiveWorker' ? ['up'] : [],
      });
    }
    const operations = readFileSync(OPERATIONS, 'utf8');
    for (const r of rules) {
      expect(r.annotations.runbook).toBe(`docs/operations.md#${r.alert.toLowerCase()}`);
      expect({ [r.alert]: operations.includes(`#### ${r.alert}\n`) }).toEqual({ [r.alert]: true });
    }
  });
});
