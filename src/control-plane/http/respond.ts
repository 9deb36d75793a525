import type { IncomingMessage, ServerResponse } from 'node:http';
import { AgentError, type ErrorCode } from '../../errors.js';

/** Largest request body the Scripts API reads, in bytes: a script at its limit plus fields. */
export const MAX_BODY_BYTES = 512 * 1024;

/** HTTP status and `ErrorResponse.type` of each error code the API returns. */
const HTTP_ERRORS: Partial<Record<ErrorCode, { status: number; type: string }>> = {
  REQUEST_INVALID: { status: 400, type: 'invalid_request_error' },
  UNAUTHORIZED: { status: 401, type: 'authentication_error' },
  FORBIDDEN: { status: 403, type: 'permission_error' },
  NOT_FOUND: { status: 404, type: 'invalid_request_error' },
  CONFLICT: { status: 409, type: 'invalid_request_error' },
  FRAME_TOO_LARGE: { status: 413, type: 'invalid_request_error' },
};

const INTERNAL_ERROR = { status: 500, type: 'api_error' };

/** The Scripts API's error body (`ErrorResponse` of the OpenAPI description). */
export type ErrorResponse = { type: string; code: string; message: string; doc_url: string };

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/**
 * Sends an `ErrorResponse` for `error`; values that are not AgentErrors become a 500 whose
 * message reveals nothing about the failure.
 */
export function sendError(response: ServerResponse, error: unknown, docsUrl: string): void {
  const known = error instanceof AgentError ? HTTP_ERRORS[error.code] : undefined;
  const code: ErrorCode =
    known !== undefined && error instanceof AgentError ? error.code : 'INTERNAL';
  const { status, type } = known ?? INTERNAL_ERROR;
  const message =
    known !== undefined && error instanceof AgentError
      ? error.message
      : 'Internal error; the control plane log has the details';

  if (status === 401) {
    response.setHeader('www-authenticate', 'Bearer realm="scripts-api"');
  }

  const body: ErrorResponse = {
    type,
    code,
    message,
    doc_url: `${docsUrl}#${code.toLowerCase().replaceAll('_', '-')}`,
  };
  sendJson(response, status, body);
}

/** Reads and parses a JSON request body of at most `MAX_BODY_BYTES`. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;

  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new AgentError(
        'FRAME_TOO_LARGE',
        `Request body exceeds ${MAX_BODY_BYTES} bytes; shorten the script`,
      );
    }

    chunks.push(buffer);
  }

  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AgentError('REQUEST_INVALID', 'Request body is not valid JSON', { cause: error });
  }
}
