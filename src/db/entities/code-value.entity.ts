import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

export type CodeKind =
  | 'USER_GROUP'
  | 'JOB_CATEGORY'
  | 'CAMPUS'
  | 'BLOCK_TYPE'
  | 'WAIVE_REASON'
  | 'STATISTIC_CATEGORY'
  | 'NOTE_TYPE'
  | 'IDENTIFIER_TYPE';

/** One entry of a configured code list (user groups, campuses, block types, ...); all lists share this table. */
@Entity('code_value')
@Unique('code_value_institution_id_kind_code_key', ['institutionId', 'kind', 'code'])
export class CodeValue {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'text', name: 'kind' })
  kind: CodeKind;

  @Column({ type: 'text', name: 'code' })
  code: string;

  @Column({ type: 'text', name: 'description' })
  description: string;
}
