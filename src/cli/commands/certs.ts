// lockstep certs ca --dir DIR                       → DIR/ca.crt, DIR/ca.key
// lockstep certs node ID --dir DIR --hosts H[,H...] → DIR/ID.crt, DIR/ID.key
// lockstep certs client NAME --dir DIR              → DIR/NAME.crt, DIR/NAME.key
//
// Made in-process (src/tls/certificates.ts), keys written with mode 0600.
// Node and client certificates are signed by DIR/ca.crt + DIR/ca.key.
import { isIP } from 'node:net';
import { FlagValueError, UsageError, UserError, type CliCommand } from '../command.js';
import { describeFlags, parseFlagsAndWords, type FlagSpecs } from '../flags.js';

/** RFC 1035: a DNS name is at most 253 characters written out. */
const DNS_NAME_CHARS_MAX = 253;

const dirFlag = { dir: { type: 'string', required: true, description: 'directory of the cluster\'s certificates (ca.crt and ca.key live here)' } } as const satisfies FlagSpecs;
const nodeFlags = {
  ...dirFlag,
  hosts: { type: 'list', description: 'DNS names and IP addresses the node is reached at (comma-separated or repeated); clients check the API address against them' },
} as const satisfies FlagSpecs;

/** CA, node and client names become file names: no path separators, nothing hidden. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function positional(argv: string[], specs: FlagSpecs, what: string): { values: Record<string, unknown>; arg: string | null } {
  const parsed = parseFlagsAndWords(argv, specs, { allowPositionals: true });
  if (what === '') {
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
    return { values: parsed.values, arg: null };
  }
  if (parsed.positionals.length !== 1) throw new UsageError(`needs exactly one ${what}`);
  const arg = parsed.positionals[0];
  if (!FILE_NAME.test(arg) || arg === 'ca') throw new UserError(`${what} '${arg}' must be 1-128 of [A-Za-z0-9._:-], start with a letter or digit, and not be 'ca'`);
  return { values: parsed.values, arg };
}

/**
 * Loads the certificate library only for these commands (it is not small). A --dir that cannot
 * be made or written (a file in the way, no permission) is the user's to fix: exit 1 naming it.
 */
async function withCertificates<T>(dir: string, fn: (lib: typeof import('../../tls/certificates.js'), files: typeof import('../../tls/files.js')) => Promise<T>): Promise<T> {
  const [lib, files] = await Promise.all([import('../../tls/certificates.js'), import('../../tls/files.js')]);
  try {
    return await fn(lib, files);
  } catch (err) {
    if (err instanceof files.CertificateExistsError || err instanceof RangeError) throw new UserError(err.message);
    if (typeof (err as NodeJS.ErrnoException).syscall === 'string') throw new UserError(`--dir ${dir}: cannot write the files there (${(err as Error).message})`);
    throw err;
  }
}

async function loadCaFrom(dir: string, lib: typeof import('../../tls/certificates.js'), files: typeof import('../../tls/files.js')) {
  const paths = files.pemPaths(dir, 'ca');
  let pem;
  try {
    pem = files.readPem(paths);
  } catch (err) {
    throw new UserError(`cannot read the CA (${paths.cert}, ${paths.key}): ${(err as Error).message}; make one with \`lockstep certs ca --dir ${dir}\``);
  }
  try {
    return await lib.loadCa(pem);
  } catch (err) {
    throw new UserError(`${paths.cert} / ${paths.key} is not a CA made by \`lockstep certs ca\`: ${(err as Error).message}`);
  }
}

export const certsCaCommand: CliCommand = {
  name: 'certs ca',
  summary: 'make a new cluster CA (DIR/ca.crt, DIR/ca.key)',
  usage: ['usage: lockstep certs ca --dir DIR', '', 'Makes the cluster\'s certificate authority: DIR/ca.crt (give it to nodes as --tls-ca and to', 'clients as --ca) and DIR/ca.key (mode 0600; keep it where only you can read it). Existing files', 'are never replaced.', '', 'flags:', describeFlags(dirFlag)].join('\n'),
  async run(argv) {
    const { values } = positional(argv, dirFlag, '');
    const dir = values.dir as string;
    return withCertificates(dir, async (lib, files) => {
      const paths = files.writePem(dir, 'ca', await lib.makeCa());
      console.log(`wrote ${paths.cert} and ${paths.key} (valid ${lib.CA_VALID_DAYS} days)`);
      return 0;
    });
  },
};

export const certsNodeCommand: CliCommand = {
  name: 'certs node',
  summary: "make a node's certificate (DIR/ID.crt, DIR/ID.key)",
  usage: [
    'usage: lockstep certs node ID --dir DIR --hosts H[,H...]',
    '',
    'Makes the certificate of node ID, signed by DIR/ca.crt: it names the node (URI urn:lockstep:node:ID,',
    'which peers check against the id the node claims) and the DNS names / IPs in --hosts (which API',
    'clients check). Give it to `serve` as --tls-cert DIR/ID.crt --tls-key DIR/ID.key --tls-ca DIR/ca.crt.',
    '',
    'flags:',
    describeFlags(nodeFlags),
  ].join('\n'),
  async run(argv) {
    const { values, arg } = positional(argv, nodeFlags, 'node ID');
    const hosts = (values.hosts as string[]).flatMap((h) => h.split(',')).map((h) => h.trim()).filter((h) => h !== '');
    if (hosts.length === 0) throw new UsageError('certs node needs --hosts: the DNS names and IPs this node is reached at (e.g. --hosts 127.0.0.1,localhost)');
    const bad = hosts.find((h) => !isCertHost(h));
    if (bad !== undefined) throw new FlagValueError(`--hosts ${bad}: not a DNS name or IP address (give names like node1.example.com or localhost and addresses like 10.0.0.5, without scheme or port)`);
    const dir = values.dir as string;
    return withCertificates(dir, async (lib, files) => {
      const ca = await loadCaFrom(dir, lib, files);
      const paths = files.writePem(dir, arg!, await lib.makeNodeCert(ca, arg!, hosts));
      console.log(`wrote ${paths.cert} and ${paths.key}: node ${arg} at ${hosts.join(', ')} (valid ${lib.LEAF_VALID_DAYS} days)`);
      return 0;
    });
  },
};

export const certsClientCommand: CliCommand = {
  name: 'certs client',
  summary: "make an API client's certificate (DIR/NAME.crt, DIR/NAME.key)",
  usage: [
    'usage: lockstep certs client NAME --dir DIR',
    '',
    'Makes a client certificate signed by DIR/ca.crt, for nodes that require one (serve --tls-client-ca):',
    'pass it as --cert DIR/NAME.crt --key DIR/NAME.key. It names no node, so it cannot speak on the peer channel.',
    '',
    'flags:',
    describeFlags(dirFlag),
  ].join('\n'),
  async run(argv) {
    const { values, arg } = positional(argv, dirFlag, 'client NAME');
    const dir = values.dir as string;
    return withCertificates(dir, async (lib, files) => {
      const ca = await loadCaFrom(dir, lib, files);
      const paths = files.writePem(dir, arg!, await lib.makeClientCert(ca, arg!));
      console.log(`wrote ${paths.cert} and ${paths.key}: client ${arg} (valid ${lib.LEAF_VALID_DAYS} days)`);
      return 0;
    });
  },
};

/** A host a certificate can name: an IPv4/IPv6 address, or a DNS name (RFC 1123 labels, an optional leading `*.` wildcard). */
export function isCertHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (name.length === 0 || name.length > DNS_NAME_CHARS_MAX) return false;
  return name.split('.').every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}
