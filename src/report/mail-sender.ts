// Sends the summary email over SMTP (SMTP_URL from the environment) or through
// Microsoft Graph sendMail. A failure is reported, never thrown: the sync's result
// stands whatever happens to the mail.
import nodemailer from 'nodemailer';
import type { GraphApi } from '../graph/graph-api.ts';
import type { SummaryMail } from './summary-mail.ts';

export interface MailSettings {
  to: string[];
  from: string;
  via: 'smtp' | 'graph';
  mailbox?: string | undefined;
}

export type MailResult = { sent: true } | { sent: false; reason: string };

export async function sendSummaryMail(
  mail: SummaryMail,
  settings: MailSettings,
  transport: { smtpUrl?: string | undefined; graph?: GraphApi | undefined },
): Promise<MailResult> {
  try {
    if (settings.via === 'graph') {
      if (!transport.graph) return { sent: false, reason: 'no Graph connection for sendMail' };
      await transport.graph.post(
        `/users/${encodeURIComponent(settings.mailbox ?? addressOf(settings.from))}/sendMail`,
        {
          message: {
            subject: mail.subject,
            body: { contentType: 'HTML', content: mail.html },
            toRecipients: settings.to.map((address) => ({ emailAddress: { address } })),
            attachments: mail.attachment
              ? [
                  {
                    '@odata.type': '#microsoft.graph.fileAttachment',
                    name: mail.attachment.filename,
                    contentType: 'text/csv',
                    contentBytes: Buffer.from(mail.attachment.content).toString('base64'),
                  },
                ]
              : [],
          },
          saveToSentItems: false,
        },
        // A second send would be a second email.
        { idempotent: false },
      );
      return { sent: true };
    }
    if (!transport.smtpUrl) {
      return {
        sent: false,
        reason: 'SMTP_URL is not set; put smtp(s)://user:password@host:port in the environment',
      };
    }
    const transporter = nodemailer.createTransport(transport.smtpUrl);
    try {
      await transporter.sendMail({
        from: settings.from,
        to: settings.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        attachments: mail.attachment
          ? [
              {
                filename: mail.attachment.filename,
                content: mail.attachment.content,
                contentType: 'text/csv',
              },
            ]
          : [],
      });
    } finally {
      transporter.close();
    }
    return { sent: true };
  } catch (error) {
    return {
      sent: false,
      reason: withoutSecrets(error instanceof Error ? error.message : String(error), transport.smtpUrl),
    };
  }
}

/** Whether the SMTP server takes a connection and the sign-in, without sending anything. */
export async function verifySmtpTransport(smtpUrl: string): Promise<MailResult> {
  const transporter = nodemailer.createTransport(smtpUrl);
  try {
    await transporter.verify();
    return { sent: true };
  } catch (error) {
    return {
      sent: false,
      reason: withoutSecrets(error instanceof Error ? error.message : String(error), smtpUrl),
    };
  } finally {
    transporter.close();
  }
}

function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from;
}

/** SMTP errors can echo the URL or its password; neither may reach a log or report. */
function withoutSecrets(message: string, smtpUrl: string | undefined): string {
  if (!smtpUrl) return message;
  let cleaned = message.replaceAll(smtpUrl, '<SMTP_URL>');
  try {
    const password = decodeURIComponent(new URL(smtpUrl).password);
    if (password) cleaned = cleaned.replaceAll(password, '***');
  } catch {
    // not a URL: nothing more to remove
  }
  return cleaned;
}
