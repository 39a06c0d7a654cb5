import { useQueryClient } from '@tanstack/react-query';
import { FormEvent, ReactNode, useEffect, useState, useSyncExternalStore } from 'react';
import { api, ApiError, currentToken, setToken } from './lib/api';

type Gate = { state: 'checking' } | { state: 'open' } | { state: 'token'; problem: string | null };

let listeners: (() => void)[] = [];
let unauthorizedAt = 0;

/** Called when any API call answers 401: the gate asks for a token again. */
export function notifyUnauthorized(): void {
  unauthorizedAt = Date.now();
  listeners.forEach((l) => l());
}

function subscribe(listener: () => void): () => void {
  listeners.push(listener);
  return () => {
    listeners = listeners.filter((l) => l !== listener);
  };
}

/**
 * Asks the admin API who it is (`GET /version`) before showing anything. A 401 means admin tokens
 * are configured: the gate asks for one, checks it with the same call, and keeps it for this tab
 * only (sessionStorage).
 */
export function AuthGate({ children }: { children: ReactNode }) {
  const [gate, setGate] = useState<Gate>({ state: 'checking' });
  const [draft, setDraft] = useState('');
  const client = useQueryClient();
  const lastUnauthorized = useSyncExternalStore(subscribe, () => unauthorizedAt);

  async function check(problemIfRefused: string | null): Promise<void> {
    try {
      await api('/version');
      setGate({ state: 'open' });
      await client.invalidateQueries();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        setGate({
          state: 'token',
          problem: problemIfRefused ?? (currentToken() ? err.message : null),
        });
      } else {
        setGate({ state: 'open' });
      }
    }
  }

  useEffect(() => {
    void check(null);
  }, [lastUnauthorized]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setToken(draft.trim());
    setDraft('');
    await check(null);
  }

  if (gate.state === 'checking') return <p className="muted gate">Connecting to the admin API…</p>;
  if (gate.state === 'token') {
    return (
      <main className="gate">
        <form className="card token-form" onSubmit={(e) => void submit(e)}>
          <h1>Tributary console</h1>
          <p>
            This admin API requires a token (<code>admin.tokens</code> in its config file). It is
            sent as a bearer token with every call and kept in this tab only.
          </p>
          {gate.problem ? (
            <p className="outcome error" role="alert">
              {gate.problem}
            </p>
          ) : null}
          <label>
            Admin token
            <input
              type="password"
              name="token"
              autoComplete="off"
              autoFocus
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
            />
          </label>
          <button type="submit" disabled={draft.trim() === ''}>
            Sign in
          </button>
        </form>
      </main>
    );
  }
  return <>{children}</>;
}

export function SignOut() {
  if (currentToken() === null) return null;
  return (
    <button
      type="button"
      className="link"
      onClick={() => {
        setToken(null);
        notifyUnauthorized();
      }}
    >
      Forget token
    </button>
  );
}
