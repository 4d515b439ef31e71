import type { ChildSet } from '../db/child-rows';
import { blocksOfUser } from '../blocks/block.repository';
import { fineSummaryOfUser } from '../fines/fine.repository';
import type { Loaders } from '../loaders';
import { rolesOfUser } from '../roles/role.repository';
import { addressesOfUser, emailsOfUser, identifiersOfUser, phonesOfUser } from './contact.repository';
import type { UserRow } from './user.repository';

type ChildLoader = 'identifiersByUser' | 'emailsByUser' | 'addressesByUser' | 'phonesByUser' | 'rolesByUser' | 'blocksByUser' | 'fineSummaryByUser';

/**
 * The children a read of users can embed in its own statement, by the User
 * field that resolves through them, with the loader the field reads. The
 * loaders are primed with what was embedded, so the field resolvers are the
 * same whether a child was embedded or not (and nothing is read twice).
 */
const EMBEDDABLE: Record<string, { set: ChildSet<unknown>; loader: ChildLoader }> = {
  identifiers: { set: identifiersOfUser, loader: 'identifiersByUser' },
  emails: { set: emailsOfUser, loader: 'emailsByUser' },
  addresses: { set: addressesOfUser, loader: 'addressesByUser' },
  phones: { set: phonesOfUser, loader: 'phonesByUser' },
  roles: { set: rolesOfUser, loader: 'rolesByUser' },
  blocks: { set: blocksOfUser, loader: 'blocksByUser' },
  hasActiveBlock: { set: blocksOfUser, loader: 'blocksByUser' },
  fineSummary: { set: fineSummaryOfUser, loader: 'fineSummaryByUser' },
};

export interface Embedding {
  sets: ChildSet<unknown>[];
  loaders: ChildLoader[];
}

export const NO_EMBEDDING: Embedding = { sets: [], loaders: [] };

/** What to embed for the User fields a query selects: each loader once, in the table's order (one statement text per selection). */
export function embeddingFor(fields: ReadonlySet<string>): Embedding {
  const chosen = new Map<ChildLoader, ChildSet<unknown>>();
  for (const [field, child] of Object.entries(EMBEDDABLE)) if (fields.has(field)) chosen.set(child.loader, child.set);
  return { sets: [...chosen.values()], loaders: [...chosen.keys()] };
}

/** Gives the loaders what the rows embedded, so the fields resolve without another statement. */
export function primeEmbedded(loaders: Loaders, rows: readonly UserRow[], embedding: Embedding): void {
  if (embedding.loaders.length === 0) return;
  for (const row of rows) {
    embedding.loaders.forEach((loader, i) => (loaders[loader] as { prime(id: string, value: unknown): unknown }).prime(row.id, row.embedded![i]));
  }
}

