import { keepPreviousData, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  useReactTable,
} from '@tanstack/react-table';
import { FormEvent, useEffect, useRef, useState } from 'react';
import { Empty, ErrorBox, Loading, Outcome, Section, StatusBadge } from '../components/ui';
import { api } from '../lib/api';
import { BULK_ACTIONS, BulkAction, BulkProgress, runBulk } from '../lib/bulk';
import { countText, InvocationCounts } from '../lib/counts';
import {
  FILTER_FIELDS,
  InvocationSearch,
  invocationQuery,
  isUnfiltered,
  parseStatuses,
  toApiTime,
} from '../lib/filters';
import { relativeTime } from '../lib/format';
import { Invocation, INVOCATION_STATUSES, InvocationPage } from '../lib/types';

const route = getRouteApi('/invocations');
const PAGE_SIZE = 50;

const column = createColumnHelper<Invocation>();
const columns = [
  column.accessor('id', {
    header: 'Invocation',
    cell: (c) => (
      <Link to="/invocations/$id" params={{ id: c.getValue() }}>
        <code>{c.getValue()}</code>
      </Link>
    ),
  }),
  column.accessor('target', { header: 'Target', cell: (c) => <code>{c.getValue()}</code> }),
  column.accessor('status', {
    header: 'Status',
    cell: (c) => <StatusBadge status={c.getValue()} />,
  }),
  column.accessor('retry_count', { header: 'Retries' }),
  column.accessor('kafka', {
    header: 'Record',
    cell: (c) => {
      const k = c.getValue();
      return k ? `${k.topic}/${k.partition}@${k.offset}` : '';
    },
  }),
  column.accessor('created_at', {
    header: 'Created',
    cell: (c) => <span title={c.getValue()}>{relativeTime(c.getValue())}</span>,
  }),
  column.accessor('last_failure', {
    header: 'Last failure',
    cell: (c) => <span className="clip">{c.getValue() ?? ''}</span>,
  }),
];

const LABELS: Record<(typeof FILTER_FIELDS)[number], string> = {
  service: 'Service',
  handler: 'Handler',
  key: 'Key',
  subscription_id: 'Subscription',
  created_after: 'Created after',
  created_before: 'Created before',
};

export function InvocationsPage() {
  const search = route.useSearch();
  const navigate = useNavigate();
  // Cursors of the pages before this one; the first page has none.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const list = useQuery({
    queryKey: ['invocations', search, cursor],
    queryFn: () =>
      api<InvocationPage>(`/invocations${invocationQuery(search, { cursor, limit: PAGE_SIZE })}`),
    placeholderData: keepPreviousData,
  });
  const table = useReactTable({
    data: list.data?.invocations ?? [],
    columns,
    getCoreRowModel: getCoreRowModel(),
  });

  function applyFilters(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const next: InvocationSearch = {};
    const statuses = INVOCATION_STATUSES.filter((s) => form.get(`status-${s}`) === 'on');
    if (statuses.length > 0) next.status = statuses.join(',');
    for (const field of FILTER_FIELDS) {
      const entry = form.get(field);
      const raw = typeof entry === 'string' ? entry.trim() : '';
      const value = field.startsWith('created_') ? toApiTime(raw) : raw;
      if (value) next[field] = value;
    }
    setCursors([null]);
    void navigate({ to: '/invocations', search: next });
  }

  // Keyboard: `/` focuses the first filter field (as in many consoles), unless typing already.
  const firstFilter = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = e.target instanceof HTMLElement && e.target.closest('input, textarea, select');
      if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        firstFilter.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const selected = new Set(parseStatuses(search.status));
  return (
    <>
      <h1>Invocations</h1>
      <Section title="Filters" id="filters">
        <form className="filters" onSubmit={applyFilters} key={JSON.stringify(search)}>
          <fieldset>
            <legend>Status</legend>
            {INVOCATION_STATUSES.map((s) => (
              <label key={s} className="check">
                <input type="checkbox" name={`status-${s}`} defaultChecked={selected.has(s)} /> {s}
              </label>
            ))}
          </fieldset>
          {FILTER_FIELDS.map((f, n) => (
            <label key={f}>
              {LABELS[f]}
              <input
                ref={n === 0 ? firstFilter : undefined}
                aria-keyshortcuts={n === 0 ? '/' : undefined}
                name={f}
                defaultValue={search[f] ?? ''}
                placeholder={f.startsWith('created_') ? '2026-12-03T10:00:00Z' : ''}
              />
            </label>
          ))}
          <div className="form-actions">
            <button type="submit">Apply</button>
            <button
              type="button"
              onClick={() => {
                setCursors([null]);
                void navigate({ to: '/invocations', search: {} });
              }}
            >
              Clear
            </button>
          </div>
        </form>
      </Section>

      <BulkPanel search={search} />

      <Section
        title="Results"
        id="results"
        actions={
          <>
            <button
              type="button"
              disabled={cursors.length === 1}
              onClick={() => setCursors((c) => c.slice(0, -1))}
            >
              ← Newer
            </button>
            <span className="muted">page {cursors.length}</span>
            <button
              type="button"
              disabled={!list.data?.next_cursor}
              onClick={() => setCursors((c) => [...c, list.data!.next_cursor])}
            >
              Older →
            </button>
          </>
        }
      >
        {list.isPending ? (
          <Loading what="invocations" />
        ) : list.isError ? (
          <ErrorBox error={list.error} what="invocations" />
        ) : list.data.invocations.length === 0 ? (
          <Empty>
            No invocation matches these filters.{' '}
            {isUnfiltered(search)
              ? 'Invocations appear when a subscription reads records.'
              : 'Clear a filter to see more.'}
          </Empty>
        ) : (
          <table data-testid="invocations-table">
            <thead>
              {table.getHeaderGroups().map((g) => (
                <tr key={g.id}>
                  {g.headers.map((h) => (
                    <th key={h.id}>{flexRender(h.column.columnDef.header, h.getContext())}</th>
                  ))}
                </tr>
              ))}
            </thead>
            <tbody>
              {table.getRowModel().rows.map((r) => (
                // A row takes the focus (Tab, or arrow keys below); Enter opens its invocation.
                <tr
                  key={r.id}
                  tabIndex={0}
                  aria-label={`invocation ${r.original.id}, ${r.original.status}`}
                  onKeyDown={(e) => {
                    if (e.target !== e.currentTarget) return;
                    const row = e.currentTarget;
                    if (e.key === 'Enter') {
                      void navigate({ to: '/invocations/$id', params: { id: r.original.id } });
                    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                      e.preventDefault();
                      const next =
                        e.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling;
                      if (next instanceof HTMLElement) next.focus();
                    }
                  }}
                >
                  {r.getVisibleCells().map((c) => (
                    <td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

/** Bulk actions by filter: count first, then confirm, then progress while it runs. */
function BulkPanel({ search }: { search: InvocationSearch }) {
  const client = useQueryClient();
  const [action, setAction] = useState<BulkAction>('cancel');
  const [counted, setCounted] = useState<{ total: number; capped: boolean; asOf: string } | null>(
    null,
  );
  const [progress, setProgress] = useState<BulkProgress | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  // What was counted; null when the count reached the cap (then it is known only when done).
  const [total, setTotal] = useState<number | null>(0);
  const stop = useRef(false);
  const running = progress !== null && !progress.done;

  async function count() {
    setProblem(null);
    setProgress(null);
    try {
      const c = await api<InvocationCounts>(`/invocation-counts${invocationQuery(search)}`);
      setCounted({ total: c.total, capped: c.capped, asOf: c.as_of });
    } catch (err) {
      setProblem((err as Error).message);
    }
  }

  async function run() {
    if (!counted) return;
    stop.current = false;
    // The set counted: nothing created after the count is touched.
    const frozen: InvocationSearch = {
      ...search,
      created_before: earliest(search.created_before, counted.asOf),
    };
    setTotal(counted.capped ? null : counted.total);
    setCounted(null);
    setProgress({ processed: 0, succeeded: 0, failed: 0, errors: [], done: false });
    try {
      await runBulk({
        listPage: (cursor) =>
          api<InvocationPage>(`/invocations${invocationQuery(frozen, { cursor, limit: 100 })}`),
        act: (id) => api(`/invocations/${id}/${action}`, { method: 'PATCH' }),
        onProgress: setProgress,
        cancelled: () => stop.current,
      });
    } catch (err) {
      setProblem((err as Error).message);
    }
    await client.invalidateQueries();
  }

  return (
    <Section title="Bulk action on every match" id="bulk">
      <div className="toolbar">
        <label>
          Action{' '}
          <select
            aria-label="Bulk action"
            value={action}
            onChange={(e) => {
              setAction(e.target.value as BulkAction);
              setCounted(null);
            }}
            disabled={running}
          >
            {BULK_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void count()} disabled={running}>
          Count matches…
        </button>
        {running ? (
          <button type="button" onClick={() => (stop.current = true)}>
            Stop
          </button>
        ) : null}
      </div>
      {counted ? (
        <div className="confirm" role="group" aria-label="Confirm bulk action">
          <p data-testid="bulk-count">
            {counted.capped ? 'At least ' : ''}
            {countText(counted.total, counted.capped)} invocation{counted.total === 1 ? '' : 's'}{' '}
            match
            {isUnfiltered(search) ? ' (no filter: every invocation)' : ' these filters'}. {action}{' '}
            {counted.total === 1 ? 'it' : 'them'}?
          </p>
          <button
            type="button"
            className="danger"
            disabled={counted.total === 0}
            onClick={() => void run()}
          >
            Yes, {action} {countText(counted.total, counted.capped)}
          </button>
          <button type="button" onClick={() => setCounted(null)}>
            No
          </button>
        </div>
      ) : null}
      {progress ? (
        <div data-testid="bulk-progress">
          {total === null && !progress.done ? (
            <progress />
          ) : (
            <progress
              max={Math.max(1, total ?? 0, progress.processed)}
              value={progress.processed}
            />
          )}{' '}
          {progress.done ? 'Done' : 'Running'}: {progress.processed}
          {total === null ? '' : ` of ${total}`} processed, {progress.succeeded} succeeded,{' '}
          {progress.failed} refused.
          {progress.errors.length > 0 ? (
            <ul className="warnings">
              {progress.errors.map((e) => (
                <li key={e.id}>
                  <code>{e.id}</code>: {e.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {problem ? <Outcome ok={false} message={problem} /> : null}
    </Section>
  );
}

/** The earlier of two ISO times (the user's bound and the count's). */
function earliest(a: string | undefined, b: string): string {
  if (!a) return b;
  return Date.parse(a) < Date.parse(b) ? a : b;
}
