import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { CognitoError, UnsupportedError, UserLambdaValidationError } from 'cognito-local/lib/errors.js';
import type { Clock } from 'cognito-local/lib/services/clock.js';
import type { CognitoService } from 'cognito-local/lib/services/cognitoService.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import type { FunctionConfig, Lambda } from 'cognito-local/lib/services/lambda.js';
import { CustomMessage } from 'cognito-local/lib/services/triggers/customMessage.js';
import type { CustomEmailSenderTrigger } from 'cognito-local/lib/services/triggers/customEmailSender.js';
import { PostAuthentication } from 'cognito-local/lib/services/triggers/postAuthentication.js';
import type { PostConfirmationTrigger } from 'cognito-local/lib/services/triggers/postConfirmation.js';
import { PreSignUp } from 'cognito-local/lib/services/triggers/preSignUp.js';
import { PreTokenGeneration } from 'cognito-local/lib/services/triggers/preTokenGeneration.js';
import type { Triggers } from 'cognito-local/lib/services/triggers/triggers.js';
import { UserMigration } from 'cognito-local/lib/services/triggers/userMigration.js';
import { attribute, attributesAppend, attributesToRecord, attributeValue } from 'cognito-local/lib/services/userPoolService.js';

export const REGION = 'us-east-1';

export type PostConfirmationHandler = (event: PostConfirmationTriggerEvent) => Promise<unknown>;

export interface InProcessHandlers {
  postConfirmation?: PostConfirmationHandler | undefined;
}

/** The event cognito-local hands to its Lambda service (its own type is not exported). */
interface InternalPostConfirmationEvent {
  triggerSource: PostConfirmationTriggerEvent['triggerSource'];
  clientId: string | null;
  clientMetadata: Record<string, string> | undefined;
  userAttributes: Record<string, string>;
  username: string;
  userPoolId: string;
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Replaces cognito-local's LambdaService (which calls AWS Lambda over the network) with in-process callbacks.
 * Only PostConfirmation is wired; every other trigger reports itself as disabled.
 */
export class InProcessLambda implements Lambda {
  constructor(private readonly handlers: InProcessHandlers) {}

  enabled(lambda: keyof FunctionConfig): boolean {
    return lambda === 'PostConfirmation' && this.handlers.postConfirmation !== undefined;
  }

  // One implementation signature is assignable to every overload of Lambda.invoke.
  async invoke(_ctx: Context, lambda: keyof FunctionConfig, event: unknown): Promise<never> {
    if (lambda === 'PostConfirmation' && this.handlers.postConfirmation) {
      // The response of PostConfirmation is ignored by Cognito; cognito-local's callers don't read it either.
      return (await this.postConfirmation(this.handlers.postConfirmation, event as InternalPostConfirmationEvent)) as never;
    }
    throw new UnsupportedError(`${lambda} trigger is not available in local Cognito`);
  }

  private async postConfirmation(handler: PostConfirmationHandler, e: InternalPostConfirmationEvent): Promise<object> {
    const event: PostConfirmationTriggerEvent = {
      version: '1',
      region: REGION,
      userPoolId: e.userPoolId,
      userName: e.username,
      callerContext: {
        awsSdkVersion: 'aws-sdk-unknown-unknown',
        // AWS sends this placeholder for admin operations (AdminConfirmSignUp).
        clientId: e.clientId ?? 'CLIENT_ID_NOT_APPLICABLE',
      },
      triggerSource: e.triggerSource,
      request: {
        userAttributes: { ...e.userAttributes },
        ...(e.clientMetadata ? { clientMetadata: { ...e.clientMetadata } } : {}),
      },
      response: {},
    };
    let result: unknown;
    try {
      result = await handler(event);
    } catch (err) {
      // What AWS answers when the trigger function throws.
      throw new UserLambdaValidationError(`PostConfirmation failed with error ${errorMessage(err)}.`);
    }
    if (result === null || typeof result !== 'object') {
      // AWS rejects a trigger that does not return the event (classic "async handler forgot to return event").
      throw new CognitoError('InvalidLambdaResponseException', 'Unrecognizable lambda output');
    }
    return result;
  }
}

/**
 * Triggers implementation built from cognito-local's trigger factories, except:
 *  - PostConfirmation errors are propagated to the API caller (cognito-local logs and swallows them; AWS fails the call),
 *  - ConfirmSignUp marks the e-mail verified when the pool auto-verifies e-mail (cognito-local leaves email_verified unset),
 *  - the event's userAttributes carry email_verified and cognito:email_alias like AWS's.
 * CustomEmailSender is not supported (no KMS locally).
 */
export class LocalTriggers implements Triggers {
  readonly customMessage;
  readonly customEmailSender: CustomEmailSenderTrigger;
  readonly postAuthentication;
  readonly preSignUp;
  readonly preTokenGeneration;
  readonly userMigration;
  readonly postConfirmation: PostConfirmationTrigger;

  constructor(
    clock: Clock,
    private readonly cognito: CognitoService,
    private readonly lambda: InProcessLambda,
  ) {
    this.customMessage = CustomMessage({ lambda });
    this.customEmailSender = () => Promise.reject(new UnsupportedError('CustomEmailSender trigger'));
    this.postAuthentication = PostAuthentication({ lambda });
    this.preSignUp = PreSignUp({ lambda });
    this.preTokenGeneration = PreTokenGeneration({ lambda });
    this.userMigration = UserMigration({ clock, lambda, cognitoClient: cognito });
    this.postConfirmation = (ctx, params) => this.runPostConfirmation(ctx, params);
  }

  enabled(trigger: Parameters<Triggers['enabled']>[0]): boolean {
    // Always "enabled" so that confirmation goes through runPostConfirmation (email_verified fix) even without a callback.
    return trigger === 'PostConfirmation' || this.lambda.enabled(trigger);
  }

  private async runPostConfirmation(ctx: Context, params: Parameters<PostConfirmationTrigger>[1]): Promise<void> {
    const pool = await this.cognito.getUserPool(ctx, params.userPoolId);
    let userAttributes = params.userAttributes;

    // ConfirmSignUp (a client call, so clientId is set) proves ownership of the address the code was sent to.
    const confirmsEmail =
      params.source === 'PostConfirmation_ConfirmSignUp' &&
      params.clientId !== null &&
      (pool.options.AutoVerifiedAttributes ?? []).includes('email');
    if (confirmsEmail && attributeValue('email', userAttributes)) {
      const user = await pool.getUserByUsername(ctx, params.username);
      if (user && attributeValue('email_verified', user.Attributes) !== 'true') {
        await pool.saveUser(ctx, {
          ...user,
          Attributes: attributesAppend(user.Attributes, attribute('email_verified', 'true')),
        });
      }
      userAttributes = attributesAppend(userAttributes, attribute('email_verified', 'true'));
    }

    if (!this.lambda.enabled('PostConfirmation')) return;

    const email = attributeValue('email', userAttributes);
    if (email && (pool.options.UsernameAttributes ?? []).includes('email')) {
      userAttributes = attributesAppend(userAttributes, attribute('cognito:email_alias', email));
    }
    // Errors propagate on purpose (see class comment).
    await this.lambda.invoke(ctx, 'PostConfirmation', {
      clientId: params.clientId,
      clientMetadata: params.clientMetadata,
      triggerSource: params.source,
      userAttributes: attributesToRecord(userAttributes),
      username: params.username,
      userPoolId: params.userPoolId,
    });
  }
}
