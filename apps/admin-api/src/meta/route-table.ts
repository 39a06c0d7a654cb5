import { ADMIN_OPENAPI_DOCUMENT } from './openapi.document';

interface Route {
  pattern: RegExp;
  methods: string[];
}

/**
 * The admin API's routes as its OpenAPI document lists them, matched the way Express matches
 * them (case-insensitive, one optional trailing slash, a `{param}` is one non-empty segment).
 */
const ROUTES: Route[] = Object.entries(
  ADMIN_OPENAPI_DOCUMENT.paths as Record<string, Record<string, unknown>>,
).map(([path, item]) => {
  const source = path
    .split('/')
    .map((segment) =>
      /^\{\w+\}$/.test(segment) ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  const methods = Object.keys(item).map((m) => m.toUpperCase());
  if (methods.includes('GET')) methods.push('HEAD');
  return { pattern: new RegExp(`^${source}/?$`, 'i'), methods: methods.sort() };
});

/**
 * The methods the route at `path` (without query string or API version prefix) answers, or
 * undefined when no route has this path.
 */
export function allowedMethods(path: string): string[] | undefined {
  return ROUTES.find((r) => r.pattern.test(path))?.methods;
}
