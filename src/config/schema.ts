// The one definition of jobs.yaml: TypeScript types (z.infer), validation and the JSON Schema
// (src/config/json-schema.ts) all come from here. Every field carries a description for the schema
// and the docs. Objects are strict: an unknown key is an error, not something silently ignored.
// The larger sections of a job are defined beside it: connection-schema.ts, map-schema.ts,
// roles-schema.ts and scope-schema.ts (source, actions, deleteScope, safety).
import { z } from 'zod';
import { graphFields, graphOverride, stateSettings, wordpressOverride } from './connection-schema.ts';
import { mapSettings } from './map-schema.ts';
import { rolesSettings } from './roles-schema.ts';
import { actionsSettings, deleteScopeSettings, safetySettings, sourceSettings } from './scope-schema.ts';

export const jobNamePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const matchRules = ['objectId', 'email', 'username', 'shortLogin'] as const;

/** Where Entra sign-in plugins for WordPress keep a user's object ID (WPO365: aadObjectId). */
export const defaultObjectIdKeys = ['aadObjectId'] as const;
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
    protect: z
      .array(z.string().min(1))
      .default([])
      .describe('Logins or emails that are never disabled or deleted.'),
    adoption: z
      .strictObject({
        objectIdKeys: z
          .array(
            z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, {
              error: 'must be a user meta key: letters, digits, _ and -, not starting with _',
            }),
          )
          .max(10)
          .default([...defaultObjectIdKeys])
          .describe(
            'User meta keys in which other Entra sign-in plugins keep the Entra object ID (WPO365: aadObjectId). An account carrying the same object ID under one of them is linked without approval. Default: [aadObjectId].',
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
  .describe('One sync job.');

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
