import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Where the console is served; `/` redirects here. */
export const CONSOLE_PATH = '/ui';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The console's own page needs nothing from elsewhere: scripts, styles and API calls all come
 * from this origin. uPlot and React set inline styles, hence 'unsafe-inline' for styles only.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The built console (`npm run build` writes it to `dist/console`): found beside the compiled
 * admin API (`dist/apps/admin-api/src/console` -> `dist/console`) or, when the admin API runs from
 * its sources (tests, `tsx`), under the repository's `dist/`.
 */
export function findConsoleDir(): string | null {
  const up = resolve(__dirname, '..', '..', '..', '..');
  for (const dir of [join(up, 'console'), join(up, 'dist', 'console')]) {
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

function setHeaders(res: Response, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}

/**
 * Express middleware serving the single-page console at `/ui` from `dir`, ahead of the admin API's
 * token check: the page and its scripts hold no data (the console asks for a token and sends it
 * with every API call). Any `/ui/...` path that is not a file answers the page itself, so the
 * console's own routes survive a reload (history-API fallback), except paths under `/ui/assets/`,
 * which are files or a 404. `GET /` redirects to `/ui/`. Without a built console, `/ui` answers a
 * 503 saying how to build it.
 */
export function serveConsole(dir: string | null): RequestHandler {
  const root = dir === null ? null : resolve(dir);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const path = req.path;
    if (path === '/') {
      res.redirect(302, `${CONSOLE_PATH}/`);
      return;
    }
    if (path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`)) return next();
    if (root === null) {
      res
        .status(503)
        .type('text/plain; charset=utf-8')
        .send(
          'The web console is not built: run `npm run build` (it writes dist/console), then restart the admin API.\n',
        );
      return;
    }
    const relative = decodeURIComponentOrNull(path.slice(CONSOLE_PATH.length + 1));
    const file = relative === null ? null : normalize(join(root, relative));
    const inside = file !== null && (file === root || file.startsWith(root + sep));
    const ext = file === null ? '' : extname(file);
    const isAsset = inside && relative !== '' && ext !== '' && CONTENT_TYPES[ext] !== undefined;
    if (isAsset) {
      readFile(file).then(
        (body) => {
          setHeaders(res, SECURITY_HEADERS);
          // Vite names the files under assets/ by their content hash: they never change.
          const immutable = relative!.startsWith('assets/');
          res
            .status(200)
            .setHeader('content-type', CONTENT_TYPES[ext])
            .setHeader(
              'cache-control',
              immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
            )
            .end(req.method === 'HEAD' ? undefined : body);
        },
        () => notFound(req, res),
      );
      return;
    }
    if (relative === null || !inside || relative.startsWith('assets/') || ext !== '') {
      notFound(req, res);
      return;
    }
    // Read on each request (a few hundred bytes), so a rebuild shows without a restart.
    readFile(join(root, 'index.html')).then((index) => {
      setHeaders(res, SECURITY_HEADERS);
      res
        .status(200)
        .setHeader('content-type', CONTENT_TYPES['.html'])
        .setHeader('cache-control', 'no-cache')
        .end(req.method === 'HEAD' ? undefined : index);
    }, next);
  };
}

function notFound(req: Request, res: Response): void {
  res.status(404).json({
    message: `Not found: the console has no file ${req.originalUrl.split('?')[0]}`,
    restate_code: null,
  });
}

function decodeURIComponentOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
