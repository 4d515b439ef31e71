import type { EntityManager } from 'typeorm';
import { createBlockLoaders } from './blocks/block.loaders';
import { createBursarLoaders } from './bursar/bursar.loaders';
import { createFineLoaders } from './fines/fine.loaders';
import { createHistoryLoaders } from './history/history.loaders';
import { createInstitutionLoaders } from './institutions/institution.loaders';
import { createLoanLoaders } from './loans/loan.loaders';
import { createNoteLoaders } from './notes/note.loaders';
import type { ChildScope } from './db/child-rows';
import type { Operator } from './policy/operator';
import { ownerScope } from './policy/scope';
import { createProxyLoaders } from './proxies/proxy.loaders';
import { createRoleLoaders } from './roles/role.loaders';
import { createStatisticLoaders } from './statistics/statistic.loaders';
import { createUserLoaders } from './users/user.loaders';
import { createPictureLoaders } from './pictures/picture.loaders';
import { createAttachmentLoaders } from './attachments/attachment.loaders';

/** Each area's loaders for one request, bound to the operator's institution and owner scope. */
function areasFor(on: ChildScope) {
  const { db, institutionId, scope } = on;
  return {
    users: () => createUserLoaders(on),
    roles: () => createRoleLoaders(on),
    blocks: () => createBlockLoaders(on),
    fines: () => createFineLoaders(on),
    loans: () => createLoanLoaders(on),
    bursar: () => createBursarLoaders(on),
    notes: () => createNoteLoaders(db, institutionId, scope),
    history: () => createHistoryLoaders(db, institutionId, scope),
    statistics: () => createStatisticLoaders(db, institutionId, scope),
    proxies: () => createProxyLoaders(db, institutionId),
    institutions: () => createInstitutionLoaders(db, institutionId),
    pictures: () => createPictureLoaders(db),
    attachments: () => createAttachmentLoaders(db, institutionId),
  };
}

type Areas = ReturnType<typeof areasFor>;
type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
export type Loaders = Intersection<ReturnType<Areas[keyof Areas]>>;

/** Which area each loader belongs to, found once by building every area unbound (a DataLoader reads nothing until used). */
let areaOf: Map<string, keyof Areas> | null = null;
function areaOfLoader(): Map<string, keyof Areas> {
  if (!areaOf) {
    areaOf = new Map();
    const unbound = areasFor({ db: null as unknown as EntityManager, institutionId: '', scope: { all: true } });
    for (const [area, build] of Object.entries(unbound) as [keyof Areas, () => object][]) {
      for (const key of Object.keys(build())) areaOf.set(key, area);
    }
  }
  return areaOf;
}

/**
 * One set of DataLoaders per request, bound to the operator's institution and
 * owner scope, so batching never mixes operators and every batched statement
 * is already filtered by the policy's scope in SQL. An area's loaders are
 * built when one of them is first used: a point lookup uses two areas of nine,
 * and building some thirty loaders per request was 3% of its server time.
 */
export function createLoaders(db: EntityManager, operator: Operator): Loaders {
  const areas = areasFor({ db, institutionId: operator.institutionId, scope: ownerScope(operator) });
  const built = new Map<keyof Areas, Record<string, unknown>>();
  const owners = areaOfLoader();
  return new Proxy({} as Loaders, {
    get(_target, key) {
      const area = typeof key === 'string' ? owners.get(key) : undefined;
      if (!area) return undefined;
      let loaders = built.get(area);
      if (!loaders) built.set(area, (loaders = areas[area]() as Record<string, unknown>));
      return loaders[key as string];
    },
  });
}
