import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type FineActionType = 'CREATE' | 'WAIVE' | 'PAY' | 'DISPUTE' | 'RESTORE' | 'TRANSFER';
export type PaymentMethod = 'CASH' | 'CREDIT_CARD' | 'ONLINE';

/** One step in a fine's history (created, paid, waived, disputed, ...); the audit trail behind its remaining amount. */
@Entity('fine_fee_action')
export class FineFeeAction {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'fine_id' })
  fineId: string;

  @Column({ type: 'text', name: 'action_type' })
  actionType: FineActionType;

  @Column({ type: 'numeric', name: 'amount', precision: 14, scale: 2, default: 0 })
  amount: string;

  @Column({ type: 'text', name: 'reason', nullable: true })
  reason: string | null;

  @Column({ type: 'text', name: 'payment_method', nullable: true })
  paymentMethod: PaymentMethod | null;

  @Column({ type: 'text', name: 'comment', nullable: true })
  comment: string | null;

  @Column({ type: 'text', name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
