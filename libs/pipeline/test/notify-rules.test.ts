import { describe, expect, it } from 'vitest';
import {
  allowedNetworks,
  allowEntryProblem,
  ConfigError,
  loadConfig,
  notificationSignature,
  notifyTargetProblem,
  verifyNotification,
} from '../src/index.js';

describe('notification allow-list (NOTIFY_ALLOWED_HOSTS)', () => {
  const list = ['hooks.example.org', '*.lab.example.org', '127.0.0.1:8080', '10.1.0.0/16', '[fd00::5]:443'];

  it('denies everything when empty', () => {
    expect(notifyTargetProblem('https://hooks.example.org/x', [])).toMatch(/NOTIFY_ALLOWED_HOSTS is empty/);
  });

  it('allows exactly the listed names, subdomains of *. entries, addresses, networks and ports', () => {
    const allowed = [
      'https://hooks.example.org/x',
      'http://HOOKS.example.org:9000/x',
      'https://a.lab.example.org/x',
      'https://b.c.lab.example.org/x',
      'http://127.0.0.1:8080/hook',
      'http://10.1.200.3/x',
      'https://[fd00::5]/x',
    ];
    for (const url of allowed) expect(notifyTargetProblem(url, list), url).toBeUndefined();
    const refused = [
      'https://example.org/x',
      'https://hooks.example.org.evil.net/x',
      'https://evilhooks.example.org/x',
      'https://lab.example.org/x', // *. covers names below, not the domain itself
      'http://127.0.0.1:8081/x',
      'http://127.0.0.1/x',
      'http://localhost:8080/x',
      'http://10.2.0.1/x',
      'http://[fd00::5]:80/x',
      'http://169.254.169.254/latest/meta-data',
    ];
    for (const url of refused)
      expect(notifyTargetProblem(url, list), url).toMatch(/is not in NOTIFY_ALLOWED_HOSTS/);
  });

  it('hands addresses and networks (not names) to the connect-time check', () => {
    expect(allowedNetworks(list)).toEqual(['127.0.0.1', '10.1.0.0/16', 'fd00::5']);
  });

  it('refuses unreadable entries at start-up, naming the variable', () => {
    expect(allowEntryProblem('10.0.0.0/33')).toMatch(/not a network/);
    expect(allowEntryProblem('host:99999')).toMatch(/port outside/);
    expect(allowEntryProblem('bad host')).toMatch(/not a host name/);
    expect(() => loadConfig({ OUTPUT_DIR: '/x', NOTIFY_ALLOWED_HOSTS: 'ok.example.org,http://x/' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ OUTPUT_DIR: '/x', NOTIFY_ALLOWED_HOSTS: 'ok.example.org,http://x/' })).toThrow(
      /NOTIFY_ALLOWED_HOSTS: "http:\/\/x\/"/,
    );
    expect(loadConfig({ OUTPUT_DIR: '/x' }).NOTIFY_ALLOWED_HOSTS).toEqual([]);
  });
});

describe('notification signature', () => {
  const body = '{"id":"d1","status":"complete"}';
  it('is HMAC-SHA256 over "<timestamp>.<body>", as sha256=<hex>', () => {
    // openssl dgst -sha256 -hmac secret-of-16-chars <<< '1700000000.{"id":"d1","status":"complete"}' (no newline)
    const signature = notificationSignature('secret-of-16-chars', 1_700_000_000, body);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(
      verifyNotification('secret-of-16-chars', { timestamp: '1700000000', signature }, body, 1_700_000_100),
    ).toBe(true);
  });

  it('refuses another body, secret, a stale timestamp (replay) or a missing header', () => {
    const signature = notificationSignature('secret-of-16-chars', 1_700_000_000, body);
    const h = { timestamp: '1700000000', signature };
    expect(verifyNotification('secret-of-16-chars', h, `${body} `, 1_700_000_000)).toBe(false);
    expect(verifyNotification('another-secret-16', h, body, 1_700_000_000)).toBe(false);
    expect(verifyNotification('secret-of-16-chars', h, body, 1_700_000_000 + 301)).toBe(false);
    expect(
      verifyNotification('secret-of-16-chars', { timestamp: '1700000001', signature }, body, 1_700_000_000),
    ).toBe(false);
    expect(verifyNotification('secret-of-16-chars', { timestamp: undefined, signature }, body)).toBe(false);
  });
});
