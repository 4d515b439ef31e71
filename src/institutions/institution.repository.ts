import type { EntityManager } from 'typeorm';
import { CirculationDesk, Institution, Library } from '../db/entities';

export function findInstitution(db: EntityManager, id: string): Promise<Institution | null> {
  return db.getRepository(Institution).findOneBy({ id });
}

export function findLibraries(db: EntityManager, institutionId: string, ids: string[]): Promise<Library[]> {
  return db.getRepository(Library).createQueryBuilder('l')
    .where('l.institution_id = :institutionId AND l.id = ANY(:ids::uuid[])', { institutionId, ids })
    .getMany();
}

/** The codes among `codes` that name a library of the institution (compared exactly). */
export async function findLibraryCodes(db: EntityManager, institutionId: string, codes: string[]): Promise<string[]> {
  const rows: { code: string }[] = await db.query(`SELECT code FROM library WHERE institution_id = $1 AND code = ANY($2::text[])`, [institutionId, codes]);
  return rows.map((r) => r.code);
}

export function findAllLibraries(db: EntityManager, institutionId: string): Promise<Library[]> {
  return db.getRepository(Library).createQueryBuilder('l').where('l.institution_id = :institutionId', { institutionId }).orderBy('l.name').getMany();
}

export function findDesksOfLibraries(db: EntityManager, institutionId: string, libraryIds: string[]): Promise<CirculationDesk[]> {
  return db.getRepository(CirculationDesk).createQueryBuilder('d')
    .where('d.institution_id = :institutionId AND d.library_id = ANY(:libraryIds::uuid[])', { institutionId, libraryIds })
    .orderBy('d.name')
    .getMany();
}

export function findDesks(db: EntityManager, institutionId: string, ids: string[]): Promise<CirculationDesk[]> {
  return db.getRepository(CirculationDesk).createQueryBuilder('d')
    .where('d.institution_id = :institutionId AND d.id = ANY(:ids::uuid[])', { institutionId, ids })
    .getMany();
}

/** The configured codes of one kind (user groups, job categories ...) that exist among `codes`. */
export async function findExistingCodes(db: EntityManager, institutionId: string, kind: string, codes: string[]): Promise<string[]> {
  const rows: { code: string }[] = await db.query(
    `SELECT code FROM code_value WHERE institution_id = $1 AND kind = $2 AND code = ANY($3::text[])`,
    [institutionId, kind, codes],
  );
  return rows.map((r) => r.code);
}
