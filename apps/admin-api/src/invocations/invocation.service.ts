import { Injectable } from '@nestjs/common';
import {
  ControlAction,
  HandlerTy,
  InvocationStatus,
  isExclusive,
  newInvocationId,
  ServiceTy,
} from '@tributary/shared';
import { AdminError } from '../common/admin-error';
import { ControlAddress, InvocationControlSender } from './invocation-control.sender';
import { InvocationControlRow, InvocationRepository } from './invocation.repository';
import {
  InvocationDetailView,
  InvocationPage,
  toInvocationDetailView,
  toInvocationView,
} from './invocation.view';
import { encodeCursor, ListInvocationsQuery } from './list-invocations.query';

/** `done`: the change is recorded (200). `accepted`: the owning invoker was asked to act (202). */
export type ControlOutcome = 'done' | 'accepted';

/** Modes of the deprecated `DELETE /invocations/{id}?mode=`. */
export type DeleteMode = 'cancel' | 'kill' | 'purge';

/**
 * `GET /invocations/{id}/output`. A failure answers with the handler's error code when it is an
 * HTTP error code (a terminal error's code), else 500, and the failure message as the body.
 */
export type InvocationOutput =
  | { ok: true; body: Buffer | null; contentType: string | null }
  | { ok: false; status: number; message: string };

/** Statuses an invocation can be killed or canceled from without its invoker's help. */
const IDLE: InvocationStatus[] = [
  'pending',
  'scheduled',
  'ready',
  'backing-off',
  'paused',
  'suspended',
];
/** Statuses pausable in place: runnable but not running. Restate pauses only started ones. */
const PAUSABLE_IDLE: InvocationStatus[] = ['ready', 'backing-off', 'suspended'];

export const TERMINATION_FAILURE = {
  cancel: 'Invocation canceled through the admin API',
  kill: 'Invocation killed through the admin API',
} as const;

/** A conditional write lost to a concurrent change: read the row again and decide again. */
const CHANGED = Symbol('changed');
const MAX_DECISIONS = 5;

// Restate's messages (crates/admin/src/rest_api/error.rs), so scripts matching them keep working.
const notFound = (id: string) =>
  AdminError.notFound(`The requested invocation '${id}' does not exist`);
const alreadyCompleted = (id: string) =>
  AdminError.conflict(`The invocation '${id}' was already completed.`);
const notYetCompleted = (id: string) =>
  AdminError.conflict(`The invocation '${id}' is not yet completed.`);
/** Why an invocation in these statuses cannot be paused, after Restate's sentence. */
const NOT_PAUSABLE_BECAUSE: Readonly<Partial<Record<InvocationStatus, string>>> = {
  pending:
    'It is pending: queued behind an earlier invocation of the same key, it has not started yet',
  scheduled: 'It is scheduled: it has not started yet',
  completed: 'It is completed',
};
// Restate's sentence first, unchanged, so scripts matching it keep working; then why and what to do.
const notRunning = (id: string, status: InvocationStatus) =>
  AdminError.conflict(
    `The invocation '${id}' is not running, cannot be paused. ${NOT_PAUSABLE_BECAUSE[status] ?? `It is ${status}`}; only started invocations (ready, running or backing-off) can be paused${status === 'completed' ? '.' : ': pause it once it has started, or cancel or kill it now.'}`,
  );
const completedCannotResume = (id: string) =>
  AdminError.conflict(`The invocation '${id}' is completed, cannot be resumed.`);
const notStartedCannotResume = (id: string) =>
  new AdminError(425, `The invocation '${id}' is either inboxed or scheduled, cannot be resumed.`);
const stillRunning = (id: string) =>
  AdminError.conflict(`The invocation '${id}' is still running.`);
const notStartedCannotRestart = (id: string) =>
  new AdminError(425, `The invocation '${id}' cannot be restarted because it's not running yet.`);
const workflowCannotRestart = (id: string) =>
  new AdminError(
    422,
    `Restarting the invocation '${id}' is not supported. Restarting workflows is not supported.`,
  );

function address(row: InvocationControlRow): ControlAddress {
  return {
    id: row.id,
    service: row.targetService,
    key: row.targetKey,
    serviceTy: row.serviceTy,
    busPartition: row.busPartition,
  };
}

/**
 * The rules of managing invocations (Restate's status codes; docs/architecture.md, "Admin actions"). Rows belong to
 * the invoker that owns their bus partition: a running invocation is only ever changed by it (we
 * send it `kill`/`cancel`/`pause`); an idle one we change in Postgres, then send `wake` so the
 * invoker reloads it. Each write is conditional on the status decided from; when the invoker
 * moved the row meanwhile, we read it again and decide again.
 */
@Injectable()
export class InvocationService {
  constructor(
    private readonly repository: InvocationRepository,
    private readonly control: InvocationControlSender,
  ) {}

  async list(query: ListInvocationsQuery): Promise<InvocationPage> {
    const { rows, next } = await this.repository.list(query.filter, query.limit, query.cursor);
    return {
      invocations: rows.map(toInvocationView),
      next_cursor: next ? encodeCursor(next) : null,
    };
  }

  async get(id: string): Promise<InvocationDetailView> {
    const row = await this.repository.findDetail(id);
    if (!row) throw notFound(id);
    return toInvocationDetailView(row);
  }

  async output(id: string): Promise<InvocationOutput> {
    const row = await this.repository.findOutput(id);
    if (!row) throw notFound(id);
    if (row.status !== 'completed') {
      throw new AdminError(470, `The invocation '${id}' is not completed yet`);
    }
    if (row.completionResult === 'success') {
      return { ok: true, body: row.output, contentType: row.outputContentType };
    }
    const code = row.lastFailureCode;
    return {
      ok: false,
      status: code !== null && code >= 400 && code <= 599 ? code : 500,
      message: row.completionFailure ?? 'The invocation failed',
    };
  }

  cancel(id: string): Promise<ControlOutcome> {
    return this.terminate(id, 'cancel');
  }

  kill(id: string): Promise<ControlOutcome> {
    return this.terminate(id, 'kill');
  }

  pause(id: string): Promise<ControlOutcome> {
    return this.decide(id, async (row) => {
      switch (row.status) {
        case 'running':
          await this.tell(row, 'pause');
          return 'accepted';
        case 'ready':
        case 'backing-off':
        case 'suspended':
          if (!(await this.repository.pause(id, PAUSABLE_IDLE))) return CHANGED;
          await this.tell(row, 'wake');
          // Restate answers 202 for every started invocation it pauses, 200 only when already paused.
          return 'accepted';
        case 'paused':
          return 'done';
        case 'pending':
        case 'scheduled':
        case 'completed':
          throw notRunning(id, row.status);
      }
    });
  }

  resume(id: string): Promise<ControlOutcome> {
    return this.decide(id, async (row) => {
      switch (row.status) {
        case 'paused':
          if (!(await this.repository.resumePaused(id))) return CHANGED;
          await this.tell(row, 'wake');
          return 'done';
        case 'backing-off':
          if (!(await this.repository.retryNow(id))) return CHANGED;
          await this.tell(row, 'wake');
          return 'done';
        case 'ready':
        case 'suspended':
          // Nothing to change, but a nudge makes a retried resume reach an invoker that missed one.
          await this.tell(row, 'wake');
          return 'done';
        case 'running':
          return 'done';
        case 'pending':
        case 'scheduled':
          throw notStartedCannotResume(id);
        case 'completed':
          throw completedCannotResume(id);
      }
    });
  }

  purge(id: string): Promise<ControlOutcome> {
    return this.decide(id, async (row) => {
      if (row.status !== 'completed') throw notYetCompleted(id);
      return (await this.repository.deleteCompleted(id)) ? 'done' : CHANGED;
    });
  }

  restartAsNew(id: string): Promise<{ new_invocation_id: string }> {
    return this.decide(id, async (row) => {
      switch (row.status) {
        case 'completed':
          break;
        case 'pending':
        case 'scheduled':
          throw notStartedCannotRestart(id);
        case 'ready':
        case 'running':
        case 'backing-off':
        case 'paused':
        case 'suspended':
          throw stillRunning(id);
      }
      // A workflow's run handler runs once per key; Restate refuses to restart workflows too.
      if (row.serviceTy === 'WORKFLOW') throw workflowCannotRestart(id);
      const newId = newInvocationId();
      // Recomputed rather than copied: a poison record's row is stored as non-exclusive.
      const exclusive = isExclusive(row.serviceTy as ServiceTy, row.handlerTy as HandlerTy | null);
      if (!(await this.repository.insertRestart(id, newId, exclusive))) return CHANGED;
      await this.tell({ ...row, id: newId }, 'wake');
      return { new_invocation_id: newId };
    });
  }

  /** The deprecated `DELETE /invocations/{id}?mode=`: the same rules as the PATCH calls. */
  async remove(id: string, mode: DeleteMode): Promise<void> {
    switch (mode) {
      case 'cancel':
        await this.cancel(id);
        return;
      case 'kill':
        await this.kill(id);
        return;
      case 'purge':
        await this.purge(id);
        return;
    }
  }

  private terminate(id: string, action: 'cancel' | 'kill'): Promise<ControlOutcome> {
    return this.decide(id, async (row) => {
      switch (row.status) {
        case 'completed':
          throw alreadyCompleted(id);
        case 'running':
          await this.tell(row, action);
          return 'accepted';
        case 'pending':
        case 'scheduled':
        case 'ready':
        case 'backing-off':
        case 'paused':
        case 'suspended':
          if (!(await this.repository.complete(id, IDLE, TERMINATION_FAILURE[action]))) {
            return CHANGED;
          }
          await this.tell(row, 'wake');
          // A Restate SDK handler that called it gets the failure as the call's result.
          for (const caller of await this.repository.failCaller(row, TERMINATION_FAILURE[action])) {
            await this.control.send(caller, 'wake');
          }
          return 'done';
      }
    });
  }

  /** Reads the row and applies `step`; again when its conditional write found the row moved. */
  private async decide<T>(
    id: string,
    step: (row: InvocationControlRow) => Promise<T | typeof CHANGED>,
  ): Promise<T> {
    for (let attempt = 0; attempt < MAX_DECISIONS; attempt++) {
      const row = await this.repository.findControl(id);
      if (!row) throw notFound(id);
      const result = await step(row);
      if (result !== CHANGED) return result;
    }
    throw AdminError.conflict(
      `The invocation '${id}' kept changing status while being updated; try again`,
    );
  }

  private async tell(row: InvocationControlRow, action: ControlAction): Promise<void> {
    try {
      await this.control.send(address(row), action);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const consequence =
        action === 'wake'
          ? `the change to '${row.id}' is recorded, but its invoker was not told and sees it only once its bus partition is assigned again`
          : `'${row.id}' was not changed; try again`;
      throw new AdminError(
        503,
        `Error when routing the request internally. Reason: the internal bus did not take the '${action}' message (${reason}); ${consequence}`,
      );
    }
  }
}
