export default async function globalTeardown() {
  await globalThis.__carrelEmbeddedPg?.stop();
}
