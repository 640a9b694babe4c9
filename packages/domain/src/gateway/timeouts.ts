/**
 * The AI gateway function's time limit, as the stacks deploy it (`limits.gatewayTimeout` in
 * infra/config.ts) and as the local server gives its invocations: a streamed completion of a
 * large model may take minutes, and metering runs after it. The gateway's providers must have
 * answered some seconds before it ends (`DEADLINE_MARGIN_MS` in gateway.ts).
 */
export const GATEWAY_TIMEOUT_SECONDS = 300;
