import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A postal address of a user; at most one per user is preferred. */
@Entity('user_address')
export class UserAddress {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'user_id' })
  userId: string;

  @Column({ type: 'text', name: 'address_type' })
  addressType: string;

  @Column({ type: 'text', name: 'line1' })
  line1: string;

  @Column({ type: 'text', name: 'line2', nullable: true })
  line2: string | null;

  @Column({ type: 'text', name: 'line3', nullable: true })
  line3: string | null;

  @Column({ type: 'text', name: 'city', nullable: true })
  city: string | null;

  @Column({ type: 'text', name: 'state_province', nullable: true })
  stateProvince: string | null;

  @Column({ type: 'text', name: 'postal_code', nullable: true })
  postalCode: string | null;

  @Column({ type: 'text', name: 'country', nullable: true })
  country: string | null;

  @Column({ type: 'text', name: 'note', nullable: true })
  note: string | null;

  @Column({ type: 'boolean', name: 'is_preferred', default: false })
  isPreferred: boolean;

  @Column({ type: 'date', name: 'start_date', nullable: true })
  startDate: string | null;

  @Column({ type: 'date', name: 'end_date', nullable: true })
  endDate: string | null;

  @Column({ type: 'boolean', name: 'is_external', default: false })
  isExternal: boolean;
}
