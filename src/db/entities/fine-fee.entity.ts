import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type FineStatus = 'ACTIVE' | 'IN_DISPUTE' | 'CLOSED' | 'TRANSFERRED';

/** A fine, fee or credit on a user's account; owned by a library, or by the institution when ownerLibraryId is null. */
@Entity('fine_fee')
export class FineFee {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'user_id' })
  userId: string;

  @Column({ type: 'text', name: 'fine_type' })
  fineType: string;

  @Column({ type: 'uuid', name: 'owner_library_id', nullable: true })
  ownerLibraryId: string | null;

  @Column({ type: 'numeric', name: 'original_amount', precision: 14, scale: 2 })
  originalAmount: string;

  @Column({ type: 'numeric', name: 'remaining_amount', precision: 14, scale: 2 })
  remainingAmount: string;

  @Column({ type: 'numeric', name: 'vat_amount', precision: 14, scale: 2, default: 0 })
  vatAmount: string;

  @Column({ type: 'text', name: 'status', default: 'ACTIVE' })
  status: FineStatus;

  @Column({ type: 'timestamptz', name: 'status_date', default: () => 'now()' })
  statusDate: Date;

  @Column({ type: 'text', name: 'comment', nullable: true })
  comment: string | null;

  @Column({ type: 'text', name: 'item_barcode', nullable: true })
  itemBarcode: string | null;

  @Column({ type: 'text', name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
