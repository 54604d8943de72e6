// The Action's inputs and outputs, once: src/action reads inputs by these names (typed, so
// a misspelt name does not compile), README.md's reference tables are rendered from here
// (scripts/action-reference.ts), and test/docs/action-reference.test.ts fails when
// action.yml, which GitHub reads and which stays hand-written, declares anything else.

export interface ActionInput {
  /** boolean: true or false (YAML 1.2 core schema, as @actions/core's getBooleanInput). */
  type: 'string' | 'boolean';
  description: string;
  /** What action.yml declares, and what the Action assumes when a local runner passes nothing. */
  default: string;
  required: boolean;
  /** Its value is registered with the runner as a secret before anything is logged. */
  secret: boolean;
}

export interface ActionOutput {
  description: string;
}

export const actionInputs = {
  command: {
    type: 'string',
    description:
      'run syncs; check is the self-test: jobs.yaml, the Entra sign-in (GitHub OIDC included), Graph permissions, the job query, WordPress, the application password, its capabilities, the companion plugin, the state backend and mail. check writes nothing.',
    default: 'run',
    required: false,
    secret: false,
  },
  config: {
    type: 'string',
    description: 'Path of the jobs.yaml configuration file.',
    default: 'jobs.yaml',
    required: false,
    secret: false,
  },
  job: {
    type: 'string',
    description: 'Run only the job with this name (default: every job).',
    default: '',
    required: false,
    secret: false,
  },
  'dry-run': {
    type: 'boolean',
    description: 'Plan and report without writing to WordPress (the checkpoint is not moved either).',
    default: 'false',
    required: false,
    secret: false,
  },
  'allow-deletes': {
    type: 'string',
    description:
      "Approve the removals the last run held back (over safety.maxDeletes), after checking the held list in its summary: 'true' approves that list as it is; a count ('40') only if it still has that many users; a run id only if that run held it. The run removes no one else.",
    default: 'false',
    required: false,
    secret: false,
  },
  'allow-adoptions': {
    type: 'string',
    description:
      "Approve linking the existing WordPress accounts the last run held because nothing proved they are the Entra user's, after checking each in its summary: 'true', a count or a run id, as for allow-deletes.",
    default: 'false',
    required: false,
    secret: false,
  },
  'reset-state': {
    type: 'boolean',
    description:
      'Clear the checkpoint before running, so a new cycle starts (no removals until it completes). Not with dry-run.',
    default: 'false',
    required: false,
    secret: false,
  },
  user: {
    type: 'string',
    description: 'Sync only this Entra user now (object ID or UPN), without moving the cycle.',
    default: '',
    required: false,
    secret: false,
  },
  out: {
    type: 'string',
    description:
      'Directory for results.jsonl, results.csv and summary.md (default `entra-wp-sync-out/<GITHUB_RUN_ID>-<GITHUB_RUN_ATTEMPT>`, so the artifact upload can name it and a re-run keeps its own).',
    default: '',
    required: false,
    secret: false,
  },
  'max-runtime': {
    type: 'string',
    description:
      "Jobs without limits.maxRuntime stop at the next page after this long (a duration like 90s, 30m or 2h; default 50m, below an hourly schedule and a timeout-minutes of 60); the next run continues. Set it below the job's timeout-minutes.",
    default: '',
    required: false,
    secret: false,
  },
  'fail-on': {
    type: 'string',
    description:
      'When the step fails. partial: on a failed job, held removals or adoptions, or any user that could not be synced. error: not for users that could not be synced (each reason stays a warning), so a few permanent data problems do not turn every scheduled run red. never: not at all; read the outcome output.',
    default: 'partial',
    required: false,
    secret: false,
  },
} as const satisfies Record<string, ActionInput>;

export const actionOutputs = {
  outcome: {
    description:
      'ok, partial (some users could not be synced), held (removals or adoptions wait for approval) or failed. check: ok or failed.',
  },
  held: {
    description:
      'Number of removals and adoptions held for a person to approve (see allow-deletes and allow-adoptions).',
  },
  created: { description: 'Number of WordPress users created.' },
  adopted: {
    description: 'Number of existing WordPress accounts linked to their Entra user (with proof or approval).',
  },
  updated: { description: 'Number of WordPress users updated.' },
  disabled: { description: 'Number of WordPress users disabled.' },
  deleted: { description: 'Number of WordPress users deleted.' },
  restored: { description: 'Number of disabled WordPress users restored.' },
  unchanged: { description: 'Number of users that needed no change.' },
  failed: { description: 'Number of users that could not be synced.' },
  complete: {
    description:
      "Whether the run did all it set out to (every job finished its cycle, or the user input's one user was synced); false when max-runtime or a cancel stopped a run, and the next run continues.",
  },
  'results-path': {
    description: 'Path of results.jsonl (one row per decision); results.csv and summary.md are beside it.',
  },
  'summary-path': { description: 'Path of summary.md.' },
} as const satisfies Record<string, ActionOutput>;

export type ActionInputName = keyof typeof actionInputs;
export type ActionOutputName = keyof typeof actionOutputs;

export const secretInputNames = (Object.keys(actionInputs) as ActionInputName[]).filter(
  (name) => (actionInputs[name] as ActionInput).secret,
);
