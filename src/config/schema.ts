// The one definition of jobs.yaml: TypeScript types (z.infer), validation and the JSON Schema
// (src/config/json-schema.ts) all come from here. Every field carries a description for the schema
// and the docs. Objects are strict: an unknown key is an error, not something silently ignored.
// The larger sections of a job are defined beside it: connection-schema.ts, map-schema.ts,
// roles-schema.ts and scope-schema.ts (source, actions, deleteScope, safety).
import { z } from 'zod';
import { needsEventualConsistency } from '../graph/users-query.ts';
import { graphFields, graphOverride, stateSettings, wordpressOverride } from './connection-schema.ts';
import { mapSettings, writtenMapReadsManager } from './map-schema.ts';
import { rolesSettings } from './roles-schema.ts';
import { actionsSettings, deleteScopeSettings, safetySettings, sourceSettings } from './scope-schema.ts';
import { parseSourceQuery } from './source-query.ts';

export const jobNamePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const matchRules = ['objectId', 'email', 'username', 'shortLogin'] as const;

/**
 * Where WordPress plugins that sign in with or sync from Entra keep a user's object ID, as
 * their code and documentation show: WPO365 (aadObjectId) and miniOrange User Sync
 * (AD_SYNC_ID). The README's table lists the others and why they are not here.
 */
export const defaultObjectIdKeys = ['aadObjectId', 'AD_SYNC_ID'] as const;
const objectIdKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, {
  error: 'must be a user meta key: letters, digits, _ and -, not starting with _',
});
export const avatarSizes = [
  '48x48',
  '64x64',
  '96x96',
  '120x120',
  '240x240',
  '360x360',
  '432x432',
  '504x504',
  '648x648',
] as const;

export const jobSchema = z
  .strictObject({
    name: z
      .string()
      .regex(jobNamePattern, {
        error:
          'must be 1–63 characters: lower-case letters, digits, "-" and "_", starting with a letter or digit',
      })
      .describe('Job name, used in state files, user markers and reports.'),
    graph: graphOverride.optional().describe('Overrides of the top-level graph settings for this job.'),
    wordpress: wordpressOverride
      .optional()
      .describe('Overrides of the top-level wordpress settings for this job.'),
    source: sourceSettings,
    match: z
      .array(z.enum(matchRules))
      .min(1)
      .default(['objectId', 'email', 'username'])
      .refine((rules) => new Set(rules).size === rules.length, { error: 'must not list a rule twice' })
      .describe(
        'How an Entra user finds its WordPress user, tried in order. Default: [objectId, email, username].',
      ),
    actions: actionsSettings,
    deleteScope: deleteScopeSettings,
    guests: z
      .enum(['ignore', 'include'])
      .default('ignore')
      .describe('Whether guest (B2B) users are synced. Default: ignore.'),
    usernames: z
      .enum(['derive', 'strict'])
      .default('derive')
      .describe(
        "What a new user gets whose mapped user_login WordPress refuses (an apostrophe, emoji, right-to-left script, over 60 characters): derive gives a login WordPress accepts, made from the mapped one with a short suffix from the object ID (e.g. sean.obrien-k3j9x2@contoso.com), and reports it in the result row; strict reports the user as an error instead. A login WordPress accepts is kept as mapped, and an existing user's login never changes. On a multisite network new logins follow the network's rule (lower-case letters and digits). Default: derive.",
      ),
    protect: z
      .array(z.string().min(1))
      .default([])
      .describe('Logins or emails that are never disabled or deleted.'),
    adoption: z
      .strictObject({
        objectIdKeys: z
          .array(objectIdKey)
          .max(10)
          .default([...defaultObjectIdKeys])
          .describe(
            'User meta keys in which other Entra plugins keep the Entra object ID (WPO365: aadObjectId, miniOrange User Sync: AD_SYNC_ID). An account carrying the same object ID under one of them is linked without approval. Default: [aadObjectId, AD_SYNC_ID].',
          ),
        writeObjectIdKeys: z
          .array(objectIdKey)
          .max(10)
          .default([])
          .refine((keys) => new Set(keys).size === keys.length, { error: 'must not list a key twice' })
          .describe(
            "User meta keys the job also writes the Entra object ID to when it creates or links an account, so the site's SSO plugin finds the account (WPO365: aadObjectId); needs the companion plugin. Keys already holding another value are left alone. Default: [] (none).",
          ),
        withoutCompanionPlugin: z
          .enum(['refuse', 'link'])
          .default('refuse')
          .describe(
            'A site without the companion plugin cannot show whose an existing account is: refuse stops the run before it writes; link matches accounts by the match rules without proof (a member who changes their email could take over a joiner). Default: refuse.',
          ),
      })
      .prefault({})
      .describe(
        'Linking existing WordPress accounts the job does not manage yet: automatic only with proof (the object ID under one of objectIdKeys, or the email/login since before the job began); others are held for approval (--allow-adoptions).',
      ),
    map: mapSettings.prefault({}),
    roles: rolesSettings.prefault({}),
    avatar: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe('Sync the Entra profile photo as the avatar. Default: false.'),
        size: z.enum(avatarSizes).default('240x240').describe('Photo size to fetch. Default: 240x240.'),
      })
      .prefault({})
      .describe('Profile photos (served by the companion plugin).'),
    wordpressEmails: z
      .enum(['quiet', 'send'])
      .default('quiet')
      .describe(
        'The emails WordPress itself sends when the job changes an account ("Email Changed" to the old address, "Password Changed", a network\'s new-user notice): quiet sends none of them (needs the companion plugin), send lets WordPress send them as for any other change. Default: quiet.',
      ),
    notify: z
      .strictObject({
        email: z
          .strictObject({
            on: z
              .enum(['never', 'always', 'changes', 'failure'])
              .default('never')
              .describe('When to send the summary: never, always, when something changed, or on failure.'),
            to: z
              .array(z.email({ error: 'must be an email address' }))
              .min(1)
              .describe('Recipients.'),
            from: z.string().min(1).describe('Sender, e.g. "Entra sync <sync@example.com>".'),
            via: z
              .enum(['smtp', 'graph'])
              .default('smtp')
              .describe(
                'smtp (SMTP URL from the environment) or graph (sendMail, needs Mail.Send). Default: smtp.',
              ),
            mailbox: z
              .string()
              .min(1)
              .optional()
              .describe('Mailbox that sends through Graph. Default: the address in from.'),
          })
          .optional()
          .describe('Email the run summary with the results CSV attached.'),
      })
      .prefault({})
      .describe('Notifications.'),
    safety: safetySettings,
    limits: z
      .strictObject({
        pageSize: z.int().min(1).max(999).default(999).describe('Users per Graph page, 1–999. Default: 999.'),
        maxRuntime: z
          .union([
            z.number().positive(),
            z.string().regex(/^\s*\d+(?:\.\d+)?\s*[smhdSMHD]?\s*$/, {
              error: 'must be a duration like 90s, 30m or 2h',
            }),
          ])
          .optional()
          .describe(
            'Stop and checkpoint after this long: seconds, or "90s", "30m", "2h". Default: no limit.',
          ),
        concurrency: z
          .int()
          .min(1)
          .max(32)
          .default(4)
          .describe(
            "WordPress write requests in flight (single users, or batches of up to 25 where the site allows /batch/v1), 1–32; about twice the WordPress server's CPU cores works best. Default: 4.",
          ),
      })
      .prefault({})
      .describe('How much work one run does and how fast.'),
  })
  .superRefine(checkManagerSource)
  .describe('One sync job.');

/**
 * The manager is read with $expand=manager on /users, which Graph refuses in advanced
 * queries ($search, ne/not/endsWith filters) and which user delta and group member
 * listings answer in other shapes. ($count, an advanced query too, is only left out.)
 */
function checkManagerSource(
  job: { map: Record<string, unknown>; source: z.output<typeof sourceSettings> },
  ctx: z.RefinementCtx,
): void {
  if (!writtenMapReadsManager(job.map)) return;
  const refuse = (path: PropertyKey[], why: string) =>
    ctx.addIssue({
      code: 'custom',
      path: ['source', ...path],
      message: `the map reads the manager, which Graph gives only with $expand=manager on a plain /users listing, and ${why}`,
    });
  // A source.query stands for source.users: judge what it maps to, and point at it.
  const fromQuery = job.source.query === undefined ? undefined : parseSourceQuery(job.source.query);
  const users = fromQuery?.ok ? fromQuery.mapping : job.source.users;
  const at = (key: 'search' | 'filter') => (fromQuery ? ['query'] : ['users', key]);
  const advanced =
    'Graph does not support $expand in advanced queries ($search, ne/not/endsWith filters); use a plain filter (eq, startsWith, in), or remove the manager mappings';
  if (job.source.delta)
    refuse(
      ['delta'],
      'delta queries do not expand it; set source.delta: false or remove the manager mappings',
    );
  else if (job.source.groups)
    refuse(
      ['groups'],
      'group member listings do not expand it; use source.users (with a filter) or remove the manager mappings',
    );
  else if (users?.search) refuse(at('search'), advanced);
  else if (needsEventualConsistency({ filter: users?.filter, count: false })) refuse(at('filter'), advanced);
}

export const jobsFileSchema = z
  .strictObject({
    $schema: z.string().optional().describe('JSON Schema of this file, for editors.'),
    graph: graphOverride
      .extend({ cloud: graphFields.cloud.default('global') })
      .prefault({})
      .describe('Microsoft Graph connection shared by all jobs; a job may override any of it.'),
    wordpress: wordpressOverride
      .prefault({})
      .describe('WordPress site shared by all jobs; a job may override any of it.'),
    state: stateSettings.prefault({}),
    jobs: z.array(jobSchema).min(1).describe('The sync jobs; at least one, names unique.'),
  })
  // Runs even when other parts of the file are invalid, so one pass reports every problem.
  .superRefine(checkAcrossJobs, { when: () => true })
  .describe('entra-wp-sync configuration: connection settings shared by all jobs, and the jobs.');

export type JobsFileInput = z.input<typeof jobsFileSchema>;
export type JobsFile = z.output<typeof jobsFileSchema>;
export type JobConfig = JobsFile['jobs'][number];
export type GraphSettings = z.output<typeof graphOverride>;
export type WordPressSettings = z.output<typeof wordpressOverride>;

type Section = Record<string, unknown> | undefined;
type LooseFile = { graph?: Section; wordpress?: Section; jobs?: unknown };

/** Rules that span jobs: unique names, and connection settings complete once merged. */
function checkAcrossJobs(value: unknown, ctx: z.RefinementCtx): void {
  const file = value as LooseFile;
  if (!Array.isArray(file.jobs)) return;
  const seen = new Map<string, number>();
  file.jobs.forEach((entry: unknown, index) => {
    if (!entry || typeof entry !== 'object') return;
    const job = entry as { name?: unknown; graph?: Section; wordpress?: Section };
    const label = typeof job.name === 'string' ? `job "${job.name}"` : `jobs[${index}]`;
    if (typeof job.name === 'string') {
      const first = seen.get(job.name);
      if (first === undefined) seen.set(job.name, index);
      else {
        const message = `duplicate job name "${job.name}" (also used by jobs[${first}])`;
        ctx.addIssue({ code: 'custom', path: ['jobs', index, 'name'], message });
      }
    }
    const required = [
      ['graph', 'tenantId'],
      ['graph', 'clientId'],
      ['wordpress', 'url'],
      ['wordpress', 'username'],
    ] as const;
    for (const [section, key] of required) {
      if (job[section]?.[key] !== undefined || file[section]?.[key] !== undefined) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['jobs', index, section, key],
        message: `${label} has no ${section}.${key}: set it in the top-level ${section}: section or in the job's own ${section}:`,
      });
    }
  });
}
