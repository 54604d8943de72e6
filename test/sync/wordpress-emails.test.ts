// WordPress mails a person when their email or password changes. Changes the sync makes
// send none of those mails unless the job sets wordpressEmails: send; a member changing
// their own email still gets WordPress's mail. Counted by the test bed's mail log
// (mu-plugin testbed-mail-log.php), which keeps every mail wp_mail() is asked to send.
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUser, generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';
import { runPhpOnSite } from '../support/wordpress-site.ts';

let harness: SyncHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

interface SentMail {
  to: string;
  subject: string;
}

async function recordMail(): Promise<void> {
  expect(await runPhpOnSite(`update_option('entra_testbed_record_mail', 1); echo 'ok';`)).toBe('ok');
}

/** The mails logged so far, oldest first; the log is emptied. */
async function takeMails(): Promise<SentMail[]> {
  const json = await runPhpOnSite(`
    global $wpdb;
    $rows = $wpdb->get_results("SELECT option_name, option_value FROM {$wpdb->options} WHERE option_name LIKE 'entra\\\\_testbed\\\\_mail\\\\_%'");
    $mails = array();
    foreach ($rows as $row) { $mails[] = json_decode($row->option_value, true); delete_option($row->option_name); }
    usort($mails, fn($a, $b) => $a['at'] <=> $b['at']);
    echo wp_json_encode($mails);
  `);
  return (JSON.parse(json) as Array<SentMail & { at: number }>).map(({ to, subject }) => ({ to, subject }));
}

/** A run that creates four people, then renames two (new email), disables one and restores it. */
async function createRenameDisableRestore(people: FakeUser[]): Promise<SentMail[][]> {
  const [renamedA, renamedB, leaver] = [people[0]!, people[1]!, people[2]!];
  const mails: SentMail[][] = [];
  const run = async () => {
    const result = await harness!.runJobs();
    expect(result.code, result.stderr).toBe(0);
    mails.push(await takeMails());
    return result;
  };
  const created = await run();
  expect(created.rows.filter((row) => row.action === 'created')).toHaveLength(people.length);
  for (const person of [renamedA, renamedB])
    harness!.graph.tenant.updateUser(person.id, { mail: `renamed.${String(person.mail)}` });
  harness!.graph.tenant.removeUser(leaver.id);
  const changed = await run();
  expect(changed.rows.filter((row) => row.action === 'updated').map((row) => row.objectId)).toEqual(
    expect.arrayContaining([renamedA.id, renamedB.id]),
  );
  expect(changed.rows.filter((row) => row.action === 'disabled').map((row) => row.objectId)).toEqual([
    leaver.id,
  ]);
  harness!.graph.tenant.restoreUser(leaver.id);
  const restored = await run();
  expect(restored.rows.filter((row) => row.action === 'restored').map((row) => row.objectId)).toEqual([
    leaver.id,
  ]);
  return mails;
}

describe("WordPress's own emails about the sync's changes", () => {
  it('are not sent by default: creates, email changes, disabling and restoring mail nobody', async () => {
    const people = generateUsers(4, 221);
    harness = await startSyncHarness(people);
    await harness.writeConfig({ actions: { delete: 'soft' } });
    await recordMail();
    const mails = await createRenameDisableRestore(people);
    expect(mails).toEqual([[], [], []]);
    // The sync did change the emails: the quiet is not from a change left out.
    const emails = (await harness.wordpressUsers()).map((user) => user.email);
    expect(emails).toEqual(
      expect.arrayContaining([`renamed.${people[0]!.mail}`, `renamed.${people[1]!.mail}`]),
    );
  });

  it('with wordpressEmails: send, WordPress mails each old address that its email changed', async () => {
    const people = generateUsers(4, 222);
    harness = await startSyncHarness(people);
    await harness.writeConfig({ actions: { delete: 'soft' }, wordpressEmails: 'send' });
    await recordMail();
    const [created, changed, restored] = await createRenameDisableRestore(people);
    // Core's REST create sends no new-user mail on a single site; restoring changes roles only.
    expect(created).toEqual([]);
    expect(restored).toEqual([]);
    expect(changed!.map((mail) => mail.to).sort()).toEqual(
      [String(people[0]!.mail), String(people[1]!.mail)].sort(),
    );
    for (const mail of changed!) expect(mail.subject).toMatch(/Email Changed/);
  });

  it("still sends a member's own email change, even when their request carries the sync's header", async () => {
    const people = generateUsers(1, 223);
    harness = await startSyncHarness(people);
    await harness.writeConfig();
    expect((await harness.runJobs()).code).toBe(0);
    await recordMail();
    const member = people[0]!;
    const password = await runPhpOnSite(`
      $user = get_user_by('email', '${member.mail}');
      list($password) = WP_Application_Passwords::create_new_application_password($user->ID, array('name' => 'own'));
      echo $user->user_login . ':' . $password;
    `);
    const response = await fetch(`${harness.site.restUrl}wp/v2/users/me`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(password).toString('base64')}`,
        'content-type': 'application/json',
        'x-entra-wp-sync': '1',
      },
      body: JSON.stringify({ email: `own.${member.mail}` }),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const mails = await takeMails();
    expect(mails.map((mail) => mail.to)).toEqual([String(member.mail)]);
    expect(mails[0]!.subject).toMatch(/Email Changed/);
  });
});
