import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import type { RunState } from '../jobs/types.js';
import { LIMITS } from './limits.js';

/*
 * Frames of protocol v1. Every frame is one JSON object with a `type`. Unknown fields are
 * dropped on parse, so a later minor revision may add optional fields without a version bump.
 * docs/protocol.md describes each frame, its ordering and its acknowledgement.
 */

const shortText = z.string().min(1).max(LIMITS.maxShortText);
const longText = z.string().max(LIMITS.maxLongText);
const uuid = z.uuid();

/** Milliseconds since the Unix epoch, as an integer. */
const epochMs = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const sequence = z.int().min(1).max(Number.MAX_SAFE_INTEGER);
const errorCode = z.enum(ERROR_CODES);

export const transportSchema = z.enum(['api', 'api-ssl', 'ssh']);

/** One device of the site's inventory as the agent reports it. Never carries credentials. */
export const inventoryDeviceSchema = z.object({
  id: shortText,
  name: shortText,
  transport: transportSchema,
  routerosVersion: shortText.optional(),
});

export const jobLimitsSchema = z.object({
  maxConcurrency: z.int().min(1).max(LIMITS.maxDevices).optional(),
  maxErrors: z.int().min(0).max(LIMITS.maxDevices).optional(),
  runTimeoutMs: z
    .int()
    .min(1)
    .max(24 * 60 * 60 * 1000)
    .optional(),
});

/**
 * A job as the control plane offers it. The signature is optional here so that an unsigned
 * offer is reported as `JOB_UNSIGNED` rather than as a malformed one.
 */
export const jobOfferBodySchema = z.object({
  id: uuid,
  siteId: uuid,
  description: longText,
  script: z.string().min(1),
  targets: z.union([z.literal('all'), z.array(shortText).min(1).max(LIMITS.maxDevices)]),
  launchAt: epochMs,
  expiresAt: epochMs,
  makeBackup: z.boolean(),
  limits: jobLimitsSchema,
  authorization: z.object({
    authorizedBy: shortText,
    authorizedAt: epochMs,
    keyId: shortText,
    signature: z.string().max(LIMITS.maxShortText).optional(),
  }),
});

export type JobOfferBody = z.infer<typeof jobOfferBodySchema>;

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

export const runStateSchema = z.enum(RUN_STATES);

/** One run's state and result, as the agent's outbox recorded it. */
export const runReportSchema = z.object({
  jobId: uuid,
  deviceId: shortText,
  state: runStateSchema,
  revision: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  reasonCode: errorCode.optional(),
  reasonMessage: longText.optional(),
  errorLine: z.int().min(1).optional(),
  errorColumn: z.int().min(1).optional(),
  output: z.string().optional(),
  outputTruncated: z.boolean(),
  outputBytes: z.int().min(0),
  outputCaptured: z.boolean(),
  startedAt: epochMs.optional(),
  finishedAt: epochMs.optional(),
});

export type RunReport = z.infer<typeof runReportSchema>;

const errorFrame = z.object({
  type: z.literal('error'),
  code: errorCode,
  message: longText,
  /** Type of the frame that caused the error, when it could be read. */
  inReplyTo: shortText.optional(),
  jobId: uuid.optional(),
  seq: sequence.optional(),
});

/** Frames the agent sends. */
export const agentFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocols: z.array(z.int().min(1)).min(1).max(16),
    agentVersion: shortText,
    siteId: uuid,
    devices: z.array(inventoryDeviceSchema).max(LIMITS.maxDevices),
    /**
     * Id of the agent's outbox, fixed when its store was created. A new id means that
     * sequence numbers restart at 1, so the control plane resets the site's last sequence number.
     */
    outboxId: uuid,
    /** Highest status sequence number the agent has recorded as acknowledged, or 0. */
    acknowledgedSeq: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  }),
  z.object({ type: z.literal('job_accepted'), jobId: uuid }),
  z.object({
    type: z.literal('job_rejected'),
    jobId: uuid,
    code: errorCode,
    message: longText,
  }),
  z.object({
    type: z.literal('job_stored'),
    seq: sequence,
    jobId: uuid,
    receivedAt: epochMs,
    targets: z.union([z.literal('all'), z.array(shortText).max(LIMITS.maxDevices)]),
  }),
  z.object({
    type: z.literal('job_launched'),
    seq: sequence,
    jobId: uuid,
    launchedAt: epochMs,
    deviceIds: z.array(shortText).max(LIMITS.maxDevices),
  }),
  z.object({ type: z.literal('run_status'), seq: sequence, run: runReportSchema }),
  z.object({
    type: z.literal('job_verdict'),
    seq: sequence,
    jobId: uuid,
    verdict: z.enum(['completed', 'failed']),
    decidedAt: epochMs,
  }),
  errorFrame,
]);

/** Frames the control plane sends. */
export const controlPlaneFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    protocol: z.int().min(1),
    siteId: uuid,
    /** Highest status sequence number the control plane has recorded for the site, or 0. */
    lastSeq: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
    heartbeatIntervalMs: z
      .int()
      .min(1000)
      .max(10 * 60 * 1000),
    maxUnacknowledgedStatus: z.int().min(1).max(LIMITS.maxUnacknowledgedStatus),
  }),
  z.object({ type: z.literal('job_offer'), job: z.unknown() }),
  z.object({ type: z.literal('job_cancel'), jobId: uuid }),
  z.object({ type: z.literal('status_ack'), seq: sequence }),
  errorFrame,
]);

export type AgentFrame = z.infer<typeof agentFrameSchema>;
export type ControlPlaneFrame = z.infer<typeof controlPlaneFrameSchema>;
export type HelloFrame = Extract<AgentFrame, { type: 'hello' }>;
export type WelcomeFrame = Extract<ControlPlaneFrame, { type: 'welcome' }>;
export type StatusFrame = Extract<
  AgentFrame,
  { type: 'job_stored' | 'job_launched' | 'run_status' | 'job_verdict' }
>;
export type ErrorFrame = z.infer<typeof errorFrame>;
export type InventoryDevice = z.infer<typeof inventoryDeviceSchema>;
