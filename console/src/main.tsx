import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { forgetKey, request, type Session, storedKey, storeKey, whenUnauthorized } from './api.js';
import { Hosts } from './pages/hosts.js';
import { Login } from './pages/login.js';
import { Packages } from './pages/packages.js';
import { ReleasePage } from './pages/release.js';
import { Releases } from './pages/releases.js';
import { Link, navigate, useLocation } from './router.js';
import './styles.css';

const NAV = [
  { to: '/releases', label: 'Releases' },
  { to: '/hosts', label: 'Hosts' },
  { to: '/packages', label: 'Packages' },
];

const App = () => {
  const location = useLocation();
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [hasKey, setHasKey] = useState(() => storedKey() !== undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);

  const logOut = (message?: string) => {
    forgetKey();
    setHasKey(false);
    setSession(undefined);
    setNotice(message);
  };
  const refused = () => logOut('The API refused the key (revoked or expired): log in again.');

  useEffect(() => {
    whenUnauthorized(refused);
    // A key kept from before a reload: ask who it is (a refused one logs out through the listener).
    if (storedKey() && !session) void request<Session>('/v1/session').then(setSession, () => undefined);
  }, []);

  if (!hasKey) {
    return (
      <Login
        notice={notice}
        onLogin={(key, who) => {
          storeKey(key);
          setSession(who);
          setHasKey(true);
          setNotice(undefined);
        }}
      />
    );
  }

  const [path = '/', search = ''] = location.split('?');
  const query = new URLSearchParams(search);
  const releaseId = /^\/releases\/([^/]+)$/.exec(path)?.[1];
  let page = <Releases />;
  if (releaseId)
    page = <ReleasePage id={decodeURIComponent(releaseId)} role={session?.role} onUnauthorized={refused} />;
  else if (path === '/hosts') page = <Hosts query={query} />;
  else if (path === '/packages') page = <Packages />;
  else if (path !== '/' && path !== '/releases') {
    page = (
      <section>
        <h1>Not found</h1>
        <p>
          No page at {path}. <Link to="/releases">Releases</Link>
        </p>
      </section>
    );
  }

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">gsm</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(({ to, label }) => (
              <li key={to}>
                <Link to={to} current={path.startsWith(to) || (to === '/releases' && path === '/')}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">{session ? `${session.name} (${session.role})` : ''}</span>
        <button
          type="button"
          onClick={() => {
            logOut();
            navigate('/');
          }}
        >
          Log out
        </button>
      </header>
      <main id="main">{page}</main>
    </>
  );
};

const root = document.getElementById('app');
if (root) render(<App />, root);
