// How the examples reach a cluster: through the same environment variables as
// the `lockstep` CLI, so an example talks to whatever cluster the CLI does
// (`cluster up` prints the export lines): LOCKSTEP_ENDPOINTS, LOCKSTEP_TOKEN
// when auth is on, LOCKSTEP_CA for a `cluster up --tls` (whose default
// endpoints are then https://, as the CLI's are with --ca).
import { readFileSync } from 'node:fs';
import type { ClientOptions } from 'lockstep-client';

const LOCAL_CLUSTER = ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'];

export function clientOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, endpoints: string | undefined = env.LOCKSTEP_ENDPOINTS): ClientOptions {
  const ca = env.LOCKSTEP_CA || undefined;
  const list = endpoints ? endpoints.split(',') : LOCAL_CLUSTER.map((hostPort) => `${ca ? 'https' : 'http'}://${hostPort}`);
  return {
    endpoints: list,
    ...(env.LOCKSTEP_TOKEN ? { token: env.LOCKSTEP_TOKEN } : {}),
    ...(ca ? { tls: { ca: readFileSync(ca) } } : {}),
  };
}
