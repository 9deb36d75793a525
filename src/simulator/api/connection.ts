import type { Duplex } from 'node:stream';

import type { Clock } from '../../clock.js';
import { type DecoderLimits, encodeSentence, SentenceDecoder } from '../../devices/api/codec.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../logging.js';
import type { DeviceFaults } from '../fleet/faults.js';
import { ShapedWriter } from '../fleet/shaped-writer.js';
import type { UserDirectory } from '../fleet/users.js';
import {
  type ApiCommand,
  type ApiRow,
  DeviceTrap,
  type RouterOsVersion,
  type SimulatedDevice,
} from '../model/types.js';
import { versionFeatures } from '../version-features.js';
import { runLogin } from './login.js';
import { type ApiRequest, attributeValue, isQuery, parseRequest, replyWords } from './request.js';

/**
 * Commands a client may send before logging in; the next one ends the session with `!fatal`,
 * because RouterOS limits what an unauthenticated client may send.
 * NOTE: neither the limit nor the `not logged in` text is documented; both are guesses.
 */
export const MAX_COMMANDS_BEFORE_LOGIN = 10;

/** Everything an API connection needs from its device and fleet. */
export type ApiConnectionContext = {
  version: RouterOsVersion;
  device: SimulatedDevice;
  users: UserDirectory;
  faults: DeviceFaults;
  clock: Clock;
  logger: Logger;
  /** Takes the device down: closes every connection without a reply and stops listening. */
  reboot(): void;
  limits?: DecoderLimits;
};

/** A command that has started and not yet sent its `!done`. */
type RunningCommand = {
  tag: string | undefined;
  controller: AbortController;
  /** Set once `!done` was queued; later rows and results from the device are dropped. */
  finished: boolean;
};

/**
 * One client connection of the API or API-SSL service: login, commands acting after the empty
 * word that ends their sentence, tags echoed on every reply, `/cancel` and `/quit`.
 */
export class ApiConnection {
  private readonly socket: Duplex;

  private readonly context: ApiConnectionContext;

  private readonly decoder: SentenceDecoder;

  private readonly writer: ShapedWriter;

  /** Logged-in user name; undefined until a login succeeds. */
  private user: string | undefined;

  /** Challenge handed out by the last bare `/login`, needed to check `=response=`. */
  private challenge: Buffer | undefined;

  private commandsBeforeLogin = 0;

  /** Commands started and not finished; each leaves the set when its `!done` is queued. */
  private readonly running = new Set<RunningCommand>();

  constructor(socket: Duplex, context: ApiConnectionContext) {
    this.socket = socket;
    this.context = context;
    this.decoder = new SentenceDecoder(context.limits);
    this.writer = new ShapedWriter({
      sink: (chunk) => socket.write(chunk),
      isClosed: () => this.closed,
      faults: context.faults,
      clock: context.clock,
    });

    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => context.logger.debug({ err: error }, 'api socket failed'));
    socket.on('close', () => this.abortAll());
  }

  /** Set by `!fatal`: the session is over although its last bytes may still be queued. */
  private ending = false;

  private get closed(): boolean {
    return this.socket.destroyed || this.socket.writableEnded;
  }

  private receive(chunk: Buffer): void {
    let sentences: string[][];
    try {
      sentences = this.decoder.push(chunk);
    } catch (error) {
      this.context.logger.warn({ err: error }, 'api stream unreadable, closing connection');
      this.socket.destroy();
      return;
    }

    for (const words of sentences) {
      if (this.closed || this.ending) {
        return;
      }

      this.handle(parseRequest(words));
    }
  }

  private handle(request: ApiRequest): void {
    if (request.word === '/quit') {
      this.fatal('session terminated on request');
    } else if (request.word === '/login') {
      this.login(request);
    } else if (this.user === undefined) {
      this.rejectBeforeLogin(request);
    } else if (request.word === '/cancel') {
      this.cancel(request);
    } else {
      this.start(request);
    }
  }

  private login(request: ApiRequest): void {
    const { version, users, faults } = this.context;
    const outcome = runLogin(request, { version, users, faults, challenge: this.challenge });

    if (outcome.kind === 'challenge') {
      this.challenge = outcome.challenge;
      this.send('!done', outcome.ret, request.tag);
    } else if (outcome.kind === 'success') {
      this.user = outcome.user;
      this.challenge = undefined;
      this.send('!done', [], request.tag);
    } else {
      this.context.logger.info({ user: attributeValue(request, 'name') }, 'api login failed');
      this.rejectCommand(outcome.message, undefined, request.tag);
    }
  }

  private rejectBeforeLogin(request: ApiRequest): void {
    this.commandsBeforeLogin++;
    if (this.commandsBeforeLogin > MAX_COMMANDS_BEFORE_LOGIN) {
      this.fatal('not logged in');
      return;
    }

    this.rejectCommand('not logged in', undefined, request.tag);
  }

  private cancel(request: ApiRequest): void {
    const target = attributeValue(request, 'tag');
    const victims = [...this.running].filter(
      (command) => target === undefined || command.tag === target,
    );

    if (target !== undefined && victims.length === 0) {
      // NOTE: the text and category RouterOS uses for an unknown tag are not documented.
      this.rejectCommand('unknown command or tag', 1, request.tag);
      return;
    }

    for (const command of victims) {
      this.interrupt(command);
    }

    this.send('!done', [], request.tag);
  }

  private interrupt(command: RunningCommand): void {
    this.finish(command);
    command.controller.abort();
    this.trap('interrupted', 2, command.tag);
    this.send('!done', [], command.tag);
  }

  private start(request: ApiRequest): void {
    const { faults } = this.context;
    if (request.command === undefined) {
      // Text seen from RouterOS 3.x for a first word it could not use; newer texts may differ.
      this.rejectCommand('no such command prefix', 0, request.tag);
      return;
    }

    if (faults.has('fatal')) {
      this.fatal(faults.settings.fatalMessage);
      return;
    }

    if (faults.take('reboot')) {
      this.context.reboot();
      return;
    }

    const command: RunningCommand = {
      tag: request.tag,
      controller: new AbortController(),
      finished: false,
    };
    this.running.add(command);

    if (!faults.has('hang')) {
      void this.execute(request.command, command);
    }
  }

  private async execute(request: ApiCommand, command: RunningCommand): Promise<void> {
    let rows = 0;
    const onRow = (row: ApiRow): void => {
      if (!command.finished) {
        rows++;
        this.sendResult('!re', row, command.tag);
      }
    };

    try {
      const completion = await this.context.device.execute(request, {
        signal: command.controller.signal,
        onRow,
      });
      if (command.finished) {
        return;
      }

      this.finish(command);
      if (rows === 0 && isQuery(request) && versionFeatures.answersEmpty(this.context.version)) {
        this.sendResult('!empty', [], command.tag);
      }

      const ret: ApiRow = completion.ret === undefined ? [] : [['ret', completion.ret]];
      this.sendResult('!done', ret, command.tag);
    } catch (error) {
      this.fail(command, error);
    }
  }

  private fail(command: RunningCommand, error: unknown): void {
    if (command.finished) {
      return;
    }

    this.finish(command);
    if (error instanceof DeviceTrap) {
      this.trap(error.message, error.category, command.tag);
    } else {
      this.context.logger.error({ err: error }, 'device model failed a command');
      this.trap(errorMessage(error), undefined, command.tag);
    }

    this.send('!done', [], command.tag);
  }

  private finish(command: RunningCommand): void {
    command.finished = true;
    this.running.delete(command);
  }

  private abortAll(): void {
    for (const command of this.running) {
      this.finish(command);
      command.controller.abort();
    }
  }

  private trap(message: string, category: number | undefined, tag: string | undefined): void {
    const attributes: Array<[string, string]> = [];
    if (category !== undefined) {
      attributes.push(['category', String(category)]);
    }

    attributes.push(['message', message]);
    this.sendResult('!trap', attributes, tag);
  }

  /** Rejects a sentence: `!trap`, then the `!done` that always follows it. */
  private rejectCommand(
    message: string,
    category: number | undefined,
    tag: string | undefined,
  ): void {
    this.trap(message, category, tag);
    this.send('!done', [], tag);
  }

  /** Sends `!fatal` with its bare reason word, then closes the connection. */
  private fatal(reason: string): void {
    const sent = this.writer.write(encodeSentence(['!fatal', reason]));
    this.ending = true;
    void sent.then(() => this.socket.end());
  }

  /**
   * Sends a reply to a command. Under the `close-mid-reply` fault the first such reply stops
   * half way and the connection closes.
   */
  private sendResult(reply: string, attributes: ApiRow, tag: string | undefined): void {
    if (this.ending) {
      return;
    }

    if (!this.context.faults.has('close-mid-reply') || this.user === undefined) {
      this.send(reply, attributes, tag);
      return;
    }

    const bytes = encodeSentence(replyWords(reply, attributes, tag));
    const half = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)));
    void this.writer.write(half).then(() => this.socket.destroy());
  }

  private send(reply: string, attributes: ApiRow, tag: string | undefined): void {
    if (this.ending) {
      return;
    }

    void this.writer.write(encodeSentence(replyWords(reply, attributes, tag)));
  }
}
