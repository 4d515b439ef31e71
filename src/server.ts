import http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { DataSource } from 'typeorm';
import type { TokenIssuer } from './auth/tokens';
import { Config, EventSettings, loadConfig } from './config';
import { createEventHub, DEFAULT_HUB_SETTINGS, EventHub } from './events/event-hub';
import { schedulePruning } from './events/event-retention';
import { scheduleUserCountCompaction } from './users/user-counts.repository';
import { scheduleFineTotalCompaction } from './analytics/fine-totals.repository';
import { startWebhookWorker } from './webhooks/webhook-worker';
import { setWebhookHttpAllowed } from './webhooks/webhook.service';
import type { WebhookSettings } from './webhooks/webhook-settings';
import { attachSubscriptions, subscriptionsOverHttpRefused } from './server/subscriptions';
import { buildContext, credentialsOf, RequestContext } from './context';
import { formatError, retryableErrorsPlugin } from './errors-format';
import { buildSchema } from './schema';
import {
  allowMethods, answerClientErrorsWithJson, BODY_LIMIT_BYTES, httpErrorHandler, notFound, requireJsonBody, withoutRequestRefusalStacks,
} from './server/http-errors';
import { createQueryLimits } from './server/query-limits';
import { CompileSettings, compiledExecution, DEFAULT_COMPILE_SETTINGS } from './server/compiled-execution';
import { BudgetSettings, createRequestBudget } from './server/request-budget';
import { responseStatusPlugin } from './server/response-status';
import { mountAttachmentRoutes } from './attachments/attachment.http';
import { mountHealth } from './server/health';
import { registerSources } from './observability/metrics';
import { listenForMetrics, mountMetrics } from './observability/metrics-route';
import { operationObserverPlugin } from './observability/operation-observer';
import { requestLog } from './observability/request-log';
import { resumeRequestRecord } from './observability/request-record';

export interface ServerOptions {
  db: DataSource;
  tokens: TokenIssuer;
  production: boolean;
  /** Each client's query budget (src/server/request-budget.ts); none: unlimited (tests that do not test it). */
  budget?: BudgetSettings | null;
  /** Subscriptions and the outbox reader; defaults from the environment (src/config.ts). */
  events?: Partial<EventSettings>;
  log?: (line: string) => void;
  /** False: users are read without embedding their children (only the test comparing the two ways sets it). */
  readAhead?: boolean;
  /** When queries are compiled (server/compiled-execution.ts); tests set it to compile at once, or never. */
  compile?: CompileSettings;
  /** False: the periodic jobs (event pruning, folding the user counters) do not run; the tests of those jobs run them. */
  jobs?: boolean;
  /** Webhook delivery; defaults from the environment (src/config.ts). Tests shorten the retries and allow http to loopback. */
  webhooks?: Partial<WebhookSettings>;
  /** Where /metrics is served (src/observability/metrics-route.ts); defaults from the environment. */
  metrics?: Config['metrics'];
}

export interface CarrelServer {
  httpServer: http.Server;
  /** Listens on `port` (0 picks a free one), and on the metrics port if one is set; resolves with the port. */
  listen(port: number): Promise<number>;
  /** Stops taking requests, lets running ones finish, closes subscriptions and the HTTP server. */
  stop(): Promise<void>;
  /** This instance's reader of the outbox (tests wake it). */
  hub: EventHub;
  /** The port /metrics listens on when it has its own, else null. */
  metricsPort(): number | null;
}

/** express + Apollo on one HTTP server, with graphql-ws subscriptions on the same path. */
export async function createServer(options: ServerOptions): Promise<CarrelServer> {
  const config = loadConfig();
  const events = { ...config.events, ...options.events };
  const log = options.log ?? (() => {});
  const app = express();
  app.disable('x-powered-by');
  // An ETag is a hash of every response body (a list page is 20 KB), and no GraphQL client revalidates with one.
  app.set('etag', false);
  // req.ip (login throttling per address) is the socket's peer unless CARREL_TRUST_PROXY names the proxies in front.
  app.set('trust proxy', config.trustProxy);
  const httpServer = http.createServer(app);
  answerClientErrorsWithJson(httpServer);
  // First: every request gets its id, its log line and its metrics (src/observability/request-log.ts).
  const observe = config.logging.requests;
  if (observe) app.use(requestLog());
  // Depth, aliases, directives, tokens and cost: refused before execution (src/server/query-limits.ts).
  const limits = createQueryLimits({ production: options.production, budget: options.budget ? createRequestBudget(options.budget) : null });
  const schema = buildSchema();
  const format = withoutRequestRefusalStacks(formatError(options.production));
  // One reader of the outbox for this instance (src/events/event-hub.ts), fanning events out to its subscribers.
  const hub = createEventHub(options.db, { ...DEFAULT_HUB_SETTINGS, pollMs: events.pollMs, log });
  await hub.start();
  const subscriptions = attachSubscriptions({
    httpServer, schema, db: options.db, tokens: options.tokens, hub, limits, formatError: format,
    settings: { bufferLimit: events.subscriberBuffer, maxSubscriptionsPerConnection: events.maxSubscriptionsPerConnection, recheckMs: events.recheckSeconds * 1000 },
  });
  const jobs = options.jobs ?? true;
  const stopPruning = jobs ? schedulePruning(options.db, events.retentionDays, 3_600_000, log) : () => {};
  // Folds the user counters' deltas (src/users/user-counts.repository.ts), so totalCount sums a few rows.
  const stopCompaction = jobs ? scheduleUserCountCompaction(options.db, 60_000, log) : () => {};
  // Folds the fine totals' deltas (src/analytics/fine-totals.repository.ts) the same way.
  const stopFineCompaction = jobs ? scheduleFineTotalCompaction(options.db, 60_000, log) : () => {};
  // Delivers webhooks from the outbox (src/webhooks/webhook-worker.ts); instances share the work through leases.
  const webhooks = { ...config.webhooks, ...options.webhooks };
  setWebhookHttpAllowed(webhooks.allowHttp);
  const stopWebhooks = jobs ? startWebhookWorker({ db: options.db, hub, schema, tokens: options.tokens, settings: webhooks, log }) : async () => {};
  const pool = (options.db.driver as unknown as { master: { totalCount: number; idleCount: number; waitingCount: number; options: { max: number } } }).master;
  const unregisterMetrics = registerSources({
    pool: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max }),
    subscribers: subscriptions.subscriptionCount,
  });
  const apollo = new ApolloServer<RequestContext>({
    // Queries run compiled (server/compiled-execution.ts); Apollo validates against the same schema.
    gateway: compiledExecution(schema, options.compile ?? DEFAULT_COMPILE_SETTINGS),
    introspection: !options.production,
    includeStacktraceInErrorResponses: !options.production,
    formatError: format,
    // main.ts owns SIGTERM/SIGINT (drain, close the database, exit 0). Apollo's own handlers (on by default
    // outside NODE_ENV=test) ran first, so main's stop() awaited a barrier Apollo never resolves on success:
    // the database was never closed and the process only ended once the pg pool's idle clients timed out.
    stopOnTerminationSignals: false,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    // Apollo 5's defaults, stated so they are not lost: a JSON array body (a batch) is refused with 400, and a request
    // a browser could send cross-site without a preflight (no JSON content type, no apollo-require-preflight) too.
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      subscriptions.plugin,
      subscriptionsOverHttpRefused(),
      // The cache-control plugin cost about 45% of list-page throughput here, and Carrel sends no cache hints.
      ApolloServerPluginCacheControlDisabled(),
      options.production ? ApolloServerPluginLandingPageProductionDefault() : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      ...limits.plugins,
      // A statement timeout or a lost database connection: a retryable code and HTTP 503 (src/errors-format.ts).
      retryableErrorsPlugin(),
      responseStatusPlugin(),
      // The request's log line: operation, operator, error codes (src/observability/operation-observer.ts).
      ...(observe ? [operationObserverPlugin()] : []),
    ],
  });
  await apollo.start();

  // Every path and method not served below, and every failure outside GraphQL, is answered as JSON in the GraphQL
  // error shape (src/server/http-errors.ts): express's defaults are HTML pages with a stack trace.
  mountHealth(app, options.db);
  const metrics = options.metrics ?? config.metrics;
  mountMetrics(app, metrics);
  // app.all, not app.use: /graphql/anything is an unknown path, not the endpoint.
  app.all(
    '/graphql',
    allowMethods('GET', 'POST'),
    requireJsonBody,
    express.json({ limit: BODY_LIMIT_BYTES }),
    resumeRequestRecord,
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const context = await buildContext(options.db, options.tokens, credentialsOf(req.headers), req.ip);
        if (options.readAhead === false) context.readAhead = false;
        return context;
      },
    }),
  );
  // Files attached to users: multipart uploads and downloads beside /graphql (src/attachments/attachment.http.ts).
  mountAttachmentRoutes(app, { db: options.db, tokens: options.tokens, settings: config.attachments });
  app.use(notFound);
  app.use(httpErrorHandler());

  let metricsServer: Awaited<ReturnType<typeof listenForMetrics>> = null;
  return {
    httpServer,
    async listen(port) {
      const bound = await new Promise<number>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, () => {
          const address = httpServer.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      });
      metricsServer = await listenForMetrics(metrics);
      return bound;
    },
    metricsPort: () => metricsServer?.port ?? null,
    async stop() {
      unregisterMetrics();
      await metricsServer?.close();
      stopPruning();
      stopCompaction();
      stopFineCompaction();
      await stopWebhooks();
      await apollo.stop();
      await hub.stop();
    },
    hub,
  };
}
