import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A library of an institution; the owner of fines, blocks, notes and statistics it creates. */
@Entity('library')
@Unique('library_institution_id_code_key', ['institutionId', 'code'])
export class Library {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'text', name: 'code' })
  code: string;

  @Column({ type: 'text', name: 'name' })
  name: string;
}
