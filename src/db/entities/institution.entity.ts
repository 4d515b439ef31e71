import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A tenant: one library system with its own users, configuration and policy limits. */
@Entity('institution')
@Unique('institution_code_key', ['code'])
export class Institution {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'text', name: 'code' })
  code: string;

  @Column({ type: 'text', name: 'name' })
  name: string;

  @Column({ type: 'integer', name: 'waiving_fines_fees_limit', default: 100 })
  waivingFinesFeesLimit: number;

  @Column({ type: 'text', name: 'primary_identifier_regex', nullable: true })
  primaryIdentifierRegex: string | null;

  @Column({ type: 'text', name: 'email_regex', nullable: true })
  emailRegex: string | null;

  @Column({ type: 'text', name: 'phone_regex', nullable: true })
  phoneRegex: string | null;

  @Column({ type: 'text', name: 'postal_code_regex', nullable: true })
  postalCodeRegex: string | null;

  @Column({ type: 'boolean', name: 'email_required', default: true })
  emailRequired: boolean;

  @Column({ type: 'boolean', name: 'library_independence', default: true })
  libraryIndependence: boolean;

  @Column({ type: 'integer', name: 'named_user_allotment', default: 0 })
  namedUserAllotment: number;

  @Column({ type: 'numeric', name: 'debt_limit', precision: 14, scale: 2, default: 0 })
  debtLimit: string;

  /** The largest amount one fine or fee may be charged (issue 9 finding 4). */
  @Column({ type: 'numeric', name: 'maximum_amount', precision: 14, scale: 2, default: 10000 })
  maximumAmount: string;

  /** The delete-user policy (R10.3): what a purge keeps of a user besides the anonymous stub. */
  @Column({ type: 'boolean', name: 'purge_keeps_statistics', default: true })
  purgeKeepsStatistics: boolean;

  @Column({ type: 'boolean', name: 'purge_keeps_user_group', default: true })
  purgeKeepsUserGroup: boolean;

  @Column({ type: 'boolean', name: 'purge_keeps_campus', default: true })
  purgeKeepsCampus: boolean;

  @Column({ type: 'boolean', name: 'purge_keeps_dates', default: true })
  purgeKeepsDates: boolean;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
