/** The protocol version this build speaks. Both sides list the versions they support. */
export const PROTOCOL_VERSION = 1;

/** Versions this build accepts in `hello` (agent) or `welcome` (control plane). */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/** Path of the agent hub's WebSocket endpoint for protocol v1. */
export const AGENT_HUB_PATH = '/agent/v1';

/**
 * Size and count limits of protocol v1. Both sides enforce them on every inbound frame and the
 * sender never exceeds them.
 */
export const LIMITS = {
  /**
   * Largest frame, in bytes of UTF-8 JSON, that either side accepts. A larger frame gets a
   * `FRAME_TOO_LARGE` error reply and is dropped.
   */
  maxFrameBytes: 2 * 1024 * 1024,

  /**
   * Largest message the WebSocket layer reads at all (`maxPayload` in `ws`), in bytes. Past it
   * `ws` closes the connection with code 1009 before any JSON is parsed, so no reply is possible.
   */
  maxPayloadBytes: 8 * 1024 * 1024,

  /** Largest script, in bytes of UTF-8, a job offer may carry. */
  maxScriptBytes: 128 * 1024,

  /**
   * Largest run output, in bytes of UTF-8, one status event carries; the agent sends the head
   * and tail of a longer one. Even at six bytes of JSON escape per byte it fits a frame.
   */
  maxOutputBytes: 256 * 1024,

  /** Most status events the agent sends beyond the last acknowledged one. */
  maxUnacknowledgedStatus: 256,

  /** Most devices one `hello` lists and one job targets. */
  maxDevices: 1024,

  /** Maximum length of an id, name or other short text field, in characters. */
  maxShortText: 256,

  /** Maximum length of a description or error message, in characters. */
  maxLongText: 4096,
} as const;

/** WebSocket close codes of protocol v1 (4000 to 4999 are free for applications). */
export const CLOSE_CODES = {
  /** A newer connection of the same site replaced this one. */
  replaced: 4001,
  /** `hello` named no protocol version the control plane speaks. */
  versionUnsupported: 4002,
  /** The first frame was not a valid `hello`, or `hello` did not match the site's token. */
  helloInvalid: 4003,
  /** The server is shutting down. */
  goingAway: 1001,
} as const;
