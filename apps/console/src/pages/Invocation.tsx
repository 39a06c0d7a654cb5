import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { Empty, ErrorBox, Fields, Loading, Outcome, Section, StatusBadge } from '../components/ui';
import { api, ApiError, apiRaw } from '../lib/api';
import { BULK_ACTIONS, BulkAction } from '../lib/bulk';
import { decodeBytes, Rendering, splitHeaders, toHex } from '../lib/decode';
import { relativeTime, timeline } from '../lib/format';
import type { InvocationDetail } from '../lib/types';

const route = getRouteApi('/invocations/$id');

export function InvocationPage() {
  const { id } = route.useParams();
  const client = useQueryClient();
  const navigate = useNavigate();
  const inv = useQuery({
    queryKey: ['invocation', id],
    queryFn: () => api<InvocationDetail>(`/invocations/${id}`),
  });
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const act = useMutation({
    mutationFn: (action: BulkAction) =>
      api<{ new_invocation_id?: string } | undefined>(`/invocations/${id}/${action}`, {
        method: 'PATCH',
      }),
    onSuccess: async (data, action) => {
      await client.invalidateQueries({ queryKey: ['invocation', id] });
      if (action === 'restart-as-new' && data?.new_invocation_id) {
        await navigate({ to: '/invocations/$id', params: { id: data.new_invocation_id } });
        setOutcome({ ok: true, message: `Restarted as ${data.new_invocation_id}.` });
        return;
      }
      setOutcome({ ok: true, message: `${action}: done.` });
    },
    onError: (err, action) => setOutcome({ ok: false, message: `${action}: ${err.message}` }),
  });

  if (inv.isPending) return <Loading what="the invocation" />;
  if (inv.isError) return <ErrorBox error={inv.error} what={`invocation ${id}`} />;
  const i = inv.data;
  const headers = splitHeaders(i.headers);

  return (
    <>
      <h1>
        Invocation <code>{i.id}</code> <StatusBadge status={i.status} />
      </h1>
      <div className="toolbar" role="group" aria-label="Actions">
        {BULK_ACTIONS.map((a) => (
          <button
            key={a}
            type="button"
            className={a === 'kill' || a === 'purge' ? 'danger' : undefined}
            disabled={act.isPending}
            onClick={() => act.mutate(a)}
          >
            {a}
          </button>
        ))}
      </div>
      {outcome ? <Outcome {...outcome} /> : null}

      <Section title="Summary" id="summary">
        <Fields
          rows={[
            ['target', <code key="t">{i.target}</code>],
            ['service type', i.target_service_ty],
            [
              'subscription',
              i.invoked_by_subscription_id ? (
                <Link key="s" to="/subscriptions/$id" params={{ id: i.invoked_by_subscription_id }}>
                  {i.invoked_by_subscription_id}
                </Link>
              ) : (
                i.invoked_by
              ),
            ],
            [
              'record',
              i.kafka ? (
                <span key="r">
                  <code>
                    {i.kafka.topic} partition {i.kafka.partition} offset {i.kafka.offset}
                    {i.kafka.timestamp
                      ? ` at ${new Date(Number(i.kafka.timestamp)).toISOString()}`
                      : ''}
                  </code>{' '}
                  {i.invoked_by_subscription_id ? (
                    <Link
                      to="/subscriptions/$id/records"
                      params={{ id: i.invoked_by_subscription_id }}
                      search={{ partition: i.kafka.partition, offset: Number(i.kafka.offset) }}
                    >
                      its record
                    </Link>
                  ) : null}
                </span>
              ) : null,
            ],
            [
              'restarted from',
              i.restarted_from ? (
                <Link key="rf" to="/invocations/$id" params={{ id: i.restarted_from }}>
                  {i.restarted_from}
                </Link>
              ) : null,
            ],
            [
              'called by',
              i.invoked_by_id ? (
                <Link key="cb" to="/invocations/$id" params={{ id: i.invoked_by_id }}>
                  {i.invoked_by_id}
                </Link>
              ) : null,
            ],
            [
              'workflow run of',
              i.workflow_run_of ? (
                <Link key="wr" to="/invocations/$id" params={{ id: i.workflow_run_of }}>
                  {i.workflow_run_of}
                </Link>
              ) : null,
            ],
            ['retries', i.retry_count],
            ['dead-letter topic', i.dead_letter_topic],
          ]}
        />
      </Section>

      <Section title="Timeline" id="timeline">
        <ol className="timeline" data-testid="timeline">
          {timeline(i).map((e, n) => (
            <li key={n} className={`tone-${e.tone}`}>
              <time dateTime={e.at} title={e.at}>
                {new Date(e.at).toLocaleString()} ({relativeTime(e.at)})
              </time>{' '}
              <strong>{e.label}</strong>
              {e.detail ? <span className="detail"> — {e.detail}</span> : null}
            </li>
          ))}
        </ol>
      </Section>

      <div className="two">
        <Section title="Input" id="input">
          <Payload path={`/invocations/${i.id}/input`} what="input" />
        </Section>
        <Section title="Output" id="output">
          {i.status !== 'completed' ? (
            <Empty>Not completed yet.</Empty>
          ) : i.completion_result === 'failure' ? (
            <div className="error">{i.completion_failure}</div>
          ) : (
            <Payload path={`/invocations/${i.id}/output`} what="output" />
          )}
        </Section>
      </div>

      <Section title="Headers" id="headers">
        <h3>Kafka record metadata</h3>
        <HeaderTable rows={headers.kafka} />
        <h3>Record headers</h3>
        {headers.record.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <HeaderTable rows={headers.record} />
        )}
        {i.raw_headers && Object.keys(i.raw_headers).length > 0 ? (
          <>
            <h3>Binary headers (base64)</h3>
            <HeaderTable rows={Object.entries(i.raw_headers)} />
          </>
        ) : null}
      </Section>

      {Array.isArray(i.journal) ? (
        <Section title={`Journal (${i.journal.length} entries)`} id="journal">
          {i.journal.length === 0 ? (
            <Empty>No journal entries.</Empty>
          ) : (
            <ol className="journal" data-testid="journal">
              {i.journal.map((entry, n) => (
                <li key={n}>
                  <pre>{JSON.stringify(entry, null, 2)}</pre>
                </li>
              ))}
            </ol>
          )}
        </Section>
      ) : null}
    </>
  );
}

function HeaderTable({ rows }: { rows: [string, string][] }) {
  return (
    <table>
      <tbody>
        {rows.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
            </th>
            <td>
              <code>{v}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Bytes the admin API returns as they are, shown as JSON, text or hex (the reader picks). */
function Payload({ path, what }: { path: string; what: string }) {
  const body = useQuery({
    queryKey: ['raw', path],
    queryFn: () => apiRaw(path),
    refetchInterval: false,
  });
  const [as, setAs] = useState<Rendering | null>(null);
  if (body.isPending) return <Loading what={`the ${what}`} />;
  if (body.isError) {
    if (body.error instanceof ApiError && body.error.status === 404) {
      return <Empty>No {what} stored.</Empty>;
    }
    return <ErrorBox error={body.error} what={`the ${what}`} />;
  }
  const { bytes, contentType } = body.data;
  if (bytes.length === 0) return <Empty>Empty {what}.</Empty>;
  const best = decodeBytes(bytes, contentType);
  const shown = as ?? best.kind;
  const text =
    shown === 'hex'
      ? toHex(bytes)
      : shown === best.kind
        ? best.text
        : new TextDecoder().decode(bytes);
  return (
    <>
      <div className="toolbar small">
        <span className="muted">
          {contentType || 'no content type'}, {bytes.length} bytes
        </span>
        {(['json', 'text', 'hex'] as const).map((r) => (
          <button
            key={r}
            type="button"
            aria-pressed={shown === r}
            disabled={r === 'json' && best.kind !== 'json'}
            onClick={() => setAs(r)}
          >
            {r}
          </button>
        ))}
      </div>
      <pre data-testid={`payload-${what}`}>{text}</pre>
    </>
  );
}
