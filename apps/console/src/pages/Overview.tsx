import { useQueries, useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { Empty, ErrorBox, Loading, Section, StatusBadge } from '../components/ui';
import { api } from '../lib/api';
import { countText, InvocationCounts } from '../lib/counts';
import { relativeTime, totalLag } from '../lib/format';
import { latestRates, LagSample } from '../lib/history';
import {
  DeploymentHealth,
  DeploymentSummary,
  INVOCATION_STATUSES,
  Subscription,
  SubscriptionDetail,
} from '../lib/types';

export function OverviewPage() {
  const subs = useQuery({
    queryKey: ['subscriptions'],
    queryFn: () => api<{ subscriptions: Subscription[] }>('/subscriptions'),
  });
  const counts = useQuery({
    queryKey: ['invocation-counts', ''],
    queryFn: () => api<InvocationCounts>('/invocation-counts'),
  });
  const deployments = useQuery({
    queryKey: ['deployments'],
    queryFn: () => api<{ deployments: DeploymentSummary[] }>('/deployments'),
  });
  const health = useQuery({
    queryKey: ['deployment-health'],
    queryFn: () => api<{ deployments: DeploymentHealth[] }>('/deployment-health'),
    refetchInterval: 5000,
  });
  const healthOf = new Map(health.data?.deployments.map((h) => [h.id, h]) ?? []);
  const details = useQueries({
    queries: (subs.data?.subscriptions ?? []).map((s) => ({
      queryKey: ['subscription', s.id],
      queryFn: () => api<SubscriptionDetail>(`/subscriptions/${s.id}`),
      refetchInterval: 5000,
    })),
  });
  // Watching the lag history of each subscription makes the admin API sample it (every 5 s).
  const histories = useQueries({
    queries: (subs.data?.subscriptions ?? []).map((s) => ({
      queryKey: ['lag-history', s.id],
      queryFn: () => api<{ samples: LagSample[] }>(`/subscriptions/${s.id}/lag-history`),
      refetchInterval: 5000,
    })),
  });
  const perSub = new Map(counts.data?.by_subscription.map((c) => [c.subscription_id, c]) ?? []);

  return (
    <>
      <h1>Overview</h1>
      <Section title="Subscriptions" id="subscriptions">
        {subs.isPending ? (
          <Loading what="subscriptions" />
        ) : subs.isError ? (
          <ErrorBox error={subs.error} what="subscriptions" />
        ) : subs.data.subscriptions.length === 0 ? (
          <Empty>
            No subscriptions yet. Register a deployment, then create one with{' '}
            <code>POST /subscriptions</code> (docs/admin-api.md) or{' '}
            <code>restate subscriptions create</code>.
          </Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Subscription</th>
                <th>Source → sink</th>
                <th>Status</th>
                <th className="num">Lag</th>
                <th className="num">In /s</th>
                <th className="num">Done /min</th>
                <th className="num">Failed /min</th>
                <th className="num">Paused</th>
                <th className="num">Dead-lettered /min</th>
              </tr>
            </thead>
            <tbody>
              {subs.data.subscriptions.map((s, i) => {
                const detail = details[i]?.data;
                const c = perSub.get(s.id);
                const lag = detail ? totalLag(detail.partitions) : null;
                return (
                  <tr key={s.id} data-testid={`subscription-row-${s.id}`}>
                    <td>
                      <Link to="/subscriptions/$id" params={{ id: s.id }}>
                        {s.id}
                      </Link>
                    </td>
                    <td>
                      <code>{s.source}</code> → <code>{s.sink}</code>
                    </td>
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                    <td className="num" data-testid="lag">
                      {detail?.partitions_error ? (
                        <span title={detail.partitions_error}>?</span>
                      ) : (
                        (lag ?? '—')
                      )}
                    </td>
                    <td className="num" data-testid="in-rate">
                      {formatRate(latestRates(histories[i]?.data?.samples ?? []).inRate)}
                    </td>
                    <td className="num">{c?.last_minute.completed ?? 0}</td>
                    <td className="num">{c?.last_minute.failed ?? 0}</td>
                    <td className="num">{c?.open.paused ?? 0}</td>
                    <td className="num">{c?.last_minute.dead_lettered ?? 0}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Section>

      <Section title="Invocations by status" id="by-status">
        {counts.isPending ? (
          <Loading what="invocation counts" />
        ) : counts.isError ? (
          <ErrorBox error={counts.error} what="invocation counts" />
        ) : (
          <ul className="tiles">
            {INVOCATION_STATUSES.map((status) => (
              <li key={status}>
                <Link to="/invocations" search={{ status }} data-testid={`count-${status}`}>
                  <span className="tile-n">
                    {status === 'completed'
                      ? countText(counts.data.by_status.completed, counts.data.capped)
                      : counts.data.by_status[status]}
                  </span>
                  <StatusBadge status={status} />
                </Link>
              </li>
            ))}
            <li>
              <Link to="/invocations" search={{}}>
                <span className="tile-n" data-testid="count-total">
                  {countText(counts.data.total, counts.data.capped)}
                </span>
                <span className="badge">all</span>
              </Link>
            </li>
          </ul>
        )}
      </Section>

      <Section title="Deployments" id="deployments">
        {deployments.isPending ? (
          <Loading what="deployments" />
        ) : deployments.isError ? (
          <ErrorBox error={deployments.error} what="deployments" />
        ) : deployments.data.deployments.length === 0 ? (
          <Empty>
            No deployments. Register your handler endpoint on the{' '}
            <Link to="/deployments">deployments page</Link>.
          </Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Deployment</th>
                <th>Endpoint</th>
                <th>Services</th>
                <th>Health</th>
                <th className="num">Failing</th>
                <th>Last failure</th>
                <th>Discovered</th>
              </tr>
            </thead>
            <tbody>
              {deployments.data.deployments.map((d) => {
                const h = healthOf.get(d.id);
                return (
                  <tr key={d.id} data-testid={`deployment-row-${d.id}`}>
                    <td>
                      <code>{d.id}</code>
                    </td>
                    <td>{d.uri}</td>
                    <td>{d.services.map((s) => s.name).join(', ')}</td>
                    <td data-testid="health">
                      {!h ? (
                        '—'
                      ) : h.reachable ? (
                        <span className="badge badge-completed" title={`probed ${h.probed_at}`}>
                          reachable
                        </span>
                      ) : (
                        <span className="badge badge-backing-off" title={h.probe_error ?? ''}>
                          unreachable
                        </span>
                      )}
                    </td>
                    <td className="num" data-testid="failing">
                      {h?.failing ?? ''}
                    </td>
                    <td className="clip" title={h?.last_failure ?? ''}>
                      {h?.last_failure
                        ? `${relativeTime(h.last_failure_at)}: ${h.last_failure}`
                        : ''}
                    </td>
                    <td title={d.created_at}>{relativeTime(d.created_at)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

function formatRate(rate: number | null): string {
  if (rate === null) return '—';
  return rate >= 10 ? rate.toFixed(0) : rate.toFixed(1);
}
