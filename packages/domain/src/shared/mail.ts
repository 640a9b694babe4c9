import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { awsClientConfig } from './aws.ts';

export interface Mail {
  to: string;
  subject: string;
  body: string;
  kind: 'verification' | 'password-reset' | 'invitation' | 'mfa' | 'other';
  code?: string;
  link?: string;
}

export type MailTransport = (mail: Mail) => Promise<void>;

let ses: SESv2Client | undefined;
const sesTransport: MailTransport = async (mail) => {
  ses ??= new SESv2Client(awsClientConfig('ses'));
  await ses.send(
    new SendEmailCommand({
      FromEmailAddress: process.env.MAIL_FROM,
      Destination: { ToAddresses: [mail.to] },
      Content: { Simple: { Subject: { Data: mail.subject }, Body: { Text: { Data: mail.body } } } },
    }),
  );
};

let transport: MailTransport = sesTransport;

/** The local cloud swaps in its outbox; on AWS mail goes through SES. */
export function setMailTransport(next: MailTransport) {
  transport = next;
}

export const sendMail = (mail: Mail) => transport(mail);
