import type { ErrorCode } from '../errors.js';
import type { JobVerdict, Run } from '../jobs/types.js';

/** Approval state of a scheduled script. Launch is derived from `launchAt`, not stored. */
export type ScriptStatus = 'unauthorized' | 'authorized' | 'cancelled';

/** A scheduled script as the control plane stores it. Times are milliseconds since the epoch. */
export type ScheduledScript = {
  id: string;
  description: string;
  script: string;
  launchAt: number;
  expiresAt: number;
  /** Site ids the script runs on, in request order. */
  sites: string[];
  makeBackup: boolean;
  testSiteId?: string;
  status: ScriptStatus;
  authorizedBy?: string;
  authorizedAt?: number;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
};

/** Fields a client sets when creating or replacing a scheduled script. */
export type ScriptDraft = Pick<
  ScheduledScript,
  'description' | 'script' | 'launchAt' | 'expiresAt' | 'sites' | 'makeBackup'
> & { testSiteId?: string };

/**
 * State of a script at one site: `waiting` until offered, `offered` until the agent
 * stored it, then `accepted` or `rejected`.
 */
export type DeliveryState = 'waiting' | 'offered' | 'accepted' | 'rejected';

export type Delivery = {
  scriptId: string;
  siteId: string;
  state: DeliveryState;
  /** The signed offer as first sent; resent unchanged so replays stay identical. */
  offerJson?: string;
  offeredAt?: number;
  acceptedAt?: number;
  rejectCode?: ErrorCode;
  rejectMessage?: string;
  /** When the agent launched the job, and the devices it created runs for. */
  launchedAt?: number;
  launchedDeviceIds?: string[];
  /** The verdict the agent reported once every run was final. */
  agentVerdict?: Exclude<JobVerdict, 'pending'>;
  verdictAt?: number;
};

/** The latest reported state of one run (one script on one device of one site). */
export type DeviceResult = Omit<Run, 'jobId'> & {
  /** Milliseconds since the epoch at which the control plane recorded this revision. */
  updatedAt: number;
};

/** `ScriptProgress` of the Scripts API: site ids by site verdict. */
export type ScriptProgress = { completed: string[]; failed: string[]; pending: string[] };
