import type { InvocationPage } from './types';

/** Actions the admin API takes on one invocation (`PATCH /invocations/{id}/{action}`). */
export const BULK_ACTIONS = [
  'cancel',
  'kill',
  'pause',
  'resume',
  'purge',
  'restart-as-new',
] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export interface BulkProgress {
  /** Invocations the action was tried on so far. */
  processed: number;
  succeeded: number;
  failed: number;
  /** The first few refusals, with the admin API's reason. */
  errors: { id: string; message: string }[];
  done: boolean;
}

export interface BulkDeps {
  /** One page of `GET /invocations` with the filter and the cursor. */
  listPage(cursor: string | null): Promise<InvocationPage>;
  /** The action on one invocation; rejects with the admin API's refusal. */
  act(id: string): Promise<void>;
  onProgress(progress: BulkProgress): void;
  /** Checked between invocations: true stops the run. */
  cancelled(): boolean;
  concurrency?: number;
}

const MAX_ERRORS = 20;

/**
 * Applies an action to every invocation a filter matches, page by page (newest first, by the
 * list's cursor, so rows that change status or disappear while it runs do not shift the pages),
 * a few at a time, reporting progress after each one. A refusal (409 for an invocation already
 * completed, ...) is counted and kept, not fatal. The caller freezes the set by giving the list
 * a `created_before` taken when it counted.
 */
export async function runBulk(deps: BulkDeps): Promise<BulkProgress> {
  const progress: BulkProgress = { processed: 0, succeeded: 0, failed: 0, errors: [], done: false };
  const concurrency = Math.max(1, deps.concurrency ?? 4);
  let cursor: string | null = null;
  do {
    if (deps.cancelled()) break;
    const page: InvocationPage = await deps.listPage(cursor);
    const ids = page.invocations.map((i) => i.id);
    let next = 0;
    const worker = async () => {
      while (next < ids.length && !deps.cancelled()) {
        const id = ids[next++];
        try {
          await deps.act(id);
          progress.succeeded++;
        } catch (err) {
          progress.failed++;
          if (progress.errors.length < MAX_ERRORS) {
            progress.errors.push({ id, message: err instanceof Error ? err.message : String(err) });
          }
        }
        progress.processed++;
        deps.onProgress({ ...progress, errors: [...progress.errors] });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
    cursor = page.next_cursor;
  } while (cursor !== null);
  progress.done = true;
  deps.onProgress({ ...progress, errors: [...progress.errors] });
  return progress;
}
