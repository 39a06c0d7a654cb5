import { createHash } from 'node:crypto';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { Shards } from '@tributary/shared';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AdminError } from '../common/admin-error';

export interface StateEntryView {
  name: string;
  /** The value's bytes, base64. */
  value: string;
}

export interface ObjectStateView {
  service: string;
  key: string;
  /** Restate's state version: send it back with a change so that it applies only to this state. */
  version: string;
  entries: StateEntryView[];
}

export interface StateKeysView {
  service: string;
  keys: { key: string; entries: number }[];
  /** Pass as `after` for the next page; null on the last. */
  next_after: string | null;
}

/**
 * Restate's state version (`StateMutationVersion`): SHA-256 over the entries sorted by name
 * bytes, each as its index (8 bytes, big-endian), 0x01, name, 0x02, value, 0x03; URL-safe
 * base64 without padding. The same state gives Restate's version, so clients computing it work.
 */
export function stateVersion(entries: { name: Buffer; value: Buffer }[]): string {
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.name, b.name));
  const hash = createHash('sha256');
  sorted.forEach(({ name, value }, i) => {
    const index = Buffer.alloc(8);
    index.writeBigUInt64BE(BigInt(i));
    hash
      .update(index)
      .update(Buffer.from([1]))
      .update(name)
      .update(Buffer.from([2]));
    hash.update(value).update(Buffer.from([3]));
  });
  return hash.digest('base64url');
}

const KEYS_PAGE = 100;

/** A page of a service's keys with state, in key order: a range of its primary key. */
export function stateKeysQuery(
  service: string,
  after: string | undefined,
  byteOrder = false,
): [string, unknown[]] {
  // Merging several shards' pages needs an order JavaScript can repeat: the bytes' (COLLATE "C").
  const key = byteOrder ? 'object_key COLLATE "C"' : 'object_key';
  return [
    `SELECT object_key AS key, count(*)::int AS entries FROM object_state
      WHERE service_name = $1 AND ($2::text IS NULL OR ${key} > $2)
      GROUP BY object_key ORDER BY ${key} LIMIT ${KEYS_PAGE + 1}`,
    [service, after ?? null],
  ];
}

/**
 * The state of virtual objects and workflows (Postgres `object_state`): keys per service, the
 * entries of a key, and Restate's `POST /services/{service}/state` to replace a key's state,
 * with its optimistic version check.
 */
@Injectable()
export class ObjectStateService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Shards) private readonly shards: Shards,
  ) {}

  private async keyedService(service: string): Promise<void> {
    const rows = await this.db.query<{ ty: string }[]>(`SELECT ty FROM services WHERE name = $1`, [
      service,
    ]);
    if (rows.length === 0) {
      throw AdminError.notFound(`The requested service '${service}' does not exist`);
    }
    if (rows[0].ty !== 'VIRTUAL_OBJECT' && rows[0].ty !== 'WORKFLOW') {
      throw AdminError.badRequest(
        `Service '${service}' is a ${rows[0].ty.toLowerCase().replace('_', ' ')}: only virtual objects and workflows have state`,
      );
    }
  }

  async keys(service: string, after: string | undefined): Promise<StateKeysView> {
    await this.keyedService(service);
    const sharded = this.shards.count > 1;
    const pages = await this.shards.each((db) =>
      db.query<{ key: string; entries: number }[]>(...stateKeysQuery(service, after, sharded)),
    );
    const rows = sharded
      ? pages.flat().sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
      : pages[0];
    const page = rows.slice(0, KEYS_PAGE);
    return {
      service,
      keys: page,
      next_after: rows.length > KEYS_PAGE ? page[page.length - 1].key : null,
    };
  }

  private async entries(
    m: EntityManager,
    service: string,
    key: string,
    lock: boolean,
  ): Promise<{ name: Buffer; value: Buffer }[]> {
    const rows = await m.query<{ state_key: string; value: Buffer }[]>(
      `SELECT state_key, value FROM object_state WHERE service_name = $1 AND object_key = $2
        ORDER BY state_key ${lock ? 'FOR UPDATE' : ''}`,
      [service, key],
    );
    return rows.map((r) => ({ name: Buffer.from(r.state_key), value: r.value }));
  }

  async get(service: string, key: string): Promise<ObjectStateView> {
    await this.keyedService(service);
    // A key's state is in one shard (its bus partition's); the others have none of it.
    const entries = (
      await this.shards.each((db) => this.entries(db.manager, service, key, false))
    ).flat();
    return {
      service,
      key,
      version: stateVersion(entries),
      entries: entries
        .sort((a, b) => Buffer.compare(a.name, b.name))
        .map((e) => ({ name: e.name.toString(), value: e.value.toString('base64') })),
    };
  }

  /**
   * The shard of a key: where its state or its invocations are. A key neither has yet belongs to
   * the shard of a bus partition no invocation named; with several shards, that is refused.
   */
  private async shardOfKey(service: string, key: string): Promise<DataSource> {
    if (this.shards.count === 1) return this.shards.all[0];
    const has = await this.shards.each(async (db) => {
      const rows: unknown[] = await db.query(
        `SELECT 1 FROM object_state WHERE service_name = $1 AND object_key = $2
         UNION ALL
         SELECT 1 FROM invocations WHERE target_service = $1 AND md5(target_key) = md5($2)
            AND target_key = $2
         LIMIT 1`,
        [service, key],
      );
      return rows.length > 0;
    });
    const i = has.indexOf(true);
    if (i < 0) {
      throw AdminError.conflict(
        `${service}/${key} has neither state nor an invocation yet, so its shard is not known (database.shards lists ${this.shards.count}): invoke the key first`,
      );
    }
    return this.shards.all[i];
  }

  /**
   * Replaces the key's whole state, as Restate does. With `version`, only when the state is still
   * the one that version names (409 otherwise). While an invocation of the key runs, its
   * completion would write over the change, so that is a 409 too: retry when it has finished.
   */
  async replace(
    service: string,
    key: string,
    version: string | undefined,
    state: Map<string, Buffer>,
  ): Promise<void> {
    await this.keyedService(service);
    const db = await this.shardOfKey(service, key);
    await db.transaction(async (m) => {
      // The invoker's per-key lock (lockKeys in apps/invoker/src/execution/invocation.store.ts):
      // the check below cannot race a claim or a completion of this key, nor another edit.
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))`, [
        service,
        key,
      ]);
      const running = await m.query<{ id: string }[]>(
        `SELECT id FROM invocations WHERE target_service = $1 AND target_key = $2
          AND "exclusive" AND status = 'running' LIMIT 1`,
        [service, key],
      );
      if (running.length > 0) {
        throw AdminError.conflict(
          `Invocation '${running[0].id}' of ${service}/${key} is running; its completion would overwrite the change. Try again when it has finished`,
        );
      }
      const current = await this.entries(m, service, key, true);
      if (version !== undefined && stateVersion(current) !== version) {
        throw AdminError.conflict(
          `The state of ${service}/${key} has changed since version '${version}' (it is now '${stateVersion(current)}'): read it again and redo the change`,
        );
      }
      await m.query(`DELETE FROM object_state WHERE service_name = $1 AND object_key = $2`, [
        service,
        key,
      ]);
      const names = [...state.keys()];
      if (names.length > 0) {
        await m.query(
          `INSERT INTO object_state (service_name, object_key, state_key, value)
           SELECT $1, $2, n, v FROM unnest($3::text[], $4::bytea[]) AS u(n, v)`,
          [service, key, names, names.map((n) => state.get(n)!)],
        );
      }
    });
  }
}

/** Restate's body: `{"object_key": "...", "version": "...", "new_state": {"name": [bytes]}}`. */
export function parseModifyState(body: unknown): {
  key: string;
  version: string | undefined;
  state: Map<string, Buffer>;
} {
  const bad = (reason: string) => AdminError.badRequest(`Invalid request body: ${reason}`);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw bad('expected {"object_key": ..., "new_state": {...}, "version": ...}');
  }
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => !['object_key', 'version', 'new_state'].includes(k));
  if (extra.length > 0) throw bad(`property ${extra.join(', ')} should not exist`);
  if (typeof b.object_key !== 'string') throw bad('object_key must be a string');
  if (b.version !== undefined && b.version !== null && typeof b.version !== 'string') {
    throw bad('version must be a string');
  }
  const raw = b.new_state;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw bad('new_state must be an object of state names to byte arrays');
  }
  const state = new Map<string, Buffer>();
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (
      !Array.isArray(value) ||
      !value.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 255)
    ) {
      throw bad(`new_state.${name} must be an array of bytes (integers 0 to 255)`);
    }
    if (name.includes('\0')) throw bad('a state name cannot hold a NUL character');
    state.set(name, Buffer.from(value as number[]));
  }
  return { key: b.object_key, version: (b.version as string | null) ?? undefined, state };
}

@Controller('services')
export class ObjectStateController {
  constructor(private readonly state: ObjectStateService) {}

  @Get(':service/state')
  keys(@Param('service') service: string, @Query('after') after: unknown): Promise<StateKeysView> {
    if (after !== undefined && typeof after !== 'string') {
      throw AdminError.badRequest("The query parameter 'after' must be given once, as text");
    }
    return this.state.keys(service, after);
  }

  @Get(':service/state/:key')
  get(@Param('service') service: string, @Param('key') key: string): Promise<ObjectStateView> {
    return this.state.get(service, key);
  }

  /** Restate's state edit: 202, as Restate answers it. */
  @Post(':service/state')
  @HttpCode(202)
  async modify(
    @Param('service') service: string,
    @Body() body: Record<string, unknown>,
  ): Promise<void> {
    const { key, version, state } = parseModifyState(body);
    await this.state.replace(service, key, version, state);
  }
}
