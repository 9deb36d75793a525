import type { JobSummary } from '../store/status-queries.js';
import type { DeviceView, StatusView } from './view.js';

/** Seconds between reloads of the status page. */
export const PAGE_REFRESH_SECONDS = 5;

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .25rem .75rem .25rem 0; border-bottom: 1px solid #ddd; }
th { font-weight: 600; }
.ok { color: #13692a; } .bad { color: #a4161a; } .muted { color: #666; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; margin: 0; }
dt { color: #666; } dd { margin: 0; }
`;

/**
 * Renders the human status page: server-side HTML without scripts or external assets, every
 * value escaped, reloading itself every few seconds.
 */
export function renderStatusPage(status: StatusView, jobs: readonly JobSummary[]): string {
  const uplink = status.uplink;
  const uplinkClass = uplink.connected ? 'ok' : 'bad';
  const lastError =
    uplink.lastError === null
      ? ''
      : ` <span class="muted">(${escapeHtml(uplink.lastError.code)})</span>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${PAGE_REFRESH_SECONDS}">
<title>edge-agent ${escapeHtml(status.siteId)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Edge agent</h1>
<dl>
<dt>Site</dt><dd>${escapeHtml(status.siteId)}</dd>
<dt>Agent</dt><dd>${escapeHtml(status.agentId)}</dd>
<dt>Version</dt><dd>${escapeHtml(status.version)} (Node.js ${escapeHtml(status.nodeVersion)})</dd>
<dt>Uptime</dt><dd>${escapeHtml(formatDuration(status.uptimeSeconds))}</dd>
<dt>Control plane</dt><dd class="${uplinkClass}">${escapeHtml(uplink.state)}${lastError}</dd>
<dt>Last contact</dt><dd>${escapeHtml(uplink.lastContactAt ?? 'never')}</dd>
<dt>Queued runs</dt><dd>${status.queueDepth}</dd>
<dt>Running runs</dt><dd>${status.runningRuns}</dd>
<dt>Unsent events</dt><dd>${status.outboxDepth}</dd>
</dl>
<h2>Devices</h2>
${renderDevices(status.devices)}
<h2>Recent jobs</h2>
${renderJobs(jobs)}
<p class="muted">Reloads every ${PAGE_REFRESH_SECONDS} s. JSON: /status, /jobs, /metrics.</p>
</body>
</html>
`;
}

function renderDevices(devices: readonly DeviceView[]): string {
  if (devices.length === 0) {
    return '<p class="muted">No devices configured.</p>';
  }

  const rows = devices.map((device) => {
    let reachable = 'unknown';
    let reachableClass = 'muted';
    if (device.reachable !== null) {
      reachable = device.reachable ? 'yes' : 'no';
      reachableClass = device.reachable ? 'ok' : 'bad';
    }

    const last = device.lastResult;
    const result =
      last === null
        ? 'none'
        : `${last.state}${last.reasonCode === null ? '' : ` ${last.reasonCode}`}`;
    return `<tr><td>${escapeHtml(device.id)}</td><td>${escapeHtml(device.name)}</td><td>${escapeHtml(device.transport)}</td><td>${escapeHtml(device.host)}</td><td>${escapeHtml(device.routerosVersion ?? '')}</td><td class="${reachableClass}">${reachable}</td><td>${escapeHtml(result)}</td></tr>`;
  });

  return `<table>
<tr><th>Id</th><th>Name</th><th>Transport</th><th>Host</th><th>RouterOS</th><th>Reachable</th><th>Last result</th></tr>
${rows.join('\n')}
</table>`;
}

function renderJobs(jobs: readonly JobSummary[]): string {
  if (jobs.length === 0) {
    return '<p class="muted">No jobs received yet.</p>';
  }

  const rows = jobs.map((job) => {
    const runs = Object.entries(job.runs)
      .map(([state, count]) => `${state} ${count}`)
      .join(', ');
    return `<tr><td>${escapeHtml(job.id)}</td><td>${escapeHtml(job.description)}</td><td>${escapeHtml(job.verdict)}</td><td>${escapeHtml(new Date(job.launchAt).toISOString())}</td><td>${escapeHtml(runs)}</td></tr>`;
  });

  return `<table>
<tr><th>Job</th><th>Description</th><th>Verdict</th><th>Launch</th><th>Runs</th></tr>
${rows.join('\n')}
</table>`;
}

/** Formats seconds as `3d 4h 5m 6s`, dropping leading zero units. */
function formatDuration(totalSeconds: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = totalSeconds;

  for (const [suffix, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0 || size === 1) {
      parts.push(`${count}${suffix}`);
    }
  }

  return parts.join(' ');
}
