/**
 * Small sign-in limits for the files that test throttling and lockout through the API: 3 free failures, a 1 s
 * wait after each further one, a lockout at the 6th, 4 free failures per address. The proxy in front (loopback) is
 * trusted, so each test can speak from a client address of its own with X-Forwarded-For. Set before the app starts.
 */
export const SMALL_LOGIN_LIMITS = {
  CARREL_LOGIN_FREE_FAILURES: '3',
  CARREL_LOGIN_MAX_FAILURES: '6',
  CARREL_LOGIN_DELAY_MS: '1000',
  CARREL_LOGIN_MAX_DELAY_MS: '1000',
  CARREL_LOGIN_LOCKOUT_SECONDS: '600',
  CARREL_LOGIN_ADDRESS_FREE_FAILURES: '4',
  CARREL_TRUST_PROXY: 'loopback',
} as const;
