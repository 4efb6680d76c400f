import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

function hostName(hostHeader: string): string {
  // strip the port: "[::1]:3000" → "[::1]", "localhost:3000" → "localhost"
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(hostHeader.trim().toLowerCase());
  return match?.[1] ?? '';
}

/**
 * Guards a server that can switch a microphone on against other web pages: the `Host` header must
 * name this machine (a DNS-rebinding page would send its own name), and a browser's `Origin`, when
 * sent, must be this same host (a cross-site form or script would carry its own). Throws 403.
 *
 * @param boundHost - the address the server listens on; a wildcard (`0.0.0.0`, `::`) means the user
 *   chose to serve other machines, so any `Host` is accepted (the `Origin` check still applies).
 */
export function checkRequestOrigin(req: IncomingMessage, boundHost: string): void {
  const host = req.headers.host ?? '';
  const name = hostName(host);
  const bound = boundHost.toLowerCase();
  const hostAllowed =
    WILDCARD_HOSTS.has(bound) || LOOPBACK_NAMES.has(name) || name === bound || name === `[${bound}]`;
  if (!hostAllowed) throw new HttpError(403, `requests for host "${host.slice(0, 100)}" are not served here`);
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') {
    if (origin === 'null' && req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(403, 'requests from an opaque origin are refused');
    }
    return;
  }
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    throw new HttpError(403, 'malformed Origin header');
  }
  if (originHost !== host.toLowerCase()) {
    throw new HttpError(403, `cross-origin requests from ${origin.slice(0, 100)} are refused`);
  }
}
