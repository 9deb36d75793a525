import { describe, expect, test } from 'vitest';
import { api, buildDevice, field } from '../../support/simulated-device.js';

async function names(words: readonly string[]): Promise<string[]> {
  const device = buildDevice();
  const { rows } = await api(device, '/ip/service/print', [...words, '=.proplist=name']);
  return rows.map((row) => field(row, 'name') ?? '');
}

describe('API queries', () => {
  test('equality selects one service', async () => {
    expect(await names(['?port=22'])).toEqual(['ssh']);
  });

  test('two words are combined with and', async () => {
    expect(await names(['?disabled=false', '?port=8728'])).toEqual(['api']);
  });

  test('or of two words', async () => {
    expect(await names(['?name=ssh', '?name=api', '?#|'])).toEqual(['ssh', 'api']);
  });

  test('negated or excludes both', async () => {
    expect(await names(['?name=ssh', '?name=api', '?#|!'])).toEqual([
      'telnet',
      'ftp',
      'www',
      'www-ssl',
      'winbox',
      'api-ssl',
    ]);
  });

  test('less and greater compare numbers', async () => {
    expect(await names(['?>port=80', '?<port=8729'])).toEqual(['www-ssl', 'api', 'winbox']);
  });

  test('presence and absence of a property', async () => {
    expect(await names(['?certificate'])).toEqual(['www-ssl', 'api-ssl']);
    expect(await names(['?-certificate', '?port=21'])).toEqual(['ftp']);
  });

  test('yes matches a true boolean', async () => {
    expect(await names(['?disabled=yes'])).toEqual(['www-ssl']);
  });

  test('dot duplicates the top value', async () => {
    expect(await names(['?name=ftp', '?#.|'])).toEqual(['ftp']);
  });

  test('trailing index keeps one value', async () => {
    expect(await names(['?name=ftp', '?name=nothing', '?#1'])).toEqual(['ftp']);
  });

  test('index before an operator pushes a copy', async () => {
    expect(await names(['?name=ftp', '?name=ssh', '?#1|&'])).toEqual(['ftp']);
  });
});
