import fs from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { apiKeyResolvers } from './apikeys/api-key.resolvers';
import { authResolvers } from './auth/auth.resolvers';
import { blockResolvers } from './blocks/block.resolvers';
import { scalarResolvers } from './common/scalars';
import { fineResolvers } from './fines/fine.resolvers';
import { fineWaiveResolvers } from './fines/fine-waive.resolvers';
import { institutionResolvers } from './institutions/institution.resolvers';
import { noteResolvers } from './notes/note.resolvers';
import { proxyResolvers } from './proxies/proxy.resolvers';
import { reportResolvers } from './reports/report.resolvers';
import { roleResolvers } from './roles/role.resolvers';
import { statisticResolvers } from './statistics/statistic.resolvers';
import { userResolvers } from './users/user.resolvers';
import { userEditResolvers } from './users/user-edit.resolvers';
import { historyResolvers } from './history/history.resolvers';
import { identifierResolvers } from './identifiers/identifier.resolvers';
import { contactResolvers } from './contacts/contact.resolvers';
import { lifecycleResolvers } from './lifecycle/lifecycle.resolvers';
import { sisSyncResolvers } from './sis/sis-sync.resolvers';
import { eventResolvers } from './events/event.resolvers';
import { webhookResolvers } from './webhooks/webhook.resolvers';
import { loanResolvers } from './loans/loan.resolvers';
import { bursarResolvers } from './bursar/bursar.resolvers';
import { pictureResolvers } from './pictures/picture.resolvers';
import { attachmentResolvers } from './attachments/attachment.resolvers';
import { analyticsResolvers } from './analytics/analytics.resolvers';
import { guardSchema } from './policy/field-guard';
import { applyInputHygiene } from './common/input-hygiene';

/** schema/*.graphql is the source of truth; it is read at start-up from the project folder. */
export const SCHEMA_DIR = path.resolve(__dirname, '..', fs.existsSync(path.resolve(__dirname, '..', 'schema')) ? '' : '..', 'schema');

export function loadTypeDefs(): string[] {
  return fs.readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => fs.readFileSync(path.join(SCHEMA_DIR, f), 'utf8'));
}

/**
 * The executable schema: every field behind its policy rule (policy/field-access.ts), checked first, then its
 * arguments cleaned and bounded by the input-hygiene layer (common/input-hygiene.ts), then its resolver.
 */
export function buildSchema() {
  return guardSchema(applyInputHygiene(makeExecutableSchema({
    typeDefs: loadTypeDefs(),
    resolvers: [
      scalarResolvers,
      authResolvers,
      userResolvers,
      userEditResolvers,
      historyResolvers,
      identifierResolvers,
      contactResolvers,
      roleResolvers,
      apiKeyResolvers,
      institutionResolvers,
      blockResolvers,
      fineResolvers,
      fineWaiveResolvers,
      proxyResolvers,
      noteResolvers,
      statisticResolvers,
      reportResolvers,
      sisSyncResolvers,
      lifecycleResolvers,
      eventResolvers,
      webhookResolvers,
      loanResolvers,
      bursarResolvers,
      pictureResolvers,
      attachmentResolvers,
      analyticsResolvers,
    ],
  })));
}
