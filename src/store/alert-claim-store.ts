/**
 * Which budget alerts have been sent: one claim per scope (`key:<id>`, `team:<name>`), period
 * bucket (`all`, a UTC day, a UTC month) and threshold percentage. Shared by every instance, so an
 * alert crossed on several instances at once is sent by exactly one: the one whose claim wins.
 */
export interface AlertClaim {
  scope: string;
  bucket: string;
  threshold: number;
  claimedAt: string;
}

export interface AlertClaimStore {
  /** True if this call made the claim (send the alert); false if any caller already had. */
  claim(claim: AlertClaim): Promise<boolean>;
}
