import { DataSource } from 'typeorm';
import { loadConfig } from '../../../../libs/shared/src/config';
import {
  InvocationEntity,
  InvocationPayloadEntity,
  WorkflowPromiseEntity,
} from '../../../../libs/shared/src/database/entities';
import { newInvocationId } from '../../../../libs/shared/src/ids/ids';
import { Shards } from '../../../../libs/shared/src/database/shards';
import { createTestSchema, TestSchema } from '../../../../test/support/database';
import { RetentionJob } from './retention.job';

/** An invoker owning bus partition 0 (of the one shard here); `nothing` owns none. */
const owningPartition0 = { ownedPartitions: () => new Set([0]) };
const owningNothing = { ownedPartitions: () => new Set<number>() };

describe('retention (real Postgres)', () => {
  let schema: TestSchema;
  let ds: DataSource;

  beforeAll(async () => {
    schema = await createTestSchema('retention');
    ds = await schema.migrated();
  });

  afterAll(async () => {
    await schema.drop();
  });

  const row = (over: Partial<InvocationEntity>): InvocationEntity =>
    Object.assign(new InvocationEntity(), {
      id: newInvocationId(),
      targetService: 'S',
      targetHandler: 'h',
      serviceTy: 'SERVICE',
      exclusive: false,
      status: 'completed',
      completionResult: 'success',
      invokedBy: 'subscription',
      completedAt: new Date(),
      ...over,
    } satisfies Partial<InvocationEntity>);

  it('purges completed invocations older than the retention, with their payloads, and nothing else', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const rows = {
      old: row({ completedAt: hourAgo }),
      recent: row({}),
      running: row({ status: 'running', completionResult: null, completedAt: null }),
      awaitingDeadLetter: row({
        completedAt: hourAgo,
        completionResult: 'failure',
        deadLetterTopic: 'dlq',
      }),
      deadLettered: row({
        completedAt: hourAgo,
        completionResult: 'failure',
        deadLetterTopic: 'dlq',
        deadLetteredAt: hourAgo,
      }),
    };
    await ds.getRepository(InvocationEntity).save(Object.values(rows));
    const payloads = ds.getRepository(InvocationPayloadEntity);
    await payloads.insert(
      Object.values(rows).map((r) => ({ id: r.id, input: Buffer.from('{}'), headers: {} })),
    );
    const config = loadConfig({ argv: [], env: {} });
    config.invocation.retentionMs = 60_000;

    // An invoker that owns no bus partition purges in no shard.
    expect(await new RetentionJob(new Shards([ds]), config, owningNothing).purge()).toBe(0);
    expect(await new RetentionJob(new Shards([ds]), config, owningPartition0).purge()).toBe(2);
    const left = (await ds.getRepository(InvocationEntity).find()).map((r) => r.id).sort();
    expect(left).toEqual([rows.recent.id, rows.running.id, rows.awaitingDeadLetter.id].sort());
    expect((await payloads.find()).map((p) => p.id).sort()).toEqual(left);
  });

  it("purges a workflow's completed promises after the retention, unless its run is still open", async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    const promises = ds.getRepository(WorkflowPromiseEntity);
    const promise = (key: string, completedAt: Date) => ({
      serviceName: 'Signup',
      workflowKey: key,
      name: 'approved',
      value: Buffer.from('"yes"'),
      completedBy: 'inv_x:1',
      completedAt,
    });
    await promises.insert([
      promise('done', hourAgo),
      promise('open', hourAgo),
      promise('fresh', new Date()),
    ]);
    await ds.getRepository(InvocationEntity).save(
      row({
        status: 'suspended',
        completionResult: null,
        completedAt: null,
        targetService: 'Signup',
        targetKey: 'open',
        serviceTy: 'WORKFLOW',
        handlerTy: 'WORKFLOW',
        exclusive: true,
      }),
    );
    const config = loadConfig({ argv: [], env: {} });
    config.invocation.retentionMs = 60_000;
    await new RetentionJob(new Shards([ds]), config, owningPartition0).purge();
    expect((await promises.find()).map((p) => p.workflowKey).sort()).toEqual(['fresh', 'open']);
  });

  it('defaults to 24 hours, as Restate does', () => {
    expect(loadConfig({ argv: [], env: {} }).invocation.retentionMs).toBe(24 * 3_600_000);
  });
});
