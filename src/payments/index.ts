export type { CheckoutInput, CreatedCheckout, PaymentProvider } from './payment-provider.ts';
export { customerDirectory, NO_PAYMENTS, type Payments, paymentsFromEnv } from './payments.ts';
export { stripeEventToPaymentEvent } from './stripe-events.ts';
export { type CustomerDirectory, StripeProvider, type StripeProviderOptions } from './stripe-provider.ts';
export { TestProvider } from './test-provider.ts';
