import type { Socket } from 'node:net';

import ssh2, { type ClientInfo, type Connection, type Server as Ssh2Server } from 'ssh2';

import type { Clock } from '../../clock.js';
import type { Logger } from '../../logging.js';
import type { DeviceFaults } from '../fleet/faults.js';
import type { UserDirectory } from '../fleet/users.js';
import type { SimulatedDevice } from '../model/types.js';
import { ServiceListener } from '../service-listener.js';
import { profileAlgorithms, profileHostKeys, type SshProfile } from './algorithms.js';
import { authenticate } from './auth.js';
import { type ExitStatusMode, serveSession } from './exec.js';
import { captureExecCommands } from './exec-command.js';
import { enableServerGroupExchange } from './group-exchange.js';
import type { HostKeySet } from './host-keys.js';
import { raiseInboundPacketLimit } from './packet-limit.js';
import { SSH2_VERSION } from './ssh2-internals.js';

/** The software version RouterOS puts in its SSH identification string. */
export const ROUTEROS_SSH_IDENT = 'ROSSSH';

export type SshServerOptions = {
  host: string;
  /** TCP port; 0 lets the kernel choose. */
  port: number;
  device: SimulatedDevice;
  users: UserDirectory;
  faults: DeviceFaults;
  clock: Clock;
  logger: Logger;
  hostKeys: HostKeySet;
  profile: SshProfile;
  exitStatus: ExitStatusMode;
  /** Whether `/ip service` allows a client address; see ServiceListener. Default: all. */
  isAllowed?: (address: string) => boolean;
  /** Takes the device down: closes every connection and stops listening. */
  reboot(): void;
};

/**
 * The SSH service of one device. A plain TCP listener accepts every socket, so a silent or
 * filtered client gets no identification string. The ssh2 server that serves the others is
 * created on the first such connection, because most simulated devices never see SSH.
 */
export class SshServer {
  private readonly options: SshServerOptions;

  private readonly listener: ServiceListener;

  /** Created on first use and dropped when the host keys change. */
  private ssh: Ssh2Server | undefined;

  private hostKeys: HostKeySet;

  /** Set once the warning about unsupported ssh2 internals was logged. */
  private warnedUnsupported = false;

  constructor(options: SshServerOptions) {
    this.options = options;
    this.hostKeys = options.hostKeys;
    this.listener = new ServiceListener({
      ...options,
      service: 'ssh',
      serve: (socket) => this.serve(socket),
    });
  }

  /** Starts listening and returns the port. */
  listen(port = this.options.port): Promise<number> {
    return this.listener.listen(port);
  }

  /** The listening port, or 0 when not listening. */
  get port(): number {
    return this.listener.port;
  }

  /** Uses new host keys for connections from now on. */
  setHostKeys(keys: HostKeySet): void {
    this.hostKeys = keys;
    this.ssh = undefined;
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    return this.listener.close();
  }

  /** Closes every client connection at once, as a rebooting router does. */
  disconnectAll(): void {
    this.listener.disconnectAll();
  }

  private serve(socket: Socket): void {
    try {
      this.sshServer().injectSocket(socket);
    } catch (error) {
      this.options.logger.error({ err: error }, 'ssh server failed to start, closing connection');
      socket.destroy();
    }
  }

  private sshServer(): Ssh2Server {
    if (this.ssh === undefined) {
      const { profile } = this.options;
      this.ssh = new ssh2.Server(
        {
          hostKeys: profileHostKeys(profile, this.hostKeys),
          algorithms: profileAlgorithms(profile),
          ident: ROUTEROS_SSH_IDENT,
        },
        (client, info) => this.serveClient(client, info),
      );
    }

    return this.ssh;
  }

  private serveClient(client: Connection, info: ClientInfo): void {
    const { users, faults, logger } = this.options;
    const socket = this.listener.findSocket(info.ip, info.port);
    let user: string | undefined;

    enableServerGroupExchange(client);
    if (!raiseInboundPacketLimit(client) && !this.warnedUnsupported) {
      this.warnedUnsupported = true;
      logger.warn(
        { ssh2Version: SSH2_VERSION },
        'ssh2 version not supported by the packet limit patch, exec commands over 35000 bytes fail',
      );
    }

    const execCommands = captureExecCommands(client);
    client.on('error', (error) => logger.debug({ err: error }, 'ssh connection failed'));
    client.on('authentication', (context) => {
      user = authenticate(context, users, faults, logger) ?? user;
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        serveSession(accept(), {
          ...this.options,
          execCommands,
          dropConnection: () => socket?.destroy(),
          disconnect: () => client.end(),
        });
      });
    });
    client.on('close', () => logger.debug({ user }, 'ssh connection closed'));
  }
}
