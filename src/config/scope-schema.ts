// The sections of a job that say whom it syncs and what it may do to them: source (which
// Entra users), actions (create, update, delete), deleteScope and safety (which WordPress
// users a deletion may touch, and how many in one run).
import { z } from 'zod';
import { domainText } from './connection-schema.ts';
import { parseSourceQuery } from './source-query.ts';

const domainName = new RegExp(`^@?${domainText}$`);

export const sourceSettings = z
  .strictObject({
    users: z
      .strictObject({
        filter: z.string().min(1).optional().describe('OData $filter, e.g. "accountEnabled eq true".'),
        search: z.string().min(1).optional().describe('$search expression, e.g. \'"department:Sales"\'.'),
      })
      .optional()
      .describe('Sync users from /users; {} means all users.'),
    groups: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Sync the transitive members of these groups (object IDs or display names).'),
    delta: z
      .boolean()
      .default(false)
      .describe(
        'Use Graph delta queries: the first cycle reads everyone, later runs only the changes (source.users without filter or search). Default: false.',
      ),
    count: z
      .boolean()
      .default(true)
      .describe('Ask Graph for @odata.count (an advanced query); set false for Azure AD B2C. Default: true.'),
    query: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A Graph users query as WPO365 or miniOrange take it, e.g. "myorganization/users?$filter=accountEnabled eq true&$top=10": $filter, $search, $count and $top (page size) are used, $select is ignored; instead of source.users.filter and search.',
      ),
  })
  .superRefine((source, ctx) => {
    const refuse = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const usersSource = source.users !== undefined || source.query !== undefined;
    if (usersSource === (source.groups !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        message:
          source.query === undefined
            ? 'needs exactly one of users: or groups:'
            : 'query: reads users, so it cannot be combined with groups:',
      });
    }
    const parsed = source.query === undefined ? undefined : parseSourceQuery(source.query);
    if (parsed && !parsed.ok) refuse(['query'], parsed.message);
    if (
      source.query !== undefined &&
      (source.users?.filter !== undefined || source.users?.search !== undefined)
    ) {
      refuse(
        ['query'],
        'cannot be combined with source.users.filter or source.users.search; keep one of them (check shows the structured form of the query)',
      );
    }
    if (!source.delta) return;
    // What Graph's user delta cannot do, refused where the file asks for it.
    const mapped = parsed?.ok ? parsed.mapping : undefined;
    if (mapped?.filter !== undefined || mapped?.search !== undefined) {
      refuse(
        ['query'],
        'Graph delta queries can neither $filter nor $search users; remove them from source.query or set source.delta: false',
      );
    }
    if (source.users?.search) {
      refuse(
        ['users', 'search'],
        'Graph delta queries do not support $search; remove source.users.search or set source.delta: false',
      );
    }
    if (source.users?.filter) {
      refuse(
        ['users', 'filter'],
        'Graph user delta can only filter by id; remove source.users.filter (guests and disabled accounts are skipped by the job anyway) or set source.delta: false',
      );
    }
    if (source.groups) {
      refuse(
        ['delta'],
        'Graph user delta cannot be scoped to groups; use source.users with delta, or set source.delta: false for group sources',
      );
    }
  })
  .describe('Which Entra users this job syncs: exactly one of users or groups.');

export const actionsSettings = z
  .strictObject({
    create: z.boolean().default(true).describe('Create missing WordPress users. Default: true.'),
    update: z.boolean().default(true).describe('Update users whose mapped fields differ. Default: true.'),
    delete: z
      .enum(['none', 'soft', 'hard'])
      .default('none')
      .describe(
        'Users gone from the source: none keeps them, soft disables them, hard deletes them. Default: none.',
      ),
    reassignPostsTo: z
      .union([z.string().min(1), z.int().positive()])
      .optional()
      .describe('Login or user ID that receives the content of deleted users; required with delete: hard.'),
  })
  .superRefine((actions, ctx) => {
    if (actions.delete === 'hard' && actions.reassignPostsTo === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['reassignPostsTo'],
        message:
          "is required when delete is hard: name the login or user ID that receives deleted users' posts",
      });
    }
  })
  .prefault({})
  .describe('What the job may do.');

export const deleteScopeSettings = z
  .union([
    z.literal('managed'),
    z
      .strictObject({
        domains: z
          .array(z.string().regex(domainName, { error: 'must be a domain like contoso.com' }))
          .min(1)
          .describe('Email domains whose WordPress users this job may disable or delete.'),
      })
      .describe('Users with an email in these domains, marked or not.'),
  ])
  .default('managed')
  .describe('Which WordPress users deletions may touch: managed (marked by this job) or users in domains.');

export const safetySettings = z
  .strictObject({
    maxDeletes: z
      .union([
        z.int().nonnegative(),
        z
          .string()
          .regex(/^(?:100|\d{1,2})(?:\.\d+)?%$/, { error: 'must be a count or a percentage like "5%"' }),
      ])
      .default('5%')
      .describe(
        'Most users one run may disable or delete: a count, or a percentage of managed users. Default: "5%".',
      ),
  })
  .prefault({})
  .describe('Limits that hold back mass deletions until a person approves them.');
