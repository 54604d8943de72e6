// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration syntax, not a mistaken template.
// Broken configurations through the real CLI: each one stops the run with exit code 2, a
// message that says where (file:line:column, when the problem is in the file) and what
// to do, and nothing is written to WordPress, however far the run got before noticing.
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type CliResult, runCliProcess } from '../support/cli-process.ts';
import {
  type SyncHarness,
  startSyncHarness,
  testClientId,
  testClientSecret,
  testTenantId,
} from '../support/sync-harness.ts';
import { runPhpOnSite } from '../support/wordpress-site.ts';
import { filesUnder, leaks, tokenLeaks } from './secret-scan.ts';

interface BadConfigCase {
  /** The test name: what is wrong. */
  name: string;
  /** The file's text, from the valid base file (lines 1–14, the job's keys go from line 15). */
  yaml: (base: string) => string;
  env?: Record<string, string | undefined>;
  args?: string[];
  /** line:column in jobs.yaml, when the problem is in the file. */
  at?: string;
  /** What the message must say, and the hint that tells what to do. */
  message: RegExp;
  hint: RegExp;
}

const secretInFile = 'pasted-secret-Vq9~tF3';

/** A job key or two, appended to the valid file at line 15 (indented for the job). */
const withJobKeys = (lines: string) => (base: string) => `${base}${lines}`;
const replacing = (from: string | RegExp, to: string) => (base: string) => {
  const text = base.replace(from, to);
  if (text === base) throw new Error(`the base file has no ${from}`);
  return text;
};

const fixTheFile = /hint: Fix the file and run `entra-wp-sync check`/;

const cases: BadConfigCase[] = [
  // YAML syntax
  {
    name: 'a flow sequence that is never closed',
    yaml: withJobKeys('    protect: [ceo@contoso.com, cfo@contoso.com\n'),
    at: '16:1',
    message: /YAML syntax error: .*flow sequence/i,
    hint: /hint: Check the indentation and quoting near that line/,
  },
  {
    name: 'a tab used for indentation',
    yaml: replacing('  tenantId', '\ttenantId'),
    at: '2:1',
    message: /YAML syntax error: Tabs are not allowed as indentation/,
    hint: /hint: Check the indentation and quoting/,
  },
  {
    name: 'a key given twice',
    yaml: withJobKeys('    guests: include\n    guests: ignore\n'),
    at: '16:5',
    message: /YAML syntax error: Map keys must be unique/,
    hint: /hint: Check the indentation and quoting/,
  },
  {
    name: 'an unquoted value containing ": "',
    yaml: replacing('username: admin', 'username: sync: admin'),
    at: '8:13',
    message: /YAML syntax error: Nested mappings are not allowed in compact mappings/,
    hint: /quote values that contain ": "/,
  },
  // Keys
  {
    name: 'a misspelt job key, with a did-you-mean',
    yaml: withJobKeys('    actoins:\n      delete: soft\n'),
    at: '15:5',
    message: /jobs\[0\]\.actoins: unknown key "actoins"; did you mean "actions"\?/,
    hint: fixTheFile,
  },
  {
    name: 'a misspelt top-level section, with a did-you-mean',
    yaml: replacing(/^wordpress:/m, 'wordpres:'),
    at: '6:1',
    message: /wordpres: unknown key "wordpres"; did you mean "wordpress"\?/,
    hint: fixTheFile,
  },
  {
    name: 'a client secret pasted into the file: refused as an unknown key, the value not repeated',
    yaml: replacing('graph:\n', `graph:\n  clientSecret: ${secretInFile}\n`),
    at: '2:3',
    message: /graph\.clientSecret: unknown key "clientSecret"; allowed keys: tenantId, clientId/,
    hint: fixTheFile,
  },
  // Types and values
  {
    name: 'a word where a number belongs',
    yaml: withJobKeys('    limits:\n      pageSize: lots\n'),
    at: '16:17',
    message: /jobs\[0\]\.limits\.pageSize: must be a number \(got "lots"\)/,
    hint: fixTheFile,
  },
  {
    name: 'a misspelt enum value, with a did-you-mean',
    yaml: withJobKeys('    guests: inclde\n'),
    at: '15:13',
    message: /jobs\[0\]\.guests: must be one of ignore, include \(got "inclde"; did you mean "include"\?\)/,
    hint: fixTheFile,
  },
  {
    name: 'negative and zero limits',
    yaml: withJobKeys('    limits:\n      pageSize: -5\n      concurrency: 0\n'),
    at: '16:17',
    message:
      /pageSize: must be at least 1 \(got -5\)[\s\S]*:17:20 jobs\[0\]\.limits\.concurrency: must be at least 1 \(got 0\)/,
    hint: fixTheFile,
  },
  {
    name: 'a negative deletion limit',
    yaml: withJobKeys('    safety:\n      maxDeletes: -3\n'),
    at: '16:19',
    message: /jobs\[0\]\.safety\.maxDeletes: /,
    hint: fixTheFile,
  },
  {
    name: 'hard deletes without anyone to receive the posts',
    yaml: withJobKeys('    actions:\n      delete: hard\n'),
    at: '15:5',
    message: /jobs\[0\]\.actions\.reassignPostsTo: is required when delete is hard/,
    hint: fixTheFile,
  },
  {
    name: 'a reserved meta key in the mapping',
    yaml: withJobKeys('    map:\n      meta:\n        wp_capabilities: department\n'),
    at: '17:9',
    message: /jobs\[0\]\.map\.meta\.wp_capabilities: key "wp_capabilities" is not allowed/,
    hint: fixTheFile,
  },
  {
    name: 'a mapping that is not an attribute path',
    yaml: withJobKeys('    map:\n      first_name: "given name"\n'),
    at: '16:19',
    message: /jobs\[0\]\.map\.first_name: "given name" is not an attribute path/,
    hint: fixTheFile,
  },
  // Environment
  {
    name: 'an environment variable that is not set',
    yaml: replacing(/url: http:\/\/\S+/, 'url: ${WP_SITE_URL}'),
    at: '7:8',
    message: /wordpress\.url: environment variable WP_SITE_URL is not set/,
    hint: /hint: Set the variable in the environment, or give a default with \$\{NAME:-default\}/,
  },
  {
    name: 'no Entra credential in the environment',
    yaml: (base) => base,
    env: { AZURE_CLIENT_SECRET: undefined },
    message: /No Entra credential found in the environment/,
    hint: /hint: Set AZURE_CLIENT_SECRET, or AZURE_CLIENT_CERTIFICATE_PATH/,
  },
  {
    name: 'no WordPress application password in the environment',
    yaml: (base) => base,
    env: { WORDPRESS_APP_PASSWORD: undefined },
    message: /Job "staff": WORDPRESS_APP_PASSWORD is not set/,
    hint: /hint: Put the WordPress application password of "admin" in the WORDPRESS_APP_PASSWORD environment variable/,
  },
  // Addresses and identifiers
  {
    name: 'a site address without http:// or https://',
    yaml: replacing(/url: http:\/\/\S+/, 'url: intranet.contoso.com'),
    at: '7:8',
    message: /wordpress\.url: must be an http:\/\/ or https:\/\/ URL \(got "intranet\.contoso\.com"\)/,
    hint: fixTheFile,
  },
  {
    name: 'a Graph endpoint over plain http',
    yaml: replacing(/endpoint: https:/, 'endpoint: http:'),
    at: '4:13',
    message: /graph\.endpoint: must be an https:\/\/ URL/,
    hint: fixTheFile,
  },
  {
    name: 'a tenant that is neither a GUID nor a domain',
    yaml: replacing(testTenantId, 'Contoso Ltd'),
    at: '2:13',
    message: /graph\.tenantId: must be a tenant ID \(GUID\) or a verified domain/,
    hint: fixTheFile,
  },
  // Queries
  {
    name: 'a $filter with an unquoted string',
    yaml: replacing('users: {}', 'users:\n        filter: department eq Sales'),
    at: '15:17',
    message:
      /jobs\[0\]\.source\.users\.filter: Graph refused the query of GET \/users \(BadRequest\): .*Sales/,
    hint: /single quotes, e\.g\. department eq 'Sales'/,
  },
  {
    name: 'delta mode with a filter',
    yaml: replacing('users: {}', `users:\n        filter: "department eq 'Sales'"\n      delta: true`),
    at: '15:17',
    message:
      /jobs\[0\]\.source\.users\.filter: Graph user delta can only filter by id; remove source\.users\.filter/,
    hint: fixTheFile,
  },
  {
    name: 'both users and groups as the source',
    yaml: replacing('users: {}', 'users: {}\n      groups: [Staff]'),
    at: '13:5',
    message: /jobs\[0\]\.source: needs exactly one of users: or groups:/,
    hint: fixTheFile,
  },
  {
    name: 'a source group that does not exist in Entra',
    yaml: replacing('users: {}', 'groups: [All Staf]'),
    message: /Job "staff": no Entra group is named "All Staf"/,
    hint: /hint: Use the group's object ID instead of its name/,
  },
  // Roles
  {
    name: 'a role the site does not have',
    yaml: withJobKeys('    roles:\n      default: staf\n'),
    at: '16:16',
    message: /jobs\[0\]\.roles\.default: the site has no role "staf" \(job "staff"\)/,
    hint: /hint: Roles on the site: administrator, editor, author, contributor, subscriber/,
  },
  {
    name: 'a misspelt role in a group rule',
    yaml: withJobKeys('    roles:\n      rules:\n        - group: Editors\n          role: editr\n'),
    at: '18:17',
    message: /jobs\[0\]\.roles\.rules\[0\]\.role: the site has no role "editr"/,
    hint: /hint: Roles on the site: administrator, editor/,
  },
  {
    name: 'administrator in a rule without allowPrivileged',
    yaml: withJobKeys(
      '    roles:\n      rules:\n        - group: IT Admins\n          role: administrator\n',
    ),
    at: '18:17',
    message: /jobs\[0\]\.roles\.rules\[0\]\.role: role "administrator" is privileged/,
    hint: fixTheFile,
  },
  {
    name: 'a site role that can promote users, without allowPrivileged',
    yaml: withJobKeys('    roles:\n      default: people_manager\n'),
    at: '16:16',
    message:
      /jobs\[0\]\.roles\.default: role "people_manager" can manage options or promote users on this site/,
    hint: /hint: Set roles\.allowPrivileged: true if you really mean it/,
  },
  {
    name: 'posts reassigned to a user the site does not have',
    yaml: withJobKeys('    actions:\n      delete: hard\n      reassignPostsTo: ghost\n'),
    message: /Job "staff": actions\.reassignPostsTo "ghost" is not a user on http/,
    hint: /hint: Name the login or user ID of an existing account/,
  },
  // Jobs
  {
    name: 'a job name that would climb out of the state directory',
    yaml: replacing('name: staff', 'name: ../../etc/passwd'),
    at: '12:11',
    message: /jobs\[0\]\.name: must be 1–63 characters/,
    hint: fixTheFile,
  },
  {
    name: 'two jobs with the same name',
    yaml: (base) => `${base}  - name: staff\n    source:\n      groups: [Staff]\n`,
    at: '15:11',
    message: /jobs\[1\]\.name: duplicate job name "staff" \(also used by jobs\[0\]\)/,
    hint: fixTheFile,
  },
  {
    name: '--job naming a job the file does not have',
    yaml: (base) => base,
    args: ['--job', 'staf'],
    message: /no job named "staf" in .*jobs\.yaml; available jobs: staff/,
    hint: /hint: Did you mean --job staff\?/,
  },
  {
    name: 'an empty file',
    yaml: () => '# to do\n',
    at: '1:1',
    message: /the file is empty; it needs at least jobs:/,
    hint: fixTheFile,
  },
];

let harness: SyncHarness;
let base: string;
let before: string;
const results = new Map<string, CliResult & { file: string }>();

/** Everything a run could write to the site: users, their meta, the sync's options. */
function siteFingerprint(): Promise<string> {
  return runPhpOnSite(`
    global $wpdb;
    $users = $wpdb->get_results("SELECT * FROM {$wpdb->users} ORDER BY ID", ARRAY_A);
    // Using an application password stamps its last use; that is not the sync writing.
    $meta = $wpdb->get_results("SELECT user_id, meta_key, meta_value FROM {$wpdb->usermeta} WHERE meta_key <> '_application_passwords' ORDER BY umeta_id", ARRAY_A);
    // The run history is where the site shows refused runs: checked on its own below.
    $options = $wpdb->get_results("SELECT option_name, option_value FROM {$wpdb->options} WHERE option_name LIKE 'entra\\\\_wp\\\\_sync\\\\_%' AND option_name <> 'entra_wp_sync_run_history' ORDER BY option_name", ARRAY_A);
    echo md5(json_encode([$users, $meta, $options])) . ' ' . count($users) . ' users';
  `);
}

function baseConfig(): string {
  const graph = harness.graph;
  const site = harness.site;
  return [
    'graph:',
    `  tenantId: ${testTenantId}`,
    `  clientId: ${testClientId}`,
    `  endpoint: ${graph.graphEndpoint}`,
    `  authorityHost: ${graph.authorityHost}`,
    'wordpress:',
    `  url: ${site.url}`,
    `  username: ${site.adminUser}`,
    'state:',
    '  directory: state',
    'jobs:',
    '  - name: staff',
    '    source:',
    '      users: {}',
    '',
  ].join('\n');
}

async function runCase(item: BadConfigCase, index: number): Promise<void> {
  const directory = join(harness.directory, `case-${index}`);
  await mkdir(directory);
  const file = join(directory, 'jobs.yaml');
  await writeFile(file, item.yaml(base));
  // An unset variable is passed empty, as runners and `docker run -e NAME` pass it.
  const env = {
    ...harness.env,
    // Dozens of CLI starts: V8's compile cache makes each a third cheaper.
    NODE_COMPILE_CACHE: join(tmpdir(), 'entra-wp-sync-test-compile-cache'),
    ...Object.fromEntries(Object.entries(item.env ?? {}).map(([k, v]) => [k, v ?? ''])),
  };
  const result = await runCliProcess(
    ['run', '-c', file, '--out', join(directory, 'out'), ...(item.args ?? [])],
    env,
  );
  results.set(item.name, { ...result, file });
}

beforeAll(async () => {
  // Results are kept by case name.
  if (new Set(cases.map((item) => item.name)).size !== cases.length)
    throw new Error('two cases share a name');
  // Users the sync would create, were any of these configurations let through.
  harness = await startSyncHarness(generateUsers(4, 2202));
  await runPhpOnSite(
    `add_role('people_manager', 'People manager', ['read' => true, 'list_users' => true, 'promote_users' => true]); echo 'ok';`,
  );
  base = baseConfig();
  before = await siteFingerprint();
  // A few at a time: each is a CLI process, and most stop within its start-up.
  const queue = cases.map((item, index) => () => runCase(item, index));
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await next();
    }),
  );
}, 300_000);

afterAll(async () => {
  await harness?.stop();
});

describe('bad configs: broken jobs.yaml and environments', () => {
  it.each(cases)('$name', async (item) => {
    const result = results.get(item.name)!;
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).toBe(2);
    if (item.at) expect(result.stderr).toContain(`${result.file}:${item.at} `);
    expect(result.stderr).toMatch(item.message);
    expect(result.stderr).toMatch(item.hint);
    // A message, not a crash.
    expect(output).not.toMatch(/TypeError|ReferenceError|SyntaxError: |\n\s+at /);
    expect(output).not.toContain(secretInFile);
    expect(output).not.toMatch(/\b\d+ (created|updated|disabled|deleted)\b/);
  });
});

describe('bad configs: the site afterwards', () => {
  it('has no secret or token in any message, report or state file of the refused runs', async () => {
    const outputs = [
      ...[...results].flatMap(([name, result]) => [
        { where: `${name}: stdout`, text: result.stdout },
        { where: `${name}: stderr`, text: result.stderr },
      ]),
      ...(await filesUnder(harness.directory)),
    ];
    expect(leaks(outputs, { name: 'client secret', values: [testClientSecret] })).toEqual([]);
    const appPassword = harness.site.appPassword;
    const secret = { name: 'application password', values: [appPassword, appPassword.replaceAll(' ', '')] };
    expect(leaks(outputs, secret)).toEqual([]);
    expect(tokenLeaks(outputs)).toEqual([]);
  });

  it('has nothing written by any of the refused runs: no users, meta, checkpoints or locks', async () => {
    expect(await siteFingerprint()).toBe(before);
  });

  it('shows in the site only that runs were refused: every run-history record is a failure', async () => {
    const history = await runPhpOnSite(
      "echo json_encode( array_merge( array(), ...array_values( get_option( 'entra_wp_sync_run_history', array() ) ) ) );",
    );
    const records = JSON.parse(history.trim().split('\n').pop() ?? '[]') as Array<{ outcome: string }>;
    expect(records.filter((record) => record.outcome !== 'failed')).toEqual([]);
  });
});
