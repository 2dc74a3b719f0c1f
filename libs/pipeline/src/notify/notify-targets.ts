import { BlockList, isIP } from 'node:net';

/**
 * NOTIFY_ALLOWED_HOSTS: where notifications may go. Deny by default (an empty list allows
 * nothing). Each entry is one of
 * - a host name, `hooks.example.org`, or every name below a domain, `*.example.org`;
 * - an IP address, `10.1.2.3` or `[fd00::5]`;
 * - a network, `10.1.0.0/16`;
 * host names and addresses with an optional `:port` (otherwise any port).
 * A URL is allowed when its host matches an entry. Where it connects is judged again when it is
 * sent (notify worker): a name must resolve to a public address unless an address or network
 * entry covers what it resolved to — so a name that is allowed cannot be pointed (DNS rebinding)
 * at an internal service nobody listed.
 */
export interface AllowEntry {
  kind: 'name' | 'suffix' | 'address' | 'network';
  /** Lower-case name, the domain of a `*.` entry, an address, or a CIDR. */
  value: string;
  port?: number;
}

/** Why an entry cannot be read, or undefined. */
export function allowEntryProblem(entry: string): string | undefined {
  try {
    parseAllowEntry(entry);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export function parseAllowEntry(text: string): AllowEntry {
  const entry = text.trim().toLowerCase();
  const bad = (why: string) => new Error(`"${text}" ${why}`);
  if (entry.includes('/')) {
    const [address, bits] = entry.split('/');
    const family = isIP(address ?? '');
    const prefix = Number(bits);
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128))
      throw bad('is not a network (like 10.1.0.0/16)');
    return { kind: 'network', value: `${address}/${prefix}` };
  }
  let host = entry;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
    if (isIP(host) !== 6) throw bad('is not an IPv6 address in brackets');
  } else if (!isIP(entry)) {
    const m = /^(.*?)(?::(\d+))?$/.exec(entry)!;
    host = m[1]!;
    port = m[2] === undefined ? undefined : Number(m[2]);
  }
  if (port !== undefined && (port < 1 || port > 65535)) throw bad('has a port outside 1..65535');
  if (isIP(host)) return { kind: 'address', value: host, ...(port ? { port } : {}) };
  const wildcard = host.startsWith('*.');
  const name = wildcard ? host.slice(2) : host;
  if (!/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name))
    throw bad('is not a host name, *.domain, IP address or network');
  return { kind: wildcard ? 'suffix' : 'name', value: name, ...(port ? { port } : {}) };
}

/** The URL's host as written (IPv6 without brackets, lower case) and its port (default by scheme). */
function hostAndPort(url: URL): { host: string; port: number } {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { host, port };
}

function networks(entries: readonly AllowEntry[]): BlockList {
  const list = new BlockList();
  for (const e of entries) {
    if (e.kind === 'network') {
      const [address, prefix] = e.value.split('/');
      list.addSubnet(address!, Number(prefix), isIP(address!) === 6 ? 'ipv6' : 'ipv4');
    } else if (e.kind === 'address') {
      list.addAddress(e.value, isIP(e.value) === 6 ? 'ipv6' : 'ipv4');
    }
  }
  return list;
}

/** Why `url` may not be notified with this allow-list, or undefined when it may. */
export function notifyTargetProblem(url: string, allowList: readonly string[]): string | undefined {
  if (allowList.length === 0) return 'notifications are off on this cluster (NOTIFY_ALLOWED_HOSTS is empty)';
  const parsed = new URL(url);
  const { host, port } = hostAndPort(parsed);
  const entries = allowList.map(parseAllowEntry);
  const portOk = (e: AllowEntry) => e.port === undefined || e.port === port;
  const family = isIP(host);
  const allowed = entries.some((e) => {
    if (e.kind === 'name') return !family && e.value === host && portOk(e);
    if (e.kind === 'suffix') return !family && host.endsWith(`.${e.value}`) && portOk(e);
    if (e.kind === 'address') return family !== 0 && e.value === host && portOk(e);
    return family !== 0 && networks([e]).check(host, family === 6 ? 'ipv6' : 'ipv4');
  });
  return allowed ? undefined : `host ${parsed.host} is not in NOTIFY_ALLOWED_HOSTS`;
}

/** The addresses and networks of the allow-list: where a connection may go besides public addresses. */
export function allowedNetworks(allowList: readonly string[]): string[] {
  return allowList
    .map(parseAllowEntry)
    .filter((e) => e.kind === 'address' || e.kind === 'network')
    .map((e) => e.value);
}
