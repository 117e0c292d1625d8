/** The refusal messages apps and users see; the seed app's wording, quoting the available balance. */
export function zeroBalanceMessage(available: number): string {
  return `Insufficient tokens. Your balance is ${available}. Please purchase more tokens to continue using services.`;
}

export function shortBalanceMessage(cost: number, available: number): string {
  return `Insufficient tokens. Need ${cost}, have ${available}. Please purchase more tokens.`;
}

/** The message for spending `cost` from `available`, or null when it is affordable. */
export function refusalMessage(cost: number, available: number): string | null {
  if (available <= 0) return zeroBalanceMessage(available);
  if (available < cost) return shortBalanceMessage(cost, available);
  return null;
}
