// The core's messages and hints name CLI flags and commands (--allow-deletes 40,
// `entra-wp-sync check`). In a workflow the administrator sets inputs instead, so
// everything the Action shows (log lines, annotations, the step summary) is reworded here,
// in one place, rather than teaching every module where it runs.
type Rewording = readonly [pattern: RegExp, replacement: string];

/** A count or a held run's id, as approvals take them. */
const pin = String.raw`(\d{8}T\d{6}Z-[0-9a-f]+|\d+)`;

const rewordings: readonly Rewording[] = [
  // "--allow-deletes 12 (action input allow-deletes: '12')": the input alone.
  [
    new RegExp(String.raw`--allow-(deletes|adoptions) ${pin} \(action input allow-\1: '\2'\)`, 'g'),
    "the input allow-$1: '$2'",
  ],
  [/--allow-(deletes|adoptions) \(action input allow-\1: true\)/g, 'the input allow-$1: true'],
  [new RegExp(`--allow-(deletes|adoptions) ${pin}`, 'g'), "allow-$1: '$2'"],
  [/--allow-(deletes|adoptions)\b/g, 'allow-$1: true'],
  [/Did you mean --job ([^?\s]+)\?/g, 'Did you mean the input job: $1?'],
  [
    /Pass the file with -c\/--config \(default \.\/jobs\.yaml\)/g,
    'Set the input config to its path in the repository (default jobs.yaml), and check out the repository first',
  ],
  [/Pass --job with one of the names above\./g, 'Set the input job to one of the names above.'],
  [
    /Fix the file and run `entra-wp-sync check`\. `entra-wp-sync schema` prints the JSON Schema/g,
    "Fix the file, then run the action with the input `command: check`. The action's schema/jobs.schema.json is the JSON Schema",
  ],
  [/`entra-wp-sync check`/g, 'the input `command: check`'],
  [
    /Run `entra-wp-sync state reset --job ([^`]+)` to start a fresh cycle/g,
    'Run the workflow with the inputs `reset-state: true` and `job: $1` to start a fresh cycle',
  ],
  [
    /free the job with `entra-wp-sync state unlock --job ([^`]+)`/g,
    "this action's post step frees a lock its own run left; to free another run's at once, use `entra-wp-sync state unlock --job $1` where jobs.yaml and the secrets are",
  ],
];

export function inActionTerms(text: string): string {
  return rewordings.reduce(
    (reworded, [pattern, replacement]) => reworded.replace(pattern, replacement),
    text,
  );
}
