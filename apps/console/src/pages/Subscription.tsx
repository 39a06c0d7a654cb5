import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link, useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { LagChart } from '../components/LagChart';
import { Empty, ErrorBox, Fields, Loading, Outcome, Section, StatusBadge } from '../components/ui';
import { api } from '../lib/api';
import { maskedKeys, MASK, relativeTime, totalLag } from '../lib/format';
import type { LagSample } from '../lib/history';
import { replaySentence, ResetPlan } from '../lib/records';
import type { Subscription, SubscriptionDetail } from '../lib/types';

const route = getRouteApi('/subscriptions/$id');

export function SubscriptionPage() {
  const { id } = route.useParams();
  const client = useQueryClient();
  const navigate = useNavigate();
  const sub = useQuery({
    queryKey: ['subscription', id],
    queryFn: () => api<SubscriptionDetail>(`/subscriptions/${id}`),
  });
  const history = useQuery({
    queryKey: ['lag-history', id],
    queryFn: () =>
      api<{ interval_ms: number; samples: LagSample[] }>(`/subscriptions/${id}/lag-history`),
    refetchInterval: 5000,
  });
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);

  const action = useMutation({
    mutationFn: async (what: 'pause' | 'resume' | 'delete' | 'options') => {
      if (what === 'delete') return api(`/subscriptions/${id}`, { method: 'DELETE' });
      if (what === 'options') {
        let options: unknown;
        try {
          options = JSON.parse(editing ?? '{}');
        } catch (err) {
          throw new Error(`The options are not valid JSON: ${(err as Error).message}`);
        }
        return api<Subscription>(`/subscriptions/${id}`, { method: 'PATCH', body: { options } });
      }
      return api<Subscription>(`/subscriptions/${id}/${what}`, { method: 'PATCH' });
    },
    onSuccess: async (_data, what) => {
      if (what === 'delete') {
        await client.invalidateQueries({ queryKey: ['subscriptions'] });
        await navigate({ to: '/' });
        return;
      }
      if (what === 'options') setEditing(null);
      setOutcome({
        ok: true,
        message:
          what === 'options'
            ? 'Options saved; workers apply them within seconds.'
            : `Subscription ${what}d.`,
      });
      await client.invalidateQueries({ queryKey: ['subscription', id] });
      await client.invalidateQueries({ queryKey: ['subscriptions'] });
    },
    onError: (err) => setOutcome({ ok: false, message: err.message }),
  });

  if (sub.isPending) return <Loading what="the subscription" />;
  if (sub.isError) return <ErrorBox error={sub.error} what={`subscription ${id}`} />;
  const s = sub.data;
  const lag = totalLag(s.partitions);
  const secrets = maskedKeys(s.options);

  return (
    <>
      <h1>
        Subscription <code>{s.id}</code> <StatusBadge status={s.status} />
      </h1>
      <div className="toolbar">
        {s.status === 'active' ? (
          <button type="button" onClick={() => action.mutate('pause')} disabled={action.isPending}>
            Pause
          </button>
        ) : (
          <button type="button" onClick={() => action.mutate('resume')} disabled={action.isPending}>
            Resume
          </button>
        )}
        <button
          type="button"
          onClick={() => setEditing(JSON.stringify(s.options, null, 2))}
          disabled={editing !== null}
        >
          Edit options
        </button>
        <Link to="/invocations" search={{ subscription_id: s.id }} className="button">
          Its invocations
        </Link>
        <Link to="/subscriptions/$id/records" params={{ id: s.id }} search={{}} className="button">
          Browse records
        </Link>
        {s.dead_letter_topic ? (
          <Link to="/subscriptions/$id/dead-letters" params={{ id: s.id }} className="button">
            Dead letters
          </Link>
        ) : null}
        {confirmDelete ? (
          <span className="confirm" role="group" aria-label="Confirm delete">
            Delete {s.id}? Consumption stops; invocations already created still run.{' '}
            <button type="button" className="danger" onClick={() => action.mutate('delete')}>
              Yes, delete
            </button>
            <button type="button" onClick={() => setConfirmDelete(false)}>
              Keep it
            </button>
          </span>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>
            Delete…
          </button>
        )}
      </div>
      {outcome ? <Outcome {...outcome} /> : null}

      <Section title="Source and sink" id="what">
        <Fields
          rows={[
            ['source', <code key="s">{s.source}</code>],
            ['sink', <code key="k">{s.sink}</code>],
            [
              'dead-letter topic',
              s.dead_letter_topic ? <code key="d">{s.dead_letter_topic}</code> : null,
            ],
            [
              'created',
              <span key="c" title={s.created_at}>
                {relativeTime(s.created_at)}
              </span>,
            ],
            [
              'updated',
              <span key="u" title={s.updated_at}>
                {relativeTime(s.updated_at)}
              </span>,
            ],
          ]}
        />
        {s.warnings.length > 0 ? (
          <ul className="warnings">
            {s.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        ) : null}
      </Section>

      <Section title="Options" id="options">
        {editing !== null ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              action.mutate('options');
            }}
          >
            <label>
              Options (JSON object of strings). A secret shown as <code>{MASK}</code> keeps its
              stored value when saved unchanged.
              <textarea
                rows={10}
                value={editing}
                onChange={(e) => setEditing(e.target.value)}
                spellCheck={false}
              />
            </label>
            <button type="submit" disabled={action.isPending}>
              Save options
            </button>
            <button type="button" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </form>
        ) : (
          <table>
            <tbody>
              {Object.entries(s.options).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">
                    <code>{k}</code>
                  </th>
                  <td>
                    {v === MASK ? (
                      <span className="masked" title="secret: the admin API never shows it">
                        {MASK} (secret)
                      </span>
                    ) : (
                      <code>{v}</code>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {secrets.length > 0 ? (
          <p className="muted">Masked by the admin API: {secrets.join(', ')}.</p>
        ) : null}
      </Section>

      <Section title={`Partitions — total lag ${lag ?? '—'}`} id="partitions">
        {s.partitions_error ? (
          <div className="error" role="alert">
            Kafka could not tell where the group stands: {s.partitions_error}
          </div>
        ) : s.partitions.length === 0 ? (
          <Empty>No partitions reported yet.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th className="num">Partition</th>
                <th className="num">Committed offset</th>
                <th className="num">End offset</th>
                <th className="num">Lag</th>
                <th>Worker</th>
              </tr>
            </thead>
            <tbody>
              {s.partitions.map((p) => (
                <tr key={p.partition} data-testid={`partition-${p.partition}`}>
                  <td className="num">{p.partition}</td>
                  <td className="num">{p.committed_offset ?? '—'}</td>
                  <td className="num">{p.end_offset}</td>
                  <td className="num">{p.lag ?? '—'}</td>
                  <td>{p.worker ?? <span className="muted">unassigned</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>

      <ReplaySection id={s.id} paused={s.status === 'paused'} />

      <Section title="Lag and rates" id="history">
        {history.isPending ? (
          <Loading what="the lag history" />
        ) : history.isError ? (
          <ErrorBox error={history.error} what="the lag history" />
        ) : history.data.samples.length < 2 ? (
          <Empty>
            Sampling every {Math.round(history.data.interval_ms / 1000)}s while this page is open;
            the chart appears after two samples.
          </Empty>
        ) : (
          <LagChart samples={history.data.samples} />
        )}
      </Section>
    </>
  );
}

type ResetTo = 'earliest' | 'latest' | 'offset' | 'timestamp';

/**
 * Replay (or skip): moves the group's offsets after a dry run that says how many records are read
 * again and how many become new invocations. Kafka moves a group only without members, so it
 * applies only while the subscription is paused.
 */
function ReplaySection({ id, paused }: { id: string; paused: boolean }) {
  const client = useQueryClient();
  const [to, setTo] = useState<ResetTo>('earliest');
  const [partition, setPartition] = useState('');
  const [offset, setOffset] = useState('');
  const [time, setTime] = useState('');
  const [plan, setPlan] = useState<ResetPlan | null>(null);
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);

  const request = (dryRun: boolean) => {
    const body: Record<string, unknown> = { to, dry_run: dryRun };
    if (partition !== '') body.partition = Number(partition);
    if (to === 'offset') body.offset = Number(offset);
    if (to === 'timestamp') body.timestamp = time ? new Date(time).toISOString() : '';
    return api<ResetPlan>(`/subscriptions/${id}/reset-offsets`, { method: 'POST', body });
  };
  const preview = useMutation({
    mutationFn: () => request(true),
    onSuccess: (p) => {
      setPlan(p);
      setOutcome(null);
    },
    onError: (err) => setOutcome({ ok: false, message: err.message }),
  });
  const apply = useMutation({
    mutationFn: () => request(false),
    onSuccess: async (p) => {
      setPlan(null);
      setOutcome({
        ok: true,
        message: `Offsets moved. ${replaySentence(p)} Resume the subscription to read.`,
      });
      await client.invalidateQueries({ queryKey: ['subscription', id] });
    },
    onError: (err) => setOutcome({ ok: false, message: err.message }),
  });
  const changed = () => setPlan(null);

  return (
    <Section title="Replay or skip: reset the group's offsets" id="replay">
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          preview.mutate();
        }}
      >
        <label>
          To
          <select
            aria-label="Reset to"
            value={to}
            onChange={(e) => {
              setTo(e.target.value as ResetTo);
              changed();
            }}
          >
            <option value="earliest">the start (earliest)</option>
            <option value="latest">the end (latest)</option>
            <option value="offset">an offset</option>
            <option value="timestamp">a time</option>
          </select>
        </label>
        <label>
          Partition {to === 'offset' ? '' : '(all when empty)'}
          <input
            value={partition}
            onChange={(e) => (setPartition(e.target.value), changed())}
            size={4}
          />
        </label>
        {to === 'offset' ? (
          <label>
            Offset
            <input value={offset} onChange={(e) => (setOffset(e.target.value), changed())} />
          </label>
        ) : null}
        {to === 'timestamp' ? (
          <label>
            Time
            <input
              type="datetime-local"
              step="1"
              value={time}
              onChange={(e) => (setTime(e.target.value), changed())}
            />
          </label>
        ) : null}
        <div className="form-actions">
          <button type="submit" disabled={preview.isPending}>
            Preview…
          </button>
        </div>
      </form>
      {plan ? (
        <div className="confirm" role="group" aria-label="Confirm reset">
          <p data-testid="replay-plan">{replaySentence(plan)}</p>
          <table>
            <thead>
              <tr>
                <th className="num">Partition</th>
                <th className="num">Now at</th>
                <th className="num">Moves to</th>
                <th className="num">Read again</th>
                <th className="num">Still stored</th>
                <th className="num">Skipped</th>
              </tr>
            </thead>
            <tbody>
              {plan.partitions.map((p) => (
                <tr key={p.partition}>
                  <td className="num">{p.partition}</td>
                  <td className="num">{p.committed_offset ?? '—'}</td>
                  <td className="num">{p.target_offset}</td>
                  <td className="num">{p.records_read_again}</td>
                  <td className="num">{p.invocations_existing}</td>
                  <td className="num">{p.records_skipped}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {paused ? (
            <button
              type="button"
              className="danger"
              onClick={() => apply.mutate()}
              disabled={apply.isPending}
            >
              Yes, move the offsets
            </button>
          ) : (
            <p className="muted">
              Pause the subscription first: Kafka moves a group only while no worker is in it.
            </p>
          )}
          <button type="button" onClick={() => setPlan(null)}>
            Cancel
          </button>
        </div>
      ) : null}
      {outcome ? <Outcome {...outcome} /> : null}
    </Section>
  );
}
