// The certificates of a local cluster (`cluster up --tls`, the test harness,
// the chaos suite): under DIR, a CA and one certificate per node, made as
// `certs ca` and `certs node` would, once; later runs reuse them.
import { existsSync } from 'node:fs';
import { loadCa, makeCa, makeNodeCert } from './certificates.js';
import { pemPaths, readPem, writePem, type PemPaths } from './files.js';

/** A local cluster's nodes are reached at these. */
export const LOCAL_HOSTS = ['127.0.0.1', 'localhost'] as const;

export interface ClusterCerts {
  dir: string;
  /** The CA certificate: the nodes' --tls-ca, the clients' --ca. */
  ca: string;
  node(id: string): PemPaths;
}

const exists = (p: PemPaths): boolean => existsSync(p.cert) && existsSync(p.key);

export async function ensureClusterCerts(dir: string, ids: readonly string[], hosts: readonly string[] = LOCAL_HOSTS): Promise<ClusterCerts> {
  const caPaths = pemPaths(dir, 'ca');
  if (!exists(caPaths)) writePem(dir, 'ca', await makeCa());
  let ca: Awaited<ReturnType<typeof loadCa>> | null = null;
  for (const id of ids) {
    if (exists(pemPaths(dir, id))) continue;
    ca ??= await loadCa(readPem(caPaths));
    writePem(dir, id, await makeNodeCert(ca, id, hosts));
  }
  return { dir, ca: caPaths.cert, node: (id) => pemPaths(dir, id) };
}
