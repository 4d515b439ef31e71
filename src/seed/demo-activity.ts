import { CODE_VALUES, DemoReference, FINE_TYPES, STATISTIC_CATEGORY_TYPE } from './demo-reference';
import { DemoPeople } from './demo-users';
import { Rng } from './prng';
import { FineSpec, RowBuilder } from './row-builder';
import { daysFrom } from './values';

/**
 * What happens to people once they exist: fines, blocks, notes, statistics,
 * proxies and loans, spread over owners (institution and libraries) so that
 * library independence (R5.2) has something to hide.
 */
export function addDemoActivity(b: RowBuilder, ref: DemoReference, people: DemoPeople, rng: Rng, today: Date): void {
  const libraryIds = Object.values(ref.libraries).map((l) => l.id);
  // NULL owner = the institution (R5.1).
  const anyOwner = (): string | null => (rng.chance(0.4) ? null : rng.pick(libraryIds));
  const itemBarcode = (): string => `39001${rng.int(10_000_000, 99_999_999)}`;
  const { patrons } = people;

  addFines(b, rng, patrons.map((p) => p.id), anyOwner, itemBarcode);

  const blockTypes = CODE_VALUES.BLOCK_TYPE.map(([code]) => code);
  rng.sample(patrons, 10).forEach((p, i) => {
    // Three expired blocks (no longer active, R6.2), three that expire later, four open-ended.
    const expiry = i < 3 ? daysFrom(today, -rng.int(5, 90)) : i < 6 ? daysFrom(today, rng.int(7, 120)) : null;
    const type = rng.pick(blockTypes);
    b.block(p.id, type, anyOwner(), BLOCK_NOTES[type], expiry);
  });

  const noteTargets = [...rng.sample(patrons, 11).map((p) => p.id), ...rng.sample(people.staffIds, 2), ...people.contactIds.slice(0, 2)];
  noteTargets.forEach((userId, i) => {
    const [type, text] = NOTES[i % NOTES.length];
    b.note(userId, type, text, anyOwner(), i % 5 === 0, i % 3 === 0);
  });

  const departments = CODE_VALUES.STATISTIC_CATEGORY.map(([code]) => code);
  for (const p of rng.sample(patrons.filter((p) => ['UNDERGRAD', 'GRAD', 'FACULTY'].includes(p.userGroup)), 30)) {
    b.statistic(p.id, STATISTIC_CATEGORY_TYPE, rng.pick(departments), anyOwner());
  }

  // R8: one ordinary proxy (can be unlinked) and one fulfillment proxy (cannot).
  const [proxy, sponsor, fulfillmentProxy, fulfillmentSponsor, ...borrowers] = rng.sample(patrons.filter((p) => p.usable), 10);
  b.proxy(proxy.id, sponsor.id, false);
  b.proxy(fulfillmentProxy.id, fulfillmentSponsor.id, true);

  // Loans: open ones block deletion (R10.2); some are overdue; some came back.
  borrowers.forEach((p, i) => {
    const library = rng.pick(libraryIds);
    if (i < 3) b.loan(p.id, library, itemBarcode(), daysFrom(today, -7), daysFrom(today, 21), null);
    else if (i < 5) b.loan(p.id, library, itemBarcode(), daysFrom(today, -40), daysFrom(today, -12), null);
    else b.loan(p.id, library, itemBarcode(), daysFrom(today, -60), daysFrom(today, -30), daysFrom(today, -35));
  });
}

const BLOCK_NOTES: Record<string, string> = {
  GENERAL: 'Account under review; refer to the access services librarian',
  OVERDUE: 'Items more than 30 days overdue',
  LOST_ITEM: 'Lost item not yet paid for',
  FINE_LIMIT: 'Outstanding fines above the debt limit',
};

const NOTES: [type: string, text: string][] = [
  ['GENERAL', 'Prefers to be contacted by email'],
  ['CIRCULATION', 'Has permission to borrow reference items overnight'],
  ['REGISTRAR', 'Enrolment confirmed for the current academic year'],
  ['CIRCULATION', 'Returned damaged item; warned about book bags in the rain'],
  ['GENERAL', 'Visiting scholar sponsored by the History department'],
];

const FINE_CENTS: Record<string, (rng: Rng) => number> = {
  OVERDUEFINE: (rng) => rng.int(1, 60) * 25,
  LOSTITEMREPLACEMENTFEE: (rng) => rng.int(25, 120) * 100 + rng.pick([0, 50, 99]),
  LOSTITEMPROCESSFEE: () => 1000,
  CARDRENEWAL: () => 500,
  DAMAGEDITEMFINE: (rng) => rng.int(5, 40) * 100,
};

function addFines(b: RowBuilder, rng: Rng, patronIds: string[], anyOwner: () => string | null, itemBarcode: () => string): void {
  const chargeable = FINE_TYPES.filter((t) => !t.isCredit);
  rng.sample(patronIds, 25).forEach((userId, i) => {
    for (let n = rng.int(1, 3); n > 0; n--) {
      const type = rng.pick(chargeable);
      const cents = FINE_CENTS[type.code](rng);
      const fine: FineSpec = {
        type: type.code,
        cents,
        owner: type.allowsLibraryOwner ? anyOwner() : null,
        // VAT is the rate's share of the amount, rounded to the cent.
        vatCents: Math.round((cents * Number(type.vatRate)) / 100),
        itemBarcode: type.code === 'CARDRENEWAL' ? null : itemBarcode(),
        // One fine each of the first two patrons is disputed (R7.5).
        status: i < 2 && n === 1 ? 'IN_DISPUTE' : 'ACTIVE',
      };
      b.fine(userId, fine);
    }
    // One credit (R7.3): stored negative, with the comment it requires.
    if (i === 2) {
      b.fine(userId, { type: 'CREDIT', cents: -1000, owner: null, comment: 'Refund: lost item found after the replacement fee was paid' });
    }
  });
}
