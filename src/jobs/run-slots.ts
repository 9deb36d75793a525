import type { StoredJob } from '../store/types.js';

/** One pending run the runner has been asked to execute. */
export type Ticket = {
  job: StoredJob;
  deviceId: string;
  /** `jobId/deviceId`, unique per run. */
  key: string;
};

/**
 * Bookkeeping of the runner's tickets: which wait, and which reserve a device and a place in
 * their job's `maxConcurrency`. A ticket reserves both from the moment it is handed to the queue
 * until its run has been recorded, so two runs never overlap on one device.
 */
export class RunSlots {
  /** Tickets not yet handed to the queue, in the order they were added. */
  private waiting: Ticket[] = [];

  /** Keys of every ticket waiting, queued or running, so a run is never queued twice. */
  private readonly keys = new Set<string>();

  /** Devices held by a queued or running ticket. */
  private readonly busyDevices = new Set<string>();

  /** Number of queued or running tickets per job id. */
  private readonly jobSlots = new Map<string, number>();

  /** Tickets waiting, queued or running. */
  get size(): number {
    return this.keys.size;
  }

  /** Adds a ticket unless one for the same run exists. Returns whether it was added. */
  add(ticket: Ticket): boolean {
    if (this.keys.has(ticket.key)) {
      return false;
    }

    this.keys.add(ticket.key);
    this.waiting.push(ticket);
    return true;
  }

  /**
   * Removes and returns the waiting tickets that may start now, in order, holding a device and
   * a job slot for each.
   */
  takeReady(): Ticket[] {
    const ready: Ticket[] = [];
    const stillWaiting: Ticket[] = [];

    for (const ticket of this.waiting) {
      if (this.mayStart(ticket)) {
        this.busyDevices.add(ticket.deviceId);
        this.jobSlots.set(ticket.job.id, (this.jobSlots.get(ticket.job.id) ?? 0) + 1);
        ready.push(ticket);
      } else {
        stillWaiting.push(ticket);
      }
    }

    this.waiting = stillWaiting;
    return ready;
  }

  /** Frees the device and job slot of a ticket; `requeue` puts it first in line again. */
  release(ticket: Ticket, requeue: boolean): void {
    this.busyDevices.delete(ticket.deviceId);

    const remaining = (this.jobSlots.get(ticket.job.id) ?? 1) - 1;
    if (remaining === 0) {
      this.jobSlots.delete(ticket.job.id);
    } else {
      this.jobSlots.set(ticket.job.id, remaining);
    }

    if (requeue) {
      this.waiting.unshift(ticket);
    } else {
      this.keys.delete(ticket.key);
    }
  }

  /** Forgets the job's waiting tickets; queued ones find their run no longer pending. */
  dropWaiting(jobId: string): void {
    this.waiting = this.waiting.filter((ticket) => {
      if (ticket.job.id !== jobId) {
        return true;
      }

      this.keys.delete(ticket.key);
      return false;
    });
  }

  dropAllWaiting(): void {
    for (const ticket of this.waiting) {
      this.keys.delete(ticket.key);
    }

    this.waiting = [];
  }

  private mayStart(ticket: Ticket): boolean {
    if (this.busyDevices.has(ticket.deviceId)) {
      return false;
    }

    const limit = Math.max(1, ticket.job.limits.maxConcurrency ?? Number.POSITIVE_INFINITY);
    return (this.jobSlots.get(ticket.job.id) ?? 0) < limit;
  }
}
