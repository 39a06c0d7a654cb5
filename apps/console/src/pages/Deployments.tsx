import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { FormEvent, useState } from 'react';
import { Empty, ErrorBox, Loading, Outcome, Section } from '../components/ui';
import { api } from '../lib/api';
import { MASK, relativeTime } from '../lib/format';
import type { DeploymentSummary, KafkaCluster, Service } from '../lib/types';

const DEFAULT_CLUSTER_PROPERTIES = '{\n  "bootstrap.servers": "127.0.0.1:9092"\n}';

export function DeploymentsPage() {
  const client = useQueryClient();
  const deployments = useQuery({
    queryKey: ['deployments'],
    queryFn: () => api<{ deployments: DeploymentSummary[] }>('/deployments'),
  });
  const services = useQuery({
    queryKey: ['services'],
    queryFn: () => api<{ services: Service[] }>('/services'),
  });
  const clusters = useQuery({
    queryKey: ['kafka-clusters'],
    queryFn: () => api<{ clusters: KafkaCluster[] }>('/kafka-clusters'),
  });
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const [uri, setUri] = useState('');
  const [clusterName, setClusterName] = useState('');
  const [clusterProps, setClusterProps] = useState(DEFAULT_CLUSTER_PROPERTIES);

  const change = useMutation({
    mutationFn: async (op: { kind: string; run: () => Promise<unknown> }) => op.run(),
    onSuccess: async (_d, op) => {
      setOutcome({ ok: true, message: `${op.kind}: done.` });
      await client.invalidateQueries();
    },
    onError: (err, op) => setOutcome({ ok: false, message: `${op.kind}: ${err.message}` }),
  });

  function register(e: FormEvent) {
    e.preventDefault();
    change.mutate({
      kind: `Register ${uri}`,
      run: () => api('/deployments', { method: 'POST', body: { uri: uri.trim() } }),
    });
  }

  function addCluster(e: FormEvent) {
    e.preventDefault();
    change.mutate(
      {
        kind: `Add cluster ${clusterName}`,
        run: async () => {
          let properties: unknown;
          try {
            properties = JSON.parse(clusterProps);
          } catch (err) {
            throw new Error(`properties are not valid JSON: ${(err as Error).message}`);
          }
          return api('/kafka-clusters', {
            method: 'POST',
            body: { name: clusterName.trim(), properties },
          });
        },
      },
      {
        // The properties may hold secrets: once stored, they leave the page (the list shows them
        // masked, as the API returns them).
        onSuccess: () => {
          setClusterName('');
          setClusterProps(DEFAULT_CLUSTER_PROPERTIES);
        },
      },
    );
  }

  const handlersOf = new Map(services.data?.services.map((s) => [s.name, s]) ?? []);
  return (
    <>
      <h1>Deployments, services and Kafka clusters</h1>
      {outcome ? <Outcome {...outcome} /> : null}
      <Section title="Deployments" id="deployments">
        <form className="inline" onSubmit={register}>
          <label>
            Endpoint URI{' '}
            <input
              value={uri}
              onChange={(e) => setUri(e.target.value)}
              placeholder="http://localhost:9080"
              name="uri"
            />
          </label>
          <button type="submit" disabled={uri.trim() === '' || change.isPending}>
            Register
          </button>
        </form>
        {deployments.isPending ? (
          <Loading what="deployments" />
        ) : deployments.isError ? (
          <ErrorBox error={deployments.error} what="deployments" />
        ) : deployments.data.deployments.length === 0 ? (
          <Empty>No deployments yet: register your handler endpoint above.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Deployment</th>
                <th>Endpoint</th>
                <th>Services and handlers</th>
                <th>Registered</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {deployments.data.deployments.map((d) => (
                <tr key={d.id} data-testid={`deployment-${d.uri}`}>
                  <td>
                    <code>{d.id}</code>
                  </td>
                  <td>{d.uri}</td>
                  <td>
                    {d.services.map((s) => (
                      <div key={s.name}>
                        <strong>{s.name}</strong> ({handlersOf.get(s.name)?.ty ?? '?'}, rev{' '}
                        {s.revision}):{' '}
                        {handlersOf
                          .get(s.name)
                          ?.handlers.map((h) => h.name)
                          .join(', ')}
                      </div>
                    ))}
                  </td>
                  <td title={d.created_at}>{relativeTime(d.created_at)}</td>
                  <td>
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Remove deployment ${d.uri}`}
                      onClick={() =>
                        change.mutate({
                          kind: `Remove ${d.id}`,
                          run: () => api(`/deployments/${d.id}`, { method: 'DELETE' }),
                        })
                      }
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>

      <Section title="Kafka clusters" id="clusters">
        {clusters.isPending ? (
          <Loading what="Kafka clusters" />
        ) : clusters.isError ? (
          <ErrorBox error={clusters.error} what="Kafka clusters" />
        ) : clusters.data.clusters.length === 0 ? (
          <Empty>No Kafka clusters: add one below or in the config file.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Properties</th>
                <th>From</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {clusters.data.clusters.map((c) => (
                <tr key={c.name} data-testid={`cluster-${c.name}`}>
                  <td>{c.name}</td>
                  <td>
                    {Object.entries(c.properties).map(([k, v]) => (
                      <div key={k}>
                        <code>{k}</code> ={' '}
                        {v === MASK ? (
                          <span className="masked">{MASK} (secret)</span>
                        ) : (
                          <code>{v}</code>
                        )}
                      </div>
                    ))}
                  </td>
                  <td>{c.source === 'config' ? 'config file (read-only)' : 'admin API'}</td>
                  <td>
                    {c.source === 'api' ? (
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Remove cluster ${c.name}`}
                        onClick={() =>
                          change.mutate({
                            kind: `Remove cluster ${c.name}`,
                            run: () =>
                              api(`/kafka-clusters/${encodeURIComponent(c.name)}`, {
                                method: 'DELETE',
                              }),
                          })
                        }
                      >
                        Remove
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <form onSubmit={addCluster}>
          <h3>Add a cluster</h3>
          <label>
            Name{' '}
            <input
              value={clusterName}
              onChange={(e) => setClusterName(e.target.value)}
              name="cluster-name"
            />
          </label>
          <label>
            Properties (librdkafka, JSON)
            <textarea
              rows={4}
              value={clusterProps}
              onChange={(e) => setClusterProps(e.target.value)}
              spellCheck={false}
            />
          </label>
          <button type="submit" disabled={clusterName.trim() === '' || change.isPending}>
            Add cluster
          </button>
        </form>
      </Section>
    </>
  );
}
