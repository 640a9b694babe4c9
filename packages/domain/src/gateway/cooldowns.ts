/**
 * Which targets are cooling down: a target (adapter + base URL + provider model id + credential, as
 * of its version) that failed `failureThreshold` times within `windowMs` is skipped for
 * `cooldownMs`. When the cooldown ends the next call probes it: a success clears it, a failure
 * cools it down again at once.
 *
 * The state lives in memory, per Lambda container, on purpose. A container serves calls for minutes,
 * so it learns of a failing target from its own first few failures, and forgets it when it goes away.
 * A shared store would put a DynamoDB read on every call of the hot path and a write on every failure,
 * to save each container at most `failureThreshold` failed attempts (which the executor retries or
 * falls back from anyway); the providers' own 429s stay the authority on their limits.
 */
import type { Candidate } from './types.ts';

export interface CooldownPolicy {
  failureThreshold: number;
  windowMs: number;
  cooldownMs: number;
}

export const DEFAULT_COOLDOWN_POLICY: CooldownPolicy = { failureThreshold: 3, windowMs: 30_000, cooldownMs: 30_000 };

/** Targets remembered at most; the oldest is forgotten first (a container never grows without bound). */
const MAX_TARGETS = 1_000;

interface TargetHealth {
  failures: number[];
  lastFailureAt: number;
  coolingUntil?: number;
}

/**
 * The key of a candidate's target: never the key itself, only the credential's id and version
 * (`credentialVersion`), so a key its owner rotated (after the provider refused the old one) is
 * a new target, tried at once.
 */
export function targetKey(candidate: Candidate): string {
  const { adapter, baseUrl, providerModelId } = candidate.target;
  const credential = candidate.credentialId
    ? `${candidate.credentialId}@${candidate.credentialVersion ?? ''}`
    : candidate.keySource;
  return [adapter, baseUrl ?? '', providerModelId, credential].join('\u0000');
}

export class Cooldowns {
  private readonly targets = new Map<string, TargetHealth>();

  constructor(readonly policy: CooldownPolicy = DEFAULT_COOLDOWN_POLICY) {}

  isCooling(key: string, now: number): boolean {
    const until = this.targets.get(key)?.coolingUntil;
    return until !== undefined && now < until;
  }

  /** When the target last failed, or undefined if it has not failed since its last success. */
  lastFailureAt(key: string): number | undefined {
    return this.targets.get(key)?.lastFailureAt;
  }

  recordFailure(key: string, now: number, options: { coolNow?: boolean } = {}): void {
    const health = this.targets.get(key) ?? this.remember(key);
    health.lastFailureAt = now;
    const probing = health.coolingUntil !== undefined && now >= health.coolingUntil;
    health.failures = health.failures.filter((at) => now - at < this.policy.windowMs);
    health.failures.push(now);
    if (options.coolNow || probing || health.failures.length >= this.policy.failureThreshold) {
      health.coolingUntil = now + this.policy.cooldownMs;
      health.failures = [];
    }
  }

  recordSuccess(key: string): void {
    this.targets.delete(key);
  }

  /** Forget everything (tests). */
  clear(): void {
    this.targets.clear();
  }

  private remember(key: string): TargetHealth {
    if (this.targets.size >= MAX_TARGETS) this.targets.delete(this.targets.keys().next().value!);
    const health: TargetHealth = { failures: [], lastFailureAt: 0 };
    this.targets.set(key, health);
    return health;
  }
}

/** This container's cooldowns, shared by every call it serves. */
export const containerCooldowns = new Cooldowns();
