/**
 * A Lambda context whose clock is the test's: `getRemainingTimeInMillis` counts down from the
 * budget, and `answeredInTime()` says whether the handler returned before its deadline passed.
 */
export function fakeContext(budgetMs = 5000) {
  const deadline = Date.now() + budgetMs;
  return {
    awsRequestId: `req-${Math.random().toString(36).slice(2)}`,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    deadline,
    answeredInTime: () => Date.now() <= deadline,
  };
}
