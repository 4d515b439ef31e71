/** A canonical UUID. Anything else must never reach a uuid comparison in SQL, where PostgreSQL would fail the whole request. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
