import { isIP } from 'node:net';

/** Reports whether `host` is a loopback name or address (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') {
    return true;
  }

  return isIP(bare) === 4 && bare.startsWith('127.');
}
