import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { RouteDefinition } from '@platform/http/route';
import { buildPlatform, type Platform } from '../../infra/platform.ts';
import { repoRoot } from '../../infra/paths.ts';

export const TEST_ENV = { account: '123456789012', region: 'us-east-1' };

export interface SynthOptions {
  routes: readonly RouteDefinition[];
  functionsDir?: string;
  /** Context on top of cdk.json's (the feature flags and defaults the CLI would pass). */
  context?: Record<string, unknown>;
}

export interface Synthesized {
  app: App;
  platform: Platform;
  data: Template;
  auth: Template;
  async: Template;
  api: Template;
  /** One template per bounded context (nested stack of the API). */
  routeGroups: Map<string, Template>;
  /** Every AwsSolutions finding that no acknowledgement covers. */
  nagFindings: { rule: string; severity: string; paths: string[] }[];
}

/**
 * Synthesizes the whole platform once, the way `cdk synth` does (cdk.json context), minus
 * bundling (`aws:cdk:bundling-stacks: []`) and CloudFormation's template validation: seconds.
 */
export function synthPlatform(options: SynthOptions): Synthesized {
  const cdkJson = JSON.parse(readFileSync(join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const outdir = mkdtempSync(join(tmpdir(), 'platform-cdk-test-'));
  const app = new App({
    builtinCloudFormationValidation: false,
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...options.context },
  });
  const platform = buildPlatform(app, {
    routes: options.routes,
    env: TEST_ENV,
    ...(options.functionsDir ? { functionsDir: options.functionsDir } : {}),
  });
  app.synth();

  // After synthesis cross-stack references are resolved into parameters, as in the real run.
  const report = new AwsSolutionsChecks().validateScope(app);
  const synthesized = {
    app,
    platform,
    data: Template.fromStack(platform.data),
    auth: Template.fromStack(platform.auth),
    async: Template.fromStack(platform.async),
    api: Template.fromStack(platform.api),
    routeGroups: new Map([...platform.api.routeGroups].map(([context, group]) => [context, Template.fromStack(group)])),
    nagFindings: report.violations.map((v) => ({
      rule: v.ruleName,
      severity: v.severity ?? 'error',
      paths: v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId ?? '?'),
    })),
  };
  // The templates are in memory now.
  rmSync(outdir, { recursive: true, force: true });
  return synthesized;
}

export interface CfnResource {
  Type: string;
  Properties: Record<string, any>;
  [key: string]: any;
}

/** Resources of a type across several templates (logical ids may repeat between templates). */
export function resourcesOf(templates: Iterable<Template>, type: string): CfnResource[] {
  return [...templates].flatMap((template) => Object.values(template.findResources(type)) as CfnResource[]);
}
