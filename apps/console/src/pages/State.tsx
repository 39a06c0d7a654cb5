import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useState } from 'react';
import { Empty, ErrorBox, Loading, Outcome, Section } from '../components/ui';
import { api, query } from '../lib/api';
import { decodeBytes, fromBase64 } from '../lib/decode';
import { newStateFromText, ObjectState, stateAsText } from '../lib/state';
import type { Service } from '../lib/types';

const route = getRouteApi('/state');

export interface StateSearch {
  service?: string;
  key?: string;
}

export function parseStateSearch(raw: Record<string, unknown>): StateSearch {
  const out: StateSearch = {};
  if (typeof raw.service === 'string' && raw.service !== '') out.service = raw.service;
  if (typeof raw.key === 'string') out.key = raw.key;
  else if (typeof raw.key === 'number') out.key = String(raw.key);
  return out;
}

export function StatePage() {
  const search = route.useSearch();
  const services = useQuery({
    queryKey: ['services'],
    queryFn: () => api<{ services: Service[] }>('/services'),
  });
  const keyed = (services.data?.services ?? []).filter(
    (s) => s.ty === 'VirtualObject' || s.ty === 'Workflow',
  );
  return (
    <>
      <h1>State</h1>
      <div className="two">
        <Section title="Virtual objects and workflows" id="keyed">
          {services.isPending ? (
            <Loading what="services" />
          ) : services.isError ? (
            <ErrorBox error={services.error} what="services" />
          ) : keyed.length === 0 ? (
            <Empty>No virtual object or workflow is registered: only they have state.</Empty>
          ) : (
            <ul className="plain">
              {keyed.map((s) => (
                <li key={s.name}>
                  <Link to="/state" search={{ service: s.name }}>
                    {s.name}
                  </Link>{' '}
                  <span className="muted">{s.ty}</span>
                </li>
              ))}
            </ul>
          )}
          {search.service ? <Keys service={search.service} /> : null}
        </Section>
        {search.service && search.key !== undefined ? (
          <KeyState service={search.service} objectKey={search.key} />
        ) : (
          <Section title="Entries" id="entries">
            <Empty>Pick a service, then a key.</Empty>
          </Section>
        )}
      </div>
    </>
  );
}

function Keys({ service }: { service: string }) {
  const keys = useQuery({
    queryKey: ['state-keys', service],
    queryFn: () =>
      api<{ keys: { key: string; entries: number }[]; next_after: string | null }>(
        `/services/${encodeURIComponent(service)}/state`,
      ),
  });
  if (keys.isPending) return <Loading what="keys" />;
  if (keys.isError) return <ErrorBox error={keys.error} what={`keys of ${service}`} />;
  if (keys.data.keys.length === 0) return <Empty>No key of {service} has state yet.</Empty>;
  return (
    <>
      <h3>Keys of {service}</h3>
      <table data-testid="state-keys">
        <tbody>
          {keys.data.keys.map((k) => (
            <tr key={k.key}>
              <td>
                <Link to="/state" search={{ service, key: k.key }}>
                  <code>{k.key}</code>
                </Link>
              </td>
              <td className="num">{k.entries} entries</td>
            </tr>
          ))}
        </tbody>
      </table>
      {keys.data.next_after ? (
        <p className="muted">Showing the first {keys.data.keys.length} keys.</p>
      ) : null}
    </>
  );
}

function KeyState({ service, objectKey }: { service: string; objectKey: string }) {
  const client = useQueryClient();
  const path = `/services/${encodeURIComponent(service)}/state`;
  const state = useQuery({
    queryKey: ['state', service, objectKey],
    queryFn: () => api<ObjectState>(`${path}/${encodeURIComponent(objectKey)}${query({})}`),
  });
  const [draft, setDraft] = useState<{ text: string; version: string } | null>(null);
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const save = useMutation({
    mutationFn: async () => {
      if (!draft) return;
      await api(path, {
        method: 'POST',
        body: {
          object_key: objectKey,
          version: draft.version,
          new_state: newStateFromText(draft.text),
        },
      });
    },
    onSuccess: async () => {
      setDraft(null);
      setOutcome({ ok: true, message: 'State saved.' });
      await client.invalidateQueries({ queryKey: ['state', service, objectKey] });
      await client.invalidateQueries({ queryKey: ['state-keys', service] });
    },
    onError: (err) => setOutcome({ ok: false, message: err.message }),
  });

  return (
    <Section
      title={`${service} / ${objectKey}`}
      id="entries"
      actions={
        state.data && !draft ? (
          <button
            type="button"
            disabled={stateAsText(state.data) === null}
            title={
              stateAsText(state.data) === null
                ? 'A value is binary: edit it through the API'
                : undefined
            }
            onClick={() => {
              setOutcome(null);
              setDraft({ text: stateAsText(state.data) ?? '{}', version: state.data.version });
            }}
          >
            Edit
          </button>
        ) : null
      }
    >
      {outcome ? <Outcome {...outcome} /> : null}
      {state.isPending ? (
        <Loading what="state" />
      ) : state.isError ? (
        <ErrorBox error={state.error} what="state" />
      ) : draft ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate();
          }}
        >
          <label>
            Entries (JSON object of names to text). Saved only if nobody changed the state since you
            opened it (version <code>{draft.version}</code>).
            <textarea
              rows={10}
              aria-label="State entries"
              value={draft.text}
              onChange={(e) => setDraft({ ...draft, text: e.target.value })}
              spellCheck={false}
            />
          </label>
          <button type="submit" disabled={save.isPending}>
            Save state
          </button>
          <button type="button" onClick={() => setDraft(null)}>
            Cancel
          </button>
        </form>
      ) : state.data.entries.length === 0 ? (
        <Empty>This key has no state.</Empty>
      ) : (
        <table data-testid="state-entries">
          <tbody>
            {state.data.entries.map((e) => (
              <tr key={e.name}>
                <th scope="row">
                  <code>{e.name}</code>
                </th>
                <td>
                  <pre>{decodeBytes(fromBase64(e.value)).text}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
