import { badInput } from '../common/errors';

/**
 * The users list's name search (R1.3): each word must occur somewhere in the main or preferred names. Every word
 * becomes one `LIKE '%word%'` condition on `search_text`, each a scan of the trigram index whose results are
 * intersected, so the cost of a search grows with its words: 40,000 one-letter words kept a PostgreSQL core busy for
 * seconds per request. A person's name is searched with a handful of words ("maria de la cruz garcia"). The length
 * of the whole text is bounded in the SDL (`@limit` on `UsersFilter.name`).
 */
export const MAX_NAME_SEARCH_WORDS = 5;

/** The words of a name search, lower-cased: what the SQL matches. */
export function searchWords(name: string | null | undefined): string[] {
  return (name ?? '').toLowerCase().split(/\s+/).filter(Boolean);
}

/** Refuses a name search of more than MAX_NAME_SEARCH_WORDS words, as BAD_USER_INPUT naming `filter.name` and the limit. */
export function checkNameSearch(name: string | null | undefined): void {
  const words = searchWords(name).length;
  if (words > MAX_NAME_SEARCH_WORDS) {
    throw badInput('filter.name', `The name search has ${words} words; at most ${MAX_NAME_SEARCH_WORDS} are allowed`, { limit: MAX_NAME_SEARCH_WORDS });
  }
}
