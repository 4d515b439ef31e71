import { ApiKey } from './api-key.entity';
import { CirculationDesk } from './circulation-desk.entity';
import { CodeValue } from './code-value.entity';
import { EventOutbox } from './event-outbox.entity';
import { FineFeeAction } from './fine-fee-action.entity';
import { FineFeeType } from './fine-fee-type.entity';
import { FineFee } from './fine-fee.entity';
import { HistoryEntry } from './history-entry.entity';
import { Institution } from './institution.entity';
import { Library } from './library.entity';
import { Loan } from './loan.entity';
import { LoginAttempt } from './login-attempt.entity';
import { ProxyLink } from './proxy-link.entity';
import { RoleAssignmentRule } from './role-assignment-rule.entity';
import { RoleAssignment } from './role-assignment.entity';
import { RoleProfileEntry } from './role-profile-entry.entity';
import { RoleProfile } from './role-profile.entity';
import { UserAddress } from './user-address.entity';
import { UserBlock } from './user-block.entity';
import { UserEmail } from './user-email.entity';
import { UserIdentifier } from './user-identifier.entity';
import { UserNote } from './user-note.entity';
import { UserPhone } from './user-phone.entity';
import { UserStatistic } from './user-statistic.entity';
import { User } from './user.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { Webhook } from './webhook.entity';

export * from './api-key.entity';
export * from './circulation-desk.entity';
export * from './code-value.entity';
export * from './event-outbox.entity';
export * from './fine-fee-action.entity';
export * from './fine-fee-type.entity';
export * from './fine-fee.entity';
export * from './history-entry.entity';
export * from './institution.entity';
export * from './library.entity';
export * from './loan.entity';
export * from './login-attempt.entity';
export * from './proxy-link.entity';
export * from './role-assignment-rule.entity';
export * from './role-assignment.entity';
export * from './role-profile-entry.entity';
export * from './role-profile.entity';
export * from './user-address.entity';
export * from './user-block.entity';
export * from './user-email.entity';
export * from './user-identifier.entity';
export * from './user-note.entity';
export * from './user-phone.entity';
export * from './user-statistic.entity';
export * from './user.entity';
export * from './webhook-delivery.entity';
export * from './webhook.entity';

/** Every entity class, in the migration's table order; the DataSource registers exactly these. */
export const entities = [
  Institution,
  Library,
  CirculationDesk,
  CodeValue,
  FineFeeType,
  User,
  UserIdentifier,
  UserEmail,
  UserAddress,
  UserPhone,
  ApiKey,
  Webhook,
  RoleAssignment,
  RoleProfile,
  RoleProfileEntry,
  RoleAssignmentRule,
  FineFee,
  FineFeeAction,
  UserBlock,
  UserNote,
  UserStatistic,
  ProxyLink,
  Loan,
  HistoryEntry,
  EventOutbox,
  WebhookDelivery,
  LoginAttempt,
];
