import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An item on loan to a user; the loan is open while returnedAt is null. */
@Entity('loan')
export class Loan {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'user_id' })
  userId: string;

  @Column({ type: 'uuid', name: 'library_id', nullable: true })
  libraryId: string | null;

  @Column({ type: 'text', name: 'item_barcode' })
  itemBarcode: string;

  @Column({ type: 'timestamptz', name: 'loan_date', default: () => 'now()' })
  loanDate: Date;

  @Column({ type: 'timestamptz', name: 'due_date' })
  dueDate: Date;

  @Column({ type: 'timestamptz', name: 'returned_at', nullable: true })
  returnedAt: Date | null;
}
