import * as t from '@tributary/sdk';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { InvocationEntity } from '../../libs/shared/src/database/entities';
import { KafkajsAdmin, KafkajsProducer } from '../../libs/shared/src/kafka/kafkajs.client';
import { AdminTestApp, startAdminApi } from '../support/admin-app';
import { ensureConsoleBuilt, launchBrowser } from '../support/browser';
import { testKafka, uniqueName, waitFor } from '../support/kafka';
import { Pipeline } from '../support/pipeline';

/**
 * The web console in a real headless Chromium against the real stack: the three apps as
 * processes on real Kafka and Postgres, handlers in this process. Each page loads with the data
 * the API has, and the actions change what the API then reports.
 */
jest.setTimeout(120_000);

/**
 * With CONSOLE_SCREENSHOTS=<dir>, each page is also saved there as a PNG. With
 * CONSOLE_STACK=<admin API URL> the tests drive a stack that is already running, such as
 * `npm run dev`'s, instead of starting their own; that is how docs/console/ (the screenshots the
 * README shows) is taken: `npm run dev`, then
 * `CONSOLE_STACK=http://127.0.0.1:9070 CONSOLE_SCREENSHOTS=docs/console npx jest test/console`.
 * The checks hold either way: counts are compared with what the API reports, not with constants.
 */
async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.CONSOLE_SCREENSHOTS;
  if (!dir) return;
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}

describe('web console in Chromium', () => {
  const kafka = testKafka();
  let pipeline: Pipeline;
  let endpoint: t.RunningEndpoint;
  let admin: KafkajsAdmin;
  let producer: KafkajsProducer;
  let browser: Browser;
  let page: Page;
  // Every URL the console's page asked for, over the whole suite: none may leave the admin API.
  const requested: string[] = [];
  let echoSub: string;
  let failSub: string;
  let dlqSub: string;
  let slowSub: string;

  const subscribe = async (sink: string, options: Record<string, string> = {}) => {
    const topic = uniqueName('console');
    await admin.ensureTopics([{ topic, partitions: 2 }]);
    const res = await pipeline.admin('POST', '/subscriptions', {
      source: `kafka://local/${topic}`,
      sink,
      options: { 'auto.offset.reset': 'earliest', ...options },
    });
    if (res.status !== 201) throw new Error(`subscription refused: ${JSON.stringify(res.body)}`);
    return { topic, sub: res.body.id as string };
  };

  const invocationsOf = (sub: string) =>
    pipeline.ds.getRepository(InvocationEntity).find({ where: { subscriptionId: sub } });

  beforeAll(async () => {
    ensureConsoleBuilt();
    browser = await launchBrowser();
    endpoint = await t.serve({
      services: [
        t.object({ name: 'ConsoleCounter', handlers: { add: async () => 1 } }),
        t.service({
          name: 'ConsoleDemo',
          handlers: {
            echo: async (_ctx: t.Context, input: unknown) => ({ echoed: input }),
            fail: async () => {
              throw new Error('the demo handler always fails');
            },
          },
        }),
      ],
      port: 0,
    });
    pipeline = process.env.CONSOLE_STACK
      ? await Pipeline.attach(process.env.CONSOLE_STACK)
      : await Pipeline.start('console');
    admin = KafkajsAdmin.create(kafka);
    producer = KafkajsProducer.create(kafka);
    expect((await pipeline.admin('POST', '/deployments', { uri: endpoint.url })).status).toBe(201);

    const echo = await subscribe('service://ConsoleDemo/echo');
    echoSub = echo.sub;
    const fail = await subscribe('service://ConsoleDemo/fail', {
      'tributary.max-attempts': '1',
      'tributary.on-max-attempts': 'pause',
    });
    failSub = fail.sub;
    const dlq = await subscribe('service://ConsoleDemo/fail', {
      'tributary.max-attempts': '1',
      'tributary.dead-letter-topic': uniqueName('console-dlq'),
    });
    dlqSub = dlq.sub;
    // Fails and retries (backing off) until acted on: for bulk pause, resume and cancel.
    const slow = await subscribe('service://ConsoleDemo/fail', { 'tributary.max-attempts': '100' });
    slowSub = slow.sub;
    await producer.send(
      slow.topic,
      [0, 1].map((n) => ({ key: `slow-${n}`, value: JSON.stringify({ slow: n }) })),
    );
    await producer.send(
      dlq.topic,
      [0, 1].map((n) => ({ key: `dead-${n}`, value: JSON.stringify({ dead: n }) })),
    );
    await producer.send(
      echo.topic,
      [0, 1, 2, 3].map((n) => ({
        key: `order-${n}`,
        value: JSON.stringify({ order: n }),
        headers: { 'trace-id': `trace-${n}` },
      })),
    );
    await producer.send(
      fail.topic,
      [0, 1, 2].map((n) => ({ key: `bad-${n}`, value: JSON.stringify({ bad: n }) })),
    );
    await waitFor(
      async () => {
        const [a, b, c, d] = await Promise.all([
          invocationsOf(echoSub),
          invocationsOf(failSub),
          invocationsOf(dlqSub),
          invocationsOf(slowSub),
        ]);
        return (
          d.length === 2 &&
          a.length === 4 &&
          a.every((i) => i.status === 'completed') &&
          b.length === 3 &&
          b.every((i) => i.status === 'paused') &&
          c.length === 2 &&
          c.every((i) => i.deadLetteredAt !== null)
        );
      },
      `4 completed, 3 paused and 2 dead-lettered invocations\n${pipeline.outputs()}`,
      60_000,
      200,
    );
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('request', (request) => requested.push(request.url()));
  });

  afterAll(async () => {
    await browser?.close();
    await producer?.close();
    await admin?.close();
    await pipeline?.stop();
    await endpoint?.close();
  });

  it('serves the console at /ui, / redirecting there, with client routes reloadable', async () => {
    const root = await fetch(`${pipeline.adminUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');
    const deep = await fetch(`${pipeline.adminUrl}/ui/invocations/whatever`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await deep.text();
    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${pipeline.adminUrl}${script}`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${pipeline.adminUrl}/ui/assets/nope.js`)).status).toBe(404);
  });

  it('overview: subscriptions with status and lag, invocations by status, deployments', async () => {
    await page.goto(`${pipeline.adminUrl}/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const row = page.getByTestId(`subscription-row-${echoSub}`);
    await row.waitFor();
    await waitFor(async () => (await row.getByTestId('lag').textContent()) === '0', 'lag 0');
    // The tiles show what the API counts (here: 4 echoed and 2 dead-lettered completed, 3
    // paused; more where the stack has other subscriptions). They update live.
    for (const status of ['completed', 'paused']) {
      await waitFor(async () => {
        const api = (await pipeline.admin('GET', '/invocation-counts')).body as {
          by_status: Record<string, number>;
        };
        const tile = page.getByTestId(`count-${status}`).locator('.tile-n');
        const shown = await tile.textContent();
        return shown?.replace('+', '') === String(api.by_status[status]);
      }, `the ${status} count the API reports`);
    }
    const own = await pipeline.admin('GET', `/invocation-counts?subscription_id=${failSub}`);
    expect(own.body.by_status.paused).toBe(3);
    // Deployment health: reachable (the probe), and the 3 paused after a failure.
    const deployment = page.locator('tr', { hasText: endpoint.url });
    await waitFor(
      async () => (await deployment.getByTestId('health').textContent()) === 'reachable',
      'the deployment reachable',
    );
    // 3 paused, and the slow subscription's when backing off.
    expect(Number(await deployment.getByTestId('failing').textContent())).toBeGreaterThanOrEqual(3);
    expect(await deployment.textContent()).toContain('the demo handler always fails');
    await shot(page, 'overview');
  });

  it('subscription: partitions with their worker; pause takes effect', async () => {
    await page.getByRole('link', { name: echoSub }).click();
    await page.getByRole('heading', { name: /Subscription/ }).waitFor();
    await page.getByTestId('partition-0').waitFor();
    const held = await pipeline.admin('GET', `/subscriptions/${echoSub}`);
    const worker = (held.body.partitions as { partition: number; worker: string | null }[]).find(
      (p) => p.partition === 0,
    )?.worker;
    expect(worker).toEqual(expect.any(String));
    expect(await page.getByTestId('partition-0').textContent()).toContain(worker);
    // The lag history is sampled every 5 s from now on; the replay test below finds the chart.
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('Subscription paused.').waitFor();
    const after = await pipeline.admin('GET', `/subscriptions/${echoSub}`);
    expect(after.body.status).toBe('paused');
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    // PATCH its options: one added through the editor.
    await page.getByRole('button', { name: 'Edit options' }).click();
    const editor = page.getByRole('textbox', { name: /Options \(JSON object of strings\)/ });
    const options = JSON.parse(await editor.inputValue()) as Record<string, string>;
    await editor.fill(JSON.stringify({ ...options, 'tributary.max-attempts': '7' }));
    await page.getByRole('button', { name: 'Save options' }).click();
    await page.getByText(/^Options saved/).waitFor();
    const patched = await pipeline.admin('GET', `/subscriptions/${echoSub}`);
    expect(patched.body.options['tributary.max-attempts']).toBe('7');
    expect(patched.body.status).toBe('paused');
  });

  it('subscription: delete asks first, then the API no longer has it', async () => {
    const { sub } = await subscribe('service://ConsoleDemo/echo');
    await page.goto(`${pipeline.adminUrl}/ui/subscriptions/${sub}`);
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('group', { name: 'Confirm delete' }).waitFor();
    expect((await pipeline.admin('GET', `/subscriptions/${sub}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    expect((await pipeline.admin('GET', `/subscriptions/${sub}`)).status).toBe(404);
  });

  it('invocations: filtered list, then a bulk kill by filter, its count first', async () => {
    await page.goto(`${pipeline.adminUrl}/ui/invocations?subscription_id=${failSub}&status=paused`);
    const table = page.getByTestId('invocations-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(3);
    await page.getByRole('combobox', { name: 'Bulk action' }).selectOption('kill');
    await page.getByRole('button', { name: 'Count matches…' }).click();
    await waitFor(
      async () => (await page.getByTestId('bulk-count').textContent())?.startsWith('3 invocations'),
      'the count of 3',
    );
    await shot(page, 'invocations-bulk');
    await page.getByRole('button', { name: 'Yes, kill 3' }).click();
    await waitFor(
      async () => (await page.getByTestId('bulk-progress').textContent())?.includes('Done: 3 of 3'),
      'the bulk kill to finish',
    );
    const counts = await pipeline.admin('GET', `/invocation-counts?subscription_id=${failSub}`);
    expect(counts.body.by_status).toMatchObject({ paused: 0, completed: 3 });
    const killed = await invocationsOf(failSub);
    expect(killed.every((i) => i.completionResult === 'failure')).toBe(true);
  });

  it('invocation: each failed attempt on the timeline, then the end; its record linked', async () => {
    const [inv] = await invocationsOf(failSub);
    await page.goto(`${pipeline.adminUrl}/ui/invocations/${inv.id}`);
    const timeline = page.getByTestId('timeline');
    await timeline.waitFor();
    const text = await timeline.textContent();
    expect(text).toContain('attempt 1 started');
    expect(text).toContain('attempt 1 failed');
    expect(text).toContain('the demo handler always fails');
    // Killed by the bulk action above.
    expect(text).toMatch(/failed — .*killed/i);
    await shot(page, 'invocation-attempts');
    expect(await page.getByRole('link', { name: 'its record' }).getAttribute('href')).toContain(
      `/ui/subscriptions/${failSub}/records`,
    );
    const api = await pipeline.admin('GET', `/invocations/${inv.id}`);
    expect(api.body.attempts).toEqual([
      expect.objectContaining({ attempt: 1, failure: 'the demo handler always fails' }),
    ]);
  });

  /** A bulk action through the page: the count first, then the run to its end. */
  const bulk = async (filter: string, action: string, count: number) => {
    await page.goto(`${pipeline.adminUrl}/ui/invocations?${filter}`);
    await page.getByRole('combobox', { name: 'Bulk action' }).selectOption(action);
    await page.getByRole('button', { name: 'Count matches…' }).click();
    await waitFor(
      async () =>
        (await page.getByTestId('bulk-count').textContent())?.startsWith(`${count} invocation`),
      `the count of ${count} to ${action}`,
    );
    await page.getByRole('button', { name: `Yes, ${action} ${count}` }).click();
    await waitFor(
      async () => (await page.getByTestId('bulk-progress').textContent())?.includes('Done:'),
      `the bulk ${action} to finish`,
    );
    return page.getByTestId('bulk-progress').textContent();
  };

  const countsWhere = async (query: string) =>
    (await pipeline.admin('GET', `/invocation-counts?${query}`)).body as {
      by_status: Record<string, number>;
    };
  const countsOf = (sub: string) => countsWhere(`subscription_id=${sub}`);

  it('bulk pause, resume and cancel by filter change what the API reports', async () => {
    expect(await bulk(`subscription_id=${slowSub}`, 'pause', 2)).toContain('2 succeeded');
    await waitFor(async () => (await countsOf(slowSub)).by_status.paused === 2, '2 paused');
    expect(await bulk(`subscription_id=${slowSub}&status=paused`, 'resume', 2)).toContain(
      '2 succeeded',
    );
    expect((await countsOf(slowSub)).by_status.paused).toBe(0);
    await bulk(`subscription_id=${slowSub}`, 'cancel', 2);
    await waitFor(
      async () => (await countsOf(slowSub)).by_status.completed === 2,
      '2 canceled, completed',
    );
    const canceled = await invocationsOf(slowSub);
    expect(canceled.map((i) => i.completionFailure)).toEqual([
      expect.stringMatching(/canceled/),
      expect.stringMatching(/canceled/),
    ]);
  });

  it('bulk restart-as-new and purge by filter change what the API reports', async () => {
    const killed = await invocationsOf(failSub);
    expect(
      await bulk(`subscription_id=${failSub}&status=completed`, 'restart-as-new', 3),
    ).toContain('3 succeeded');
    const restarted = await pipeline.ds
      .getRepository(InvocationEntity)
      .find({ where: killed.map((i) => ({ restartedFrom: i.id })) });
    expect(restarted).toHaveLength(3);
    expect(await bulk(`subscription_id=${failSub}&status=completed`, 'purge', 3)).toContain(
      '3 succeeded',
    );
    expect((await pipeline.admin('GET', `/invocations/${killed[0].id}`)).status).toBe(404);
    const left = await invocationsOf(failSub);
    expect(left.map((i) => i.restartedFrom).sort()).toEqual(killed.map((i) => i.id).sort());
  });

  it('invocation: timeline, input, output and headers with the Kafka metadata', async () => {
    const [inv] = (await invocationsOf(echoSub)).filter(
      (i) => i.kafkaKey?.toString() === 'order-2',
    );
    await page.goto(`${pipeline.adminUrl}/ui/invocations/${inv.id}`);
    await page.getByTestId('timeline').waitFor();
    expect(await page.getByTestId('timeline').textContent()).toContain('completed');
    await waitFor(
      async () => (await page.getByTestId('payload-input').textContent())?.includes('"order": 2'),
      'the input, pretty JSON',
    );
    await waitFor(
      async () => (await page.getByTestId('payload-output').textContent())?.includes('"echoed"'),
      'the output',
    );
    await shot(page, 'invocation');
    const headers = await page.getByRole('region', { name: 'Headers' }).textContent();
    expect(headers).toContain('kafka.topic');
    expect(headers).toContain('trace-2');
  });

  it('record <-> invocation: the record of an invocation, and the invocation of a record', async () => {
    const [inv] = (await invocationsOf(echoSub)).filter(
      (i) => i.kafkaKey?.toString() === 'order-1',
    );
    await page.goto(`${pipeline.adminUrl}/ui/invocations/${inv.id}`);
    await page.getByRole('link', { name: 'its record' }).click();
    const row = page.getByTestId(`record-${inv.kafkaOffset}`);
    await row.waitFor();
    expect(await row.getByRole('link').textContent()).toBe(inv.id);
    await row.getByRole('button').click();
    await waitFor(
      async () => (await page.getByTestId('record-value').textContent())?.includes('"order": 1'),
      'the record value, pretty JSON',
    );
    await page.getByText('trace-1').waitFor();
    await shot(page, 'records');
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: /Invocation/ }).waitFor();
    expect(page.url()).toContain(`/ui/invocations/${inv.id}`);
  });

  it('replay: the lag chart; the preview counts the records read again, then the offsets move', async () => {
    await page.goto(`${pipeline.adminUrl}/ui/subscriptions/${echoSub}`);
    // Sampled since the subscription test first opened this page.
    await page.getByTestId('lag-chart').waitFor({ timeout: 30_000 });
    await shot(page, 'subscription');
    await page.getByRole('combobox', { name: 'Reset to' }).selectOption('earliest');
    await page.getByRole('button', { name: 'Preview…' }).click();
    await waitFor(
      async () =>
        (await page.getByTestId('replay-plan').textContent()) ===
        '4 records will be read again. 0 of them become new invocations (their ids are new); 4 still have their invocation and are not run again.',
      'the replay preview',
    );
    await shot(page, 'replay');
    await page.getByRole('button', { name: 'Yes, move the offsets' }).click();
    await page.getByText(/^Offsets moved/).waitFor();
    const detail = await pipeline.admin('GET', `/subscriptions/${echoSub}`);
    expect(
      detail.body.partitions.map((p: { committed_offset: number }) => p.committed_offset),
    ).toEqual([0, 0]);
    // Resume: it reads from there again (the same ids: nothing new runs).
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText('Subscription resumed.').waitFor();
    expect((await pipeline.admin('GET', `/subscriptions/${echoSub}`)).body.status).toBe('active');
    await waitFor(async () => {
      const d = await pipeline.admin('GET', `/subscriptions/${echoSub}`);
      const partitions = d.body.partitions as { lag: number }[];
      return partitions.every((p) => p.lag === 0);
    }, 'the replayed records read again');
    expect(await invocationsOf(echoSub)).toHaveLength(4);
  });

  it("state: a key's entries, edited with the version check", async () => {
    const seeded = await pipeline.admin('POST', '/services/ConsoleCounter/state', {
      object_key: 'alice',
      new_state: { count: [...Buffer.from('41')] },
    });
    expect(seeded.status).toBe(202);
    await page.goto(`${pipeline.adminUrl}/ui/state?service=ConsoleCounter`);
    await page.getByRole('link', { name: 'alice' }).click();
    await waitFor(
      async () => (await page.getByTestId('state-entries').textContent())?.includes('41'),
      'the entry count = 41',
    );
    // A change made while the editor is open: the save is refused (409), nothing overwritten.
    await page.getByRole('button', { name: 'Edit' }).click();
    await pipeline.admin('POST', '/services/ConsoleCounter/state', {
      object_key: 'alice',
      new_state: { count: [...Buffer.from('99')] },
    });
    await page.getByLabel('State entries').fill('{"count": "42"}');
    await page.getByRole('button', { name: 'Save state' }).click();
    await page.getByText(/has changed since version/).waitFor();
    const kept = await pipeline.admin('GET', '/services/ConsoleCounter/state/alice');
    expect(Buffer.from(kept.body.entries[0].value, 'base64').toString()).toBe('99');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await waitFor(
      async () => (await page.getByTestId('state-entries').textContent())?.includes('99'),
      'the entry count = 99 read again',
    );
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('State entries').fill('{"count": "42", "note": "set by hand"}');
    await page.getByRole('button', { name: 'Save state' }).click();
    await page.getByText('State saved.').waitFor();
    await shot(page, 'state');
    const after = await pipeline.admin('GET', '/services/ConsoleCounter/state/alice');
    expect(
      after.body.entries.map((e: { name: string; value: string }) => [
        e.name,
        Buffer.from(e.value, 'base64').toString(),
      ]),
    ).toEqual([
      ['count', '42'],
      ['note', 'set by hand'],
    ]);
  });

  it('dead letters: what failed and why; re-drive all as new invocations, count first', async () => {
    await page.goto(`${pipeline.adminUrl}/ui/subscriptions/${dlqSub}`);
    await page.getByRole('link', { name: 'Dead letters' }).click();
    const table = page.getByTestId('dead-letters-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(2);
    expect(await table.textContent()).toContain('the demo handler always fails');
    await page.getByRole('button', { name: 'Re-drive all…' }).click();
    expect(await page.getByTestId('redrive-count').textContent()).toMatch(
      /^Re-drive 2 dead letters/,
    );
    await shot(page, 'dead-letters');
    await page.getByRole('button', { name: 'Yes, re-drive 2' }).click();
    await waitFor(
      async () =>
        (await page.getByTestId('redrive-progress').textContent())?.includes('Done: 2 re-driven'),
      're-drive to finish',
    );
    const all = await invocationsOf(dlqSub);
    const restarted = await pipeline.ds
      .getRepository(InvocationEntity)
      .find({ where: all.map((i) => ({ restartedFrom: i.id })) });
    expect(restarted).toHaveLength(2);
  });

  it('deployments and Kafka clusters: register and remove through the page, secrets masked', async () => {
    const extra = await t.serve({
      services: [t.service({ name: 'ConsoleExtra', handlers: { hello: async () => 'hi' } })],
      port: 0,
    });
    try {
      await page.goto(`${pipeline.adminUrl}/ui/deployments`);
      await page.getByText(endpoint.url).waitFor();
      await page.getByLabel('Endpoint URI').fill(extra.url);
      await page.getByRole('button', { name: 'Register', exact: true }).click();
      const row = page.getByTestId(`deployment-${extra.url}`);
      await row.waitFor();
      expect(await row.textContent()).toContain('ConsoleExtra');
      const listed = await pipeline.admin('GET', '/deployments');
      const registered = listed.body.deployments.find((d: { uri: string }) => d.uri === extra.url);
      expect(registered.services.map((x: { name: string }) => x.name)).toEqual(['ConsoleExtra']);

      const cluster = uniqueName('console-cluster');
      await page.getByLabel('Name', { exact: true }).fill(cluster);
      await page.getByLabel('Properties (librdkafka, JSON)').fill(
        JSON.stringify({
          'bootstrap.servers': '127.0.0.1:9092',
          'security.protocol': 'SASL_PLAINTEXT',
          'sasl.mechanism': 'PLAIN',
          'sasl.username': 'console-user',
          'sasl.password': 'console-hunter2',
        }),
      );
      await page.getByRole('button', { name: 'Add cluster' }).click();
      const clusterRow = page.getByTestId(`cluster-${cluster}`);
      await clusterRow.waitFor();
      expect(await clusterRow.textContent()).toContain('*** (secret)');
      expect(await page.content()).not.toContain('console-hunter2');
      expect((await pipeline.admin('GET', `/kafka-clusters/${cluster}`)).status).toBe(200);
      await shot(page, 'deployments');

      await page.getByRole('button', { name: `Remove cluster ${cluster}` }).click();
      await clusterRow.waitFor({ state: 'detached' });
      expect((await pipeline.admin('GET', `/kafka-clusters/${cluster}`)).status).toBe(404);
      await page.getByRole('button', { name: `Remove deployment ${extra.url}` }).click();
      await row.waitFor({ state: 'detached' });
      expect((await pipeline.admin('GET', `/deployments/${registered.id}`)).status).toBe(404);
    } finally {
      await extra.close();
    }
  });

  it('works with the keyboard: / focuses the filter, arrows move between rows, Enter opens one', async () => {
    await page.goto(`${pipeline.adminUrl}/ui/invocations`);
    await page.getByTestId('invocations-table').waitFor();
    await page.keyboard.press('/');
    const focused = () => page.evaluate('document.activeElement?.getAttribute("name")');
    expect(await focused()).toBe('service');
    await page.keyboard.type('ConsoleDemo');
    await page.keyboard.press('Tab');
    await page.keyboard.type('echo');
    await page.keyboard.press('Enter');
    await waitFor(() => page.url().includes('handler=echo'), 'the filters applied');
    const rows = page.getByTestId('invocations-table').locator('tbody tr');
    // The 4 echoed here, and any a running stack had before.
    const echoed = Object.values(
      (await countsWhere('service=ConsoleDemo&handler=echo')).by_status,
    ).reduce((a, b) => a + b, 0);
    expect(echoed).toBeGreaterThanOrEqual(4);
    await waitFor(
      async () => (await rows.count()) === Math.min(echoed, 50),
      'the echo invocations',
    );
    await rows.first().focus();
    await page.keyboard.press('ArrowDown');
    const second = await rows.nth(1).getAttribute('aria-label');
    expect(await page.evaluate('document.activeElement?.getAttribute("aria-label")')).toBe(second);
    // The focus is visible: an outline on the focused row.
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).not.toBe(
      'none',
    );
    await page.keyboard.press('Enter');
    const id = /invocation (inv_\w+)/.exec(second ?? '')![1];
    await page.getByRole('heading', { name: /Invocation/ }).waitFor();
    expect(page.url()).toContain(`/ui/invocations/${id}`);
  });

  it('shows the API error when a call fails', async () => {
    const unknown = 'inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz';
    await page.goto(`${pipeline.adminUrl}/ui/invocations/${unknown}`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('HTTP 404');
  });

  it('loads everything from the admin API itself: no CDN or other origin at run time', () => {
    expect(requested.length).toBeGreaterThan(0);
    const elsewhere = requested.filter(
      (url) => !url.startsWith(`${pipeline.adminUrl}/`) && !/^(data|blob):/.test(url),
    );
    expect(elsewhere).toEqual([]);
  });
});

describe('web console token prompt', () => {
  let api: AdminTestApp;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    ensureConsoleBuilt();
    browser = await launchBrowser();
    api = await startAdminApi('console-auth', {}, ['console-secret-token']);
    await api.app.listen(0, '127.0.0.1');
    const address = api.app.getHttpServer().address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('asks for a token, refuses a wrong one, keeps the right one in sessionStorage only', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/ui/`);
    const field = page.getByLabel('Admin token');
    await field.waitFor();
    await shot(page, 'token');
    await field.fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(/Invalid bearer token/).waitFor();
    await field.fill('console-secret-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('No subscriptions yet').waitFor();
    // Evaluated in the page, where these globals exist.
    const stored = await page.evaluate(
      '({ session: Object.values(sessionStorage), local: localStorage.length, cookies: document.cookie })',
    );
    expect(stored).toEqual({ session: ['console-secret-token'], local: 0, cookies: '' });
    await page.close();
  });
});
