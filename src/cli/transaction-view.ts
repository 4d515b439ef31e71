import type { DataSource, EntityManager } from 'typeorm';

/**
 * A view of `db` for services that must all commit in one transaction `tx`. Each service runs its change in a
 * transaction of its own (`inTransaction(ctx.db, …)`); create-admin's institution, user and roles must commit
 * together or not at all. Through this view a service's reads (`manager`, `query`) and its transactions are `tx`, so
 * a refusal anywhere rolls back everything. Whatever else of the DataSource a service reached for would escape `tx`:
 * the view refuses it instead.
 */
export function transactionView(db: DataSource, tx: EntityManager): DataSource {
  const inTx = (...args: unknown[]) => (args[args.length - 1] as (m: EntityManager) => unknown)(tx);
  return new Proxy(db, {
    get(target, key) {
      if (key === 'manager') return tx;
      if (key === 'transaction') return inTx;
      if (key === 'query') return tx.query.bind(tx);
      if (typeof key === 'symbol') return Reflect.get(target, key);
      throw new Error(`DataSource.${key} is not available inside the command's transaction`);
    },
  });
}
