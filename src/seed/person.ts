import { AREA_CODES, CITIES, FEMALE_FIRST_NAMES, LAST_NAMES, MALE_FIRST_NAMES, MIDDLE_NAMES, PREFERRED_FIRST_NAMES, STREETS } from './names';
import { Rng } from './prng';
import { Row } from './insert-rows';
import { isoDay } from './values';

/** A generated person: the name and personal columns of app_user. */
export interface Person {
  gender: 'MALE' | 'FEMALE' | 'OTHER' | 'NONE';
  firstName: string;
  middleName: string | null;
  lastName: string;
  preferredFirstName: string | null;
  preferredLastName: string | null;
  birthDate: string;
}

/** How common each demo user group is among generated patrons; unknown groups get weight 5. */
export const USER_GROUP_WEIGHTS: Readonly<Record<string, number>> = {
  UNDERGRAD: 45, GRAD: 20, FACULTY: 12, STAFF: 5, ALUMNI: 8, COMMUNITY: 10,
};

export function pickUserGroup(rng: Rng, groups: readonly string[]): string {
  return rng.weighted(groups.map((g) => [g, USER_GROUP_WEIGHTS[g] ?? 5] as const));
}

// Plausible ages per user group, so that birth dates and groups agree.
const AGE_RANGES: Record<string, readonly [number, number]> = {
  UNDERGRAD: [18, 24], GRAD: [22, 40], FACULTY: [30, 72], STAFF: [21, 66], ALUMNI: [23, 80], COMMUNITY: [16, 88],
};

export function randomPerson(rng: Rng, today: Date, userGroup: string | null): Person {
  const gender = rng.weighted([['FEMALE', 47], ['MALE', 47], ['OTHER', 3], ['NONE', 3]] as const);
  const names =
    gender === 'FEMALE' ? FEMALE_FIRST_NAMES : gender === 'MALE' ? MALE_FIRST_NAMES : rng.pick([FEMALE_FIRST_NAMES, MALE_FIRST_NAMES]);
  const firstName = rng.pick(names);
  const lastName = rng.pick(LAST_NAMES);
  const [minAge, maxAge] = AGE_RANGES[userGroup ?? 'STAFF'] ?? AGE_RANGES.STAFF;
  const ageDays = rng.int(minAge * 365, maxAge * 365 + 364);
  return {
    gender,
    firstName,
    middleName: rng.chance(0.15) ? rng.pick(MIDDLE_NAMES) : null,
    lastName,
    // Preferred names exist so that name search and display can be seen to use them (R1.3).
    preferredFirstName: PREFERRED_FIRST_NAMES[firstName] && rng.chance(0.35) ? PREFERRED_FIRST_NAMES[firstName] : null,
    preferredLastName: rng.chance(0.03) ? rng.pick(LAST_NAMES) : null,
    birthDate: isoDay(today, -ageDays),
  };
}

export function personColumns(p: Person): Row<'app_user'> {
  return {
    first_name: p.firstName, middle_name: p.middleName, last_name: p.lastName, preferred_first_name: p.preferredFirstName,
    preferred_last_name: p.preferredLastName, gender: p.gender, birth_date: p.birthDate,
  };
}

/** Fictional numbers: 555-0100 to 555-0199 is reserved for fiction in North America. */
export function randomPhone(rng: Rng): string {
  return `+1 ${rng.pick(AREA_CODES)} 555 01${String(rng.int(0, 99)).padStart(2, '0')}`;
}

export function randomAddress(rng: Rng, addressType: string): Row<'user_address'> {
  const place = rng.pick(CITIES);
  return {
    address_type: addressType,
    line1: `${rng.int(1, 2400)} ${rng.pick(STREETS)}`,
    line2: rng.chance(0.2) ? `Apt ${rng.int(1, 40)}` : null,
    city: place.city,
    state_province: place.state,
    postal_code: `${place.postal}${String(rng.int(0, 99)).padStart(2, '0')}`,
    country: 'United States',
  };
}

/** Where a user's preferred email lives, by user group: students at school, employees at work. */
export function emailDomain(userGroup: string | null): { domain: string; emailType: string } {
  switch (userGroup) {
    case 'UNDERGRAD':
    case 'GRAD':
      return { domain: 'students.carrel.example.edu', emailType: 'SCHOOL' };
    case 'FACULTY':
    case 'STAFF':
    case null:
      return { domain: 'carrel.example.edu', emailType: 'WORK' };
    default:
      return { domain: 'example.com', emailType: 'PERSONAL' };
  }
}
