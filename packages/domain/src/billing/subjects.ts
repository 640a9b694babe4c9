import type { OrgAccess } from '../identity/access.ts';

/** Whose use a limit counts: the organization's, a member's, or an API client's. */
export interface Subject {
  kind: 'org' | 'user' | 'client';
  id: string;
}

export const subjectKey = (s: Subject) => (s.kind === 'org' ? `org#${s.id}` : `${s.kind}#${s.id}`);

/**
 * The counter of a subject's uses in an organization, by the name limits give the subject
 * (`user#<id>`, `client#<id>`, `org#<id>`). A member's uses are counted per organization
 * (`user#<orgId>#<userId>`): a member of several organizations has a limit in each, and one
 * organization's calls neither use up another's allowance nor show in its `GET …/limits`.
 * An API client and an organization belong to one organization already.
 */
export const counterOf = (orgId: string, name: string) => (name.startsWith('user#') ? `user#${orgId}#${name.slice(5)}` : name);

/**
 * Whom a call counts against: its organization, and who makes it. An API key's call counts
 * against the key and against the member it acts for, so a member's limit holds whether they
 * call with their token or a key of their own. Only limits that exist are counted, so a subject
 * with none costs no write. (No imports at run time: the HTTP kit loads the limits on first use.)
 */
export function limitSubjects(access: OrgAccess): Subject[] {
  const caller = access.caller;
  const org: Subject = { kind: 'org', id: access.orgId };
  if (caller.kind === 'apiClient') return [org, { kind: 'client', id: caller.clientId }, { kind: 'user', id: caller.memberId }];
  return [org, { kind: 'user', id: caller.userId }];
}
