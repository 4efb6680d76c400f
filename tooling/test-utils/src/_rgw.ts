// Owns the Ceph RGW test cluster: one monitor, one memstore OSD and one radosgw (beast on
// 127.0.0.1), written to a fresh ceph.conf in its own data directory, started on free ports, and a
// user with fixed test keys. Settings and their reasons: /work/shared/research/libraries.md.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Daemon, fileTail, freePort, guardDirectory, run, sleep, startDaemon } from './_daemons.js';

/** The fixed keys of the RGW test user (uid `audex-test`). */
export const RGW_CREDENTIALS = {
  accessKeyId: 'AUDEXRGWTESTKEY00000',
  secretAccessKey: 'audex-rgw-test-secret-key-0000000000000',
} as const;

/** The SSE-KMS key id RGW's `testing` KMS backend knows. */
export const RGW_KMS_KEY_ID = 'testkey-1';

const BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph', 'monmaptool'];

/** What {@link startRgwCluster} returns. */
export interface RgwCluster {
  readonly directory: string;
  readonly port: number;
  readonly running: boolean;
  stopGateway(graceful: boolean): Promise<void>;
  startGateway(): Promise<void>;
  close(): Promise<void>;
  logTail(): string;
}

function conf(dir: string, fsid: string, monPort: number, rgwPort: number, memstoreBytes: number): string {
  // The testing KMS backend takes the key as base64 of 32 bytes; derived, so it is the same every run.
  const kmsKey = createHash('sha256').update('audex rgw testkey-1').digest('base64');
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
run dir = ${dir}/run
crash dir = ${dir}/crash
admin socket = ${dir}/run/$name.$pid.asok
log file = ${dir}/log/$name.log
mon cluster log file = ${dir}/log/cluster.log
pid file =
mon data = ${dir}/mon
osd data = ${dir}/osd
osd objectstore = memstore
memstore device bytes = ${memstoreBytes}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon max pg per osd = 1000
mon data avail warn = 0
mon data avail crit = 0
paxos propose interval = 0.05
paxos min wait = 0.01

[client]
ms mon client mode = crc secure

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
rgw crypt require ssl = false
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = ${RGW_KMS_KEY_ID}=${kmsKey}
rgw gc obj min wait = 10
rgw gc processor period = 10
`;
}

/** Resolves true once `GET /` on the port answers 200 (anonymous ListBuckets). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

function checkInstalled(): void {
  const missing = BINARIES.filter(
    (b) => !['/usr/bin', '/usr/local/bin', '/bin'].some((d) => existsSync(join(d, b))),
  );
  if (missing.length > 0)
    throw new Error(
      `startS3Server({ kind: 'rgw' }): Ceph is not installed (missing ${missing.join(', ')}); ` +
        'run scripts/setup.sh or apt-get install ceph-mon ceph-osd radosgw ceph-common',
    );
}

/**
 * Starts a one-node Ceph cluster with a gateway. Rejects, after killing whatever it started and
 * removing its directory, with the daemons' log tails when a daemon exits or `timeoutMs` passes.
 * A port taken between choosing it and binding it (another process got it first) means one more
 * attempt on new ports.
 */
export async function startRgwCluster(options: {
  timeoutMs: number;
  memstoreBytes: number;
}): Promise<RgwCluster> {
  checkInstalled();
  try {
    return await attempt(options);
  } catch (error) {
    if (!/Address already in use/.test((error as Error).message)) throw error;
    return attempt(options);
  }
}

async function attempt(options: { timeoutMs: number; memstoreBytes: number }): Promise<RgwCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'audex-rgw-'));
  const dirGuard = guardDirectory(dir);
  for (const sub of ['run', 'crash', 'log', 'mon', 'osd', 'rgw']) mkdirSync(join(dir, sub));
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const confPath = join(dir, 'ceph.conf');
  const fsid = randomUUID();
  writeFileSync(confPath, conf(dir, fsid, monPort, rgwPort, options.memstoreBytes));
  const c = ['-c', confPath];
  const daemons: { mon?: Daemon; osd?: Daemon; rgw?: Daemon } = {};
  const deadline = Date.now() + options.timeoutMs;
  const left = (): number => Math.max(1000, deadline - Date.now());
  const tools = new AbortController();
  /** Tool runs (monmaptool, ceph, radosgw-admin…) not yet exited: a failed start waits for them. */
  const running = new Set<Promise<string>>();
  const tool = (command: string, args: string[]): Promise<string> => {
    const done = run(command, args, { cwd: dir, timeoutMs: left(), signal: tools.signal });
    running.add(done);
    const forget = (): void => void running.delete(done);
    done.then(forget, forget);
    return done;
  };

  const logTail = (): string =>
    [
      ['mon', daemons.mon, 'mon.a.log'],
      ['osd', daemons.osd, 'osd.0.log'],
      ['radosgw', daemons.rgw, 'client.rgw.log'],
    ]
      .map(([label, daemon, file]) => {
        const d = daemon as Daemon | undefined;
        const state = d === undefined ? 'not started' : d.alive ? 'running' : 'exited';
        const out = d?.output() ?? '';
        const log = fileTail(join(dir, 'log', file as string), 12);
        return `--- ${label} (${state})${out ? `\n${out}` : ''}${log ? `\n${log}` : ''}`;
      })
      .join('\n');

  const killAll = async (): Promise<void> => {
    // abort() SIGKILLs the tools still running; their run() settles once each has exited (and was
    // reaped), so none is left behind when the start fails
    tools.abort();
    await Promise.allSettled(running);
    await Promise.all([daemons.rgw, daemons.osd, daemons.mon].map((d) => d?.kill('SIGKILL')));
  };

  /** Fails as soon as one of the daemons exits. */
  const whileAlive = async <T>(what: string, work: Promise<T>): Promise<T> => {
    const exits = (Object.values(daemons) as Daemon[]).map((d) =>
      d.exited.then((how) => {
        throw new Error(`${d.name} exited (${how}) while ${what}`);
      }),
    );
    return Promise.race([work, ...exits]);
  };

  const startGateway = async (until: number): Promise<void> => {
    if (daemons.rgw?.alive) return;
    const rgw = startDaemon('radosgw', 'radosgw', [...c, '-n', 'client.rgw', '-f'], dir);
    daemons.rgw = rgw;
    const ready = (async () => {
      while (Date.now() < until) {
        if (await answers(rgwPort)) return;
        await sleep(50);
      }
      throw new Error(`radosgw did not answer on 127.0.0.1:${rgwPort} in time`);
    })();
    await whileAlive('waiting for the gateway to answer', ready);
  };

  try {
    await tool('monmaptool', [
      '--create',
      '--addv',
      'a',
      `[v2:127.0.0.1:${monPort}]`,
      '--fsid',
      fsid,
      'monmap',
    ]);
    await tool('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')]);
    daemons.mon = startDaemon('ceph-mon', 'ceph-mon', [...c, '-i', 'a', '-f'], dir);
    const osdUuid = randomUUID();
    const osdId = await whileAlive(
      'registering the OSD',
      tool('ceph', [...c, '--connect-timeout', String(Math.ceil(left() / 1000)), 'osd', 'new', osdUuid]),
    );
    if (osdId.trim() !== '0') throw new Error(`ceph osd new answered id ${osdId.trim()}, expected 0`);
    await tool('ceph-osd', [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid]);
    daemons.osd = startDaemon('ceph-osd', 'ceph-osd', [...c, '-i', '0', '-f'], dir);
    // The user lives in RADOS: create it while the gateway starts (both wait for the OSD).
    const user = whileAlive(
      'creating the test user',
      tool('radosgw-admin', [
        ...c,
        'user',
        'create',
        '--uid',
        'audex-test',
        '--display-name',
        'audex test user',
        '--access-key',
        RGW_CREDENTIALS.accessKeyId,
        '--secret-key',
        RGW_CREDENTIALS.secretAccessKey,
      ]),
    );
    await Promise.all([startGateway(deadline), user]);
  } catch (error) {
    const tail = logTail();
    await killAll();
    rmSync(dir, { recursive: true, force: true });
    dirGuard.release();
    throw new Error(`startS3Server({ kind: 'rgw' }) failed: ${(error as Error).message}\n${tail}`, {
      cause: error,
    });
  }

  return {
    directory: dir,
    port: rgwPort,
    get running() {
      return daemons.rgw?.alive ?? false;
    },
    async stopGateway(graceful) {
      await daemons.rgw?.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    },
    async startGateway() {
      try {
        await startGateway(Date.now() + options.timeoutMs);
      } catch (error) {
        const tail = logTail();
        await daemons.rgw?.kill('SIGKILL');
        throw new Error(
          `restarting radosgw on port ${rgwPort} failed: ${(error as Error).message}\n${tail}`,
          {
            cause: error,
          },
        );
      }
    },
    async close() {
      // SIGKILL: a memstore OSD stopped gracefully first writes all its objects to disk.
      await killAll();
      rmSync(dir, { recursive: true, force: true });
      dirGuard.release();
    },
    logTail,
  };
}
