import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per process, served at GET /metrics. Each layer
 * registers its own metrics on it (prefix `lockstep_`).
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lockstep_process_' });
  return registry;
}
