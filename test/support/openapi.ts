import { readFileSync } from 'node:fs';
import validatorModule from 'openapi-response-validator';
import { parse as parseYaml } from 'yaml';

/** The OpenAPI 3.0 description of the progress endpoint, kept in docs/. */
const DOCUMENT_URL = new URL('../../docs/scripts-progress.openapi.yaml', import.meta.url);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Reference = { $ref?: string };
type OpenApiDocument = {
  paths: Record<string, Record<string, { responses: Record<string, Reference> }>>;
  components: { responses?: Record<string, unknown> } & Record<string, unknown>;
};

// The package is CommonJS with the class on `exports.default`; ESM interop may or may not
// unwrap it, so both shapes are accepted.
const OpenAPIResponseValidator =
  'default' in validatorModule ? validatorModule.default : (validatorModule as never);

/**
 * Returns a function that validates one operation's responses and returns the errors, or
 * undefined when the response conforms. Response `$ref`s are resolved here because the
 * package resolves only schema references. `format: uuid` is checked by a custom format,
 * because the package runs ajv with unknown formats ignored.
 */
export function responseValidator(path: string, method: string) {
  const document = parseYaml(readFileSync(DOCUMENT_URL, 'utf8')) as OpenApiDocument;
  const operation = document.paths[path]?.[method];
  if (operation === undefined) {
    throw new Error(`The OpenAPI document has no ${method} ${path}`);
  }

  const responses = Object.fromEntries(
    Object.entries(operation.responses).map(([status, response]) => [
      status,
      resolveResponse(document, response),
    ]),
  );
  const validator = new OpenAPIResponseValidator({
    responses: responses as never,
    components: document.components as never,
    customFormats: { uuid: (value: string) => UUID.test(value) },
  });

  return (status: number, body: unknown): unknown => validator.validateResponse(status, body);
}

function resolveResponse(document: OpenApiDocument, response: Reference): unknown {
  const prefix = '#/components/responses/';
  if (response.$ref === undefined || !response.$ref.startsWith(prefix)) {
    return response;
  }

  return document.components.responses?.[response.$ref.slice(prefix.length)];
}
