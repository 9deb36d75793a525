/**
 * Capacity of the RouterOS simulator in one process: how long 1,000 devices take to start,
 * the memory they hold, and the API requests per second they sustain. The load runs in a
 * worker thread, so the fleet's event loop has the main thread to itself.
 *
 * Usage: node dist/bench/simulator-capacity.js [--devices N] [--connections N] [--seconds N]
 */
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { encodeSentence, SentenceDecoder } from '../src/devices/api/codec.js';
import { readPasswordFile } from '../src/simulator/fleet/credentials.js';
import { startFleet } from '../src/simulator/fleet/fleet.js';

type LoadPlan = { ports: number[]; password: string; seconds: number };

type LoadResult = { requests: number; failures: number; elapsedMs: number };

const REQUEST = encodeSentence(['/system/identity/print']);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '1000' },
      connections: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '10' },
    },
  });
  const devices = Number(values.devices);
  const connections = Math.min(Number(values.connections), devices);
  const seconds = Number(values.seconds);

  const rssBeforeMiB = process.memoryUsage().rss / 2 ** 20;
  const started = performance.now();
  const fleet = await startFleet({ devices });
  const startMs = performance.now() - started;
  const rssIdleMiB = process.memoryUsage().rss / 2 ** 20;

  const inventory = fleet.inventory();
  const password = await readPasswordFile(inventory[0]?.passwordFile ?? '');
  const step = Math.max(1, Math.floor(devices / connections));
  const ports = Array.from(
    { length: connections },
    (_, index) => inventory[index * step]?.ports.api ?? 0,
  );

  const result = await runLoad({ ports, password, seconds });
  const rssLoadedMiB = process.memoryUsage().rss / 2 ** 20;
  await fleet.close();

  const report = {
    devices,
    listeningSockets: devices * 3,
    startMs: Math.round(startMs),
    rssBeforeMiB: round(rssBeforeMiB),
    rssIdleMiB: round(rssIdleMiB),
    rssUnderLoadMiB: round(rssLoadedMiB),
    connections,
    seconds,
    requests: result.requests,
    failures: result.failures,
    requestsPerSecond: Math.round((result.requests * 1000) / result.elapsedMs),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

function runLoad(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: plan });
    worker.once('message', (result: LoadResult) => resolve(result));
    worker.once('error', reject);
  });
}

/** Worker: one logged-in connection per port, each sending one request after another. */
async function generateLoad(plan: LoadPlan): Promise<LoadResult> {
  const deadline = performance.now() + plan.seconds * 1000;
  const started = performance.now();
  const results = await Promise.all(plan.ports.map((port) => drive(port, plan.password, deadline)));
  return {
    requests: results.reduce((sum, item) => sum + item.requests, 0),
    failures: results.reduce((sum, item) => sum + item.failures, 0),
    elapsedMs: performance.now() - started,
  };
}

function drive(port: number, password: string, deadline: number) {
  return new Promise<{ requests: number; failures: number }>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const decoder = new SentenceDecoder();
    let loggedIn = false;
    let requests = 0;
    let failures = 0;

    socket.setNoDelay(true);
    socket.once('connect', () => {
      socket.write(encodeSentence(['/login', '=name=admin', `=password=${password}`]));
    });
    socket.on('data', (chunk: Buffer) => {
      for (const sentence of decoder.push(chunk)) {
        if (sentence[0] === '!trap') {
          failures++;
        }

        if (sentence[0] !== '!done') {
          continue;
        }

        if (loggedIn) {
          requests++;
        }

        loggedIn = true;
        if (performance.now() >= deadline) {
          socket.end();
          return;
        }

        socket.write(REQUEST);
      }
    });
    socket.on('error', () => {
      failures++;
    });
    socket.on('close', () => resolve({ requests, failures }));
  });
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

if (isMainThread) {
  main().catch((error: unknown) => {
    process.stderr.write(`simulator-capacity: ${error instanceof Error ? error.stack : error}\n`);
    process.exitCode = 1;
  });
} else {
  void generateLoad(workerData as LoadPlan).then((result) => parentPort?.postMessage(result));
}
