import { AgentError } from '../errors.js';
import type { Stack } from './stack.js';

/** `ScriptProgress` of the Scripts API: site ids by verdict. */
export type ScriptProgress = { completed: string[]; failed: string[]; pending: string[] };

/** One device of `GET /scripts/scheduled/{id}/sites/{siteId}`. */
export type DeviceResult = {
  device_id: string;
  state: string;
  error_code: string | null;
  error_message: string | null;
  error_line: number | null;
  error_column: number | null;
  output: string | null;
  output_captured: boolean;
};

/** The body of `GET /scripts/scheduled/{id}/sites/{siteId}`. */
export type SiteDetail = {
  verdict: string;
  delivery: { state: string } | null;
  devices: DeviceResult[];
};

/** A Scripts API client that keeps the raw text of every response it read. */
export class ScriptsApi {
  /** Raw response bodies in arrival order. */
  readonly responses: string[] = [];

  private readonly stack: Stack;

  constructor(stack: Stack) {
    this.stack = stack;
  }

  /** Sends a request with the operator's token; throws unless the status is 2xx. */
  async request(method: string, pathname: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.stack.secrets.apiToken}`,
    };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
    }

    const response = await fetch(`${this.stack.apiUrl}${pathname}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    this.responses.push(text);
    if (!response.ok) {
      throw new AgentError(
        'REQUEST_INVALID',
        `${method} ${pathname} returned ${response.status}: ${text.slice(0, 500)}`,
      );
    }

    return text === '' ? undefined : JSON.parse(text);
  }

  /**
   * Creates the script for the stack's site, authorizes it and launches it at once. Returns
   * the scheduled script's id.
   */
  async launchScript(description: string, script: string): Promise<string> {
    const created = (await this.request('POST', '/scripts/scheduled', {
      description,
      script,
      launch_at: new Date(Date.now() + 60 * 60 * 1000).toISOString(),
      sites: [this.stack.siteId],
      make_backup: false,
    })) as { id: string };
    await this.request('POST', `/scripts/scheduled/${created.id}/authorize`);
    await this.request('POST', `/scripts/scheduled/${created.id}/launch`);
    return created.id;
  }

  progress(scriptId: string): Promise<ScriptProgress> {
    return this.request(
      'GET',
      `/scripts/scheduled/${scriptId}/progress`,
    ) as Promise<ScriptProgress>;
  }

  siteDetail(scriptId: string): Promise<SiteDetail> {
    return this.request(
      'GET',
      `/scripts/scheduled/${scriptId}/sites/${this.stack.siteId}`,
    ) as Promise<SiteDetail>;
  }
}

/** One observed change while a script runs. */
export type ProgressChange = { subject: string; state: string; code?: string };

/** Interval between progress polls, in milliseconds. */
const POLL_MS = 150;

/**
 * Polls progress and the site's device results until the site is no longer pending, calling
 * `onChange` for each change of the delivery, a device or the site verdict. Rejects after
 * `timeoutMs`.
 */
export async function watchProgress(
  api: ScriptsApi,
  scriptId: string,
  timeoutMs: number,
  onChange: (change: ProgressChange) => void,
): Promise<{ progress: ScriptProgress; detail: SiteDetail }> {
  const seen = new Map<string, string>();
  const deadline = Date.now() + timeoutMs;
  const note = (subject: string, state: string, code?: string | null): void => {
    const key = `${state} ${code ?? ''}`;
    if (seen.get(subject) !== key) {
      seen.set(subject, key);
      onChange({ subject, state, ...(code === null || code === undefined ? {} : { code }) });
    }
  };

  while (Date.now() < deadline) {
    const detail = await api.siteDetail(scriptId);
    note('delivery', detail.delivery?.state ?? 'waiting');
    for (const device of detail.devices) {
      note(device.device_id, device.state, device.error_code);
    }

    const progress = await api.progress(scriptId);
    note('site', siteVerdict(progress));
    if (progress.pending.length === 0) {
      return { progress, detail: await api.siteDetail(scriptId) };
    }

    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }

  throw new AgentError('TIMEOUT', `script ${scriptId} was still pending after ${timeoutMs} ms`);
}

function siteVerdict(progress: ScriptProgress): string {
  if (progress.completed.length > 0) {
    return 'completed';
  }

  return progress.failed.length > 0 ? 'failed' : 'pending';
}
