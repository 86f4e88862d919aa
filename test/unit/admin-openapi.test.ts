/**
 * The admin API's OpenAPI document is valid OpenAPI 3.1 (checked with a
 * maintained validator) and describes every admin method with the schema
 * that validates its body.
 */
import { describe, expect, it } from 'vitest';
import { validate } from '@readme/openapi-parser';
import { adminMethods } from '../../engine/admin/methods.ts';
import { openApiDocument } from '../../engine/admin/openapi.ts';
import { declarationOf, registry } from '../../engine/protocol/methods.ts';
import type { MethodName } from '../../engine/protocol/methods.ts';

describe('admin OpenAPI document', () => {
  const methods = adminMethods();
  const doc = openApiDocument(methods, 'test') as { paths: Record<string, { post: { requestBody: { content: { 'application/json': { schema: Record<string, unknown> } } } } }> };

  it('is valid OpenAPI 3.1', async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
  });

  it('has a path for sendMsg, kick, getOnlineDevices, broadcastMsg, sendSysMsg, the dead webhook events and every actor method run as an account', () => {
    const actorMethods = (Object.keys(registry) as MethodName[]).filter((m) => declarationOf(m).owner !== 'edge');
    expect(Object.keys(doc.paths).sort()).toEqual([...actorMethods, 'sendMsg', 'kick', 'getOnlineDevices', 'broadcastMsg', 'sendSysMsg', 'listDeadWebhookEvents', 'replayDeadWebhookEvents'].map((m) => `/v1/admin/${m}`).sort());
    const history = doc.paths['/v1/admin/getHistoryMsgs']!.post.requestBody.content['application/json'].schema as { required: string[] };
    expect(history.required).toEqual(['account', 'scene', 'to']);
    const send = doc.paths['/v1/admin/sendMsg']!.post.requestBody.content['application/json'].schema as { anyOf: Array<{ required: string[] }> };
    expect(send.anyOf.some((v) => ['from', 'type', 'text'].every((r) => v.required.includes(r)))).toBe(true);
  });
});
