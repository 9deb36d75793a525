import { createPublicKey } from 'node:crypto';

import type { AgentConfig } from '../config/types.js';
import { AgentError } from '../errors.js';
import { keyIdOf, type VerificationKey } from '../protocol/signing.js';
import { checkStatusExposure } from '../status/auth.js';
import { readCaBundle } from '../uplink/tls.js';

/**
 * Checks the rules a valid configuration must also meet before the agent runs, and returns the
 * pinned job-signing key. Throws CONFIG_INVALID naming the setting. `check-config` runs the
 * same checks.
 */
export function checkStartupRules(config: AgentConfig): VerificationKey {
  checkStatusExposure(config.status, config.sourceFile);
  return pinnedSigningKey(config);
}

/**
 * Builds the pinned job-signing key. The configured key id must be the one the control plane
 * derives from the key (the first 16 hex digits of its SHA-256), or every job would be rejected.
 */
function pinnedSigningKey(config: AgentConfig): VerificationKey {
  const { keyId, publicKeyPem } = config.controlPlane.jobSigningKey;
  const key = createPublicKey(publicKeyPem);
  const derived = keyIdOf(key);
  if (derived !== keyId) {
    throw new AgentError(
      'CONFIG_INVALID',
      `configuration ${config.sourceFile}: controlPlane.jobSigningKey.keyId is "${keyId}", but the key's id is "${derived}"; copy both from "edge-control-plane keygen"`,
      { details: { file: config.sourceFile, path: 'controlPlane.jobSigningKey.keyId' } },
    );
  }

  return { keyId, key };
}

/**
 * Reads the control plane's CA bundle when the configuration names one, so that a missing or
 * malformed file is a configuration error. Throws CONFIG_INVALID.
 */
export async function checkCaFile(config: AgentConfig): Promise<void> {
  if (config.controlPlane.caFile !== undefined) {
    await readCaBundle(config.controlPlane.caFile);
  }
}
