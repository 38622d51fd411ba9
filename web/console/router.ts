/** Client-side routes under /console (the gateway serves the same page for each). */
import { useEffect, useState } from 'preact/hooks';

export const ROUTES = [
  { path: '/console', label: 'Overview' },
  { path: '/console/budgets', label: 'Budgets' },
  { path: '/console/keys', label: 'Keys' },
  { path: '/console/requests', label: 'Requests' },
  { path: '/console/teams', label: 'Teams' },
  { path: '/console/audit', label: 'Audit' },
] as const;
export type RoutePath = (typeof ROUTES)[number]['path'];

function current(): RoutePath {
  const p = location.pathname.replace(/\/+$/, '') || '/console';
  return ROUTES.find((r) => r.path === p)?.path ?? '/console';
}

export function navigate(path: RoutePath): void {
  if (location.pathname !== path) history.pushState(null, '', path);
  dispatchEvent(new Event('console:navigate'));
}

export function useRoute(): RoutePath {
  const [route, setRoute] = useState<RoutePath>(current);
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener('popstate', update);
    addEventListener('console:navigate', update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener('console:navigate', update);
    };
  }, []);
  return route;
}
