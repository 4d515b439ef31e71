import type { EntityManager } from 'typeorm';
import { Institution } from '../db/entities';

/**
 * The institution a command acts in: `--institution CODE`, or the only one
 * when the database holds one (a single library system, the usual case).
 * Null when the database holds none; an error naming the codes when several
 * exist and none was chosen, or the code is unknown.
 */
export async function chooseInstitution(db: EntityManager, code: string | undefined): Promise<Institution | null> {
  const institutions = await db.getRepository(Institution).find({ order: { code: 'ASC' } });
  if (code === undefined) {
    if (institutions.length <= 1) return institutions[0] ?? null;
    throw new Error(`the database holds several institutions (${codes(institutions)}): choose one with --institution CODE`);
  }
  const chosen = institutions.find((i) => i.code === code);
  if (!chosen && institutions.length > 0) throw new Error(`no institution ${JSON.stringify(code)} (the database holds ${codes(institutions)})`);
  return chosen ?? null;
}

const codes = (institutions: Institution[]) => institutions.map((i) => i.code).join(', ');
