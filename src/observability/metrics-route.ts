import http from 'node:http';
import express, { Express, RequestHandler } from 'express';
import type { Config } from '../config';
import { metricsAccess } from '../policy/metrics-access';
import { allowMethods, httpErrorHandler, notFound } from '../server/http-errors';
import { registry } from './metrics';

type MetricsSettings = Config['metrics'];

/**
 * `/metrics` in Prometheus's text format. The numbers say how busy the service is, which operations are called and
 * how often sign-ins fail: not for everyone. So it is served only behind CARREL_METRICS_TOKEN (a bearer token) on the
 * main port, or on a port of its own (CARREL_METRICS_PORT, on 127.0.0.1 unless CARREL_METRICS_HOST says otherwise),
 * where the token is asked too when set. With neither, it is not served at all.
 */
function scrape(token: string | undefined): RequestHandler {
  const allowed = metricsAccess(token);
  return async (req, res) => {
    if (!allowed(req.headers.authorization)) {
      res.status(401).set('www-authenticate', 'Bearer').json({ errors: [{ message: 'The metrics token is missing or wrong.', extensions: { code: 'UNAUTHENTICATED' } }] });
      return;
    }
    res.type(registry.contentType).send(await registry.metrics());
  };
}

/** Serves /metrics on the main app when a token is set and no port of its own is. */
export function mountMetrics(app: Express, settings: MetricsSettings): void {
  if (settings.token !== undefined && settings.port === 0) app.all('/metrics', allowMethods('GET', 'HEAD'), scrape(settings.token));
}

/** The metrics port's own server, when CARREL_METRICS_PORT is set; resolves with its port, or null when there is none. */
export async function listenForMetrics(settings: MetricsSettings): Promise<{ port: number; close(): Promise<void> } | null> {
  if (settings.port === 0) return null;
  const app = express();
  app.disable('x-powered-by');
  app.all('/metrics', allowMethods('GET', 'HEAD'), scrape(settings.token));
  app.use(notFound);
  app.use(httpErrorHandler());
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : settings.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
