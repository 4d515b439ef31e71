import type { Operator } from '../policy/operator';
import type { DeliveryTarget } from './webhook-delivery.repository';

/**
 * A webhook as the policy sees it: an operator holding the webhook's roles in force, like the API key a partner
 * would poll `events` with. Its audience (policy/event-audience.ts) decides what it receives.
 */
export function operatorOf(target: DeliveryTarget): Operator {
  return {
    kind: 'WEBHOOK',
    id: target.id,
    label: `webhook:${target.id}`,
    institutionId: target.institutionId,
    institutionCode: target.institutionCode,
    libraryIndependence: target.libraryIndependence,
    debtLimit: target.debtLimit,
    roles: target.roles,
    cannotEditRestricted: false,
    passwordChangeRequired: false,
  };
}
