// The container's HEALTHCHECK: requests the agent's /livez and exits 0 on a 2xx status, 1
// otherwise. It is plain JavaScript because the image has node but neither curl nor wget.
//
// The address comes from EDGE_AGENT_STATUS_LISTEN, default 127.0.0.1:9181. The agent takes
// `host:port` or `[ipv6]:port` there; this check also takes a bare port, on 127.0.0.1, although
// the agent rejects one. An unspecified listen address (0.0.0.0, ::) is requested on loopback.

const DEFAULT_LISTEN = '127.0.0.1:9181';
const TIMEOUT_MS = 4000;

/** Returns the URL of /livez for a listen address, or throws naming the invalid value. */
function livezUrl(listen) {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(listen.trim());
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535) {
    throw new Error(
      `invalid EDGE_AGENT_STATUS_LISTEN "${listen}"; expected host:port, [ipv6]:port or a port`,
    );
  }

  let host = match[1] ?? '127.0.0.1';
  if (host === '0.0.0.0') {
    host = '127.0.0.1';
  } else if (host === '[::]') {
    host = '[::1]';
  }

  return `http://${host}:${port}/livez`;
}

async function main() {
  const url = livezUrl(process.env.EDGE_AGENT_STATUS_LISTEN || DEFAULT_LISTEN);
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) {
    throw new Error(`GET ${url} returned ${response.status}`);
  }
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (error) => {
    const code = error.cause?.code;
    process.stderr.write(`healthcheck: ${error.message}${code ? ` (${code})` : ''}\n`);
    process.exitCode = 1;
  },
);
