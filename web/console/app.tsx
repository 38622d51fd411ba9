/** The console: sign-in until there is a session, then the pages, each a client of the admin API. */
import { useEffect, useState } from 'preact/hooks';
import { Shell } from '../shared/shell.js';
import { currentSession, onSignedOut, signOut, type Session } from './api.js';
import { AuditPage } from './pages/audit.js';
import { BudgetsPage } from './pages/budgets.js';
import { KeysPage } from './pages/keys.js';
import { OverviewPage } from './pages/overview.js';
import { RequestsPage } from './pages/requests.js';
import { TeamsPage } from './pages/teams.js';
import { navigate, ROUTES, useRoute, type RoutePath } from './router.js';
import { SignIn } from './sign-in.js';
import { ErrorNote } from './ui.js';

/** What a page gets: whether it may change things (a viewer sees no create or edit buttons). */
export interface PageProps {
  canEdit: boolean;
}

function Page(props: { route: RoutePath } & PageProps) {
  switch (props.route) {
    case '/console/budgets':
      return <BudgetsPage {...props} />;
    case '/console/keys':
      return <KeysPage {...props} />;
    case '/console/requests':
      return <RequestsPage {...props} />;
    case '/console/teams':
      return <TeamsPage {...props} />;
    case '/console/audit':
      return <AuditPage {...props} />;
    default:
      return <OverviewPage {...props} />;
  }
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [expired, setExpired] = useState(false);
  const [error, setError] = useState<Error>();
  const route = useRoute();

  useEffect(() => {
    currentSession().then(setSession, (err: unknown) => setError(err instanceof Error ? err : new Error(String(err))));
    return onSignedOut(() => {
      setSession((s) => {
        if (s) setExpired(true);
        return null;
      });
    });
  }, []);

  const title = ROUTES.find((r) => r.path === route)?.label ?? 'Console';
  useEffect(() => {
    document.title = `${session ? title : 'Sign in'} · fal-gateway console`;
  }, [session, title]);

  if (session === undefined) {
    return (
      <Shell title="Console">
        {error ? <ErrorNote error={error} /> : <p class="muted">Loading…</p>}
      </Shell>
    );
  }
  if (session === null) {
    return (
      <Shell title="Console">
        <SignIn
          expired={expired}
          onSignedIn={(s) => {
            setExpired(false);
            setSession(s);
          }}
        />
      </Shell>
    );
  }
  return (
    <Shell title="Console">
      <div class="console-bar">
        <nav aria-label="Console pages" class="console-nav">
          {ROUTES.map((r) => (
            <a
              key={r.path}
              href={r.path}
              aria-current={r.path === route ? 'page' : undefined}
              onClick={(e) => {
                if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
                e.preventDefault();
                navigate(r.path);
              }}
            >
              {r.label}
            </a>
          ))}
        </nav>
        <span class="who" data-testid="who">
          {session.actor} · {session.role}
        </span>
        <button type="button" onClick={() => void signOut().then(() => setExpired(false), () => setExpired(false))}>
          Sign out
        </button>
      </div>
      <h1>{title}</h1>
      <Page route={route} canEdit={session.role === 'admin'} />
    </Shell>
  );
}
