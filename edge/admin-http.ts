/**
 * Serves the admin API (engine/admin/) on the edge's port: `/v1/admin/*`
 * reads the request body (bounded), hands it to `AdminApi`, and writes the
 * JSON answer. uWS gives a request's headers only during its handler and
 * aborts the process when a handler throws, so both are taken care of here.
 */
import { STATUS_CODES } from 'node:http';
import type { AdminApi, AdminResponse } from '../engine/admin/api.ts';
import { logger } from '../engine/logger.ts';
import type { HttpResponse, TemplatedApp } from './uws.ts';

/** Mounts `api` on `app`; bodies over `maxBodyBytes` answer 413. */
export function addAdminRoutes(app: TemplatedApp, api: AdminApi, maxBodyBytes: number): void {
  app.any('/v1/admin/*', (res, req) => {
    try {
      const method = req.getCaseSensitiveMethod().toUpperCase();
      const path = req.getUrl();
      const authorization = req.getHeader('authorization') || undefined;
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.onData((chunk, isLast) => {
        try {
          if (aborted || bytes < 0) return;
          bytes += chunk.byteLength;
          if (bytes > maxBodyBytes) {
            bytes = -1;
            write(res, { status: 413, body: JSON.stringify({ error: { code: 413, name: 'TOO_LARGE', message: `the body is over ${maxBodyBytes} bytes` } }) }, () => aborted);
            return;
          }
          // uWS reuses the chunk's memory after this callback: copy it.
          chunks.push(Buffer.from(chunk.slice(0)));
          if (!isLast) return;
          api.handle({ method, path, authorization, body: Buffer.concat(chunks) }).then(
            (answer) => write(res, answer, () => aborted),
            (err: unknown) => {
              logger.error('admin request failed', { err });
              write(res, { status: 500, body: JSON.stringify({ error: { code: 500, name: 'INTERNAL', message: 'internal error' } }) }, () => aborted);
            },
          );
        } catch (err) {
          logger.error('admin body handler failed', { err });
        }
      });
    } catch (err) {
      logger.error('admin handler failed', { err });
    }
  });
}

function write(res: HttpResponse, answer: AdminResponse, aborted: () => boolean): void {
  if (aborted()) return;
  res.cork(() => {
    res.writeStatus(`${answer.status} ${STATUS_CODES[answer.status] ?? ''}`).writeHeader('content-type', 'application/json').end(answer.body);
  });
}
