// Secure by default (serve): plain HTTP and TCP only on loopback addresses;
// anywhere else TLS, or --insecure said out loud.
import { describe, expect, it } from 'vitest';
import { parseServeArgs } from '../../src/cli/commands/serve.js';
import { isLoopbackHost } from '../../src/transport/address.js';
import { FlagValueError } from '../../src/cli/command.js';
import { runCli } from '../cli/run-cli.js';

const args = (api: string, peer: string, ...more: string[]) => ['--id', 'n1', '--api', api, '--peer', peer, '--peers', `n1=${peer}`, '--data', '/tmp/unused', ...more];
const TLS = ['--tls-cert', 'n1.crt', '--tls-key', 'n1.key', '--tls-ca', 'ca.crt'];

describe('secure by default', () => {
  it('plain on loopback addresses starts', () => {
    for (const [api, peer] of [['127.0.0.1:7001', '127.0.0.1:7101'], ['localhost:7001', '127.0.0.2:7101'], ['[::1]:7001', '[::1]:7101']]) {
      const config = parseServeArgs(args(api, peer), {});
      expect(config.tls).toBeNull();
      expect(config.apiUrl).toBe(`http://${api}`);
    }
  });

  it('plain on any other address is refused, naming the address, TLS and --insecure', () => {
    for (const [api, peer, named] of [['0.0.0.0:7001', '127.0.0.1:7101', '--api 0.0.0.0'], ['127.0.0.1:7001', 'n1:7101', '--peer n1'], ['10.0.0.5:7001', '10.0.0.5:7101', '--api 10.0.0.5 and --peer 10.0.0.5']]) {
      expect(() => parseServeArgs(args(api, peer), {})).toThrow(FlagValueError);
      expect(() => parseServeArgs(args(api, peer), {})).toThrow(new RegExp(`^${named} .*without TLS.*--insecure`));
    }
  });

  it('a loopback node whose --peers name another host is refused too: it would dial it in plain TCP', () => {
    const peers = (other: string) => ['--id', 'n1', '--api', '127.0.0.1:7001', '--peer', '127.0.0.1:7101', '--peers', `n1=127.0.0.1:7101,n2=${other}`, '--data', '/tmp/unused'];
    expect(() => parseServeArgs(peers('10.0.0.6:7102'), {})).toThrow(/^--peers n2 10\.0\.0\.6 .*without TLS.*--insecure/);
    expect(parseServeArgs(peers('127.0.0.2:7102'), {}).tls).toBeNull();
    expect(parseServeArgs([...peers('10.0.0.6:7102'), '--insecure'], {}).insecure).toBe(true);
    expect(parseServeArgs([...peers('n2:7102'), ...TLS], {}).tls).not.toBeNull();
  });

  it('--insecure (or LOCKSTEP_INSECURE) lets it run plain; TLS flags make it HTTPS', () => {
    expect(parseServeArgs(args('0.0.0.0:7001', '0.0.0.0:7101', '--insecure'), {}).insecure).toBe(true);
    expect(parseServeArgs(args('0.0.0.0:7001', '0.0.0.0:7101'), { LOCKSTEP_INSECURE: 'true' }).insecure).toBe(true);
    const tls = parseServeArgs(args('n1:7001', 'n1:7101', ...TLS), {});
    expect(tls.tls).toEqual({ cert: 'n1.crt', key: 'n1.key', ca: 'ca.crt', clientCa: null });
    expect(tls.apiUrl).toBe('https://n1:7001');
    expect(parseServeArgs(args('n1:7001', 'n1:7101'), { LOCKSTEP_TLS_CERT: 'a', LOCKSTEP_TLS_KEY: 'b', LOCKSTEP_TLS_CA: 'c', LOCKSTEP_TLS_CLIENT_CA: 'd' }).tls).toEqual({ cert: 'a', key: 'b', ca: 'c', clientCa: 'd' });
  });

  it('TLS flags go together', () => {
    expect(() => parseServeArgs(args('127.0.0.1:7001', '127.0.0.1:7101', '--tls-cert', 'x'), {})).toThrow(/all three/);
    expect(() => parseServeArgs(args('127.0.0.1:7001', '127.0.0.1:7101', '--tls-client-ca', 'x'), {})).toThrow(/--tls-client-ca needs/);
  });

  it('isLoopbackHost', () => {
    expect(['127.0.0.1', '127.255.0.9', '::1', '[::1]', 'LOCALHOST'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '10.1.2.3', 'n1', '127.0.0.1.example.com', 'localhost.evil'].some(isLoopbackHost)).toBe(false);
  });

  it('the process exits 1 with the reason, before opening anything', async () => {
    const r = await runCli(['serve', ...args('0.0.0.0:7001', '0.0.0.0:7101')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/refuses to start without TLS/);
  }, 120_000);
});
