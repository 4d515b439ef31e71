import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type RecordType = 'PUBLIC' | 'STAFF' | 'CONTACT';
export type AccountType = 'INTERNAL' | 'EXTERNAL' | 'INTERNAL_WITH_EXTERNAL_AUTH';
export type UserStatus = 'ACTIVE' | 'INACTIVE';
export type Gender = 'MALE' | 'FEMALE' | 'OTHER' | 'NONE';

/** A person known to the institution: a patron, a staff member or a contact (table `app_user`, since `user` is reserved). */
@Entity('app_user')
export class User {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'text', name: 'record_type' })
  recordType: RecordType;

  @Column({ type: 'text', name: 'account_type' })
  accountType: AccountType;

  @Column({ type: 'text', name: 'external_owner', nullable: true })
  externalOwner: string | null;

  @Column({ type: 'text', name: 'primary_identifier', nullable: true })
  primaryIdentifier: string | null;

  @Column({ type: 'text', name: 'first_name', nullable: true })
  firstName: string | null;

  @Column({ type: 'text', name: 'middle_name', nullable: true })
  middleName: string | null;

  @Column({ type: 'text', name: 'last_name', nullable: true })
  lastName: string | null;

  @Column({ type: 'text', name: 'preferred_first_name', nullable: true })
  preferredFirstName: string | null;

  @Column({ type: 'text', name: 'preferred_middle_name', nullable: true })
  preferredMiddleName: string | null;

  @Column({ type: 'text', name: 'preferred_last_name', nullable: true })
  preferredLastName: string | null;

  @Column({ type: 'text', name: 'title', nullable: true })
  title: string | null;

  @Column({ type: 'text', name: 'pin_number', nullable: true })
  pinNumber: string | null;

  @Column({ type: 'text', name: 'job_category', nullable: true })
  jobCategory: string | null;

  @Column({ type: 'text', name: 'job_description', nullable: true })
  jobDescription: string | null;

  @Column({ type: 'text', name: 'gender', nullable: true })
  gender: Gender | null;

  @Column({ type: 'text', name: 'user_group', nullable: true })
  userGroup: string | null;

  @Column({ type: 'text', name: 'campus', nullable: true })
  campus: string | null;

  @Column({ type: 'text', name: 'website_url', nullable: true })
  websiteUrl: string | null;

  @Column({ type: 'text', name: 'preferred_language', nullable: true })
  preferredLanguage: string | null;

  @Column({ type: 'text', name: 'status', default: 'ACTIVE' })
  status: UserStatus;

  @Column({ type: 'timestamptz', name: 'status_date', default: () => 'now()' })
  statusDate: Date;

  @Column({ type: 'date', name: 'birth_date', nullable: true })
  birthDate: string | null;

  @Column({ type: 'date', name: 'expiry_date', nullable: true })
  expiryDate: string | null;

  @Column({ type: 'date', name: 'purge_date', nullable: true })
  purgeDate: string | null;

  @Column({ type: 'date', name: 'last_patron_activity_date', nullable: true })
  lastPatronActivityDate: string | null;

  @Column({ type: 'text', name: 'resource_sharing_libraries', array: true, default: () => "'{}'" })
  resourceSharingLibraries: string[];

  @Column({ type: 'text', name: 'purchase_request_libraries', array: true, default: () => "'{}'" })
  purchaseRequestLibraries: string[];

  @Column({ type: 'text', name: 'cataloger_level', nullable: true })
  catalogerLevel: string | null;

  @Column({ type: 'text', name: 'patron_letters', array: true, default: () => "'{}'" })
  patronLetters: string[];

  @Column({ type: 'text', name: 'password_hash', nullable: true })
  passwordHash: string | null;

  @Column({ type: 'timestamptz', name: 'password_changed_at', nullable: true })
  passwordChangedAt: Date | null;

  @Column({ type: 'boolean', name: 'force_password_change', default: false })
  forcePasswordChange: boolean;

  @Column({ type: 'boolean', name: 'mfa_enabled', default: false })
  mfaEnabled: boolean;

  @Column({ type: 'boolean', name: 'is_restricted', default: false })
  isRestricted: boolean;

  @Column({ type: 'boolean', name: 'cannot_edit_restricted_users', default: false })
  cannotEditRestrictedUsers: boolean;

  @Column({ type: 'text', name: 'kept_fields', array: true, default: () => "'{}'" })
  keptFields: string[];

  /** The values the SIS last sent for the fields staff may keep (R3.4), by KeptField name. */
  @Column({ type: 'jsonb', name: 'sis_values', default: () => "'{}'" })
  sisValues: Record<string, unknown>;

  /** Set when the user was purged (R10.3): the row is an anonymous stub from then on. */
  @Column({ type: 'timestamptz', name: 'purged_at', nullable: true })
  purgedAt: Date | null;

  @Column({ type: 'text', name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;

  @Column({ type: 'text', name: 'updated_by' })
  updatedBy: string;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt: Date;

}
