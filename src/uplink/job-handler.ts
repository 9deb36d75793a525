import type { Clock } from '../clock.js';
import type { Logger } from '../logging.js';
import { errorFrameFor } from '../protocol/frames.js';
import { offeredJobId, verifyJobOffer } from '../protocol/job-offer.js';
import { LIMITS } from '../protocol/limits.js';
import type { AgentFrame } from '../protocol/messages.js';
import type { VerificationKey } from '../protocol/signing.js';
import type { JobCancel, JobIntake, UplinkObserver } from './types.js';

export type JobHandlerOptions = {
  siteId: string;
  keys: readonly VerificationKey[];
  clock: Clock;
  logger: Logger;
  intake: JobIntake;
  cancel: JobCancel;
  observer?: UplinkObserver;
};

/**
 * Verifies job offers and hands them to the intake, then returns the reply frame: acceptance
 * only after the intake committed the job, a rejection with the failure's code otherwise.
 */
export class JobHandler {
  private readonly options: JobHandlerOptions;

  constructor(options: JobHandlerOptions) {
    this.options = options;
  }

  async onOffer(raw: unknown): Promise<AgentFrame> {
    const { clock, logger } = this.options;
    const jobId = offeredJobId(raw);

    try {
      const job = verifyJobOffer(raw, {
        keys: this.options.keys,
        siteId: this.options.siteId,
        now: clock.now(),
      });
      await this.options.intake({ ...job, receivedAt: clock.now() });
      logger.info({ jobId: job.id, launchAt: job.launchAt }, 'job stored');
      this.options.observer?.offer?.({ jobId: job.id, result: 'accepted' });
      return { type: 'job_accepted', jobId: job.id };
    } catch (error) {
      logger.warn({ err: error, jobId }, 'job offer rejected');
      const reply = errorFrameFor(error);
      // Only a fault of the offer itself is final. A store failure (disk full, locked) is
      // reported as an error, so the control plane offers the job again on the next connection.
      if (jobId === undefined || !reply.code.startsWith('JOB_')) {
        this.options.observer?.offer?.({ jobId, result: 'error', code: reply.code });
        return { ...reply, inReplyTo: 'job_offer', ...(jobId === undefined ? {} : { jobId }) };
      }

      this.options.observer?.offer?.({ jobId, result: 'rejected', code: reply.code });
      return {
        type: 'job_rejected',
        jobId,
        code: reply.code,
        message: reply.message.slice(0, LIMITS.maxLongText),
      };
    }
  }

  /** Cancels a job; returns an error frame when the cancellation failed, else undefined. */
  async onCancel(jobId: string): Promise<AgentFrame | undefined> {
    try {
      await this.options.cancel(jobId);
      this.options.logger.info({ jobId }, 'job cancelled by the control plane');
      return undefined;
    } catch (error) {
      this.options.logger.warn({ err: error, jobId }, 'job cancellation failed');
      return errorFrameFor(error, { inReplyTo: 'job_cancel', jobId });
    }
  }
}
