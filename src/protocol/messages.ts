import { ERROR_CODES } from '../errors.js';
import type { RunState } from '../jobs/types.js';
import {
  array,
  boolean,
  discriminated,
  type Infer,
  integer,
  literal,
  object,
  oneOf,
  optional,
  string,
  union,
  unknown,
  uuid as uuidSchema,
} from '../validation.js';
import { LIMITS } from './limits.js';

/*
 * Frames of protocol v1. Every frame is one JSON object with a `type`. Unknown fields are
 * dropped on parse, so a later minor revision may add optional fields without a version bump.
 * docs/protocol.md describes each frame, its ordering and its acknowledgement.
 */

const shortText = string({ min: 1, max: LIMITS.maxShortText });
const longText = string({ max: LIMITS.maxLongText });
const uuid = uuidSchema();

/** Milliseconds since the Unix epoch, as an integer. */
const epochMs = integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const sequence = integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const errorCode = oneOf(ERROR_CODES, { expected: 'an error code of protocol v1' });

/** `all`, or the ids of at least `min` devices. */
function deviceTargets(min: number) {
  const ids = array(shortText, { min, max: LIMITS.maxDevices });
  return union<'all' | string[]>([literal('all'), ids], `"all" or a list of device ids`);
}

export const transportSchema = oneOf(['api', 'api-ssl', 'ssh']);

/** One device of the site's inventory as the agent reports it. Never carries credentials. */
export const inventoryDeviceSchema = object({
  id: shortText,
  name: shortText,
  transport: transportSchema,
  routerosVersion: optional(shortText),
});

export const jobLimitsSchema = object({
  maxConcurrency: optional(integer({ min: 1, max: LIMITS.maxDevices })),
  maxErrors: optional(integer({ min: 0, max: LIMITS.maxDevices })),
  runTimeoutMs: optional(integer({ min: 1, max: 24 * 60 * 60 * 1000 })),
});

/**
 * A job as the control plane offers it. The signature is optional here so that an unsigned
 * offer is reported as `JOB_UNSIGNED` rather than as a malformed one.
 */
export const jobOfferBodySchema = object({
  id: uuid,
  siteId: uuid,
  description: longText,
  script: string({ min: 1 }),
  targets: deviceTargets(1),
  launchAt: epochMs,
  expiresAt: epochMs,
  makeBackup: boolean(),
  limits: jobLimitsSchema,
  authorization: object({
    authorizedBy: shortText,
    authorizedAt: epochMs,
    keyId: shortText,
    signature: optional(string({ max: LIMITS.maxShortText })),
  }),
});

export type JobOfferBody = Infer<typeof jobOfferBodySchema>;

/** Every run state. `satisfies` rejects a name that `RunState` lacks. */
const RUN_STATES = [
  'pending',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'skipped',
  'interrupted',
] as const satisfies readonly RunState[];

export const runStateSchema = oneOf(RUN_STATES);

/** One run's state and result, as the agent's outbox recorded it. */
export const runReportSchema = object({
  jobId: uuid,
  deviceId: shortText,
  state: runStateSchema,
  revision: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  reasonCode: optional(errorCode),
  reasonMessage: optional(longText),
  errorLine: optional(integer({ min: 1 })),
  errorColumn: optional(integer({ min: 1 })),
  output: optional(string()),
  outputTruncated: boolean(),
  outputBytes: integer({ min: 0 }),
  outputCaptured: boolean(),
  startedAt: optional(epochMs),
  finishedAt: optional(epochMs),
});

export type RunReport = Infer<typeof runReportSchema>;

const errorFrame = object({
  type: literal('error'),
  code: errorCode,
  message: longText,
  /** Type of the frame that caused the error, when it could be read. */
  inReplyTo: optional(shortText),
  jobId: optional(uuid),
  seq: optional(sequence),
});

/** Frames the agent sends. */
export const agentFrameSchema = discriminated('type', [
  object({
    type: literal('hello'),
    protocols: array(integer({ min: 1 }), { min: 1, max: 16 }),
    agentVersion: shortText,
    siteId: uuid,
    devices: array(inventoryDeviceSchema, { max: LIMITS.maxDevices }),
    /**
     * Id of the agent's outbox, fixed when its store was created. A new id means that
     * sequence numbers restart at 1, so the control plane resets the site's last sequence number.
     */
    outboxId: uuid,
    /** Highest status sequence number the agent has recorded as acknowledged, or 0. */
    acknowledgedSeq: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  }),
  object({ type: literal('job_accepted'), jobId: uuid }),
  object({
    type: literal('job_rejected'),
    jobId: uuid,
    code: errorCode,
    message: longText,
  }),
  object({
    type: literal('job_stored'),
    seq: sequence,
    jobId: uuid,
    receivedAt: epochMs,
    targets: deviceTargets(0),
  }),
  object({
    type: literal('job_launched'),
    seq: sequence,
    jobId: uuid,
    launchedAt: epochMs,
    deviceIds: array(shortText, { max: LIMITS.maxDevices }),
  }),
  object({ type: literal('run_status'), seq: sequence, run: runReportSchema }),
  object({
    type: literal('job_verdict'),
    seq: sequence,
    jobId: uuid,
    verdict: oneOf(['completed', 'failed']),
    decidedAt: epochMs,
  }),
  errorFrame,
]);

/** Frames the control plane sends. */
export const controlPlaneFrameSchema = discriminated('type', [
  object({
    type: literal('welcome'),
    protocol: integer({ min: 1 }),
    siteId: uuid,
    /** Highest status sequence number the control plane has recorded for the site, or 0. */
    lastSeq: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    heartbeatIntervalMs: integer({ min: 1000, max: 10 * 60 * 1000 }),
    maxUnacknowledgedStatus: integer({ min: 1, max: LIMITS.maxUnacknowledgedStatus }),
  }),
  object({ type: literal('job_offer'), job: unknown() }),
  object({ type: literal('job_cancel'), jobId: uuid }),
  object({ type: literal('status_ack'), seq: sequence }),
  errorFrame,
]);

export type AgentFrame = Infer<typeof agentFrameSchema>;
export type ControlPlaneFrame = Infer<typeof controlPlaneFrameSchema>;
export type HelloFrame = Extract<AgentFrame, { type: 'hello' }>;
export type WelcomeFrame = Extract<ControlPlaneFrame, { type: 'welcome' }>;
export type StatusFrame = Extract<
  AgentFrame,
  { type: 'job_stored' | 'job_launched' | 'run_status' | 'job_verdict' }
>;
export type ErrorFrame = Infer<typeof errorFrame>;
export type InventoryDevice = Infer<typeof inventoryDeviceSchema>;
