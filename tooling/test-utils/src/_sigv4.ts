// Owns re-signing a SigV4 (AWS4-HMAC-SHA256, header-signed) S3 request whose body or headers the
// fault proxy changed, with the test credentials, so a server that verifies signatures accepts it.
import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

const rfc3986 = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const at = pair.indexOf('=');
      const key = decodeURIComponent((at === -1 ? pair : pair.slice(0, at)).replace(/\+/g, '%20'));
      const value = at === -1 ? '' : decodeURIComponent(pair.slice(at + 1).replace(/\+/g, '%20'));
      return [rfc3986(key), rfc3986(value)] as const;
    })
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const headerValue = (value: string | string[] | undefined): string =>
  (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');

/** The SigV4 signature of a request, signed with `secretAccessKey` for the scope in `authorization`. */
export function sigV4Signature(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  signedHeaders: readonly string[],
  scope: { date: string; region: string; service: string },
  secretAccessKey: string,
): string {
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  const query = at === -1 ? '' : url.slice(at + 1);
  const canonical = [
    method,
    path,
    canonicalQuery(query),
    ...signedHeaders.map((h) => `${h}:${headerValue(headers[h])}`),
    '',
    signedHeaders.join(';'),
    headerValue(headers['x-amz-content-sha256']) || 'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scopeText = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    headerValue(headers['x-amz-date']),
    scopeText,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const hmac = (key: Buffer | string, data: string): Buffer =>
    createHmac('sha256', key).update(data).digest();
  let key = hmac(`AWS4${secretAccessKey}`, scope.date);
  key = hmac(key, scope.region);
  key = hmac(key, scope.service);
  key = hmac(key, 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

/** The parts of a SigV4 `Authorization` header, or undefined when it is not one. */
export function parseAuthorization(authorization: string | undefined):
  | {
      accessKeyId: string;
      date: string;
      region: string;
      service: string;
      signedHeaders: string[];
      signature: string;
    }
  | undefined {
  const m = authorization === undefined ? null : AUTH.exec(authorization);
  if (m === null) return undefined;
  return {
    accessKeyId: m[1]!,
    date: m[2]!,
    region: m[3]!,
    service: m[4]!,
    signedHeaders: m[5]!.split(';'),
    signature: m[6]!,
  };
}

/**
 * Returns the headers of a request re-signed for `body` (a changed body or changed headers):
 * updates `x-amz-content-sha256` (when the original signed a payload hash), `Content-MD5` and
 * `Content-Length`, drops `x-amz-checksum-*` headers it cannot recompute, and recomputes the
 * signature. Requests that are not header-signed SigV4 (anonymous, presigned) are returned unchanged.
 */
export function resign(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  secretAccessKey: string,
): IncomingHttpHeaders {
  const auth = parseAuthorization(headerValue(headers.authorization));
  if (auth === undefined) return headers;
  const out: IncomingHttpHeaders = { ...headers };
  const payload = headerValue(out['x-amz-content-sha256']);
  if (/^[0-9a-f]{64}$/.test(payload))
    out['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
  if (out['content-md5'] !== undefined) out['content-md5'] = createHash('md5').update(body).digest('base64');
  if (out['content-length'] !== undefined) out['content-length'] = String(body.length);
  for (const name of Object.keys(out))
    if (name.startsWith('x-amz-checksum-') || name === 'x-amz-sdk-checksum-algorithm') delete out[name];
  const signedHeaders = auth.signedHeaders.filter((h) => out[h] !== undefined);
  const signature = sigV4Signature(method, url, out, signedHeaders, auth, secretAccessKey);
  out.authorization = `AWS4-HMAC-SHA256 Credential=${auth.accessKeyId}/${auth.date}/${auth.region}/${auth.service}/aws4_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return out;
}
