import { startFailureLine } from '../start-failure';
import { startTracing, tracingSettings } from './tracing';

/**
 * Loaded with `node --require` before Carrel (`npm start`): the instrumentations patch http, express, graphql and pg as
 * they are first required, and main.ts requires them at once, so the SDK must be running before main.ts loads.
 * Without OTEL_EXPORTER_OTLP_ENDPOINT it loads nothing of OpenTelemetry. An unusable endpoint stops the start here,
 * with the same one line as any other start failure.
 */
try {
  const settings = tracingSettings(process.env);
  if (settings) startTracing(settings);
} catch (e) {
  console.error(`[carrel] failed to start: ${startFailureLine(e)}`);
  process.exit(1);
}
