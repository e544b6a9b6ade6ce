/**
 * HTTP-date parsing (RFC 9110 §5.6.7) without the Date global, so the cache
 * policy stays pure. All three formats a recipient must accept are parsed:
 * IMF-fixdate, the obsolete RFC 850 form and asctime. Anything else is
 * undefined, which RFC 9111 §5.3 says to treat as a time in the past for
 * Expires.
 */

const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// Sun, 06 Nov 1994 08:49:37 GMT
const imfFixdate = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// Sunday, 06-Nov-94 08:49:37 GMT
const rfc850 = /^[A-Za-z]{6,9}, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// Sun Nov  6 08:49:37 1994
const asctime = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/** Milliseconds since the epoch, or undefined when `text` is not an HTTP-date. */
export function parseHttpDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  let match = imfFixdate.exec(value);
  if (match !== null) return build(match[3], match[2], match[1], match.slice(4, 7));
  match = rfc850.exec(value);
  if (match !== null) {
    // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is in the past century.
    const twoDigit = Number(match[3]);
    const year = twoDigit >= 50 ? 1900 + twoDigit : 2000 + twoDigit;
    return build(String(year), match[2], match[1], match.slice(4, 7));
  }
  match = asctime.exec(value);
  if (match !== null) return build(match[6], match[1], match[2], match.slice(3, 6));
  return undefined;
}

function build(
  yearText: string | undefined,
  monthText: string | undefined,
  dayText: string | undefined,
  clock: readonly (string | undefined)[],
): number | undefined {
  const month = months.indexOf((monthText ?? '').toLowerCase());
  const year = Number(yearText);
  const day = Number((dayText ?? '').trim());
  const [hour, minute, second] = clock.map(Number);
  if (month < 0 || hour === undefined || minute === undefined || second === undefined) return undefined;
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  return (daysFromCivil(year, month + 1, day) * 86_400 + hour * 3_600 + minute * 60 + second) * 1_000;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
