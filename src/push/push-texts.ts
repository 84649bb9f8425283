/**
 * Notification titles per locale (SPEC §8.5). This is data: adding a language is adding an entry.
 * English must name every type of SPEC §3; other locales may be partial, and a missing text falls
 * back along the locale chain (`pt-BR` → `pt` → `en`), one type at a time.
 *
 * `%{name}` is the actor's display name (Mastodon's interpolation syntax, kept so texts can be
 * copied from Mastodon's locale files).
 */

export type TitleTable = Readonly<Record<string, Readonly<Record<string, string>>>>;

export const DEFAULT_LOCALE = 'en';

/** Used for a type no table knows (a newer host platform than this Herald). */
export const UNKNOWN_TYPE_KEY = '*';

export const PUSH_TITLES: TitleTable = {
  en: {
    mention: 'You were mentioned by %{name}',
    status: '%{name} just posted',
    reblog: '%{name} boosted your post',
    follow: '%{name} is now following you',
    follow_request: 'Pending follower: %{name}',
    favourite: '%{name} favorited your post',
    poll: 'A poll by %{name} has ended',
    update: '%{name} edited a post',
    quote: '%{name} quoted your post',
    quoted_update: '%{name} edited a post you have quoted',
    'admin.sign_up': '%{name} signed up',
    'admin.report': '%{name} submitted a report',
    moderation_warning: 'You have received a moderation warning',
    severed_relationships: 'You have lost connections due to a moderation decision',
    annual_report: 'Your year in review is ready',
    added_to_collection: '%{name} added you to a collection',
    collection_update: '%{name} updated a collection you are in',
    [UNKNOWN_TYPE_KEY]: 'New notification from %{name}',
  },
  de: {
    mention: 'Du wurdest von %{name} erwähnt',
    status: '%{name} hat gerade etwas gepostet',
    reblog: '%{name} hat deinen Beitrag geteilt',
    follow: '%{name} folgt dir jetzt',
    follow_request: 'Ausstehende Folgeanfrage: %{name}',
    favourite: '%{name} hat deinen Beitrag favorisiert',
  },
  fr: {
    mention: 'Vous avez été mentionné·e par %{name}',
    status: '%{name} vient de publier',
    reblog: '%{name} a partagé votre message',
    follow: '%{name} vous suit',
    follow_request: 'Demande d’abonnement de %{name}',
    favourite: '%{name} a ajouté votre message à ses favoris',
  },
  pt: {
    mention: 'Você foi mencionado por %{name}',
    follow: '%{name} está seguindo você',
  },
};

/**
 * The locales to try, most specific first, ending with English. Tags compare case-insensitively
 * and `_` counts as `-`, because accounts arrive with `pt_BR` as often as `pt-BR`.
 */
export function localeChain(locale: string | null | undefined): string[] {
  const chain: string[] = [];
  if (locale) {
    const parts = locale.toLowerCase().replace(/_/g, '-').split('-').filter(Boolean);
    for (let n = parts.length; n > 0; n -= 1) chain.push(parts.slice(0, n).join('-'));
  }
  if (!chain.includes(DEFAULT_LOCALE)) chain.push(DEFAULT_LOCALE);
  return chain;
}

/** The title template for a type in a locale, following the fallback chain. */
export function titleTemplate(type: string, locale: string | null | undefined, table: TitleTable = PUSH_TITLES): string {
  for (const tag of localeChain(locale)) {
    const texts = findLocale(table, tag);
    // hasOwn: a type named like an Object.prototype member must not find a function.
    if (texts && Object.hasOwn(texts, type)) return texts[type];
  }
  return table[DEFAULT_LOCALE]?.[UNKNOWN_TYPE_KEY] ?? '%{name}';
}

function findLocale(table: TitleTable, tag: string): Readonly<Record<string, string>> | undefined {
  const key = Object.keys(table).find((candidate) => candidate.toLowerCase().replace(/_/g, '-') === tag);
  return key === undefined ? undefined : table[key];
}

/** Fills `%{name}` in one pass, so a display name that itself contains `%{name}` stays literal. */
export function interpolateTitle(template: string, name: string): string {
  return template.replace(/%\{name\}/g, () => name);
}
