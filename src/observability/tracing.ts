import type { Tracer } from '@opentelemetry/api';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { OperationDefinitionNode } from 'graphql';
import type { IncomingMessage } from 'node:http';

/**
 * OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. Every OpenTelemetry module is required inside
 * startTracing, never at the top of this file: main.ts and the server import this module whether tracing is on or not,
 * and with it off nothing of OpenTelemetry may be loaded. The SDK itself reads the other OTEL_* variables (README,
 * "Tracing").
 */
export interface TracingSettings {
  /** The collector's OTLP/HTTP base address; spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  serviceName: string;
}

export const DEFAULT_SERVICE_NAME = 'carrel';

/** The two variables Carrel reads itself; null when tracing is off. Throws, saying what to do, on an unusable endpoint. */
export function tracingSettings(env: NodeJS.ProcessEnv): TracingSettings | null {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!endpoint) return null;
  if (!isHttpUrl(endpoint)) {
    // The value itself is not repeated: an endpoint may carry credentials.
    throw new Error('OTEL_EXPORTER_OTLP_ENDPOINT is not an http:// or https:// URL: set it to the OTLP/HTTP address of your collector '
      + '(e.g. http://127.0.0.1:4318), or leave it unset to turn tracing off');
  }
  return { endpoint, serviceName: env.OTEL_SERVICE_NAME?.trim() || DEFAULT_SERVICE_NAME };
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

let sdk: NodeSDK | undefined;
let operationTracer: Tracer | undefined;

/**
 * Starts the SDK with the four instrumentations. It must run before http, express, graphql and pg are first required
 * (tracing-preload.ts): the instrumentations patch them as they load.
 */
export function startTracing(settings: TracingSettings): void {
  const { trace } = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { GraphQLInstrumentation } = require('@opentelemetry/instrumentation-graphql') as typeof import('@opentelemetry/instrumentation-graphql');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');

  sdk = new NodeSDK({
    serviceName: settings.serviceName,
    // The base address plus the signal's path, as the OTLP specification builds it from OTEL_EXPORTER_OTLP_ENDPOINT.
    traceExporter: new OTLPTraceExporter({ url: `${settings.endpoint.replace(/\/$/, '')}/v1/traces` }),
    // Traces only: metrics are /metrics' (Prometheus), and Carrel's logs are its own lines. Without these empty lists
    // the SDK would also export metrics and logs over OTLP.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: isUntracedRequest,
        startIncomingSpanHook: () => UNRECORDED_REQUEST_ATTRIBUTES,
        // Carrel sends nothing through http.request but the exporter's own requests (webhooks use fetch, which this
        // instrumentation does not see): no client spans, and no trace headers sent anywhere.
        disableOutgoingRequestInstrumentation: true,
        // Headers are never recorded: headersToSpanAttributes stays unset.
      }),
      new ExpressInstrumentation(),
      // allowValues false (the default, stated so it stays): literals in graphql.source become "*" and variables are
      // never recorded. No span per resolver: every field of the schema has one, so a page of 50 users would make
      // thousands of spans; SQL spans hang from the operation span instead.
      new GraphQLInstrumentation({ allowValues: false, ignoreResolveSpans: true }),
      // The statement text, never its parameters (enhancedDatabaseReporting false, the default, stated so it stays).
      // Only SQL inside a traced request: the event listener's polling and the jobs would otherwise make a trace each.
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
    ],
  });
  sdk.start();
  operationTracer = trace.getTracer('carrel');
}

/** Health checks and metric scrapes come every few seconds and say nothing about a request's work. */
function isUntracedRequest(request: IncomingMessage): boolean {
  const path = (request.url ?? '').split('?')[0];
  return path === '/metrics' || path === '/health' || path.startsWith('/health/');
}

/**
 * Attributes the http instrumentation would record and Carrel does not: the query string (a GET /graphql carries the
 * query and its variables there) and the client's address (personal data). A hook's undefined overrides the value,
 * and an undefined attribute is not recorded.
 */
const UNRECORDED_REQUEST_ATTRIBUTES = { 'url.query': undefined, 'client.address': undefined, 'network.peer.address': undefined, 'network.peer.port': undefined };

/**
 * instrumentation-graphql's operation span wraps graphql-js's execute; a query graphql-jit runs compiled
 * (src/server/compiled-execution.ts) never calls execute, so it gets the same span, name and attributes here. With
 * tracing off this is `run()`.
 */
export function traceCompiledOperation<T>(operation: OperationDefinitionNode, run: () => T | Promise<T>): T | Promise<T> {
  if (!operationTracer) return run();
  const type = operation.operation;
  const name = operation.name?.value;
  const attributes = { 'graphql.operation.type': type, 'graphql.operation.name': name };
  return operationTracer.startActiveSpan(name ? `${type} ${name}` : type, { attributes }, async (span) => {
    try {
      return await run();
    } catch (e) {
      span.recordException(e as Error);
      throw e;
    } finally {
      span.end();
    }
  });
}

/**
 * Sends the spans still waiting in the batch and stops the SDK: main's shutdown calls it before exiting. Never
 * rejects (a collector that is down must not keep Carrel from exiting); the exporter gives up after
 * OTEL_EXPORTER_OTLP_TIMEOUT (10 s by default).
 */
export async function stopTracing(): Promise<void> {
  const stopping = sdk;
  sdk = undefined;
  operationTracer = undefined;
  await stopping?.shutdown().catch(() => {});
}
