/** Calendar months after `start` in UTC, the day clamped to the month's last day. */
export function monthsAfter(start: number, months: number): number {
  const d = new Date(start);
  const totalMonths = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const year = Math.floor(totalMonths / 12);
  const month = totalMonths % 12;
  const lastDay = new Date(Date.UTC(2000, month + 1, 0)).getUTCDate(); // month length in a leap year
  const isLeap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 1 && !isLeap ? 28 : lastDay;
  const target = new Date(start);
  target.setUTCFullYear(year, month, Math.min(d.getUTCDate(), days));
  return target.getTime();
}
