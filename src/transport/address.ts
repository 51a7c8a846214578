// Peer addresses are 'host:port' ('[::1]:port' for IPv6); a leading scheme
// such as 'tcp://' is tolerated so peer URLs can be passed through unchanged.

export interface HostPort {
  host: string;
  port: number;
}

export function parseAddress(address: string): HostPort {
  const bare = address.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(bare) ?? /^([^:]+):(\d+)$/.exec(bare);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`not a host:port address: ${JSON.stringify(address)}`);
  return { host: m[1], port };
}

/** 127.0.0.0/8, ::1 and localhost: only this machine reaches them (secure by default: plain HTTP and TCP only there). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
