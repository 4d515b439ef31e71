import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A service point of a library; the narrowest scope a role can be given. */
@Entity('circulation_desk')
@Unique('circulation_desk_library_id_code_key', ['libraryId', 'code'])
export class CirculationDesk {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'library_id' })
  libraryId: string;

  @Column({ type: 'text', name: 'code' })
  code: string;

  @Column({ type: 'text', name: 'name' })
  name: string;
}
