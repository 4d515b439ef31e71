import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** Lets a proxy user act for a sponsor user (e.g. borrow on their behalf). */
@Entity('proxy_link')
@Unique('proxy_link_proxy_user_id_sponsor_user_id_key', ['proxyUserId', 'sponsorUserId'])
export class ProxyLink {
  @PrimaryGeneratedColumn('uuid', { name: 'id' })
  id: string;

  @Column({ type: 'uuid', name: 'institution_id' })
  institutionId: string;

  @Column({ type: 'uuid', name: 'proxy_user_id' })
  proxyUserId: string;

  @Column({ type: 'uuid', name: 'sponsor_user_id' })
  sponsorUserId: string;

  @Column({ type: 'boolean', name: 'is_fulfillment', default: false })
  isFulfillment: boolean;

  @Column({ type: 'text', name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt: Date;
}
