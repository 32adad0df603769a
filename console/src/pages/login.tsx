import { useState } from 'preact/hooks';
import { ApiError, request, type Session } from '../api.js';

/** The login form: a key is checked with GET /v1/session before the console keeps it. */
export const Login = ({
  onLogin,
  notice,
}: {
  onLogin: (key: string, session: Session) => void;
  notice?: string;
}) => {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Enter an API key.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      onLogin(trimmed, await request<Session>('/v1/session', { key: trimmed }));
    } catch (failure) {
      setError(
        failure instanceof ApiError && failure.status === 401
          ? 'That API key is not valid: check it and try again.'
          : `Could not log in: ${(failure as Error).message}`,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <h1>gsm console</h1>
      <p>Log in with a gsm API key. `npm start` prints a local admin key; `gsm keys create` makes others.</p>
      {notice ? <p class="notice">{notice}</p> : null}
      <form onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(event) => setKey(event.currentTarget.value)}
          aria-invalid={error ? 'true' : undefined}
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
        {error ? (
          <p id="login-error" class="error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </main>
  );
};
