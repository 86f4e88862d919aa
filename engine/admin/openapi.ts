/**
 * The admin API's OpenAPI 3.1 document, generated from the admin methods'
 * JSON Schemas (the same schemas that validate the bodies), so the document
 * cannot drift from what the server accepts.
 */
import { ERRORS } from '../protocol/errors.ts';
import type { AdminMethod } from './methods.ts';

/** The prefix of every admin path. */
export const ADMIN_PREFIX = '/v1/admin/';

const ERROR_BODY = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'name', 'message'],
      properties: {
        code: { type: 'integer', description: 'the wire protocol code of the error' },
        name: { type: 'string', enum: Object.keys(ERRORS) },
        message: { type: 'string' },
      },
    },
  },
};

export function openApiDocument(methods: Readonly<Record<string, AdminMethod>>, version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(methods)) {
    const statuses = new Set<number>([400, 401, 429, 500, 503, 504, ...method.errors.map((e) => ERRORS[e].http)]);
    const failures = Object.fromEntries(
      [...statuses].sort().map((status) => [String(status), { description: `failure (HTTP ${status})`, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]),
    );
    paths[`${ADMIN_PREFIX}${name}`] = {
      post: {
        operationId: name,
        summary: method.doc,
        requestBody: { required: true, content: { 'application/json': { schema: JSON.parse(JSON.stringify(method.json)) } } },
        responses: {
          '200': {
            description: 'done',
            content: { 'application/json': { schema: { type: 'object', required: ['result'], properties: { result: {} } } } },
          },
          ...failures,
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley admin API',
      version,
      description: 'For the host application\'s backend: `Authorization: Bearer <PARLEY_ADMIN_API_KEY>`, JSON bodies, `{result}` or `{error}`.',
    },
    security: [{ adminKey: [] }],
    components: {
      securitySchemes: { adminKey: { type: 'http', scheme: 'bearer', description: 'one of the keys in PARLEY_ADMIN_API_KEY' } },
      schemas: { Error: ERROR_BODY },
    },
    paths,
  };
}
