import { randomBytes } from 'node:crypto';

import { type Clock, sleep } from '../../clock.js';
import { AgentError } from '../../errors.js';
import type { Logger } from '../../logging.js';
import { clampToScript, stoppedBeforeEndError } from '../classify.js';
import { cancelledError } from '../deadline.js';
import { fromByteString } from '../encoding.js';
import type { RunError } from '../types.js';
import type { ApiConnection } from './connection.js';

/**
 * Running a script over the API on RouterOS 6, which has no `/execute =as-string=`:
 *
 * 1. `/execute =script= =file=` starts the script as a background job that writes everything
 *    it printed, and the error that stopped it, to a file when it ends;
 * 2. `/system/script/job/print` is polled until the job is gone;
 * 3. a marker shows whether the script ran to its end, whatever the size of its output: the
 *    marker is an empty `/system script` item that a line appended to the script adds;
 * 4. `/file/print` returns the file's contents, which RouterOS shows only under about 4 KB;
 * 5. the file and the marker are removed.
 *
 * A timeout or abort removes the job, which stops the script.
 */

/** First and largest pause between two polls of the job list, in milliseconds. */
const FIRST_POLL_MS = 50;

const MAX_POLL_MS = 500;

export type BackgroundRunOptions = {
  connection: ApiConnection;
  clock: Clock;
  logger: Logger;
  codePage: string;
  /** Upper bound on each housekeeping command, in milliseconds. */
  commandTimeoutMs: number;
  /** Upper bound on the whole run, in milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
};

/** Result of a background run. */
export type BackgroundRunOutcome = {
  output: string;
  outputCaptured: boolean;
  error?: RunError;
};

/** Runs script bytes as a background job and collects its result. Throws on lost connections. */
export async function runInBackground(
  scriptBytes: string,
  options: BackgroundRunOptions,
): Promise<BackgroundRunOutcome> {
  const suffix = randomBytes(6).toString('hex');
  const fileName = `edge-agent-${suffix}`;
  const marker = `edge-agent-done-${suffix}`;
  // Two line ends, so that a trailing `\` in the script joins an empty line, not the marker.
  const source = `${scriptBytes}\r\n\r\n/system script add name=${marker} source=""\r\n`;
  const { connection, commandTimeoutMs } = options;

  const started = await connection.command(['/execute', `=script=${source}`, `=file=${fileName}`], {
    timeoutMs: commandTimeoutMs,
  });
  const jobId = started.done.ret;
  if (jobId === undefined) {
    throw new AgentError(
      'DEVICE_PROTOCOL_ERROR',
      `device ${connection.deviceId} returned no job id for /execute`,
    );
  }

  try {
    await waitForJob(jobId, options);
  } catch (error) {
    await removeQuietly(options, '/system/script/job/remove', jobId);
    await cleanUp(options, fileName, marker);
    throw error;
  }

  const ranToEnd = await readMarker(options, marker);
  const file = await readOutputFile(options, `${fileName}.txt`);
  await cleanUp(options, fileName, marker);
  const result = outcome(ranToEnd, file);
  if (result.error !== undefined) {
    result.error = clampToScript(result.error, fromByteString(scriptBytes, options.codePage));
  }

  return result;
}

async function waitForJob(jobId: string, options: BackgroundRunOptions): Promise<void> {
  const { clock, connection, signal } = options;
  const deadline = clock.now() + options.timeoutMs;
  let pauseMs = FIRST_POLL_MS;

  for (;;) {
    // The poll is short, so it runs without the signal: an abort is seen during the pause, and
    // the job is removed at once instead of after a `/cancel` for the poll.
    const jobs = await connection.command(['/system/script/job/print', `?.id=${jobId}`], {
      timeoutMs: options.commandTimeoutMs,
    });
    if (jobs.rows.length === 0) {
      return;
    }

    const remainingMs = deadline - clock.now();
    if (remainingMs <= 0) {
      throw new AgentError(
        'TIMEOUT',
        `the script on device ${connection.deviceId} did not finish within ${options.timeoutMs} ms; its job was removed to stop it`,
        { details: { timeoutMs: options.timeoutMs } },
      );
    }

    try {
      await sleep(clock, Math.min(pauseMs, remainingMs), signal);
    } catch {
      throw cancelledError(signal, `the run on device ${connection.deviceId}`);
    }

    pauseMs = Math.min(pauseMs * 2, MAX_POLL_MS);
  }
}

async function readMarker(options: BackgroundRunOptions, marker: string): Promise<boolean> {
  const reply = await options.connection.command(
    ['/system/script/print', `?name=${marker}`, '=.proplist=.id'],
    { timeoutMs: options.commandTimeoutMs },
  );
  return reply.rows.length > 0;
}

type OutputFile = { contents: string | undefined; sizeBytes: number };

async function readOutputFile(options: BackgroundRunOptions, name: string): Promise<OutputFile> {
  const reply = await options.connection.command(['/file/print', `?name=${name}`], {
    timeoutMs: options.commandTimeoutMs,
  });
  const row = reply.rows[0];
  if (row === undefined) {
    return { contents: '', sizeBytes: 0 };
  }

  const contents =
    row.contents === undefined ? undefined : fromByteString(row.contents, options.codePage);
  return { contents, sizeBytes: Number.parseInt(row.size ?? '0', 10) || 0 };
}

function outcome(ranToEnd: boolean, file: OutputFile): BackgroundRunOutcome {
  if (file.contents === undefined) {
    const result: BackgroundRunOutcome = { output: '', outputCaptured: false };
    if (!ranToEnd) {
      result.error = {
        code: 'SCRIPT_FAILED',
        message: `the script stopped before its end; its ${file.sizeBytes}-byte output, which holds the error, is too large to read over the RouterOS 6 API (about 4 KB at most); run it over SSH to see it`,
      };
    }

    return result;
  }

  if (ranToEnd) {
    return { output: file.contents, outputCaptured: true };
  }

  return {
    output: file.contents,
    outputCaptured: true,
    error: stoppedBeforeEndError(file.contents),
  };
}

async function cleanUp(options: BackgroundRunOptions, fileName: string, marker: string) {
  await removeByQuery(options, '/file', `?name=${fileName}.txt`);
  await removeByQuery(options, '/system/script', `?name=${marker}`);
}

/** Removes the items a query finds. A failure is only logged, because the run's result is kept. */
async function removeByQuery(options: BackgroundRunOptions, menu: string, query: string) {
  try {
    const reply = await options.connection.command([`${menu}/print`, query, '=.proplist=.id'], {
      timeoutMs: options.commandTimeoutMs,
    });
    for (const row of reply.rows) {
      if (row['.id'] !== undefined) {
        await removeQuietly(options, `${menu}/remove`, row['.id']);
      }
    }
  } catch (error) {
    options.logger.warn({ err: error, menu, query }, 'temporary item of a run not removed');
  }
}

async function removeQuietly(options: BackgroundRunOptions, command: string, id: string) {
  if (options.connection.closed) {
    return;
  }

  try {
    await options.connection.command([command, `=.id=${id}`], {
      timeoutMs: options.commandTimeoutMs,
    });
  } catch (error) {
    options.logger.warn({ err: error, command, id }, 'temporary item of a run not removed');
  }
}
