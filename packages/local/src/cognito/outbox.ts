import { randomUUID } from 'node:crypto';
import type { CognitoService } from 'cognito-local/lib/services/cognitoService.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import type { Message, Messages } from 'cognito-local/lib/services/messages.js';
import type { DeliveryDetails, MessageDelivery } from 'cognito-local/lib/services/messageDelivery/messageDelivery.js';
import type { MessageSender } from 'cognito-local/lib/services/messageDelivery/messageSender.js';
import type { User, UserPool } from 'cognito-local/lib/services/userPoolService.js';

export type OutboxMessageKind = 'verification' | 'password-reset' | 'invitation' | 'mfa' | 'other';

export interface OutboxMessage {
  id: string;
  at: string;
  to: string;
  subject: string;
  body: string;
  code?: string;
  link?: string;
  kind: OutboxMessageKind;
}

/** In-memory mailbox: every e-mail / SMS that Cognito would have sent lands here. */
export class Outbox {
  private messages: OutboxMessage[] = [];

  add(m: Omit<OutboxMessage, 'id' | 'at'>): OutboxMessage {
    const message: OutboxMessage = { id: randomUUID(), at: new Date().toISOString(), ...m };
    this.messages.push(message);
    return message;
  }

  /** Oldest first. `to` is compared case-insensitively. */
  list(filter?: { to?: string }): OutboxMessage[] {
    const to = filter?.to?.toLowerCase();
    return this.messages.filter((m) => to === undefined || m.to.toLowerCase() === to).map((m) => ({ ...m }));
  }

  latest(to: string): OutboxMessage | undefined {
    return this.list({ to }).at(-1);
  }

  clear(): void {
    this.messages = [];
  }
}

/** cognito-local's MessageSource (not exported by the package). */
export type MessageSource = Parameters<Messages['deliver']>[1];

/** A cognito-local Message that also carries the kind, so the sender can file it. */
interface KindedMessage extends Message {
  __kind?: OutboxMessageKind;
}

const kindOf = (source: MessageSource): OutboxMessageKind => {
  switch (source) {
    case 'SignUp':
    case 'ResendCode':
    case 'UpdateUserAttribute':
    case 'VerifyUserAttribute':
      return 'verification';
    case 'ForgotPassword':
      return 'password-reset';
    case 'AdminCreateUser':
      return 'invitation';
    case 'Authentication':
      return 'mfa';
    default:
      return 'other';
  }
};

const fill = (template: string, code: string, username: string): string =>
  template.split('{####}').join(code).split('{username}').join(username);

/** Render the message the way Cognito does with its default templates (no CustomMessage trigger). */
export const renderMessage = (source: MessageSource, code: string, user: User, pool: UserPool): KindedMessage => {
  const kind = kindOf(source);
  const username = user.Attributes.find((a) => a.Name === 'email')?.Value ?? user.Username;
  if (kind === 'invitation') {
    const t = pool.AdminCreateUserConfig?.InviteMessageTemplate;
    return {
      __code: code,
      __kind: kind,
      emailSubject: t?.EmailSubject ?? 'Your temporary password',
      emailMessage: fill(t?.EmailMessage ?? 'Your username is {username} and temporary password is {####}. ', code, username),
      smsMessage: fill(t?.SMSMessage ?? 'Your username is {username} and temporary password is {####}. ', code, username),
    };
  }
  if (kind === 'mfa') {
    const sms = fill(pool.SmsAuthenticationMessage ?? 'Your authentication code is {####}. ', code, username);
    return { __code: code, __kind: kind, emailSubject: 'Your authentication code', emailMessage: sms, smsMessage: sms };
  }
  const t = pool.VerificationMessageTemplate;
  return {
    __code: code,
    __kind: kind,
    emailSubject: t?.EmailSubject ?? pool.EmailVerificationSubject ?? 'Your verification code',
    emailMessage: fill(t?.EmailMessage ?? pool.EmailVerificationMessage ?? 'Your verification code is {####}. ', code, username),
    smsMessage: fill(t?.SmsMessage ?? pool.SmsVerificationMessage ?? 'Your verification code is {####}. ', code, username),
  };
};

/** cognito-local MessageSender that files messages into an Outbox instead of printing a box to the console. */
export class OutboxMessageSender implements MessageSender {
  constructor(
    private readonly outbox: Outbox,
    private readonly print?: (line: string) => void,
  ) {}

  sendEmail(_ctx: Context, _user: User, destination: string, message: Message): Promise<void> {
    this.file(destination, message.emailSubject ?? '', message.emailMessage ?? '', message);
    return Promise.resolve();
  }

  sendSms(_ctx: Context, _user: User, destination: string, message: Message): Promise<void> {
    this.file(destination, '', message.smsMessage ?? '', message);
    return Promise.resolve();
  }

  private file(to: string, subject: string, body: string, message: KindedMessage): void {
    const kind = message.__kind ?? 'other';
    const code = message.__code;
    this.outbox.add({ to, subject, body, kind, ...(code !== undefined ? { code } : {}) });
    this.print?.(`[local-cognito] mail to ${to} (${kind})${code !== undefined ? `: code ${code}` : ''}`);
  }
}

/**
 * Replaces cognito-local's MessagesService: it renders the default Cognito templates (cognito-local sends only the
 * bare code when no CustomMessage lambda is configured) and tags each message with its kind.
 */
export class OutboxMessages implements Messages {
  constructor(
    private readonly cognito: CognitoService,
    private readonly delivery: MessageDelivery,
  ) {}

  async deliver(
    ctx: Context,
    source: MessageSource,
    _clientId: string | null,
    userPoolId: string,
    user: User,
    code: string,
    _clientMetadata: Record<string, string> | undefined,
    deliveryDetails: DeliveryDetails,
  ): Promise<void> {
    const pool = await this.cognito.getUserPool(ctx, userPoolId);
    await this.delivery.deliver(ctx, user, deliveryDetails, renderMessage(source, code, user, pool.options));
  }
}
