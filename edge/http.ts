/**
 * The edge's plain HTTP routes: `/healthz` (200 `ok` when logins can be
 * served, else 503 `unavailable`) and 404 for every other path. Handlers
 * never throw: uWS aborts the process when one does.
 */
import { logger } from '../engine/logger.ts';
import type { TemplatedApp } from './uws.ts';

/** Adds the HTTP routes to `app`; `healthy` decides `/healthz`'s answer at each request. */
export function addHttpRoutes(app: TemplatedApp, healthy: () => boolean): void {
  app.get('/healthz', (res) => {
    try {
      const ok = healthy();
      res.cork(() => {
        res
          .writeStatus(ok ? '200 OK' : '503 Service Unavailable')
          .writeHeader('content-type', 'text/plain')
          .end(ok ? 'ok' : 'unavailable');
      });
    } catch (err) {
      logger.error('healthz handler failed', { err });
    }
  });
  app.any('/*', (res) => {
    try {
      res.cork(() => {
        res.writeStatus('404 Not Found').writeHeader('content-type', 'text/plain').end('not found');
      });
    } catch (err) {
      logger.error('http handler failed', { err });
    }
  });
}
