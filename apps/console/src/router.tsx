import { createRootRoute, createRoute, createRouter, Link, Outlet } from '@tanstack/react-router';
import { SignOut } from './auth';
import { DeadLettersPage } from './pages/DeadLetters';
import { DeploymentsPage } from './pages/Deployments';
import { InvocationPage } from './pages/Invocation';
import { InvocationsPage } from './pages/Invocations';
import { parseInvocationSearch } from './lib/filters';
import { OverviewPage } from './pages/Overview';
import { parseRecordSearch, RecordsPage } from './pages/Records';
import { parseStateSearch, StatePage } from './pages/State';
import { SubscriptionPage } from './pages/Subscription';

function Layout() {
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">
          Tributary
        </Link>
        <nav aria-label="Pages">
          <Link to="/" activeOptions={{ exact: true }}>
            Overview
          </Link>
          <Link to="/invocations">Invocations</Link>
          <Link to="/state">State</Link>
          <Link to="/deployments">Deployments &amp; clusters</Link>
        </nav>
        <SignOut />
      </header>
      <main className="page">
        <Outlet />
      </main>
    </>
  );
}

function NotFound() {
  return (
    <div className="empty">
      No console page here. <Link to="/">Go to the overview</Link>.
    </div>
  );
}

const rootRoute = createRootRoute({ component: Layout, notFoundComponent: NotFound });

export const overviewRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  component: OverviewPage,
});

export const subscriptionRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/subscriptions/$id',
  component: SubscriptionPage,
});

export const recordsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/subscriptions/$id/records',
  validateSearch: parseRecordSearch,
  component: RecordsPage,
});

export const deadLettersRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/subscriptions/$id/dead-letters',
  component: DeadLettersPage,
});

export const invocationsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/invocations',
  validateSearch: parseInvocationSearch,
  component: InvocationsPage,
});

export const invocationRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/invocations/$id',
  component: InvocationPage,
});

export const stateRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/state',
  validateSearch: parseStateSearch,
  component: StatePage,
});

export const deploymentsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/deployments',
  component: DeploymentsPage,
});

export const router = createRouter({
  routeTree: rootRoute.addChildren([
    overviewRoute,
    subscriptionRoute,
    recordsRoute,
    deadLettersRoute,
    invocationsRoute,
    invocationRoute,
    stateRoute,
    deploymentsRoute,
  ]),
  basepath: '/ui',
});

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
