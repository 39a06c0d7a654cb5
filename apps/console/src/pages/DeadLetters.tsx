import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useRef, useState } from 'react';
import { Empty, ErrorBox, Loading, Outcome, Section } from '../components/ui';
import { api, query } from '../lib/api';
import { BulkProgress, runBulk } from '../lib/bulk';
import { asInvocationPage, DeadLetterPage } from '../lib/dead-letters';
import { relativeTime } from '../lib/format';

const route = getRouteApi('/subscriptions/$id/dead-letters');

/**
 * What went to a subscription's dead-letter topic and why; re-drive one or all back to the
 * handler as new invocations (restart-as-new: the same input and headers, a new id).
 */
export function DeadLettersPage() {
  const { id } = route.useParams();
  const client = useQueryClient();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const list = useQuery({
    queryKey: ['dead-letters', id, cursor],
    queryFn: () => api<DeadLetterPage>(`/subscriptions/${id}/dead-letters${query({ cursor })}`),
  });
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const [confirmAll, setConfirmAll] = useState<number | null>(null);
  const [progress, setProgress] = useState<BulkProgress | null>(null);
  const stop = useRef(false);

  const redriveOne = useMutation({
    mutationFn: (inv: string) =>
      api<{ new_invocation_id: string }>(`/invocations/${inv}/restart-as-new`, { method: 'PATCH' }),
    onSuccess: (r, inv) =>
      setOutcome({ ok: true, message: `Re-driven ${inv} as ${r.new_invocation_id}.` }),
    onError: (err, inv) => setOutcome({ ok: false, message: `${inv}: ${err.message}` }),
  });

  async function redriveAll(total: number) {
    setConfirmAll(null);
    stop.current = false;
    setProgress({ processed: 0, succeeded: 0, failed: 0, errors: [], done: false });
    try {
      await runBulk({
        listPage: async (c) =>
          asInvocationPage(
            await api<DeadLetterPage>(`/subscriptions/${id}/dead-letters${query({ cursor: c })}`),
          ),
        act: (inv) => api(`/invocations/${inv}/restart-as-new`, { method: 'PATCH' }),
        onProgress: setProgress,
        cancelled: () => stop.current,
      });
    } catch (err) {
      setOutcome({ ok: false, message: (err as Error).message });
    }
    setOutcome((o) => o ?? { ok: true, message: `Re-drove the ${total} dead letters.` });
    await client.invalidateQueries();
  }

  return (
    <>
      <h1>
        Dead letters of{' '}
        <Link to="/subscriptions/$id" params={{ id }}>
          {id}
        </Link>
      </h1>
      {outcome ? <Outcome {...outcome} /> : null}
      <Section
        title={list.data ? `${list.data.total} dead letters` : 'Dead letters'}
        id="dead-letters"
        actions={
          <>
            <button
              type="button"
              disabled={
                !list.data || list.data.total === 0 || (progress !== null && !progress.done)
              }
              onClick={() => {
                setOutcome(null);
                setConfirmAll(list.data?.total ?? 0);
              }}
            >
              Re-drive all…
            </button>
            <button
              type="button"
              disabled={cursors.length === 1}
              onClick={() => setCursors((c) => c.slice(0, -1))}
            >
              ← Newer
            </button>
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
        {confirmAll !== null ? (
          <div className="confirm" role="group" aria-label="Confirm re-drive">
            <p data-testid="redrive-count">
              Re-drive {confirmAll} dead letter{confirmAll === 1 ? '' : 's'}: each becomes a new
              invocation of the handler with the same input.
            </p>
            <button type="button" className="danger" onClick={() => void redriveAll(confirmAll)}>
              Yes, re-drive {confirmAll}
            </button>
            <button type="button" onClick={() => setConfirmAll(null)}>
              No
            </button>
          </div>
        ) : null}
        {progress ? (
          <p data-testid="redrive-progress">
            <progress max={Math.max(1, progress.processed)} value={progress.processed} />{' '}
            {progress.done ? 'Done' : 'Running'}: {progress.succeeded} re-driven, {progress.failed}{' '}
            refused.
            {!progress.done ? (
              <button type="button" onClick={() => (stop.current = true)}>
                Stop
              </button>
            ) : null}
          </p>
        ) : null}
        {list.isPending ? (
          <Loading what="dead letters" />
        ) : list.isError ? (
          <ErrorBox error={list.error} what="dead letters" />
        ) : list.data.dead_letters.length === 0 ? (
          <Empty>
            Nothing was dead-lettered. A subscription dead-letters the records whose invocation
            fails when it has <code>tributary.dead-letter-topic</code> in its options.
          </Empty>
        ) : (
          <table data-testid="dead-letters-table">
            <thead>
              <tr>
                <th>Invocation</th>
                <th>Why</th>
                <th className="num">Attempts</th>
                <th>Record</th>
                <th>Written to</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.dead_letters.map((d) => (
                <tr key={d.invocation_id}>
                  <td>
                    <Link to="/invocations/$id" params={{ id: d.invocation_id }}>
                      <code>{d.invocation_id}</code>
                    </Link>
                  </td>
                  <td>
                    {d.error_code !== null ? <code>{d.error_code}</code> : null} {d.failure}
                  </td>
                  <td className="num">{d.retry_count + 1}</td>
                  <td>
                    {d.kafka ? `${d.kafka.topic}/${d.kafka.partition}@${d.kafka.offset}` : ''}
                  </td>
                  <td>
                    <code>{d.dead_letter_topic}</code>{' '}
                    {d.dead_lettered_at ? (
                      <span title={d.dead_lettered_at}>{relativeTime(d.dead_lettered_at)}</span>
                    ) : (
                      <span className="muted">pending</span>
                    )}
                  </td>
                  <td>
                    <button type="button" onClick={() => redriveOne.mutate(d.invocation_id)}>
                      Re-drive
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}
