import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A configured kind of fine or fee, with its VAT rate and whether it is a credit. */
@Entity('fine_fee_type')
@Unique('fine_fee_type_institution_id_code_key', ['institutionId', 'code'])
export class FineFeeType {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'text', name: 'code' })
  code: string;

  @Column({ type: 'text', name: 'name' })
  name: string;

  @Column({ type: 'boolean', name: 'allows_library_owner', default: false })
  allowsLibraryOwner: boolean;

  @Column({ type: 'numeric', name: 'vat_rate', precision: 5, scale: 2, default: 0 })
  vatRate: string;

  @Column({ type: 'boolean', name: 'is_credit', default: false })
  isCredit: boolean;
}
