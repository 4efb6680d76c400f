// Owns the S3 fault-injection proxy: an HTTP proxy in front of a local S3 server (s3rver or RGW)
// that counts requests by S3 operation and injects the faults a signing server still lets through:
// error answers (5xx, SlowDown), dropped connections, delays, tampered responses (headers, bodies
// cut short or extended, Complete ETags) and ETags that are not MD5s. Request bodies pass through
// untouched (RGW verifies signatures and Content-MD5); the one exception is `rewriteETags`, which
// maps ETags back in requests and re-signs them.
import { randomBytes } from 'node:crypto';
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resign } from './_sigv4.js';

/** The S3 operations the proxy tells apart (path-style requests). */
export type S3RequestKind =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'ListObjects'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'GetObjectAttributes'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'Other';

/** One request the proxy received. */
export interface ProxiedRequest {
  /** Arrival order, from 0 (reset by `reset()`: counts from the reset). */
  readonly index: number;
  readonly kind: S3RequestKind;
  readonly method: string;
  /** The raw request target (path and query, as sent). */
  readonly url: string;
  readonly bucket: string | undefined;
  /** The object key, decoded. */
  readonly key: string | undefined;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** `partNumber` of UploadPart / UploadPartCopy. */
  readonly partNumber: number | undefined;
  readonly uploadId: string | undefined;
  /** Request body bytes received so far, as sent on the wire (final once `done`). */
  bodyBytes: number;
  /** The status the client was answered, undefined while pending or when its connection was dropped. */
  status: number | undefined;
  /** The fault applied (its `type`), or undefined. */
  fault: S3Fault['type'] | undefined;
  /** True once the exchange ended (answered, dropped or failed). */
  done: boolean;
}

/** Response headers and status as the proxy is about to send them (mutable). */
export interface ResponseHead {
  status: number;
  headers: OutgoingHttpHeaders;
}

/**
 * What the proxy does to a request a rule applies to.
 * - `respond`: answers `status` with an S3 error body (`code`, `message`) without forwarding;
 *   the request body is read and discarded first.
 * - `drop`: closes the client's connection without an answer and without forwarding.
 * - `dropAfterForward`: forwards it (the server acts on it), then closes the client's connection
 *   instead of answering.
 * - `delay`: waits `ms` before forwarding it.
 * - `head`: forwards it and lets `change` edit the answer's status and headers (the body is passed
 *   unchanged; on a HEAD answer that means e.g. a different `Content-Length`).
 * - `cutBody`: forwards it and sends only the first `bytes` bytes of the answer's body. With
 *   `keepLength` (default) the advertised `Content-Length` stays and the connection is then closed
 *   (the client sees a premature end); without, `Content-Length` says `bytes` (a consistent but
 *   short answer).
 * - `extendBody`: forwards it and appends `bytes` (or that many random bytes) to the answer's
 *   body, `Content-Length` adjusted.
 * - `body`: forwards it, reads the whole answer and sends `rewrite(body, head)` instead
 *   (`Content-Length` adjusted); `rewrite` may also edit `head`.
 */
export type S3Fault =
  | { type: 'respond'; status: number; code: string; message?: string; headers?: OutgoingHttpHeaders }
  | { type: 'drop' }
  | { type: 'dropAfterForward' }
  | { type: 'delay'; ms: number }
  | { type: 'head'; change: (head: ResponseHead, request: ProxiedRequest) => void }
  | { type: 'cutBody'; bytes: number; keepLength?: boolean }
  | { type: 'extendBody'; bytes: number | Uint8Array }
  | { type: 'body'; rewrite: (body: Buffer, head: ResponseHead, request: ProxiedRequest) => Buffer | string };

/** Ready-made faults. */
export const s3Faults = {
  /** An S3 error answer: `status` with `<Error><Code>code</Code>…`. */
  error: (status: number, code: string, message = 'injected by the audex fault proxy'): S3Fault => ({
    type: 'respond',
    status,
    code,
    message,
  }),
  /** 503 SlowDown, S3's throttling answer. */
  slowDown: (): S3Fault => s3Faults.error(503, 'SlowDown', 'Please reduce your request rate.'),
  /** 500 InternalError. */
  internalError: (): S3Fault => s3Faults.error(500, 'InternalError', 'We encountered an internal error.'),
  /** 503 ServiceUnavailable. */
  serviceUnavailable: (): S3Fault =>
    s3Faults.error(503, 'ServiceUnavailable', 'Service is unable to handle request.'),
  /** Answers with `Content-Length` set to `length` (or `length(actual)`): a HEAD reporting another size. */
  contentLength: (length: number | ((actual: number) => number)): S3Fault => ({
    type: 'head',
    change(head) {
      const actual = Number(head.headers['content-length'] ?? 0);
      head.headers['content-length'] = String(typeof length === 'number' ? length : length(actual));
    },
  }),
  /** A body cut after `bytes` bytes (see {@link S3Fault} `cutBody`). */
  cutBody: (bytes: number, options: { keepLength?: boolean } = {}): S3Fault => ({
    type: 'cutBody',
    bytes,
    keepLength: options.keepLength ?? true,
  }),
  /** A body with `bytes` more bytes (random when a count is given). */
  extendBody: (bytes: number | Uint8Array): S3Fault => ({ type: 'extendBody', bytes }),
  /**
   * A CompleteMultipartUpload answer whose `<ETag>` is `etag` (`''`: empty, as RGW 16 answers;
   * `null`: the element removed; other text is sent quoted, as S3 does).
   */
  completeETag: (etag: string | null): S3Fault => ({
    type: 'body',
    rewrite: (body) =>
      body
        .toString('utf8')
        .replace(
          /<ETag>[^<]*<\/ETag>/,
          etag === null ? '' : `<ETag>${etag === '' ? '' : `&quot;${etag}&quot;`}</ETag>`,
        ),
  }),
} as const;

/** When and how the proxy injects a fault. */
export interface S3FaultRule {
  /** The requests it is about: one kind, several kinds, or a predicate. */
  match: S3RequestKind | readonly S3RequestKind[] | ((request: ProxiedRequest) => boolean);
  /** How many matching requests pass untouched before it applies. Default 0. */
  after?: number;
  /** How many matching requests it applies to, then it retires. Default: every one. */
  times?: number;
  /**
   * Runs (awaited) when it applies, before the request is forwarded: e.g. `() => server.stop()`
   * to kill the server mid-upload. The request is then forwarded (or faulted) as usual.
   */
  before?: (request: ProxiedRequest) => void | Promise<void>;
  /** The fault; none to only run `before`. */
  fault?: S3Fault;
}

/** A rule added by {@link S3FaultProxy.inject}. */
export interface InjectedFault {
  /** How many requests it matched so far (applied or not). */
  readonly matched: number;
  /** How many requests it was applied to. */
  readonly applied: number;
  /** Removes the rule. */
  remove(): void;
}

/** Options of {@link startS3FaultProxy}. */
export interface S3FaultProxyOptions {
  /**
   * Rewrites every ETag in answers (the `ETag` header, `<ETag>` in XML answers) to other hex
   * digits (each digit d becomes 15 - d, the `-N` of multipart ETags kept), so ETags are not MD5s
   * of the bytes, as on AWS under SSE-KMS/SSE-C. ETags in requests (CompleteMultipartUpload's part
   * list, `If-Match` and copy-source conditions) are mapped back and the request re-signed with the
   * server's credentials, so the server accepts them. Can be changed later via `rewriteETags`.
   */
  rewriteETags?: boolean;
}

/** A running fault proxy. */
export interface S3FaultProxy {
  /** `http://127.0.0.1:PORT`: give it to the client (path-style) instead of the server's. */
  readonly endpoint: string;
  readonly port: number;
  /** Every request since start or the last `reset()`, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /** See {@link S3FaultProxyOptions.rewriteETags}. */
  rewriteETags: boolean;
  /** How many requests (of `kind`, or matching the predicate; all by default) since the last reset. */
  count(kind?: S3RequestKind | ((request: ProxiedRequest) => boolean)): number;
  /** Request body bytes (as received) of those requests: e.g. `bodyBytes('UploadPart')`. */
  bodyBytes(kind?: S3RequestKind | ((request: ProxiedRequest) => boolean)): number;
  /** Adds a rule (rules are checked in the order added; the first that applies is used). */
  inject(rule: S3FaultRule): InjectedFault;
  /** Removes every rule. */
  clearFaults(): void;
  /** Forgets the recorded requests (counts start again from 0). */
  reset(): void;
  /** Closes the proxy and its connections. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const OBJECT_XML_ANSWERS: ReadonlySet<S3RequestKind> = new Set([
  'CompleteMultipartUpload',
  'ListParts',
  'ListObjects',
  'CopyObject',
  'UploadPartCopy',
]);
const ETAG_REQUEST_HEADERS = [
  'if-match',
  'if-none-match',
  'x-amz-copy-source-if-match',
  'x-amz-copy-source-if-none-match',
];

/** Each hex digit d of every 32-digit run becomes 15 - d: its own inverse, and never the same digit. */
export function flipETagDigits(text: string): string {
  return text.replace(/[0-9a-fA-F]{32}/g, (run) =>
    run.replace(/[0-9a-fA-F]/g, (d) => (15 - Number.parseInt(d, 16)).toString(16)),
  );
}

/** The S3 operation of a path-style request. */
export function classifyS3Request(
  method: string,
  path: string,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
): S3RequestKind {
  // The SDK adds `x-id=<Operation>` to some requests (PutObject, UploadPart, GetObject…).
  query = new URLSearchParams([...query].filter(([k]) => k !== 'x-id'));
  const parts = path.split('/');
  const bucket = parts[1] ?? '';
  const hasKey = parts.length > 2 && parts.slice(2).join('/') !== '';
  const copy = headers['x-amz-copy-source'] !== undefined;
  if (bucket === '') return method === 'GET' ? 'ListBuckets' : 'Other';
  if (!hasKey) {
    if (method === 'PUT' && [...query.keys()].length === 0) return 'CreateBucket';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'DELETE' && [...query.keys()].length === 0) return 'DeleteBucket';
    if (method === 'GET' && query.has('uploads')) return 'ListMultipartUploads';
    if (method === 'GET' && [...query.keys()].every((k) => LIST_PARAMS.has(k))) return 'ListObjects';
    if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
    return 'Other';
  }
  const uploadId = query.has('uploadId');
  switch (method) {
    case 'PUT':
      if (uploadId && query.has('partNumber')) return copy ? 'UploadPartCopy' : 'UploadPart';
      if ([...query.keys()].length === 0) return copy ? 'CopyObject' : 'PutObject';
      return 'Other';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      if (uploadId) return 'CompleteMultipartUpload';
      return 'Other';
    case 'DELETE':
      return uploadId ? 'AbortMultipartUpload' : [...query.keys()].length === 0 ? 'DeleteObject' : 'Other';
    case 'GET':
      if (uploadId) return 'ListParts';
      if (query.has('attributes')) return 'GetObjectAttributes';
      return [...query.keys()].every((k) => k.startsWith('response-') || k === 'partNumber')
        ? 'GetObject'
        : 'Other';
    case 'HEAD':
      return 'HeadObject';
    default:
      return 'Other';
  }
}
const LIST_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'marker',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
]);

const errorXml = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${randomBytes(8).toString('hex')}</RequestId></Error>`;

function readAll(stream: IncomingMessage, onData?: (bytes: number) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      onData?.(c.length);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
    stream.once('aborted', () => reject(new Error('aborted')));
  });
}

interface Rule {
  readonly spec: S3FaultRule;
  matched: number;
  applied: number;
}

/**
 * Starts an HTTP proxy on 127.0.0.1 and a free port in front of `server` (an {@link S3Server}
 * from `startS3Server`, or any `{ port, credentials }`; the port is read on every request, so the
 * proxy keeps working across `server.restart()`). It records every request (kind, key, part number,
 * body bytes, status) and applies the rules given to `inject()`. Requests are forwarded with their
 * body and headers untouched (only `Expect`, which SigV4 never signs, is dropped), so signatures
 * and Content-MD5 still verify. When the server is down, client connections are closed without an
 * answer, as a dead server would. Only path-style requests are classified.
 *
 * @example
 * const proxy = await startS3FaultProxy(server);
 * proxy.inject({ match: 'UploadPart', after: 2, times: 1, fault: s3Faults.slowDown() });
 * proxy.inject({ match: 'HeadObject', fault: s3Faults.contentLength((n) => n + 1) });
 * const s3 = new S3Client(server.clientConfig(proxy.endpoint));
 * …
 * expect(proxy.count('UploadPart')).toBe(5);
 */
export async function startS3FaultProxy(
  server: {
    readonly port: number;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  },
  options: S3FaultProxyOptions = {},
): Promise<S3FaultProxy> {
  let requests: ProxiedRequest[] = [];
  let rules: Rule[] = [];
  let rewriteETags = options.rewriteETags ?? false;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<Socket>();

  const pick = (req: ProxiedRequest): Rule | undefined => {
    let chosen: Rule | undefined;
    for (const rule of rules) {
      const { match, after = 0, times = Number.POSITIVE_INFINITY } = rule.spec;
      const hit =
        typeof match === 'function'
          ? match(req)
          : typeof match === 'string'
            ? req.kind === match
            : match.includes(req.kind);
      if (!hit) continue;
      rule.matched += 1;
      if (chosen === undefined && rule.matched > after && rule.applied < times) chosen = rule;
    }
    if (chosen !== undefined) chosen.applied += 1;
    return chosen;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const at = url.indexOf('?');
    const path = at === -1 ? url : url.slice(0, at);
    const query = new URLSearchParams(at === -1 ? '' : url.slice(at + 1));
    const method = req.method ?? 'GET';
    const kind = classifyS3Request(method, path, query, req.headers);
    const parts = path.split('/');
    const key = parts.length > 2 ? parts.slice(2).join('/') : '';
    const partNumber = query.get('partNumber');
    const record: ProxiedRequest = {
      index: requests.length,
      kind,
      method,
      url,
      bucket: parts[1] ? decodeURIComponent(parts[1]) : undefined,
      key: key === '' ? undefined : decodeURIComponent(key),
      query,
      headers: req.headers,
      partNumber: partNumber === null ? undefined : Number(partNumber),
      uploadId: query.get('uploadId') ?? undefined,
      bodyBytes: 0,
      status: undefined,
      fault: undefined,
      done: false,
    };
    requests.push(record);
    res.once('close', () => {
      record.done = true;
    });
    const drop = (): void => {
      record.done = true;
      req.socket.destroy();
    };

    const rule = pick(record);
    const fault = rule?.spec.fault;
    record.fault = fault?.type;
    if (rule?.spec.before !== undefined) await rule.spec.before(record);

    if (fault?.type === 'drop') return drop();
    if (fault?.type === 'respond') {
      await readAll(req, (n) => {
        record.bodyBytes += n;
      }).catch(() => undefined);
      const body = errorXml(fault.code, fault.message ?? fault.code);
      record.status = fault.status;
      res
        .writeHead(fault.status, {
          'content-type': 'application/xml',
          'content-length': Buffer.byteLength(body),
          ...fault.headers,
        })
        .end(body);
      return;
    }
    if (fault?.type === 'delay') await new Promise((r) => setTimeout(r, fault.ms));

    // Forward. ETag rewriting needs the (small) request body to map ETags back and re-sign.
    const headers: IncomingHttpHeaders = { ...req.headers };
    delete headers.expect;
    let body: Buffer | undefined;
    const flip = rewriteETags;
    if (flip && (kind === 'CompleteMultipartUpload' || ETAG_REQUEST_HEADERS.some((h) => h in headers))) {
      const original = await readAll(req, (n) => {
        record.bodyBytes += n;
      }).catch(() => undefined);
      if (original === undefined) return drop();
      for (const h of ETAG_REQUEST_HEADERS) {
        const value = headers[h];
        if (typeof value === 'string') headers[h] = flipETagDigits(value);
      }
      body =
        kind === 'CompleteMultipartUpload'
          ? Buffer.from(
              original
                .toString('utf8')
                .replace(/<ETag>([^<]*)<\/ETag>/g, (_, e: string) => `<ETag>${flipETagDigits(e)}</ETag>`),
            )
          : original;
      Object.assign(headers, resign(method, url, headers, body, server.credentials.secretAccessKey));
    }

    const upstream = request({
      host: '127.0.0.1',
      port: server.port,
      method,
      path: url,
      headers,
      agent,
    });
    upstream.once('error', drop);
    req.once('aborted', () => upstream.destroy());
    if (body !== undefined) upstream.end(body);
    else {
      req.on('data', (c: Buffer) => {
        record.bodyBytes += c.length;
      });
      req.pipe(upstream);
    }
    upstream.once('response', (up) => {
      up.once('error', drop);
      void answer(up, record, res, fault, flip).catch(drop);
    });
  };

  const answer = async (
    up: IncomingMessage,
    record: ProxiedRequest,
    res: ServerResponse,
    fault: S3Fault | undefined,
    flip: boolean,
  ): Promise<void> => {
    const head: ResponseHead = { status: up.statusCode ?? 502, headers: { ...up.headers } };
    if (flip && typeof head.headers.etag === 'string') head.headers.etag = flipETagDigits(head.headers.etag);
    const rewriteXml = flip && OBJECT_XML_ANSWERS.has(record.kind);
    const send = (): void => {
      record.status = head.status;
      res.writeHead(head.status, head.headers);
    };

    if (fault?.type === 'dropAfterForward') {
      up.resume();
      up.once('end', () => {
        record.done = true;
        res.socket?.destroy();
      });
      return;
    }
    if (fault?.type === 'body' || rewriteXml) {
      let data = await readAll(up);
      if (rewriteXml)
        data = Buffer.from(
          data
            .toString('utf8')
            .replace(/<ETag>([^<]*)<\/ETag>/g, (_, e: string) => `<ETag>${flipETagDigits(e)}</ETag>`),
        );
      if (fault?.type === 'body') {
        const out = fault.rewrite(data, head, record);
        data = typeof out === 'string' ? Buffer.from(out) : out;
      }
      delete head.headers['transfer-encoding'];
      head.headers['content-length'] = String(data.length);
      send();
      res.end(record.method === 'HEAD' ? undefined : data);
      return;
    }
    if (fault?.type === 'head') fault.change(head, record);
    if (fault?.type === 'extendBody') {
      const extra = typeof fault.bytes === 'number' ? randomBytes(fault.bytes) : Buffer.from(fault.bytes);
      if (head.headers['content-length'] !== undefined)
        head.headers['content-length'] = String(Number(head.headers['content-length']) + extra.length);
      send();
      up.pipe(res, { end: false });
      up.once('end', () => res.end(extra));
      return;
    }
    if (fault?.type === 'cutBody') {
      const keepLength = fault.keepLength ?? true;
      if (!keepLength) {
        const length = Number(head.headers['content-length'] ?? Number.POSITIVE_INFINITY);
        if (Number.isFinite(length)) head.headers['content-length'] = String(Math.min(length, fault.bytes));
      }
      send();
      let sent = 0;
      let cut = false;
      up.on('data', (chunk: Buffer) => {
        if (cut) return;
        const room = fault.bytes - sent;
        if (chunk.length < room) {
          sent += chunk.length;
          res.write(chunk);
          return;
        }
        cut = true;
        res.write(chunk.subarray(0, room));
        up.destroy();
        if (keepLength) res.destroy();
        else res.end();
      });
      up.once('end', () => {
        if (!cut) res.end();
      });
      return;
    }
    send();
    up.pipe(res);
  };

  const proxy = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  proxy.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (proxy.address() as AddressInfo).port;

  const select = (kind?: S3RequestKind | ((request: ProxiedRequest) => boolean)): ProxiedRequest[] =>
    kind === undefined
      ? requests
      : requests.filter(typeof kind === 'function' ? kind : (r) => r.kind === kind);
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    agent.destroy();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  };

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    get rewriteETags() {
      return rewriteETags;
    },
    set rewriteETags(value: boolean) {
      rewriteETags = value;
    },
    count: (kind) => select(kind).length,
    bodyBytes: (kind) => select(kind).reduce((sum, r) => sum + r.bodyBytes, 0),
    inject(spec) {
      const rule: Rule = { spec, matched: 0, applied: 0 };
      rules.push(rule);
      return {
        get matched() {
          return rule.matched;
        },
        get applied() {
          return rule.applied;
        },
        remove() {
          rules = rules.filter((r) => r !== rule);
        },
      };
    },
    clearFaults() {
      rules = [];
    },
    reset() {
      requests = [];
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
