/**
 * The edge's plain HTTP routes: `/healthz` (200 `ok` while the process
 * serves: liveness), `/readyz` (200 `ok` when logins can be served, else 503
 * `unavailable`: readiness, 503 from the start of a drain), `/metrics` (the
 * node's Prometheus metrics, 404 when they are off) and 404 for every other
 * path. Handlers never throw: uWS aborts the process when one does.
 */
import { logger } from '../engine/logger.ts';
import type { Metrics } from '../engine/metrics.ts';
import type { HttpResponse, TemplatedApp } from './uws.ts';

/** Adds the HTTP routes to `app`; `ready` decides `/readyz`'s answer at each request. */
export function addHttpRoutes(app: TemplatedApp, ready: () => boolean, metrics?: Metrics): void {
  app.get('/healthz', (res) => {
    try {
      res.cork(() => {
        res.writeStatus('200 OK').writeHeader('content-type', 'text/plain').end('ok');
      });
    } catch (err) {
      logger.error('healthz handler failed', { err });
    }
  });
  app.get('/readyz', (res) => {
    try {
      const ok = ready();
      res.cork(() => {
        res
          .writeStatus(ok ? '200 OK' : '503 Service Unavailable')
          .writeHeader('content-type', 'text/plain')
          .end(ok ? 'ok' : 'unavailable');
      });
    } catch (err) {
      logger.error('readyz handler failed', { err });
    }
  });
  if (metrics !== undefined) app.get('/metrics', (res) => serveMetrics(res, metrics));
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

/** Answers with the metrics text once the registry has collected it, unless the client went away meanwhile. */
function serveMetrics(res: HttpResponse, metrics: Metrics): void {
  let aborted = false;
  try {
    res.onAborted(() => {
      aborted = true;
    });
    metrics.text().then(
      (text) => {
        if (aborted) return;
        res.cork(() => {
          res.writeStatus('200 OK').writeHeader('content-type', metrics.contentType).end(text);
        });
      },
      (err: unknown) => {
        logger.error('metrics collection failed', { err });
        if (aborted) return;
        res.cork(() => {
          res.writeStatus('500 Internal Server Error').writeHeader('content-type', 'text/plain').end('metrics collection failed');
        });
      },
    );
  } catch (err) {
    logger.error('metrics handler failed', { err });
  }
}
