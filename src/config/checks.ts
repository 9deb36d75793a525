import { isLoopbackHost } from '../protocol/addresses.js';
import { isRecord } from './environment.js';
import { type ConfigProblem, describeValue, formatPath, withVariable } from './problems.js';
import { parseListenAddress } from './schema.js';

/**
 * Checks that span several settings, which the per-field schema cannot express: secrets given
 * twice or not at all, settings that `deviceDefaults` may supply, unique device ids and plain
 * `ws://`. They run on the raw file next to schema validation, so one report lists every problem.
 */

/** Pairs of keys of which at most one may be set, the file or the systemd credential. */
const SECRET_PAIRS = [
  ['passwordFile', 'passwordCredential'],
  ['keyFile', 'keyCredential'],
  ['passphraseFile', 'passphraseCredential'],
  ['tokenFile', 'tokenCredential'],
] as const;

type Path = ReadonlyArray<string | number>;

type CheckContext = {
  problems: ConfigProblem[];
  variables: ReadonlyMap<string, string>;
  credentialsDirectory: string | undefined;
};

/** Returns the cross-setting problems of the raw configuration, in file order. */
export function checkCrossSettings(
  data: unknown,
  variables: ReadonlyMap<string, string>,
  credentialsDirectory: string | undefined,
): ConfigProblem[] {
  const context: CheckContext = { problems: [], variables, credentialsDirectory };
  if (!isRecord(data)) {
    return context.problems;
  }

  checkControlPlane(data.controlPlane, context);

  if (isRecord(data.status)) {
    checkSecretSources(data.status, ['status'], context);
    checkStatusExposure(data.status, context);
  }

  const defaults = isRecord(data.deviceDefaults) ? data.deviceDefaults : {};
  checkSecretSources(defaults, ['deviceDefaults'], context);

  if (Array.isArray(data.devices)) {
    checkDevices(data.devices, defaults, context);
  }

  return context.problems;
}

function report(context: CheckContext, path: Path, expected: string, found: string): void {
  context.problems.push(
    withVariable({ path: formatPath(path), expected, found }, context.variables),
  );
}

function checkControlPlane(controlPlane: unknown, context: CheckContext): void {
  if (!isRecord(controlPlane)) {
    return;
  }

  const path = ['controlPlane'];
  checkSecretSources(controlPlane, path, context);

  if (controlPlane.tokenFile === undefined && controlPlane.tokenCredential === undefined) {
    report(context, [...path, 'tokenFile'], 'tokenFile or tokenCredential', 'nothing');
  }

  const url = controlPlane.url;
  if (typeof url === 'string' && isRemotePlainUrl(url) && controlPlane.allowInsecure !== true) {
    report(
      context,
      [...path, 'url'],
      'a wss:// URL, ws:// to a loopback host, or allowInsecure: true to send the token in clear text',
      describeValue(url),
    );
  }
}

/** Reports whether `url` is plain `ws://` to a host other than loopback. */
function isRemotePlainUrl(url: string): boolean {
  if (!url.startsWith('ws://')) {
    return false;
  }

  return !URL.canParse(url) || !isLoopbackHost(new URL(url).hostname);
}

/** Reports a status endpoint on an address other than loopback that has no token. */
function checkStatusExposure(status: Record<string, unknown>, context: CheckContext): void {
  const listen = typeof status.listen === 'string' ? parseListenAddress(status.listen) : undefined;
  if (listen === undefined || isLoopbackHost(listen.host)) {
    return;
  }

  if (status.tokenFile === undefined && status.tokenCredential === undefined) {
    report(
      context,
      ['status', 'tokenFile'],
      `a token file or credential, because status.listen ${listen.host} is not a loopback address`,
      'nothing',
    );
  }
}

/** Reports both sources of one secret set, and credentials without a credentials directory. */
function checkSecretSources(
  section: Record<string, unknown>,
  path: Path,
  context: CheckContext,
): void {
  for (const [fileKey, credentialKey] of SECRET_PAIRS) {
    if (section[credentialKey] === undefined) {
      continue;
    }

    if (section[fileKey] !== undefined) {
      report(
        context,
        [...path, credentialKey],
        `either ${fileKey} or ${credentialKey}, not both`,
        'both set',
      );
    }

    if (context.credentialsDirectory === undefined) {
      report(
        context,
        [...path, credentialKey],
        'CREDENTIALS_DIRECTORY set, as systemd does for LoadCredential=',
        'the variable unset',
      );
    }
  }
}

function checkDevices(
  devices: readonly unknown[],
  defaults: Record<string, unknown>,
  context: CheckContext,
): void {
  const firstIndexById = new Map<string, number>();

  devices.forEach((device, index) => {
    if (!isRecord(device)) {
      return;
    }

    const path = ['devices', index];
    if (typeof device.id === 'string') {
      const first = firstIndexById.get(device.id);
      if (first === undefined) {
        firstIndexById.set(device.id, index);
      } else {
        report(
          context,
          [...path, 'id'],
          `an id not used by devices[${first}]`,
          describeValue(device.id),
        );
      }
    }

    checkSecretSources(device, path, context);
    checkDeviceLogin(device, defaults, path, context);
  });
}

/** Reports a device that, merged with the defaults, has no user name or no usable secret. */
function checkDeviceLogin(
  device: Record<string, unknown>,
  defaults: Record<string, unknown>,
  path: Path,
  context: CheckContext,
): void {
  const merged = mergeSecretKeys(defaults, device);
  const transport = device.transport ?? defaults.transport ?? 'api';

  if (merged.username === undefined) {
    report(context, [...path, 'username'], 'a user name here or in deviceDefaults', 'nothing');
  }

  const hasPassword = merged.passwordFile !== undefined || merged.passwordCredential !== undefined;
  const hasKey = merged.keyFile !== undefined || merged.keyCredential !== undefined;
  const hasPassphrase =
    merged.passphraseFile !== undefined || merged.passphraseCredential !== undefined;

  if ((transport === 'api' || transport === 'api-ssl') && !hasPassword) {
    report(
      context,
      [...path, 'passwordFile'],
      'passwordFile or passwordCredential here or in deviceDefaults, as the API logs in with a password',
      'nothing',
    );
  }

  if (transport === 'ssh' && !hasPassword && !hasKey) {
    report(
      context,
      [...path, 'keyFile'],
      'keyFile, keyCredential, passwordFile or passwordCredential here or in deviceDefaults',
      'nothing',
    );
  }

  if (hasPassphrase && !hasKey) {
    report(context, [...path, 'passphraseFile'], 'a passphrase only with a key', 'no keyFile');
  }
}

/**
 * Merges the login settings of `defaults` and `device`. A device that sets either key of a
 * secret pair replaces the whole pair from the defaults.
 */
export function mergeSecretKeys(
  defaults: Record<string, unknown>,
  device: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { username: device.username ?? defaults.username };

  for (const [fileKey, credentialKey] of SECRET_PAIRS) {
    const source =
      device[fileKey] !== undefined || device[credentialKey] !== undefined ? device : defaults;
    merged[fileKey] = source[fileKey];
    merged[credentialKey] = source[credentialKey];
  }

  return merged;
}
