import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintApiToken } from '../../src/control-plane/http/auth.js';
import { loadOrCreateJwtSecret } from '../../src/control-plane/secrets.js';
import {
  apiRequest,
  scriptBody,
  startTestControlPlane,
  type TestControlPlane,
} from '../support/control-plane.js';
import { responseValidator } from '../support/openapi.js';

const validateProgress = responseValidator(
  '/scripts/scheduled/{scheduledScriptId}/progress',
  'get',
);

type ScriptJson = { id: string; status: string; description: string; authorized_by: string | null };
type ErrorJson = { type: string; code: string; message: string; doc_url: string };

let fixture: TestControlPlane;
let adminToken: string;

beforeEach(async () => {
  fixture = await startTestControlPlane();
  adminToken = await fixture.token();
});

afterEach(async () => {
  await fixture.stop();
});

async function createScript(overrides: Record<string, unknown> = {}): Promise<ScriptJson> {
  const response = await apiRequest(fixture, 'POST', '/scripts/scheduled', {
    token: adminToken,
    body: scriptBody([fixture.sites[0]?.id ?? ''], overrides),
  });
  expect(response.status).toBe(201);
  return response.body as ScriptJson;
}

describe('scripts API CRUD', () => {
  it('creates scripts as unauthorized', async () => {
    const created = await createScript();

    expect(created.status).toBe('unauthorized');
    expect(created.authorized_by).toBeNull();
  });

  it('lists and reads created scripts', async () => {
    const created = await createScript();

    const list = await apiRequest(fixture, 'GET', '/scripts/scheduled', { token: adminToken });
    const read = await apiRequest(fixture, 'GET', `/scripts/scheduled/${created.id}`, {
      token: adminToken,
    });

    expect((list.body as { data: ScriptJson[] }).data.map((script) => script.id)).toEqual([
      created.id,
    ]);
    expect(read.status).toBe(200);
    expect((read.body as ScriptJson).description).toBe('Set the identity');
  });

  it('authorizes with the approver recorded', async () => {
    const created = await createScript();
    const approver = await fixture.token(['script:authorize'], 'bob');

    const response = await apiRequest(
      fixture,
      'POST',
      `/scripts/scheduled/${created.id}/authorize`,
      {
        token: approver,
      },
    );

    expect(response.status).toBe(200);
    expect((response.body as ScriptJson).status).toBe('authorized');
    expect((response.body as ScriptJson).authorized_by).toBe('bob');
  });

  it('update resets authorization', async () => {
    const created = await createScript();
    await apiRequest(fixture, 'POST', `/scripts/scheduled/${created.id}/authorize`, {
      token: adminToken,
    });

    const response = await apiRequest(fixture, 'PUT', `/scripts/scheduled/${created.id}`, {
      token: adminToken,
      body: scriptBody([fixture.sites[1]?.id ?? ''], { description: 'Changed' }),
    });

    expect(response.status).toBe(200);
    expect((response.body as ScriptJson).status).toBe('unauthorized');
    expect((response.body as ScriptJson).description).toBe('Changed');
  });

  it('launch needs an authorized script', async () => {
    const created = await createScript();
    const runner = await fixture.token(['script:run']);
    const viewer = await fixture.token(['script:view']);
    const path = `/scripts/scheduled/${created.id}/launch`;

    const unauthorized = await apiRequest(fixture, 'POST', path, { token: runner });
    const forbidden = await apiRequest(fixture, 'POST', path, { token: viewer });
    await apiRequest(fixture, 'POST', `/scripts/scheduled/${created.id}/authorize`, {
      token: adminToken,
    });
    const launched = await apiRequest(fixture, 'POST', path, { token: runner });

    expect(unauthorized.status).toBe(409);
    expect(forbidden.status).toBe(403);
    expect(launched.status).toBe(200);
    expect((launched.body as ScriptJson).status).toBe('launched');
  });

  it('launch twice returns 409', async () => {
    const created = await createScript();
    const path = `/scripts/scheduled/${created.id}/launch`;
    await apiRequest(fixture, 'POST', `/scripts/scheduled/${created.id}/authorize`, {
      token: adminToken,
    });
    await apiRequest(fixture, 'POST', path, { token: adminToken });

    const again = await apiRequest(fixture, 'POST', path, { token: adminToken });

    expect(again.status).toBe(409);
    expect((again.body as ErrorJson).code).toBe('CONFLICT');
    expect((again.body as ErrorJson).type).toBe('invalid_request_error');
  });

  it.each([
    ['the latest RFC 3339 expiry', '9999-12-31T22:00:00Z', '9999-12-31T23:59:59Z'],
    ['lower-case t and z', '9999-12-31t22:00:00z', '9999-12-31t23:59:59z'],
  ])('accepts %s', async (_case, launchAt, expiresAt) => {
    const created = await createScript({ launch_at: launchAt, expires_at: expiresAt });

    const times = created as ScriptJson & { launch_at: string; expires_at: string };
    expect(times.launch_at).toBe('9999-12-31T22:00:00.000Z');
    expect(times.expires_at).toBe('9999-12-31T23:59:59.000Z');
  });

  it('delete cancels the script', async () => {
    const created = await createScript();

    const response = await apiRequest(fixture, 'DELETE', `/scripts/scheduled/${created.id}`, {
      token: adminToken,
    });
    const edit = await apiRequest(fixture, 'PUT', `/scripts/scheduled/${created.id}`, {
      token: adminToken,
      body: scriptBody([fixture.sites[0]?.id ?? '']),
    });

    expect((response.body as ScriptJson).status).toBe('cancelled');
    expect(edit.status).toBe(409);
    expect((edit.body as ErrorJson).code).toBe('CONFLICT');
  });
});

describe('scripts API errors', () => {
  it('rejects missing token with 401', async () => {
    const response = await apiRequest(fixture, 'GET', '/scripts/scheduled');

    expect(response.status).toBe(401);
    expect((response.body as ErrorJson).code).toBe('UNAUTHORIZED');
    expect((response.body as ErrorJson).type).toBe('authentication_error');
  });

  it('rejects forged, foreign and expired tokens', async () => {
    const forged = `${adminToken.slice(0, -4)}AAAA`;
    const otherFixture = await startTestControlPlane({ siteCount: 0 });
    const foreign = await otherFixture.token();
    await otherFixture.stop();
    const secret = await loadOrCreateJwtSecret(fixture.config.jwt.secretFile);
    const expired = await mintApiToken(
      {
        secret: secret.value,
        issuer: fixture.config.jwt.issuer,
        audience: fixture.config.jwt.audience,
      },
      { subject: 'tester', scopes: ['script:view'], ttlSeconds: 60, now: Date.now() - 3_600_000 },
    );

    for (const token of [forged, foreign, expired, 'not-a-jwt']) {
      const response = await apiRequest(fixture, 'GET', '/scripts/scheduled', { token });
      expect(response.status).toBe(401);
    }
  });

  it('rejects missing scope with 403', async () => {
    const created = await createScript();
    const viewer = await fixture.token(['script:view']);

    const authorize = await apiRequest(
      fixture,
      'POST',
      `/scripts/scheduled/${created.id}/authorize`,
      {
        token: viewer,
      },
    );
    const create = await apiRequest(fixture, 'POST', '/scripts/scheduled', {
      token: viewer,
      body: scriptBody([fixture.sites[0]?.id ?? '']),
    });

    expect(authorize.status).toBe(403);
    expect((authorize.body as ErrorJson).code).toBe('FORBIDDEN');
    expect(create.status).toBe(403);
  });

  it('returns 404 for unknown scripts', async () => {
    const response = await apiRequest(fixture, 'GET', `/scripts/scheduled/${randomUUID()}`, {
      token: adminToken,
    });
    const badId = await apiRequest(fixture, 'GET', '/scripts/scheduled/nope', {
      token: adminToken,
    });

    expect(response.status).toBe(404);
    expect((response.body as ErrorJson).code).toBe('NOT_FOUND');
    expect(badId.status).toBe(404);
  });

  it('names the invalid field in 400', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ sites: [fixture.sites[0]?.id, randomUUID()] }, 'sites[1]'],
      [{ sites: ['not-a-uuid'] }, 'sites[0]'],
      [{ script: '' }, 'script'],
      [{ launch_at: 'tomorrow' }, 'launch_at'],
      [{ launch_at: '9999-12-31T23:59:59Z' }, 'launch_at'],
      [{ launch_at: '2030-06-30T23:59:60Z' }, 'launch_at'],
      [{ launch_at: '9999-12-31T23:00:00-05:00' }, 'launch_at'],
      [
        { launch_at: '9999-12-31T20:00:00Z', expires_at: '9999-12-31T23:00:00-05:00' },
        'expires_at',
      ],
      [{ make_backup: 'yes' }, 'make_backup'],
      [{ expires_at: new Date(Date.now() - 1000).toISOString() }, 'expires_at'],
      [{ test_site_id: randomUUID() }, 'test_site_id'],
    ];

    for (const [overrides, field] of cases) {
      const response = await apiRequest(fixture, 'POST', '/scripts/scheduled', {
        token: adminToken,
        body: scriptBody([fixture.sites[0]?.id ?? ''], overrides),
      });
      expect(response.status, field).toBe(400);
      expect((response.body as ErrorJson).code, field).toBe('REQUEST_INVALID');
      expect((response.body as ErrorJson).message, field).toContain(`"${field}"`);
    }
  });

  it('rejects a body that is not JSON', async () => {
    const response = await fetch(`${fixture.controlPlane.info.url}/scripts/scheduled`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      body: '{"description":',
    });

    expect(response.status).toBe(400);
  });
});

describe('progress endpoint', () => {
  it('conforms to the OpenAPI description', async () => {
    const created = await createScript({
      sites: fixture.sites.map((site) => site.id),
    });

    const response = await apiRequest(fixture, 'GET', `/scripts/scheduled/${created.id}/progress`, {
      token: adminToken,
    });

    expect(response.status).toBe(200);
    expect(validateProgress(200, response.body)).toBeUndefined();
    expect(response.body).toEqual({
      completed: [],
      failed: [],
      pending: fixture.sites.map((site) => site.id),
    });
  });

  it('error bodies conform to the OpenAPI description', async () => {
    const created = await createScript();
    const viewerless = await fixture.token(['script:create']);
    const path = `/scripts/scheduled/${created.id}/progress`;

    const unauthorized = await apiRequest(fixture, 'GET', path);
    const forbidden = await apiRequest(fixture, 'GET', path, { token: viewerless });
    const notFound = await apiRequest(
      fixture,
      'GET',
      `/scripts/scheduled/${randomUUID()}/progress`,
      {
        token: adminToken,
      },
    );

    expect(unauthorized.status).toBe(401);
    expect(validateProgress(401, unauthorized.body)).toBeUndefined();
    expect(forbidden.status).toBe(403);
    expect(validateProgress(403, forbidden.body)).toBeUndefined();
    expect(notFound.status).toBe(404);
    expect(validateProgress(404, notFound.body)).toBeUndefined();
  });

  it('validator rejects a malformed progress body', () => {
    expect(validateProgress(200, { completed: ['site-1'] })).toBeDefined();
    expect(validateProgress(200, { pending: 'x' })).toBeDefined();
  });

  it('site detail rejects an untargeted site', async () => {
    const created = await createScript();

    const response = await apiRequest(
      fixture,
      'GET',
      `/scripts/scheduled/${created.id}/sites/${fixture.sites[1]?.id}`,
      { token: adminToken },
    );

    expect(response.status).toBe(404);
  });
});
