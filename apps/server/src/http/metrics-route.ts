import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Platform } from '../platform.js';

/**
 * Prometheus metrics at GET /metrics: process metrics, HTTP traffic by route, the log's
 * head and how far the read models trail it.
 */
export function registerMetrics(app: FastifyInstance, platform: Platform): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'chronicle_' });
  const requests = new Histogram({
    name: 'chronicle_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const appended = new Counter({ name: 'chronicle_events_appended_total', help: 'Events appended to the log', registers: [registry] });
  new Gauge({
    name: 'chronicle_log_head_position',
    help: 'Global position of the last event in the log',
    registers: [registry],
    async collect() {
      this.set(await platform.store.headPosition());
    },
  });
  new Gauge({
    name: 'chronicle_projection_lag_events',
    help: 'Events appended but not yet applied to every read model',
    registers: [registry],
    async collect() {
      this.set((await platform.store.headPosition()) - platform.runner.position);
    },
  });
  let lastHead: number | null = null;
  platform.store.onAppended((head) => {
    if (lastHead !== null) appended.inc(head - lastHead);
    lastHead = head;
  });
  void platform.store.headPosition().then((h) => (lastHead ??= h));

  app.addHook('onResponse', async (request, reply) => {
    requests.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}
