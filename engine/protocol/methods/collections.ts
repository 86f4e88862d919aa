/**
 * Collections (bookmarks): saved by an account for itself, private to it,
 * kept by its user actor. Browser-safe.
 */
import * as s from '../schema.ts';
import type { Collect } from '../objects.ts';
import { actorMethod, returns } from '../registry.ts';
import { time, toSelf } from './common.ts';

/** Longest collection `data`, in characters (the reference limit). */
export const MAX_COLLECT_DATA_CHARS = 20480;
/** Longest collection `custom`, in characters (the reference limit). */
export const MAX_COLLECT_CUSTOM_CHARS = 1024;
/** Longest `uniqueId`, in characters. */
export const MAX_COLLECT_UNIQUE_ID_CHARS = 128;
/** Most collections one `deleteCollects` names (the reference limit). */
export const MAX_COLLECTS_PER_DELETE = 100;
/** Largest `limit` of a `getCollects` page. */
export const MAX_COLLECTS_PAGE = 100;

/** A collection `type`: any 32-bit signed integer. */
const collectType = () => s.int({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const collectId = () => s.int({ min: 1 });
const custom = () => s.string({ max: MAX_COLLECT_CUSTOM_CHARS });

export const collectMethods = {
  addCollect: actorMethod({
    doc: 'Saves a collection (`type`, `data` up to 20480 characters, `custom` up to 1024); with a `uniqueId` already saved, that collection is updated instead (its `type`, `data` and `custom`).',
    owner: 'user',
    address: toSelf,
    reads: true,
    args: s.object({
      type: collectType(),
      data: s.string({ min: 1, max: MAX_COLLECT_DATA_CHARS }),
      custom: s.optional(custom()),
      uniqueId: s.optional(s.string({ min: 1, max: MAX_COLLECT_UNIQUE_ID_CHARS })),
    }),
    result: returns<{ collect: Collect }>(),
    retry: 'never',
    errors: [],
  }),
  updateCollect: actorMethod({
    doc: "Sets a collection's `custom` (only that; absent clears it).",
    owner: 'user',
    address: toSelf,
    reads: true,
    positional: 'collect',
    args: s.object({ collect: s.object({ id: collectId(), createTime: s.optional(time()), custom: s.optional(custom()) }) }),
    result: returns<{ collect: Collect }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  deleteCollects: actorMethod({
    doc: 'Deletes up to 100 collections (`collectList`, by `id`); ids not saved are skipped; answers how many were deleted.',
    owner: 'user',
    address: toSelf,
    reads: true,
    positional: 'collectList',
    args: s.object({
      collectList: s.array(s.object({ id: collectId(), createTime: s.optional(time()) }), { min: 1, max: MAX_COLLECTS_PER_DELETE }),
    }),
    result: returns<{ deleteCount: number }>(),
    retry: 'idempotent',
    errors: [],
  }),
  getCollects: actorMethod({
    doc: 'A page of the account\'s collections by `createTime`: newest first from `endTime` (default now), or with `reverse` oldest first from `beginTime`; `lastId` (the last id of the previous page) separates equal times; `type` filters. Answers the page and `total`, the number saved (of `type`, when given).',
    owner: 'user',
    address: toSelf,
    reads: true,
    args: s.object({
      beginTime: s.optional(time(), 0),
      endTime: s.optional(time(), 0),
      lastId: s.optional(collectId()),
      limit: s.optional(s.int({ min: 1, max: MAX_COLLECTS_PAGE }), 100),
      reverse: s.optional(s.boolean(), false),
      type: s.optional(collectType()),
    }),
    result: returns<{ collectList: Collect[]; total: number }>(),
    retry: 'idempotent',
    errors: [],
  }),
};
