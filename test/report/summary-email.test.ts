// The summary email over a real SMTP server on loopback, parsed back as a mail client would.

import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { generateUsers } from '../fixtures/fake-graph/index.ts';
import { type SyncHarness, startSyncHarness } from '../support/sync-harness.ts';

let harness: SyncHarness | undefined;
let server: SMTPServer | undefined;
const smtpPassword = 'smtp-Pa55-word!';

afterEach(async () => {
  await harness?.stop();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  harness = undefined;
  server = undefined;
});

async function startSmtp(received: ParsedMail[]): Promise<number> {
  server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === 'sync' && auth.password === smtpPassword) callback(null, { user: 'sync' });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        received.push(mail);
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.server.address() as AddressInfo).port;
}

const notify = {
  email: { on: 'always', to: ['it@contoso.com', 'hr@contoso.com'], from: 'Entra sync <sync@contoso.com>' },
};

async function everyOutput(directory: string, extra: string[]): Promise<string> {
  const texts = [...extra];
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) texts.push(await readFile(join(entry.parentPath, entry.name), 'utf8'));
  }
  return texts.join('\n');
}

describe('summary email', () => {
  it('sends the counts in the subject, the summary in the body and the results as CSV', async () => {
    const received: ParsedMail[] = [];
    const port = await startSmtp(received);
    harness = await startSyncHarness([
      ...generateUsers(3, 95),
      { id: 'eeeeeeee-0000-4000-8000-000000000001', userPrincipalName: '', mail: null },
    ]);
    harness.env.SMTP_URL = `smtp://sync:${encodeURIComponent(smtpPassword)}@127.0.0.1:${port}`;
    await harness.writeConfig({ notify });
    const result = await harness.runJobs();
    expect(result.code).toBe(3);
    expect(received).toHaveLength(1);
    const mail = received[0]!;
    expect(mail.subject).toBe('entra-wp-sync staff: 3 created, 1 failed');
    expect((mail.to as { value: Array<{ address: string }> }).value.map((to) => to.address)).toEqual([
      'it@contoso.com',
      'hr@contoso.com',
    ]);
    expect(mail.text).toContain('| 3 | 0 | 1 |');
    expect(mail.html).toContain('<table');
    const csv = mail.attachments[0]!;
    expect(csv.filename).toBe('results-staff.csv');
    const rows = csv.content.toString().trim().split('\n');
    expect(rows).toHaveLength(5);
    expect(rows[0]).toContain('objectId');
    expect(result.summary).toContain('Summary email: sent to it@contoso.com, hr@contoso.com');
    expect(await everyOutput(harness.directory, [result.stdout, result.stderr])).not.toContain(smtpPassword);
  });

  it('finishes the run with its own exit code when the mail cannot be sent, and says why without the password', async () => {
    const received: ParsedMail[] = [];
    const port = await startSmtp(received);
    harness = await startSyncHarness(generateUsers(2, 96));
    harness.env.SMTP_URL = `smtp://sync:${encodeURIComponent('wrong-password')}@127.0.0.1:${port}`;
    await harness.writeConfig({ notify });
    const result = await harness.runJobs();
    expect(result.code).toBe(0);
    expect(received).toHaveLength(0);
    expect(result.stderr).toContain('the summary email was not sent');
    expect(result.summary).toContain('Summary email: not sent');
    expect(await everyOutput(harness.directory, [result.stdout, result.stderr])).not.toContain(
      'wrong-password',
    );
  });

  it('mails only when something changed with on: changes', async () => {
    const received: ParsedMail[] = [];
    const port = await startSmtp(received);
    harness = await startSyncHarness(generateUsers(2, 97));
    harness.env.SMTP_URL = `smtp://sync:${encodeURIComponent(smtpPassword)}@127.0.0.1:${port}`;
    await harness.writeConfig({ notify: { email: { ...notify.email, on: 'changes' } } });
    await harness.runJobs();
    await harness.runJobs();
    expect(received.map((mail) => mail.subject)).toEqual(['entra-wp-sync staff: 2 created']);
  });

  it('can send the same message through Microsoft Graph sendMail instead of SMTP', async () => {
    harness = await startSyncHarness(generateUsers(2, 94), {
      permissions: ['User.Read.All', 'GroupMember.Read.All', 'Mail.Send'],
    });
    const mailbox = generateUsers(2, 94)[0]!.userPrincipalName;
    await harness.writeConfig({ notify: { email: { ...notify.email, via: 'graph', mailbox } } });
    const result = await harness.runJobs();
    expect(result.code).toBe(0);
    expect(harness.graph.sentMail).toHaveLength(1);
    const sent = harness.graph.sentMail[0]! as { from: string; message: Record<string, unknown> };
    expect(sent.from).toBe(mailbox);
    expect(sent.message).toMatchObject({
      subject: 'entra-wp-sync staff: 2 created',
      toRecipients: [
        { emailAddress: { address: 'it@contoso.com' } },
        { emailAddress: { address: 'hr@contoso.com' } },
      ],
    });
    const attachments = sent.message.attachments as Array<{ name: string; contentBytes: string }>;
    expect(Buffer.from(attachments[0]!.contentBytes, 'base64').toString().trim().split('\n')).toHaveLength(3);
  });
});
