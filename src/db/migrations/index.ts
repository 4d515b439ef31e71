import { InitialSchema1764230400000 } from './1764230400000-InitialSchema';
import { UniqueRoleAssignments1764316800000 } from './1764316800000-UniqueRoleAssignments';
import { UserListSortIndexes1764403200000 } from './1764403200000-UserListSortIndexes';
import { ConfigurationHistory1764489600000 } from './1764489600000-ConfigurationHistory';
import { MoneyMaximum1764576000000 } from './1764576000000-MoneyMaximum';
import { LoginThrottling1764576100000 } from './1764576100000-LoginThrottling';
import { UserLifecycle1764662400000 } from './1764662400000-UserLifecycle';
import { EventStream1764748800000 } from './1764748800000-EventStream';
import { UserCounts1764835200000 } from './1764835200000-UserCounts';
import { PartnerAuthentication1764900000000 } from './1764900000000-PartnerAuthentication';
import { StatisticSearch1764900100000 } from './1764900100000-StatisticSearch';
import { Loans1764921600000 } from './1764921600000-Loans';
import { BursarExport1764921700000 } from './1764921700000-BursarExport';
import { Webhooks1765008000000 } from './1765008000000-Webhooks';
import { UserAttachments1765094400000 } from './1765094400000-UserAttachments';
import { FineAnalytics1765180800000 } from './1765180800000-FineAnalytics';
import { JobLeases1765267200000 } from './1765267200000-JobLeases';

/** Every migration, in order. A new migration is added here and never edited after it lands. */
export const migrations = [
  InitialSchema1764230400000,
  UniqueRoleAssignments1764316800000,
  UserListSortIndexes1764403200000,
  ConfigurationHistory1764489600000,
  MoneyMaximum1764576000000,
  LoginThrottling1764576100000,
  UserLifecycle1764662400000,
  EventStream1764748800000,
  UserCounts1764835200000,
  PartnerAuthentication1764900000000,
  StatisticSearch1764900100000,
  Loans1764921600000,
  BursarExport1764921700000,
  Webhooks1765008000000,
  UserAttachments1765094400000,
  FineAnalytics1765180800000,
  JobLeases1765267200000,
];
